"""Site discovery: URL classification on real URLs, links of a front page, feeds, sitemaps."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from spiders.discovery import (
    WELL_KNOWN_SITEMAPS,
    classify_url,
    find_feeds,
    find_links,
    sitemap_urls,
    well_known_sitemap_urls,
)
from spiders.sample_site import SampleSite

URLS = Path(__file__).resolve().parent.parent / "fixtures" / "discovery" / "urls.jsonl"
SITE = "https://www.example-news.de"


def site_of(url: str) -> str:
    """The scheme and host of ``url``: the site a crawl of it would start from."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def labelled_urls(source: str) -> list[dict[str, str]]:
    """The fixture's URLs from one source, with their labels."""
    with URLS.open(encoding="utf-8") as lines:
        return [row for row in map(json.loads, lines) if row["source"] == source]


# --- real article URLs -------------------------------------------------------------------------

# News URLs that the URL alone cannot tell from other pages, and why.
NEWS_EXCEPTIONS = {
    # one opaque segment: no slug, no 5-digit id, no date, no article marker before it
    "https://faktencheck.afp.com/doc.afp.com.B2LA2G3": None,
}


def test_the_news_fixture_urls_are_188_distinct_urls_of_128_publishers() -> None:
    rows = labelled_urls("news-fixtures")

    assert len(rows) == 188
    assert len({row["url"] for row in rows}) == 188
    assert len({row["id"].rsplit("_", 3)[0] for row in rows}) == 128
    assert {row["label"] for row in rows} == {"article"}


def test_every_news_article_url_is_an_article_except_the_listed_ones() -> None:
    wrong = {}
    for row in labelled_urls("news-fixtures"):
        kind = classify_url(row["url"], site_of(row["url"]))
        if kind != "article":
            wrong[row["url"]] = kind

    assert wrong == NEWS_EXCEPTIONS


@pytest.mark.parametrize("url", sorted(NEWS_EXCEPTIONS))
def test_a_url_without_shape_is_an_article_as_a_headline_in_a_teaser(url: str) -> None:
    headline = "Nein, dieses Foto zeigt nicht den Kanzler beim Einkaufen"

    assert classify_url(url, site_of(url), headline, "article heading") == "article"
    assert classify_url(url, site_of(url), headline, "") is None
    assert classify_url(url, site_of(url), headline, "nav") == "listing"  # a short path in a menu


# Rates measured on tests/fixtures/discovery/urls.jsonl (the WCXB dev split's URLs) with the
# URL alone; docs/discovery.md reports them. Each bound is the measured rate with a margin of
# 0.02, so a change of the rules that moves one of them shows here.
WCXB_ARTICLE_RATE = 0.814  # 644 of 791 article URLs
WCXB_OTHER_ARTICLE_RATES = {  # share of each other page type's URLs classified as articles
    "collection": 0.077,
    "documentation": 0.121,
    "forum": 0.324,
    "listing": 0.111,
    "product": 0.412,
    "service": 0.171,
}
WCXB_OTHER_ARTICLE_RATE = 0.205  # 144 of 701 non-article URLs
MARGIN = 0.02


def wcxb_rates() -> dict[str, Counter[str | None]]:
    """For each WCXB page type, how its URLs classify."""
    kinds: dict[str, Counter[str | None]] = defaultdict(Counter)
    for row in labelled_urls("wcxb-dev"):
        kinds[row["label"]][classify_url(row["url"], site_of(row["url"]))] += 1
    return kinds


def test_most_wcxb_article_urls_are_articles() -> None:
    kinds = wcxb_rates()["article"]

    assert kinds.total() == 791
    assert kinds["article"] / kinds.total() >= WCXB_ARTICLE_RATE - MARGIN


def test_few_wcxb_urls_of_other_page_types_are_articles() -> None:
    rates = wcxb_rates()
    others = [label for label in rates if label != "article"]
    articles = sum(rates[label]["article"] for label in others)
    total = sum(rates[label].total() for label in others)

    assert sorted(others) == sorted(WCXB_OTHER_ARTICLE_RATES)
    assert total == 701
    assert articles / total <= WCXB_OTHER_ARTICLE_RATE + MARGIN
    for label, rate in WCXB_OTHER_ARTICLE_RATES.items():
        assert rates[label]["article"] / rates[label].total() <= rate + MARGIN, label


# --- URL shapes --------------------------------------------------------------------------------

ARTICLE_PATHS = [
    "/politik/2024/05/03/koalition-einigt-sich",  # date, then a slug
    "/2024/05/kurz/",  # year and month, then a word
    "/world/2024/feb/24/fire-in-valencia",  # month by name
    "/2024/05/03/123456",  # date, then an id
    "/wirtschaft/inflation-sinkt-im-april-deutlich",  # long slug
    "/sport/fussball_bundesliga_spieltag_ergebnisse",  # long slug with underscores
    "/panorama/unwetter-12345678",  # id after a short slug
    "/stories/3376705/",  # id alone
    "/article/1011185",
    "/news/articles/c4n8zyk2d9xo",  # a code after an article marker
    "/p/startup-lessons",  # a slug after an article marker
    "/wissen/raumfahrt/mondlandung-geplant.html",  # slugged page below the root
    "/a-b-c-d-e/artikel",  # a slug, then a word
    "/archive/63076",  # "archive" before a story id
    "/blog/my-long-slug/2024/12",  # a date closing the path
    "/de/politik/deutschland/wahl-in-thueringen-ergebnisse-und-reaktionen",
    "/kultur/kino-neustart-der-woche-100.html",
]


@pytest.mark.parametrize("path", ARTICLE_PATHS)
def test_story_shaped_urls_are_articles_whatever_their_context(path: str) -> None:
    url = SITE + path

    assert classify_url(url, SITE) == "article"
    assert classify_url(url, SITE, "Politik", "nav header") == "article"
    assert classify_url(url, SITE, "Koalition einigt sich auf Haushalt", "heading") == "article"


NOT_ARTICLE_URLS = [
    # other sites and schemes
    "https://www.other-news.de/politik/2024/05/03/koalition-einigt-sich",
    "https://example-news.com/politik/2024/05/03/koalition-einigt-sich",
    "mailto:redaktion@example-news.de",
    "javascript:void(0)",
    "tel:+49301234567",
    "ftp://www.example-news.de/pub/koalition-einigt-sich-auf-haushalt",
    "https://amp.example-news.de/politik/2024/05/03/koalition-einigt-sich",
    "https://login.example-news.de/sso/authorize-user-for-the-site",
    # files, media, feeds
    "/images/2024/05/03/koalition-einigt-sich.jpg",
    "/media/koalition-einigt-sich-auf-haushalt.mp4",
    "/podcast/2024/05/03/koalition-einigt-sich-auf-haushalt",
    "/video/politik/pressekonferenz-der-koalition-im-wortlaut",
    "/bildergalerie/maifeiertag-in-bildern-2024-12345",
    "/downloads/jahresbericht-2023-der-redaktion.pdf",
    "/static/app.min.js",
    "/static/site.css",
    "/feed/",
    "/politik/rss",
    "/feeds/politik.xml",
    "/sitemap.xml",
    # lists by tag, author, category, topic, date
    "/tag/klima",
    "/tags/klimawandel-in-deutschland-und-europa",
    "/schlagwort/energie",
    "/thema/ukraine",
    "/topics/c1234567890",
    "/author/anna-muster",
    "/autor/anna-muster-12345",
    "/category/politik",
    "/kategorie/wirtschaft/",
    "/archive/2024/05",
    "/archiv/",
    "/2024/05/03/",
    "/2024/",
    # pagination
    "/page/2/",
    "/politik/page/3",
    "/politik/seite-2",
    "/politik?page=2",
    "/?p=12",
    "/politik?seite=3",
    # accounts, search, shop
    "/login",
    "/login?next=/politik/2024/05/03/koalition",
    "/register",
    "/account/settings",
    "/mein-konto/bestellungen",
    "/abo/digital-abo-bestellen-jetzt-zum-sonderpreis",
    "/subscribe",
    "/newsletter/anmeldung-bestaetigen",
    "/search?q=koalition",
    "/suche",
    "/?s=koalition",
    "/cart",
    # variants of an article
    "/amp/politik/2024/05/03/koalition-einigt-sich",
    "/politik/2024/05/03/koalition-einigt-sich/amp",
    "/politik/2024/05/03/koalition-einigt-sich?print=1",
    "/politik/2024/05/03/koalition-einigt-sich?outputType=amp",
    "/politik/2024/05/03/koalition-einigt-sich/print",
    "/politik/2024/05/03/koalition-einigt-sich/comments",
    "/politik/2024/05/03/koalition-einigt-sich?replytocom=123456",
    "/share/politik-koalition-einigt-sich-auf-haushalt",
    # the site's own pages, in several languages
    "/about",
    "/about-us/",
    "/about/team-and-editorial-standards",
    "/contact",
    "/kontakt",
    "/privacy-policy",
    "/legal/privacy",
    "/impressum",
    "/impressum.html",
    "/datenschutz",
    "/datenschutzerkl%C3%A4rung",
    "/agb",
    "/terms-of-service",
    "/jobs",
    "/jobs/redakteur-in-fuer-politik-gesucht-berlin",
    "/karriere",
    "/advertise",
    "/mediadaten",
    "/mentions-legales",
    "/fr/qui-sommes-nous",
    "/es/aviso-legal",
    "/it/chi-siamo",
    "/nl/over-ons",
    "/no/personvern",
    "/faq",
    "/help/how-to-reset-your-password-quickly",
    # forums and shops
    "/forum/thread-about-the-new-coalition-12345",
    "/community/t/koalition-einigt-sich/12345",
    "/shop/products/tasse-mit-logo-der-zeitung",
]


@pytest.mark.parametrize("url", NOT_ARTICLE_URLS)
def test_non_article_urls_are_skipped_whatever_their_context(url: str) -> None:
    url = url if ":" in url else SITE + url

    assert classify_url(url, SITE) is None
    assert classify_url(url, SITE, "Politik", "nav header") is None
    assert classify_url(url, SITE, "Koalition einigt sich auf Haushalt", "article heading") is None


def test_a_slug_that_ends_like_a_navigation_word_is_no_navigation_page() -> None:
    # courlan's is_navigation_page matches "-page/" and "-cat/" at a slug's end; we do not.
    for path in ["/2024/05/03/the-front-page/", "/panorama/feed-the-cat-every-day/"]:
        assert classify_url(SITE + path, SITE) == "article", path


def test_a_site_is_its_registrable_domain_or_its_host_and_port() -> None:
    assert classify_url("https://sport.example-news.de/fussball-bayern-verliert-in-bochum", SITE)
    assert classify_url("http://example-news.de/wirtschaft/inflation-sinkt-im-april", SITE)
    local = "http://127.0.0.1:8000"
    assert classify_url(local + "/wirtschaft/inflation-sinkt-im-april", local) == "article"
    assert classify_url("http://127.0.0.1:8001/wirtschaft/inflation-sinkt-im-april", local) is None
    assert classify_url("http://localhost:8000/wirtschaft/inflation-sinkt-im-april", local) is None
    idn = "https://www.münchner-zeitung.de"
    punycode = "https://xn--mnchner-zeitung-zvb.de/stadt/tram-faehrt-wieder-nach-plan"
    assert classify_url(punycode, idn) == "article"
    assert find_links('<a href="/stadt/tram-faehrt-wieder-nach-plan">Tram</a>', idn, idn) == [
        ("https://www.xn--mnchner-zeitung-zvb.de/stadt/tram-faehrt-wieder-nach-plan", "article")
    ]


LISTINGS = [
    ("/politik", "Politik", ""),  # a section's name
    ("/sport/fussball", "Fußball", "footer"),
    ("/kultur/", "Kultur & Leben", ""),
    ("/panorama", "Panorama und Vermischtes aus aller Welt", "nav"),  # in a menu, any text
    ("/de/politik/ausland", "", "header"),  # a language prefix does not count
    ("/sport/index.html", "Sport", ""),  # an index page is its folder
    ("/", "", ""),  # the front page
]


@pytest.mark.parametrize(("path", "text", "context"), LISTINGS)
def test_short_paths_named_like_sections_or_in_menus_are_listings(
    path: str, text: str, context: str
) -> None:
    assert classify_url(SITE + path, SITE, text, context) == "listing"


NEITHER = [
    ("/politik", "", ""),  # nothing says it is a section: an image link, say
    ("/politik", "Alles zur Politik in Berlin und Brandenburg", "aside"),
    ("/sport/fussball/bundesliga", "Bundesliga", "nav"),  # too deep for a section front
    ("/kinosommer", "Der Kinosommer wird heiß und lang", "heading"),  # one word: a section
]


@pytest.mark.parametrize(("path", "text", "context"), NEITHER)
def test_links_without_a_story_shape_or_a_section_look_are_skipped(
    path: str, text: str, context: str
) -> None:
    assert classify_url(SITE + path, SITE, text, context) is None


def test_a_headline_in_a_teaser_makes_a_short_path_an_article() -> None:
    url = SITE + "/kultur/kinosommer"
    headline = "Der Kinosommer wird heiß und lang"

    assert classify_url(url, SITE, headline, "heading") == "article"
    assert classify_url(url, SITE, headline, "article") == "article"
    assert classify_url(url, SITE, headline, "article heading nav") == "listing"
    assert classify_url(url, SITE, "Kinosommer", "heading") == "listing"
    assert classify_url(url, SITE, headline, "") is None


# --- links of a front page ---------------------------------------------------------------------

FRONT_PAGE = """<!DOCTYPE html>
<html lang="de"><head>
<meta charset="utf-8"><title>Example News – Nachrichten</title>
<link rel="stylesheet" href="/static/site.css">
<link rel="alternate" type="application/rss+xml" title="Alle Artikel" href="/feed/">
</head><body>
<header>
  <a href="/" class="logo"><img src="/static/logo.svg" alt="Example News"></a>
  <nav><ul>
    <li><a href="/politik">Politik</a></li>
    <li><a href="/wirtschaft">Wirtschaft</a></li>
    <li><a href="/sport">Sport</a>
      <ul><li><a href="/sport/fussball">Fußball</a></li>
          <li><a href="/sport/fussball/bundesliga">Bundesliga</a></li></ul></li>
    <li><a href="/kultur/">Kultur</a></li>
    <li><a href="/de/wissen">Wissen</a></li>
  </ul></nav>
  <a href="/login">Anmelden</a> <a href="/abo">Abo</a> <a href="/newsletter">Newsletter</a>
  <a href="/suche">Suche</a>
</header>
<div class="mega-menu"><a href="/panorama">Panorama und Vermischtes aus aller Welt</a></div>
<main>
  <article class="teaser">
    <a href="/politik/2024/05/03/koalition-einigt-sich-auf-haushalt"><img
       src="/images/2024/05/koalition.jpg" alt="Kanzler und Minister"></a>
    <h2><a href="/politik/2024/05/03/koalition-einigt-sich-auf-haushalt">Koalition einigt
       sich auf den Haushalt</a></h2>
    <p>Nach langen Verhandlungen steht der Etat. <a href="/autor/anna-muster">Anna Muster</a></p>
    <a href="/politik/2024/05/03/koalition-einigt-sich-auf-haushalt#comments">12 Kommentare</a>
    <a href="/politik/2024/05/03/koalition-einigt-sich-auf-haushalt?print=1">Drucken</a>
    <a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fwww.example-news.de%2F">
       Teilen</a>
  </article>
  <article class="teaser">
    <h3><a href="https://www.example-news.de/wirtschaft/inflation-sinkt-im-april-deutlich">
       Inflation sinkt im April deutlich</a></h3>
    <a href="/thema/inflation">Inflation</a>
  </article>
  <article class="teaser">
    <h3><a href="https://sport.example-news.de/fussball/bayern-verliert-in-bochum">Bayern
       verliert in Bochum</a></h3>
  </article>
  <div class="teaser"><h2><a href="/kultur/kinosommer">Der Kinosommer wird heiß und lang</a>
  </h2></div>
  <div class="teaser"><h2><a href="/news/articles/c4n8zyk2d9xo">Was wir über den Streik
     wissen</a></h2></div>
  <ul class="list"><li><a href="/wissen/raumfahrt/mondlandung-geplant.html">Mondlandung</a></li>
    <li><a href="/amp/politik/2024/05/03/koalition-einigt-sich-auf-haushalt">AMP</a></li>
    <li><a href="/video/2024/05/03/pressekonferenz-im-wortlaut">Video</a></li>
    <li><a href="/bildergalerie/maifeiertag-in-bildern">Bilder vom Maifeiertag</a></li>
    <li><a href="/downloads/jahresbericht-2023.pdf">Jahresbericht (PDF)</a></li>
    <li><a href="https://www.other-news.de/2024/05/03/eine-andere-zeitung-berichtet">Andere
       Zeitung berichtet auch darüber</a></li></ul>
  <div class="pagination"><a href="/page/2/">2</a> <a href="/page/3/">3</a>
    <a href="/?page=2">Weitere Artikel laden</a></div>
</main>
<aside>
  <h4>Meistgelesen</h4>
  <ol><li><a href="/sport/2024/05/02/meister-feiert-titel-auf-dem-rathausbalkon">Meister feiert
    Titel</a></li></ol>
  <div class="tag-cloud"><a href="/tag/klima">Klima</a> <a href="/tag/wahlen-2024">Wahlen</a>
    <a href="/schlagwort/energie">Energie</a> <a href="/topics/ukraine-krieg">Ukraine</a></div>
</aside>
<footer>
  <a href="/politik">Politik</a> <a href="/reise">Reise</a>
  <a href="/impressum">Impressum</a> <a href="/datenschutz">Datenschutz</a>
  <a href="/kontakt">Kontakt</a> <a href="/ueber-uns">Über uns</a> <a href="/jobs">Jobs</a>
  <a href="/werbung">Werben</a> <a href="/agb">AGB</a> <a href="/feed/">RSS</a>
  <a href="mailto:redaktion@example-news.de">E-Mail</a> <a href="tel:+4930123">Telefon</a>
  <a href="https://twitter.com/examplenews">X</a> <a href="javascript:void(0)">Cookies</a>
  <a href="#top">Nach oben</a> <a href="">Neu laden</a> <a>kein Link</a>
</footer>
</body></html>
"""

TEASERS = [
    SITE + "/politik/2024/05/03/koalition-einigt-sich-auf-haushalt",
    SITE + "/wirtschaft/inflation-sinkt-im-april-deutlich",
    "https://sport.example-news.de/fussball/bayern-verliert-in-bochum",
    SITE + "/kultur/kinosommer",
    SITE + "/news/articles/c4n8zyk2d9xo",
    SITE + "/wissen/raumfahrt/mondlandung-geplant.html",
    SITE + "/sport/2024/05/02/meister-feiert-titel-auf-dem-rathausbalkon",
]
SECTIONS = [
    SITE + "/politik",
    SITE + "/wirtschaft",
    SITE + "/sport",
    SITE + "/sport/fussball",
    SITE + "/kultur/",
    SITE + "/de/wissen",
    SITE + "/panorama",
    SITE + "/reise",
]


def test_a_front_page_gives_its_teasers_as_articles_and_its_sections_as_listings() -> None:
    links = find_links(FRONT_PAGE, SITE + "/", SITE)

    assert [url for url, kind in links if kind == "article"] == TEASERS
    assert [url for url, kind in links if kind == "listing"] == SECTIONS
    assert len(links) == len(TEASERS) + len(SECTIONS)


def test_links_come_in_document_order_each_once() -> None:
    links = find_links(FRONT_PAGE, SITE + "/", SITE)
    urls = [url for url, _ in links]

    assert urls[:6] == SECTIONS[:6]  # the menu comes first
    assert urls[6:8] == [SECTIONS[6], TEASERS[0]]
    assert len(set(urls)) == len(urls)


def test_links_resolve_against_the_base_element_and_lose_their_fragment() -> None:
    page = """<html><head><base href="https://www.example-news.de/archiv/2024/"></head><body>
    <a href="05/03/koalition-einigt-sich-auf-haushalt#kommentare">Koalition</a>
    <a href="../../politik">Politik</a>
    <a href="  https://www.example-news.de/sport/meister-feiert-titel-in-der-stadt  ">x</a>
    </body></html>"""

    links = find_links(page, SITE + "/start", SITE)

    assert links == [
        (SITE + "/archiv/2024/05/03/koalition-einigt-sich-auf-haushalt", "article"),
        (SITE + "/politik", "listing"),
        (SITE + "/sport/meister-feiert-titel-in-der-stadt", "article"),
    ]


def test_a_menu_link_outweighs_a_headline_but_not_a_story_shape() -> None:
    page = """<h2><a href="/kultur/kinosommer">Der Kinosommer wird heiß und lang</a></h2>
    <h2><a href="/kultur/kino-neustart-der-woche">Kino</a></h2>
    <nav><a href="/kultur/kinosommer">Kinosommer</a>
    <a href="/kultur/kino-neustart-der-woche">Kino</a></nav>
    <h2><a href="/kultur/kinosommer">Der Kinosommer wird heiß und lang</a></h2>"""

    assert find_links(page, SITE + "/", SITE) == [
        (SITE + "/kultur/kinosommer", "listing"),
        (SITE + "/kultur/kino-neustart-der-woche", "article"),
    ]


def test_a_section_heading_of_three_words_and_a_sign_is_no_headline() -> None:
    page = '<h2><a href="/section/africa-middle-east/">Africa &amp; Middle East</a></h2>'

    assert find_links(page, SITE + "/", SITE) == [
        (SITE + "/section/africa-middle-east/", "listing")
    ]


def test_links_are_read_in_the_page_encoding_and_percent_encoded() -> None:
    page = '<meta charset="windows-1252"><nav><a href="/München">München</a></nav>'
    utf8 = '<a href="/m%C3%BCnchen/stra%C3%9Fe-wird-lange-gesperrt">Straße gesperrt</a>'

    assert find_links(page.encode("cp1252"), SITE + "/", SITE) == [
        (SITE + "/M%C3%BCnchen", "listing")
    ]
    assert find_links(utf8.encode(), SITE + "/", SITE) == [
        (SITE + "/m%C3%BCnchen/stra%C3%9Fe-wird-lange-gesperrt", "article")
    ]


@pytest.mark.parametrize("page", ["", b"", "   ", "<!-- nothing -->", b"\xff\xfe"])
def test_an_empty_page_has_no_links_and_no_feeds(page: str | bytes) -> None:
    assert find_links(page, SITE + "/", SITE) == []
    assert find_feeds(page, SITE + "/") == []


def test_malformed_hrefs_are_skipped() -> None:
    page = '<a href="http://[oops/x">x</a><a href="/politik">Politik</a>'

    assert find_links(page, SITE + "/", SITE) == [(SITE + "/politik", "listing")]


def test_a_page_with_an_xml_declaration_is_read() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?><html><body><a href="/sport">Sport</a></body></html>'
    )

    assert find_links(page, SITE + "/", SITE) == [(SITE + "/sport", "listing")]


# --- feeds -------------------------------------------------------------------------------------

FEED_HEAD = """<html><head>
<link rel="alternate" type="application/rss+xml" title="Alle" href="/feed/">
<link rel="alternate" type="application/atom+xml" href="https://www.example-news.de/atom.xml">
<link rel="alternate" type="application/rdf+xml" href="feed.rdf">
<link rel="alternate" type="application/rss+xml" href="/feed/#dup">
<link rel="Alternate" type="Application/RSS+XML; charset=utf-8" href="/politik/feed/">
<link rel="alternate" type="application/feed+json" href="/feed.json">
<link rel="alternate" hreflang="en" href="https://www.example-news.de/en/">
<link rel="alternate" type="text/html" href="/m/">
<link rel="stylesheet" type="text/css" href="/site.css">
<link rel="alternate" type="application/rss+xml">
<link type="application/rss+xml" href="/no-rel.xml">
</head><body><a href="/feed/">RSS</a></body></html>"""


def test_feeds_are_the_announced_rss_atom_and_rdf_links_absolute_each_once() -> None:
    assert find_feeds(FEED_HEAD, SITE + "/politik/index.html") == [
        SITE + "/feed/",
        SITE + "/atom.xml",
        SITE + "/politik/feed.rdf",
        SITE + "/politik/feed/",
    ]


def test_feeds_resolve_against_the_base_element() -> None:
    page = """<base href="https://cdn.example-news.de/">
    <link rel="alternate" type="application/atom+xml" href="atom.xml">"""

    assert find_feeds(page, SITE + "/") == ["https://cdn.example-news.de/atom.xml"]


# --- sitemaps ----------------------------------------------------------------------------------


def test_well_known_sitemaps_are_on_the_site_root() -> None:
    urls = well_known_sitemap_urls("http://127.0.0.1:8000/politik/")

    assert urls == ["http://127.0.0.1:8000" + path for path in WELL_KNOWN_SITEMAPS]
    assert "http://127.0.0.1:8000/sitemap.xml" in urls
    assert "http://127.0.0.1:8000/news-sitemap.xml" in urls


def test_sitemaps_come_from_robots_txt_when_it_names_any() -> None:
    robots = """User-agent: *
Disallow: /suche
Sitemap: https://www.example-news.de/sitemap-news.xml
sitemap: /sitemaps/index.xml
Sitemap: https://www.example-news.de/sitemap-news.xml
"""

    assert sitemap_urls(robots, SITE) == [
        SITE + "/sitemap-news.xml",
        SITE + "/sitemaps/index.xml",
    ]
    assert sitemap_urls("User-agent: *\nDisallow:\n", SITE) == well_known_sitemap_urls(SITE)
    assert sitemap_urls(None, SITE) == well_known_sitemap_urls(SITE)


# --- the project's sample news site ------------------------------------------------------------


def test_discovery_on_the_sample_site_finds_every_article_and_no_other_page(
    news_site: SampleSite,
) -> None:
    """From the front page through its listings, two levels deep, as a discovery crawl would."""
    base = news_site.base_url
    kinds: dict[str, str] = {}
    queue, fetched = [(base + "/", 0)], 0
    while queue:
        url, depth = queue.pop(0)
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
        fetched += 1
        for link, kind in find_links(body, url, base):
            if link not in kinds and link != base + "/":
                kinds[link] = kind
                if kind == "listing" and depth < 2:
                    queue.append((link, depth + 1))
    articles = {url for url, kind in kinds.items() if kind == "article"}
    listings = {url for url, kind in kinds.items() if kind == "listing"}
    others = {base + path for path in news_site.non_article_paths()}

    assert articles == {base + path for path in news_site.article_paths()}
    assert not articles & others
    assert listings and listings <= others
    assert not [url for url in listings if re.search(r"/(tag|author|search|login)\b|page=", url)]
    assert fetched == 1 + len(listings)

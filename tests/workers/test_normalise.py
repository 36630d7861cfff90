"""Normalisation: pure functions over small real-world inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import html

import settings
from workers.canonical import declared_url
from workers.normalise import (
    UrlRules,
    body_text,
    canonical_url,
    check_date,
    clean_authors,
    clean_body,
    clean_date,
    clean_language,
    clean_list,
    clean_tags,
    clean_title,
    content_hash,
    detect_language,
    normalise,
    normalise_url,
)
from workers.records import Article

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_body_keeps_paragraphs_and_drops_invisible_characters() -> None:
    raw = "  First\u00a0 para\u00adgraph\u200b here. \n\n\nSecond\tone\n  \n"
    assert clean_body(raw) == "First paragraph here.\n\nSecond one"


def test_body_is_nfc() -> None:
    decomposed = "Cafe\u0301 au lait"
    assert clean_body(decomposed) == "Caf\u00e9 au lait"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Putin, NATO, Ukraine"], ["Putin", "NATO", "Ukraine"]),
        (["Politik; Wirtschaft", "politik"], ["Politik", "Wirtschaft"]),
        (["#Klimawandel", " Klima "], ["Klimawandel", "Klima"]),
        (["ung thư ruột non", "Ung thư ruột non"], ["Ung thư ruột non"]),  # display form
        (["nato", "NATO", "Nato"], ["NATO"]),
        (["ＮＡＴＯ", "NATO"], ["ＮＡＴＯ"]),  # full-width matches, first capitalised form shown
        (["Straße", "STRASSE"], ["Straße"]),  # case folding: ß is ss
        (["Κλίμα", "κλίμα"], ["Κλίμα"]),
        (["東京五輪", "東京五輪"], ["東京五輪"]),
        ([], []),
    ],
)
def test_lists_are_split_trimmed_and_deduplicated_without_case(
    raw: list[str], expected: list[str]
) -> None:
    assert clean_list(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Birgit Baumann; Anna Giulia Fink; Jan Michael Marchart"],
         ["Birgit Baumann", "Anna Giulia Fink", "Jan Michael Marchart"]),
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Von Max Muster und Erika Muster"], ["Max Muster", "Erika Muster"]),
        (["José Ortega y Gasset"], ["José Ortega y Gasset"]),
        (["Jane Doe", "jane doe"], ["Jane Doe"]),
        (["Felix Schröder und Jörg Soldwisch, dpa"], ["Felix Schröder", "Jörg Soldwisch", "dpa"]),
        (["Elena Oberholzer (obe)"], ["Elena Oberholzer"]),
        (["Trine Jørgensen og Tôrtia Reimer"], ["Trine Jørgensen", "Tôrtia Reimer"]),
        (["Jane Doe, Reporter"], ["Jane Doe"]),
        (["Jane Doe @janedoe jane.doe@example.com"], ["Jane Doe"]),
        (["Jane Doe, 03.05.2024"], ["Jane Doe"]),
        (["(\nImage: Getty Images)", "Emma Mackenzie"], ["Emma Mackenzie"]),
        (["Professor at the Faculty of Law in Vilnius"], []),
        (["Tollefson, Jeff", "You, Xiaoying"], ["Jeff Tollefson", "Xiaoying You"]),  # Last, First
        (["Doe, Reporter", "Soldwisch, dpa"], ["Doe", "Soldwisch", "dpa"]),  # not inverted names
        (["J.R.R. Tolkien", "A.Smith"], ["J.R.R. Tolkien", "A.Smith"]),
        (["신현주 기자", "김태연 특파원", "山田太郎 記者"], ["신현주", "김태연", "山田太郎"]),
        (["기자"], []),  # a role alone is no name
    ],
)  # fmt: skip
def test_authors(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Category: Economy", "Bank of Montreal", "98be933f-38cf-4fba-b6c6-ad438e82010a"],
         ["Bank of Montreal"]),
        (["Donald Trump", "100312362", "KI"], ["Donald Trump", "KI"]),
        (["Page Type: Article, Justice"], ["Justice"]),
    ],
)  # fmt: skip
def test_tags_lose_machine_tags(raw: list[str], expected: list[str]) -> None:
    assert clean_tags(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-03T15:47:42+02:00", "2024-05-03T15:47:42+02:00"),
        ("2024-05-03T15:47:42Z", "2024-05-03T15:47:42+00:00"),
        ("2024-05-03T15:47:42", "2024-05-03T15:47:42+00:00"),
        ("2024-05-03", "2024-05-03"),
        ("2024-05-03T15:47:42.5+0530", "2024-05-03T15:47:42.500000+05:30"),
        ("2024-05-03 15:47:42-03:00", "2024-05-03T15:47:42-03:00"),
        ("20240503", "2024-05-03"),
        ("Fri, 03 May 2024 15:47:42 +0200", "2024-05-03T15:47:42+02:00"),  # RFC 2822 (feeds)
        ("Fri, 03 May 2024 13:47:42 GMT", "2024-05-03T13:47:42+00:00"),
        ("2025-12-31T23:30:00-05:00", "2025-12-31T23:30:00-05:00"),  # 04:30 UTC on Jan 1: fine
        ("3. Mai 2024", None),  # not ISO 8601 or RFC 2822: extraction's job, not a guess here
        ("1970-01-01", None),  # before 1990: a mistake, not a news date
        ("2031-01-01T00:00:00+00:00", None),  # in the future
        ("yesterday", None),
        (None, None),
    ],
)
def test_dates(raw: str | None, expected: str | None) -> None:
    assert clean_date(raw, now=NOW) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1989-12-31", "before 1990"),
        ("2026-01-03T00:00:00+00:00", "in the future"),
        ("not a date", "not a date"),
    ],
)
def test_a_rejected_date_says_why(raw: str, reason: str) -> None:
    value, note = check_date(raw, now=NOW)
    assert value is None
    assert note == f"rejected {raw!r}: {reason}"


def test_normalise_keeps_the_article_and_notes_rejected_dates() -> None:
    article = Article(url="https://example.com/a", fetched_url="https://example.com/a",
                      title="T", body="Text.", published_at="1970-01-01",
                      updated_at="2030-01-01T00:00:00Z")  # fmt: skip
    once = normalise(article, now=NOW)
    assert (once.published_at, once.updated_at) == (None, None)
    assert once.notes == [
        "published_at: rejected '1970-01-01': before 1990",
        "updated_at: rejected '2030-01-01T00:00:00Z': in the future",
    ]
    assert normalise(once, now=NOW) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("&amp;quot;Zitat&amp;quot;", '"Zitat"'),  # escaped twice
        ("caf&eacute; &#8211; cr&#xE8;me", "café – crème"),
        ("a\u200bb\u2060c\ufeffd\x07e", "abcde"),
        ("Ko\u00adope\u00adra\u00adtion", "Kooperation"),
    ],
)
def test_text_decodes_entities_and_drops_invisible_characters(raw: str, expected: str) -> None:
    assert clean_body(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("de-AT", "de"), ("EN_us", "en"), ("fil", "fil"), ("", None), ("x-klingon", None)],
)
def test_language_tags(raw: str, expected: str | None) -> None:
    assert clean_language(raw) == expected


def test_language_is_guessed_when_the_page_does_not_say() -> None:
    body = ("Die Bundesregierung hat am Mittwoch einen Gesetzentwurf beschlossen, der die "
            "Rechte von Mietern in großen Städten stärken soll und noch vor dem Sommer in "
            "den Bundestag eingebracht werden soll.")  # fmt: skip
    article = Article(url="https://example.com/a", fetched_url="https://example.com/a",
                      title="T", body=body)  # fmt: skip
    assert normalise(article, now=NOW).language == "de"
    assert detect_language("Zu kurz.") is None


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Storm hits the coast | The Daily Planet", "The Daily Planet", "https://dailyplanet.com/a",
         "Storm hits the coast"),
        ("BBC News - Storm hits the coast of England", "BBC News", "https://www.bbc.co.uk/a",
         "Storm hits the coast of England"),
        ("Anti-terror op turns sinister as army raises spectre - Times of India", None,
         "https://timesofindia.indiatimes.com/a",
         "Anti-terror op turns sinister as army raises spectre"),
        ("Biden | Trump debate: what we learned tonight", None, "https://example.com/a",
         "Biden | Trump debate: what we learned tonight"),
        ("Short - Title", None, "https://example.com/a", "Short - Title"),
        ("Docker Hardened Images: Security Validated by SRLabs | Docker", "Docker",
         "https://www.docker.com/blog/a", "Docker Hardened Images: Security Validated by SRLabs"),
        ("  The  headline\n", None, "", "The headline"),
        (None, "Site", "", None),
        ("Coach: &quot;Not much to lose&quot;", None, "", 'Coach: "Not much to lose"'),
    ],
)  # fmt: skip
def test_titles_lose_the_site_name(
    title: str | None, site: str | None, url: str, expected: str | None
) -> None:
    assert clean_title(title, site, url) == expected


@pytest.mark.parametrize(
    ("declared", "fetched", "expected"),
    [
        # Trusted on the same site; tracking parameters, fragment and default port go.
        ("https://www.example.com/a?utm_source=rss&b=2&a=1", "https://example.com/a",
         "https://www.example.com/a?a=1&b=2"),
        ("HTTPS://Example.COM:443/story#comments", "https://example.com/story",
         "https://example.com/story"),
        # Another site cannot claim the page.
        ("https://other.org/story", "https://example.com/story?id=7&ref=rss",
         "https://example.com/story?id=7"),
        (None, "http://example.com", "http://example.com/"),
        # A mobile page may name the desktop page on its own registrable domain.
        ("https://www.bbc.co.uk/news/uk-1", "https://m.bbc.co.uk/news/uk-1", "https://www.bbc.co.uk/news/uk-1"),
        # Hosts without a registrable domain are only the same site as themselves.
        ("https://www.spiegel.de/a", "http://127.0.0.1:8000/a", "http://127.0.0.1:8000/a"),
        ("http://localhost:8000/a", "http://127.0.0.1:8000/a", "http://127.0.0.1:8000/a"),
        ("ftp://example.com/a", "https://example.com/b", "https://example.com/b"),
        # Real feed URLs of the corpus: the publishers' tracking parameters go.
        (None, "https://www.dw.com/de/a/a-65464327?maca=de-rss-de-all-1119-xml-mrss",
         "https://www.dw.com/de/a/a-65464327"),
        (None, "https://www.heise.de/news/a-9691259.html?wt_mc=rss.red.ho.ho.rdf.beitrag&seite=all",
         "https://www.heise.de/news/a-9691259.html?seite=all"),
        (None, "https://metro.co.uk/2024/07/17/a-21244172/?ico=mosaic_politics",
         "https://metro.co.uk/2024/07/17/a-21244172/"),
        (None, "https://restofworld.org/2025/a/?utm_source=rss&utm_medium=rss&utm_campaign=feeds",
         "https://restofworld.org/2025/a/"),
        (None, "https://www.publico.es/a.html?dicbo=v2-ppm5bdi", "https://www.publico.es/a.html"),
        (None, "https://www.derstandard.at/story/3000000218734/a?ref=rss",
         "https://www.derstandard.at/story/3000000218734/a"),
        (None, "https://example.com/a?fbclid=IwAR0&gclid=x&mc_cid=1&mc_eid=2&id=5",
         "https://example.com/a?id=5"),
        # Google's result link id, on shop and blog pages reached from search (wcxb-dev 4486).
        (None, "https://www.example.com/blog/side-sleepers/?srsltid=AfmBOoo_Xw7R",
         "https://www.example.com/blog/side-sleepers/"),
        # Dot segments, as a server resolves them; a dot inside a name stays.
        (None, "https://example.com/news/../politik/./a.html", "https://example.com/politik/a.html"),
        (None, "https://example.com/a/b/../", "https://example.com/a/"),
        (None, "https://example.com/../a", "https://example.com/a"),
        (None, "https://example.com/v1.2/.well-known/a", "https://example.com/v1.2/.well-known/a"),
        # Non-ASCII paths and hosts.
        (None, "https://www.example.de/nachrichten/gr%C3%B6%C3%9Fte-reform", "https://www.example.de/nachrichten/gr%C3%B6%C3%9Fte-reform"),
        (None, "https://XN--BCHER-KVA.example/a", "https://bücher.example/a"),
        # AMP and mobile variants.
        (None, "https://www.example.com/amp/politik/a.html", "https://www.example.com/politik/a.html"),
        (None, "https://example.com/2024/05/story/amp/", "https://example.com/2024/05/story/"),
        (None, "https://www.bbc.co.uk/news/uk-123.amp", "https://www.bbc.co.uk/news/uk-123"),
        (None, "https://example.com/a.amp.html", "https://example.com/a.html"),
        (None, "https://amp.theguardian.com/world/2024/a", "https://www.theguardian.com/world/2024/a"),
        (None, "https://m.faz.net/a.html?outputType=amp&id=3", "https://www.faz.net/a.html?id=3"),
        (None, "https://example.com/a?amp=1", "https://example.com/a"),
        (None, "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/news/a?utm_source=x",
         "https://www.example.com/news/a"),
        (None, "https://www.example.com/news/campaign-amplifier", "https://www.example.com/news/campaign-amplifier"),
    ],
)  # fmt: skip
def test_canonical_url(declared: str | None, fetched: str, expected: str) -> None:
    assert canonical_url(declared, fetched) == expected


def _head(*elements: str) -> html.HtmlElement:
    return html.fromstring(f"<html><head>{''.join(elements)}</head><body><p>Text</p></body></html>")


_PAGE = "https://www.example.com/politik/council-votes-1234"
_CANONICAL = '<link rel="canonical" href="{}">'
_OG_URL = '<meta property="og:url" content="{}">'
_TWITTER_URL = '<meta name="twitter:url" content="{}">'


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        # The canonical link before og:url, whatever their order in the page (real cases:
        # Aftonbladet's og:url is the short form, the Mirror's an older slug).
        ((_OG_URL.format("https://www.example.com/a/1234"), _CANONICAL.format(_PAGE)), _PAGE),
        ((_TWITTER_URL.format("https://www.example.com/t"), _OG_URL.format(_PAGE)), _PAGE),
        ((_TWITTER_URL.format(_PAGE),), _PAGE),
        # A path is resolved against the page; a rel list and upper case are read.
        ((_CANONICAL.format("/politik/council-votes-1234?seite=all"),), f"{_PAGE}?seite=all"),
        (('<link rel="Canonical Alternate" href="//www.example.com/b">',), "https://www.example.com/b"),
        # The home page, for a page that is not it, is no declaration of it (wcxb-dev 0048, 4715).
        ((_OG_URL.format("https://www.example.com"),), None),
        ((_CANONICAL.format("https://www.example.com/"), _OG_URL.format(_PAGE)), _PAGE),
        ((_CANONICAL.format("https://www.example.com/?p=1234"),), "https://www.example.com/?p=1234"),
        # What is no address: text, an empty host, another scheme.
        ((_CANONICAL.format("What are the types of wine?"), _OG_URL.format(_PAGE)), _PAGE),
        ((_CANONICAL.format("https:///politik/a"),), None),
        ((_CANONICAL.format("ftp://www.example.com/a"),), None),
        ((), None),
        # One on the page's own site before one elsewhere (the canonical link of a syndicated
        # copy names the other paper); one elsewhere only when there is nothing else.
        ((_CANONICAL.format("https://www.morgenpost.de/a.html"), _OG_URL.format(_PAGE)), _PAGE),
        ((_CANONICAL.format("https://www.morgenpost.de/a.html"),), "https://www.morgenpost.de/a.html"),
    ],
)  # fmt: skip
def test_the_declared_url(elements: tuple[str, ...], expected: str | None) -> None:
    assert declared_url(_head(*elements), _PAGE) == expected


def test_the_home_page_may_declare_itself() -> None:
    tree = _head(_CANONICAL.format("https://www.example.com/"))
    fetched = "https://www.example.com/?srsltid=AfmBOor"  # the home page, from a search result
    assert declared_url(tree, fetched) == "https://www.example.com/"


def test_site_groups_let_a_publisher_name_its_other_site() -> None:
    declared, fetched = "https://www.faz.net/a.html", "https://www.faz.de/a.html"
    assert canonical_url(declared, fetched) == fetched
    rules = UrlRules(site_groups=(frozenset({"faz.net", "faz.de"}),))
    assert canonical_url(declared, fetched, rules) == declared


def test_the_tracking_parameters_are_configurable() -> None:
    url = "https://example.com/a?session_ref=1&tracker=2&id=3"
    assert normalise_url(url, UrlRules(tracking_parameters=("track*",))) == (
        "https://example.com/a?id=3"  # "session_ref" is in courlan's own list
    )
    rules = UrlRules.from_settings(settings)
    assert "utm_*" in rules.tracking_parameters and rules.site_groups == ()


def test_normalise_derives_word_count_and_hash_and_is_idempotent() -> None:
    article = Article(
        url="https://example.com/a?utm_medium=x",
        fetched_url="https://example.com/a",
        title="Title | Example",
        body="One two three.\nFour five.",
        tags=["a, b", "A"],
        authors=["By Jane Doe"],
        published_at="2024-05-03T10:00:00+02:00",
        language="DE-at",
        site_name="Example",
    )
    once = normalise(article, now=NOW)
    assert once.url == "https://example.com/a"
    assert once.title == "Title"
    assert once.body == "One two three.\n\nFour five."
    assert once.word_count == 5
    assert once.reading_time == 1
    assert once.content_hash == content_hash("One two three.\n\nFour five.")
    assert once.tags == ["A", "b"]  # matched without case, shown in display form
    assert once.authors == ["Jane Doe"]
    assert once.language == "de"
    assert normalise(once, now=NOW) == once


def test_an_html_body_keeps_its_markup_and_counts_only_its_words() -> None:
    html_body = (
        "<h2>Rates</h2>\n<p>The bank &lt;raised&gt; rates\u00ad today.</p>\n<p>Markets fell.</p>"
    )
    article = normalise(
        Article(url="https://example.com/a", fetched_url="https://example.com/a", title="T",
                body=html_body),
        body_format="html",
    )  # fmt: skip
    assert article.body == html_body.replace("\u00ad", "")  # entities and tags kept
    assert article.word_count == 8  # "Rates The bank raised rates today Markets fell"
    plain = normalise(
        Article(url="https://example.com/a", fetched_url="https://example.com/a", title="T",
                body="Rates\n\nThe bank <raised> rates today.\n\nMarkets fell."),
    )  # fmt: skip
    assert article.content_hash == plain.content_hash  # the hash is of the words, not the markup
    assert body_text(article.body, "html") == plain.body


def test_a_value_labelled_as_a_topic_is_that_topic_other_labels_go() -> None:
    tags = ["Subject: Justice", "Page Type: Article", "Topic: Climate", "Storms", "Floods", "Rain"]
    assert clean_tags(tags) == ["Justice", "Climate", "Storms", "Floods", "Rain"]


def test_in_a_list_of_mostly_labels_the_unlabelled_values_go_too() -> None:
    # A CMS's record of the page: "Medium" is as much a label's value as "1000-1999".
    tags = ["Subject: Justice", "Page Type: Article", "Topic: Climate", "Medium", "WC: 1000-1999"]
    assert clean_tags(tags) == ["Justice", "Climate"]


def test_short_numbers_are_topics_long_ones_ids_and_punctuation_goes() -> None:
    tags = ["1&1", "9/11", "58", "2024", "100312362", "—", "#", "IONOS"]
    assert clean_tags(tags) == ["1&1", "9/11", "58", "2024", "IONOS"]


def test_the_sites_own_host_name_is_no_tag() -> None:
    tags = ["nationalpost.com", "Kashmir", "Booking.com"]
    url = "https://www.nationalpost.com/news/world/story"
    assert clean_tags(tags, page_url=url) == ["Kashmir", "Booking.com"]
    assert clean_tags(tags) == tags  # without the page's URL nothing is known of the site


def test_a_newsroom_named_with_digits_is_kept_a_date_is_not() -> None:
    assert clean_authors(["BR24 Redaktion", "12. Mai 2024", "Jane Doe, 3 min"]) == [
        "BR24 Redaktion",
        "Jane Doe",
    ]

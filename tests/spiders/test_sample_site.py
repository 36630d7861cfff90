"""The local news site, tested for real over HTTP on 127.0.0.1 with urllib."""

from __future__ import annotations

import calendar
import gzip
import json
import re
import shutil
import struct
import time
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin

import feedparser
import pytest
import trafilatura
from lxml import etree
from lxml import html as lxml_html
from protego import Protego
from w3lib.encoding import html_to_unicode

from spiders.sample_site import DEFAULT_DIRECTORY, SampleCase, SampleSite, load_cases
from spiders.sample_site_html import PAGE_SIZE, slug, tag_path
from spiders.sample_site_xml import FEED_PATHS, NEWS_NS, SITEMAP_NS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news-site"
NS = {"sm": SITEMAP_NS, "news": NEWS_NS}


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers and raw body of a GET, without following the 3xx/4xx into an exception."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


def page_html(case: SampleCase) -> bytes:
    return gzip.decompress(case.html_file.read_bytes())


@pytest.fixture(scope="module")
def site() -> Iterator[SampleSite]:
    with SampleSite(FIXTURES) as running:
        yield running


def test_fixture_directory_is_the_default() -> None:
    assert DEFAULT_DIRECTORY == FIXTURES
    cases = load_cases(FIXTURES)
    assert len(cases) == 36
    assert len({case.publisher for case in cases}) == 36
    assert len({case.path for case in cases}) == 36


def test_every_page_is_served_byte_identical(site: SampleSite) -> None:
    for case in site.cases:
        status, headers, body = fetch(site.page_url(case))
        assert status == 200, case.id
        assert body == page_html(case), case.id
        assert headers["Content-Type"] == "text/html"
        assert headers["Content-Encoding"] is None
        assert headers["ETag"].startswith('"')
        assert headers["Last-Modified"].endswith(" GMT")


def test_page_is_served_at_its_original_path(site: SampleSite) -> None:
    case = next(case for case in site.cases if case.id == "NationalPost_2024_08_28")
    assert (
        case.url == "https://nationalpost.com/news/canada/kamala-harris-childhood-montreal-canada"
    )
    assert case.path == "/news/canada/kamala-harris-childhood-montreal-canada"
    assert site.page_url(case) == site.base_url + case.path


def test_matching_etag_gives_304_and_other_etag_gives_200(site: SampleSite) -> None:
    url = site.page_url(site.cases[0])
    _, headers, _ = fetch(url)
    status, _, body = fetch(url, **{"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    status, _, body = fetch(url, **{"If-None-Match": '"something-else"'})
    assert status == 200
    assert body == page_html(site.cases[0])


def test_if_modified_since(site: SampleSite) -> None:
    case = next(case for case in site.cases if case.id == "SalzburgerNachrichten_2025_06_05")
    url = site.page_url(case)
    _, headers, _ = fetch(url)
    assert headers["Last-Modified"] == "Thu, 05 Jun 2025 10:36:40 GMT"
    assert fetch(url, **{"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert fetch(url, **{"If-Modified-Since": "Thu, 05 Jun 2025 10:36:39 GMT"})[0] == 200


def test_gzip_when_asked(site: SampleSite) -> None:
    case = site.cases[1]
    status, headers, body = fetch(site.page_url(case), **{"Accept-Encoding": "gzip, deflate"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert body == case.html_file.read_bytes()
    assert gzip.decompress(body) == page_html(case)
    assert fetch(site.page_url(case), **{"Accept-Encoding": "gzip;q=0"})[2] == page_html(case)


@pytest.mark.parametrize("kind", ["rss", "rss1", "atom"])
def test_feed_lists_every_page(site: SampleSite, kind: str) -> None:
    status, _, body = fetch(site.feed_url(kind))
    assert status == 200
    feed = feedparser.parse(body)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == {"rss": "rss20", "rss1": "rss10", "atom": "atom10"}[kind]
    assert len(feed.entries) == 36
    by_url = {site.page_url(case): case for case in site.cases}
    assert {entry.link for entry in feed.entries} == set(by_url)
    for entry in feed.entries:
        case = by_url[entry.link]
        assert entry.title == case.expected["title"].strip()  # feedparser strips
        assert entry.id == entry.link
        moment = entry.get("published_parsed") or entry.updated_parsed
        assert calendar.timegm(moment) == int(case.published_at.timestamp()), case.id
        assert fetch(entry.link)[0] == 200


def test_feed_dates_are_written_in_each_format(site: SampleSite) -> None:
    rss = fetch(site.feed_url("rss"))[2].decode()
    rss1 = fetch(site.feed_url("rss1"))[2].decode()
    atom = fetch(site.feed_url("atom"))[2].decode()
    # SalzburgerNachrichten_2025_06_05: published 2025-06-05 12:36:40+02:00
    assert "<pubDate>Thu, 05 Jun 2025 12:36:40 +0200</pubDate>" in rss
    assert "<dc:date>2025-06-05T12:36:40+02:00</dc:date>" in rss1
    assert "<published>2025-06-05T12:36:40+02:00</published>" in atom


def test_sitemap_lists_every_page(site: SampleSite) -> None:
    status, headers, body = fetch(site.base_url + "/sitemap.xml")
    assert status == 200
    assert headers["Content-Type"] == "application/xml"
    namespaces = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = etree.fromstring(body)
    locs = root.xpath("/sm:urlset/sm:url/sm:loc/text()", namespaces=namespaces)
    assert sorted(locs) == sorted(site.urls_file_lines())
    assert len(root.xpath("/sm:urlset/sm:url/sm:lastmod", namespaces=namespaces)) == 36


def test_front_page_links_every_article_the_site_pages_and_the_feeds(site: SampleSite) -> None:
    status, headers, body = fetch(site.base_url + "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    links = set(site_links(site, "/", body))
    # Every article and every site page but the later pages of a section, which only that
    # section links to; besides them two feeds and the logo file.
    first_pages = {path for path in site.non_article_paths() if "?page=" not in path}
    files = {"/feed.xml", "/atom.xml", "/media/logo.png"}
    assert links == set(site.article_paths()) | first_pages | files
    assert {"/about", "/contact", "/privacy", "/imprint", "/login", "/search?q="} <= links
    assert {"/tag/donald-trump/", "/tag/iran/", "/author/adam-vidler/"} <= links
    document = lxml_html.fromstring(body)
    teasers = document.xpath("//main//article[@class='teaser']//h3/a")
    titles = {site.base_url + a.get("href"): a.text_content() for a in teasers}
    assert titles == {site.page_url(case): case.expected["title"] for case in site.cases}
    alternates = dict(
        zip(
            document.xpath("//link[@rel='alternate']/@type"),
            document.xpath("//link[@rel='alternate']/@href"),
            strict=True,
        )
    )
    assert {kind: urljoin(site.base_url, href) for kind, href in alternates.items()} == {
        "application/rss+xml": site.feed_url("rss"),
        "application/rdf+xml": site.feed_url("rss1"),
        "application/atom+xml": site.feed_url("atom"),
    }


def test_every_site_page_is_reached_from_the_front_page(site: SampleSite) -> None:
    articles, files = set(site.article_paths()), {"/feed.xml", "/atom.xml", "/media/logo.png"}
    reached: set[str] = set()
    to_visit = ["/"]
    while to_visit:
        path = to_visit.pop()
        if path in reached:
            continue
        reached.add(path)
        if path in articles or path in files:
            continue  # not followed: an article's own links point to its publisher's site
        status, headers, body = fetch(site.base_url + path)
        assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8"), path
        document = lxml_html.fromstring(body)
        assert len(document.xpath("//h1")) == 1, path
        assert document.xpath("//meta[@property='og:type']") == [], path
        to_visit += site_links(site, path, body)
    assert reached - articles - files == set(site.non_article_paths())
    assert reached >= articles
    assert len(site.article_paths()) == len(articles) == 36


def test_sections_and_their_pages_list_every_article_once(site: SampleSite) -> None:
    listed: Counter[str] = Counter()
    for path in site.non_article_paths():
        if path.startswith("/section/"):
            document = lxml_html.fromstring(fetch(site.base_url + path)[2])
            teasers = document.xpath("//main//article[@class='teaser']//h3/a/@href")
            assert 1 <= len(teasers) <= PAGE_SIZE, path
            listed.update(teasers)
    assert set(listed) == set(site.article_paths())
    assert set(listed.values()) == {1}

    europe = [path for path in site.non_article_paths() if path.startswith("/section/europe/")]
    assert europe == ["/section/europe/", "/section/europe/?page=2", "/section/europe/?page=3"]
    pages = [lxml_html.fromstring(fetch(site.base_url + path)[2]) for path in europe]
    assert [page.xpath("//a[@rel='next']/@href") for page in pages] == [
        [europe[1]],
        [europe[2]],
        [],
    ]
    assert [page.xpath("//a[@rel='prev']/@href") for page in pages] == [
        [],
        [europe[0]],
        [europe[1]],
    ]
    assert [len(page.xpath("//article[@class='teaser']")) for page in pages] == [8, 8, 6]


def test_topic_and_author_pages_list_their_articles(site: SampleSite) -> None:
    document = lxml_html.fromstring(fetch(site.base_url + "/tag/donald-trump/")[2])
    listed = set(document.xpath("//main//article[@class='teaser']//h3/a/@href"))
    tagged = {case.path for case in site.cases if "Donald Trump" in case.expected["tags"]}
    assert listed == tagged
    assert len(tagged) == 3
    document = lxml_html.fromstring(fetch(site.base_url + "/author/adam-vidler/")[2])
    assert document.xpath("//h1/text()") == ["Adam Vidler"]
    listed = set(document.xpath("//main//article[@class='teaser']//h3/a/@href"))
    assert listed == {case.path for case in site.cases if "Adam Vidler" in case.expected["authors"]}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("US politics", "us-politics"),
        ("Kamala Harris", "kamala-harris"),
        ("Ex-Ministerin Raab", "ex-ministerin-raab"),
        ("Straße & Brücke", "strasse-br%C3%BCcke"),  # casefold() turns ß into ss
        ("한국 정치", "%ED%95%9C%EA%B5%AD-%EC%A0%95%EC%B9%98"),
        ("!!!", "-"),
    ],
)
def test_slugs_are_lower_case_words_percent_encoded(name: str, expected: str) -> None:
    assert slug(name) == expected
    assert tag_path(name) == f"/tag/{expected}/"


def test_service_pages_are_short_pages_not_articles(site: SampleSite) -> None:
    for path in ["/about", "/contact", "/privacy", "/imprint", "/login", "/search", "/search?q="]:
        status, _, body = fetch(site.base_url + path)
        assert status == 200, path
        main = lxml_html.fromstring(body).xpath("//main")[0]
        assert 3 <= len(main.text_content().split()) <= 40, path
        assert main.xpath(".//article") == [], path
    contact = lxml_html.fromstring(fetch(site.base_url + "/contact")[2])
    assert "mailto:newsroom@example.org" in contact.xpath("//main//a/@href")
    login = lxml_html.fromstring(fetch(site.base_url + "/login")[2])
    assert login.xpath("//form/@method") == ["post"]
    assert login.xpath("//input[@type='password']/@name") == ["password"]


def test_logo_is_a_real_png(site: SampleSite) -> None:
    status, headers, body = fetch(site.base_url + "/media/logo.png")
    assert (status, headers["Content-Type"]) == (200, "image/png")
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = [], 8
    while position < len(body):
        (length,) = struct.unpack(">I", body[position : position + 4])
        kind, data = body[position + 4 : position + 8], body[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", body[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data), kind
        chunks.append((kind, data))
        position += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, colour) == (120, 32, 8, 2)
    assert len(zlib.decompress(chunks[1][1])) == height * (1 + 3 * width)


def test_robots_txt(site: SampleSite) -> None:
    status, headers, body = fetch(site.base_url + "/robots.txt")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert body.decode() == (
        f"User-agent: *\nDisallow: /private/\n\nSitemap: {site.base_url}/sitemap.xml\n"
        f"Sitemap: {site.base_url}/sitemap_index.xml\n"
    )
    robots = Protego.parse(body.decode())
    assert list(robots.sitemaps) == [
        site.base_url + "/sitemap.xml",
        site.base_url + "/sitemap_index.xml",
    ]
    assert robots.can_fetch(site.page_url(site.cases[0]), "newsdesk")
    assert not robots.can_fetch(site.base_url + "/private/page", "newsdesk")


def test_sitemap_index_leads_to_every_article(site: SampleSite) -> None:
    sitemaps = read_sitemaps(site, site.base_url + "/sitemap_index.xml")
    assert list(sitemaps) == [
        site.base_url + path
        for path in [
            "/sitemap_index.xml",
            "/sitemap-news.xml",
            "/sitemap-articles.xml.gz",
            "/sitemap-archive.xml",
            "/sitemap-pages.xml",
        ]
    ]
    assert set(sitemaps) | {site.base_url + "/sitemap.xml"} == set(site.sitemap_urls())
    locs = {
        url: root.xpath("/sm:urlset/sm:url/sm:loc/text()", namespaces=NS)
        for url, root in sitemaps.items()
    }
    articles = set(site.urls_file_lines())
    news, everything = (
        locs[site.base_url + "/sitemap-news.xml"],
        locs[site.base_url + "/sitemap-articles.xml.gz"],
    )
    assert sorted(everything) == sorted(articles)
    assert len(news) == len(set(news)) == 18
    assert set(news) < articles
    pages = locs[site.base_url + "/sitemap-pages.xml"]
    assert pages == [
        site.base_url + path for path in ["/about", "/contact", "/privacy", "/imprint"]
    ]
    index = sitemaps[site.base_url + "/sitemap_index.xml"]
    lastmods = index.xpath("/sm:sitemapindex/sm:sitemap/sm:lastmod/text()", namespaces=NS)
    newest = max(case.published_at for case in site.cases).isoformat(timespec="seconds")
    assert lastmods == [newest, newest, "2024-01-15T09:00:00+00:00"]


def test_news_sitemap_names_the_newest_half_with_news_fields(site: SampleSite) -> None:
    status, headers, body = fetch(site.base_url + "/sitemap-news.xml")
    assert (status, headers["Content-Type"]) == (200, "application/xml")
    root = etree.fromstring(body)
    assert root.nsmap == {None: NS["sm"], "news": NS["news"]}
    newest = sorted(site.cases, key=lambda case: case.published_at, reverse=True)[:18]
    by_url = {site.page_url(case): case for case in newest}
    urls = root.xpath("/sm:urlset/sm:url", namespaces=NS)
    assert [url.findtext("sm:loc", namespaces=NS) for url in urls] == list(by_url)
    keywords = 0
    for url in urls:
        case = by_url[url.findtext("sm:loc", namespaces=NS)]
        (news,) = url.xpath("news:news", namespaces=NS)
        published = case.published_at.isoformat(timespec="seconds")
        assert url.findtext("sm:lastmod", namespaces=NS) == published
        assert news.findtext("news:publication/news:name", namespaces=NS) == case.publisher
        assert re.fullmatch(
            r"[a-z]{2,3}", news.findtext("news:publication/news:language", namespaces=NS)
        )
        assert news.findtext("news:publication_date", namespaces=NS) == published
        assert news.findtext("news:title", namespaces=NS) == case.expected["title"]
        tags = case.expected["tags"]
        assert news.findtext("news:keywords", namespaces=NS) == (", ".join(tags) if tags else None)
        keywords += bool(tags)
    assert keywords >= 10
    languages = {
        case.id: url.findtext("news:news/news:publication/news:language", namespaces=NS)
        for url in urls
        if (case := by_url[url.findtext("sm:loc", namespaces=NS)])
    }
    # From <html lang="pl-PL">, <html lang="ru">, <html lang="ar">, og:locale de_DE.
    assert languages["Rzeczpospolita_2026_04_19"] == "pl"
    assert languages["Pravda_2026_01_08"] == "ru"
    assert languages["LBCGroup_2026_01_08"] == "ar"
    assert languages["WAZ_2025_09_10"] == "de"


def test_gzipped_sitemap_is_a_gzip_file_of_every_article(site: SampleSite) -> None:
    for accept in ["identity", "gzip"]:
        url = site.base_url + "/sitemap-articles.xml.gz"
        status, headers, body = fetch(url, **{"Accept-Encoding": accept})
        assert (status, headers["Content-Type"]) == (200, "application/x-gzip")
        assert headers["Content-Encoding"] is None
        root = etree.fromstring(gzip.decompress(body))
        assert root.tag == f"{{{NS['sm']}}}urlset"
        lastmods = dict(
            zip(
                root.xpath("/sm:urlset/sm:url/sm:loc/text()", namespaces=NS),
                root.xpath("/sm:urlset/sm:url/sm:lastmod/text()", namespaces=NS),
                strict=True,
            )
        )
        assert lastmods == {
            site.page_url(case): case.published_at.isoformat(timespec="seconds")
            for case in site.cases
        }


@pytest.mark.parametrize("path", ["/nothing-here", "/private/page", "/feed.xml/extra", "/c1/"])
def test_unknown_paths_are_404(site: SampleSite, path: str) -> None:
    assert fetch(site.base_url + path)[0] == 404


def test_copies_serve_every_page_under_distinct_urls() -> None:
    with SampleSite(FIXTURES, copies=3) as site:
        urls = site.urls_file_lines()
        assert len(urls) == 108
        assert len(set(urls)) == 108
        assert site.page_url(site.cases[0], copy=2) == f"{site.base_url}/c2{site.cases[0].path}"
        bodies = {url: fetch(url) for url in urls}
        assert all(status == 200 for status, _, _ in bodies.values())
        case = site.cases[5]
        assert bodies[site.page_url(case, copy=2)][2] == page_html(case)
        feed = feedparser.parse(fetch(site.feed_url("atom"))[2])
        assert len(feed.entries) == 108


def test_query_strings_and_colliding_paths(tmp_path: Path) -> None:
    source = FIXTURES / "pages" / "NationalPost_2024_08_28.html.gz"
    (tmp_path / "pages").mkdir()
    lines = []
    for case_id, url in [
        ("Query", "https://example.com/story/3000000218734/kalifat?ref=rss"),
        ("First", "https://one.example/news/item.html#comments"),
        ("Second", "https://two.example/news/item.html"),
    ]:
        shutil.copyfile(source, tmp_path / "pages" / f"{case_id}.html.gz")
        expected = {"title": case_id, "published_at": "2024-05-03 15:47:42.389000+00:00"}
        record = {"id": case_id, "html": f"pages/{case_id}.html.gz", "url": url}
        lines.append(json.dumps({**record, "publisher": case_id, "expected": expected}))
    (tmp_path / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    paths = [case.path for case in load_cases(tmp_path)]
    assert paths == [
        "/story/3000000218734/kalifat?ref=rss",
        "/news/item.html",
        "/Second/news/item.html",
    ]
    with SampleSite(tmp_path) as site:
        for case in site.cases:
            assert fetch(site.page_url(case))[0] == 200
        assert fetch(site.base_url + "/story/3000000218734/kalifat")[0] == 404


def test_hits_count_every_get_and_head_by_path() -> None:
    with SampleSite(FIXTURES) as site:
        page = site.cases[0].path
        assert site.hits == Counter()
        fetch(site.base_url + page)
        fetch(site.base_url + page, **{"If-None-Match": '"something-else"'})
        head = urllib.request.Request(site.base_url + "/feed.xml", method="HEAD")
        with urllib.request.urlopen(head, timeout=10) as response:
            assert response.status == 200
        fetch(site.base_url + "/no-such-page")
        assert site.hits == Counter({page: 2, "/feed.xml": 1, "/no-such-page": 1})

        # Requests answered at once by the server's threads are each counted.
        urls = [site.page_url(case) for case in site.cases[:8]] * 5
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda url: fetch(url)[0], urls))
        assert statuses == [200] * 40
        assert site.hits[page] == 2 + 5
        assert sum(site.hits.values()) == 4 + 40

        site.reset_hits()
        assert site.hits == Counter()
        fetch(site.base_url + page)
        assert site.hits == Counter({page: 1})


def test_change_page_changes_the_page_its_validators_and_its_lastmods() -> None:
    with SampleSite(FIXTURES, copies=2) as site:
        case = max(site.cases, key=lambda case: case.published_at)  # in the news sitemap
        url, other = site.page_url(case, copy=1), site.page_url(case, copy=0)
        _, before, original = fetch(url)
        feeds_before = {kind: fetch(site.feed_url(kind))[2] for kind in FEED_PATHS}
        started = datetime.now(UTC)
        site.change_page(case, copy=1, text="A paragraph the publisher added later.")

        status, after, changed = fetch(url)
        assert status == 200
        assert changed != original
        assert b"<p>A paragraph the publisher added later.</p>" in changed
        assert after["ETag"] != before["ETag"]
        modified = parsedate_to_datetime(after["Last-Modified"])
        assert started <= modified <= datetime.now(UTC) + timedelta(seconds=1)
        assert fetch(url, **{"If-None-Match": before["ETag"]})[0] == 200
        assert fetch(url, **{"If-None-Match": after["ETag"]})[0] == 304
        assert fetch(url, **{"If-Modified-Since": before["Last-Modified"]})[0] == 200
        assert fetch(url, **{"If-Modified-Since": after["Last-Modified"]})[0] == 304
        gzipped = fetch(url, **{"Accept-Encoding": "gzip"})[2]
        assert gzip.decompress(gzipped) == changed
        assert fetch(other)[2] == original  # the other copy did not change

        lastmod = modified.isoformat(timespec="seconds")
        published = case.published_at.isoformat(timespec="seconds")
        sitemaps = read_sitemaps(site, site.base_url + "/sitemap_index.xml")
        sitemaps[site.base_url + "/sitemap.xml"] = etree.fromstring(
            fetch(site.base_url + "/sitemap.xml")[2]
        )
        for sitemap_url in ["/sitemap.xml", "/sitemap-news.xml", "/sitemap-articles.xml.gz"]:
            lastmods = sitemap_lastmods(sitemaps[site.base_url + sitemap_url])
            assert lastmods[url] == lastmod, sitemap_url
            assert lastmods[other] == published, sitemap_url
            unchanged = [moment for page, moment in lastmods.items() if page != url]
            assert max(unchanged) < lastmod
        index = sitemaps[site.base_url + "/sitemap_index.xml"]
        assert index.xpath("//sm:lastmod/text()", namespaces=NS)[:2] == [lastmod, lastmod]

        atom = feedparser.parse(fetch(site.feed_url("atom"))[2])
        entry = next(entry for entry in atom.entries if entry.link == url)
        assert calendar.timegm(entry.updated_parsed) == int(modified.timestamp())
        assert calendar.timegm(entry.published_parsed) == int(case.published_at.timestamp())
        assert calendar.timegm(atom.feed.updated_parsed) == int(modified.timestamp())
        rss = feedparser.parse(fetch(site.feed_url("rss"))[2])
        assert parsedate_to_datetime(rss.feed.updated) == modified
        for kind in ["rss", "atom"]:
            assert fetch(site.feed_url(kind))[2] != feeds_before[kind]

        # A second change within the same second still moves the page on.
        site.change_page(case, copy=1, text="And a second one.")
        _, again, twice = fetch(url)
        assert b"A paragraph the publisher added later." in twice
        assert b"And a second one." in twice
        assert parsedate_to_datetime(again["Last-Modified"]) > modified


def test_change_page_before_serving_and_with_the_default_text() -> None:
    site = SampleSite(FIXTURES)
    case = site.cases[3]
    site.change_page(case)
    with site:
        body = fetch(site.page_url(case))[2]
        assert body != page_html(case)
        assert b"Update: this story was changed after publication" in body
        lastmods = sitemap_lastmods(etree.fromstring(fetch(site.base_url + "/sitemap.xml")[2]))
        assert lastmods[site.page_url(case)] > max(
            moment for url, moment in lastmods.items() if url != site.page_url(case)
        )


@pytest.mark.parametrize("case", load_cases(FIXTURES), ids=lambda case: case.id)
def test_changed_page_shows_the_new_paragraph_in_its_main_text(case: SampleCase) -> None:
    """The paragraph lands in the article's main text, where an extractor finds it."""
    with SampleSite(FIXTURES) as site:
        before = trafilatura.extract(fetch(site.page_url(case))[2], url=case.url) or ""
        site.change_page(case, text="Zanzibar quorum: a paragraph added after publication.")
        changed = fetch(site.page_url(case))[2]
    after = trafilatura.extract(changed, url=case.url) or ""
    assert "Zanzibar quorum: a paragraph added after publication." in after
    # The rest of the main text is as it was; lxml may only tidy spaces here and there.
    assert len(after.split()) - len(before.split()) == 7
    assert html_to_unicode(None, changed)[0] == html_to_unicode(None, page_html(case))[0]


def test_throttle_once_answers_429_with_retry_after_then_serves() -> None:
    with SampleSite(FIXTURES) as site:
        case = site.cases[2]
        path = site.page_path(case)
        site.throttle_once(path, retry_after=2)
        status, headers, body = fetch(site.page_url(case))
        assert (status, headers["Retry-After"]) == (429, "2")
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert body == b"Too many requests; try again in 2 s.\n"
        status, headers, body = fetch(site.page_url(case))
        assert (status, headers["Retry-After"]) == (200, None)
        assert body == page_html(case)
        assert site.hits[path] == 2

        # Throttles queue up per path; other paths are served meanwhile.
        site.throttle_once("/feed.xml", retry_after=30, status=503)
        site.throttle_once("/feed.xml", retry_after=1)
        assert fetch(site.feed_url("rss1"))[0] == 200
        answers = [fetch(site.feed_url("rss")) for _ in range(3)]
        assert [(status, headers["Retry-After"]) for status, headers, _ in answers] == [
            (503, "30"),
            (429, "1"),
            (200, None),
        ]
        with pytest.raises(ValueError, match="cannot throttle"):
            site.throttle_once(path, status=200)


def test_request_times_record_every_request_by_path() -> None:
    with SampleSite(FIXTURES) as site:
        path = site.page_path(site.cases[0])
        assert site.request_times(path) == []
        started = time.monotonic()
        site.throttle_once(path)
        fetch(site.base_url + path)
        fetch(site.base_url + path, **{"If-None-Match": "*"})
        head = urllib.request.Request(site.base_url + path, method="HEAD")
        with urllib.request.urlopen(head, timeout=10):
            pass
        fetch(site.base_url + "/missing")
        times = site.request_times(path)
        assert len(times) == 3
        assert started <= times[0] <= times[1] <= times[2] <= time.monotonic()
        assert len(site.request_times("/missing")) == 1
        site.reset_hits()
        assert site.request_times(path) == []
        assert site.hits == Counter()


def test_copies_are_listed_by_sections_and_sitemaps() -> None:
    with SampleSite(FIXTURES, copies=2) as site:
        assert len(site.article_paths()) == 72
        assert set(site.article_paths()) == {
            site.page_path(case, copy) for copy in range(2) for case in site.cases
        }
        listed: set[str] = set()
        for path in site.non_article_paths():
            if path.startswith("/section/"):
                document = lxml_html.fromstring(fetch(site.base_url + path)[2])
                listed.update(document.xpath("//article[@class='teaser']//h3/a/@href"))
        assert listed == set(site.article_paths())
        sitemaps = read_sitemaps(site, site.base_url + "/sitemap_index.xml")
        everything = sitemaps[site.base_url + "/sitemap-articles.xml.gz"]
        assert set(sitemap_lastmods(everything)) == set(site.urls_file_lines())
        assert len(sitemap_lastmods(sitemaps[site.base_url + "/sitemap-news.xml"])) == 36


def site_links(site: SampleSite, path: str, body: bytes) -> list[str]:
    """The paths (with query) on the site that a page links to, fragments dropped."""
    links = []
    for href in lxml_html.fromstring(body).xpath("//body//a/@href"):
        url = urldefrag(urljoin(site.base_url + path, href)).url
        if url.startswith(site.base_url + "/"):
            links.append(url.removeprefix(site.base_url))
    return links


def read_sitemaps(site: SampleSite, url: str) -> dict[str, etree._Element]:
    """Every sitemap reached from ``url`` through sitemap indexes, parsed, in reading order."""
    sitemaps: dict[str, etree._Element] = {}
    to_read = [url]
    while to_read:
        url = to_read.pop(0)
        status, _, body = fetch(url)
        assert status == 200, url
        root = etree.fromstring(gzip.decompress(body) if url.endswith(".gz") else body)
        sitemaps[url] = root
        to_read += root.xpath("/sm:sitemapindex/sm:sitemap/sm:loc/text()", namespaces=NS)
    return sitemaps


def sitemap_lastmods(urlset: etree._Element) -> dict[str, str]:
    """A urlset's lastmod by URL."""
    return {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in urlset.xpath("/sm:urlset/sm:url", namespaces=NS)
    }

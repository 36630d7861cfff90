"""The local news site, tested for real over HTTP on 127.0.0.1 with urllib."""

from __future__ import annotations

import calendar
import gzip
import json
import shutil
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from urllib.error import HTTPError

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html
from protego import Protego

from spiders.sample_site import DEFAULT_DIRECTORY, SampleCase, SampleSite, load_cases

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news-site"


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


def test_front_page_links_pages_and_feeds(site: SampleSite) -> None:
    status, _, body = fetch(site.base_url + "/")
    assert status == 200
    document = lxml_html.fromstring(body)
    assert sorted(document.xpath("//body//a/@href")) == sorted(site.urls_file_lines())
    alternates = dict(
        zip(
            document.xpath("//link[@rel='alternate']/@type"),
            document.xpath("//link[@rel='alternate']/@href"),
            strict=True,
        )
    )
    assert alternates == {
        "application/rss+xml": site.feed_url("rss"),
        "application/rdf+xml": site.feed_url("rss1"),
        "application/atom+xml": site.feed_url("atom"),
    }


def test_robots_txt(site: SampleSite) -> None:
    status, headers, body = fetch(site.base_url + "/robots.txt")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert body.decode() == (
        f"User-agent: *\nDisallow: /private/\n\nSitemap: {site.base_url}/sitemap.xml\n"
    )
    robots = Protego.parse(body.decode())
    assert list(robots.sitemaps) == [site.base_url + "/sitemap.xml"]
    assert robots.can_fetch(site.page_url(site.cases[0]), "newsdesk")
    assert not robots.can_fetch(site.base_url + "/private/page", "newsdesk")


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

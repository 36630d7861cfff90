"""Sitemap reading: real-world forms, limits, hostile documents, and robots.txt sitemaps."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from spiders.sitemap_parsing import (
    SitemapEntry,
    parse_sitemap,
    sitemaps_from_robots,
    w3c_moment,
)
from tests.conftest import FIXTURES

SITEMAPS = FIXTURES / "sitemaps"
PROJECT = Path(__file__).resolve().parents[2]
URLSET_OPEN = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
URLSET_WITH_IMAGES_OPEN = (
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    b' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n'
)


def urlset(count: int) -> Iterator[bytes]:
    """A urlset of ``count`` article URLs with an image each, as big news sites publish them."""
    yield b'<?xml version="1.0" encoding="UTF-8"?>\n' + URLSET_WITH_IMAGES_OPEN
    for number in range(count):
        yield (
            b"<url><loc>https://news.example.com/2024/05/01/article-%06d.html</loc>"
            b"<lastmod>2024-05-01T10:30:00+02:00</lastmod>"
            b"<changefreq>hourly</changefreq><priority>0.8</priority>"
            b"<image:image><image:loc>https://img.example.com/%06d.jpg</image:loc></image:image>"
            b"</url>\n" % (number, number)
        )
    yield b"</urlset>\n"


def gzipped(parts: Iterable[bytes], level: int = 6) -> bytes:
    """The gzip of the parts, compressed as they come so that they are never all in memory."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    return b"".join(compressor.compress(part) for part in parts) + compressor.flush()


def locs(body: bytes, **limits: int) -> list[str]:
    """The locs a body gives."""
    return [entry.loc for entry in parse_sitemap(body, **limits).entries]


# --- Real-world forms --------------------------------------------------------------------------


def test_a_urlset_gives_its_absolute_http_locs_with_their_dates() -> None:
    result = parse_sitemap((SITEMAPS / "urlset.xml").read_bytes())

    assert (result.kind, result.truncated, result.error) == ("urlset", None, None)
    assert {entry.loc.rsplit("/", 1)[1]: entry.lastmod for entry in result.entries} == {
        "year": "2024",
        "month": "2024-05",
        "day": "2024-05-01",
        "minutes": "2024-05-01T10:30:00+02:00",
        "seconds": "2024-05-01T10:30:15+00:00",
        "fraction": "2024-05-01T10:30:15.500000-05:00",
        "no-offset": "2024-05-01T10:30:15",
        "bad-date": None,
        "bad-month": None,
        "whitespace-around.html": None,
        "with-media?a=1&b=2": None,
        "cdata": None,
    }
    assert not any(entry.is_sitemap for entry in result.entries)


def test_image_and_video_extensions_are_ignored() -> None:
    entries = parse_sitemap((SITEMAPS / "urlset.xml").read_bytes()).entries

    assert not any("img.example.com" in entry.loc for entry in entries)
    media = next(entry for entry in entries if "with-media" in entry.loc)
    assert media == SitemapEntry("https://news.example.com/with-media?a=1&b=2")


def test_a_sitemap_index_gives_sitemaps() -> None:
    result = parse_sitemap((SITEMAPS / "sitemap-index.xml").read_bytes())

    assert (result.kind, result.error) == ("sitemapindex", None)
    assert result.entries == [
        SitemapEntry(
            "https://news.example.com/sitemaps/news.xml", True, "2024-05-01T06:00:00+00:00"
        ),
        SitemapEntry("https://news.example.com/sitemaps/2024-04.xml.gz", True, None),
    ]


def test_a_url_inside_a_sitemap_index_is_not_taken_for_a_sitemap() -> None:
    body = (
        b"<sitemapindex><sitemap><loc>https://a.example/s.xml</loc></sitemap>"
        b"<url><loc>https://a.example/page</loc></url></sitemapindex>"
    )

    assert parse_sitemap(body).entries == [SitemapEntry("https://a.example/s.xml", True)]


def test_a_google_news_sitemap_gives_every_news_field() -> None:
    first, second = parse_sitemap((SITEMAPS / "news.xml").read_bytes()).entries

    assert first == SitemapEntry(
        loc="https://news.example.com/2024/05/01/harbour-reopens.html",
        is_sitemap=False,
        lastmod="2024-05-01T09:15:00+02:00",
        news_title="Harbour reopens after storm & repairs",
        news_published_at="2024-05-01T08:00:00+02:00",
        news_keywords=["harbour", "storm", "shipping"],
        news_language="en",
        news_publication="The Example Gazette",
    )
    assert (second.news_title, second.news_published_at, second.news_keywords) == (
        "Council votes on budget",
        "2024-04-30",
        [],
    )


def test_hints_carry_only_what_the_sitemap_said() -> None:
    first, second = parse_sitemap((SITEMAPS / "news.xml").read_bytes()).entries

    assert first.to_hints() == {
        "title": "Harbour reopens after storm & repairs",
        "published_at": "2024-05-01T08:00:00+02:00",
        "tags": ["harbour", "storm", "shipping"],
        "language": "en",
        "lastmod": "2024-05-01T09:15:00+02:00",
    }
    assert second.to_hints() == {
        "title": "Council votes on budget",
        "published_at": "2024-04-30",
        "language": "de",
    }
    assert SitemapEntry("https://a.example/").to_hints() == {}


def test_a_sitemap_without_namespace_is_read() -> None:
    result = parse_sitemap((SITEMAPS / "no-namespace.xml").read_bytes())

    assert result.kind == "urlset"
    assert result.entries == [
        SitemapEntry("https://blog.example.org/first-post", lastmod="2023-11-02"),
        SitemapEntry("https://blog.example.org/second-post"),
    ]


def test_a_gzipped_sitemap_reads_like_the_plain_one() -> None:
    plain = (SITEMAPS / "news.xml").read_bytes()

    assert parse_sitemap(gzip.compress(plain)) == parse_sitemap(plain)
    assert len(parse_sitemap(gzip.compress(plain)).entries) == 2


def test_whitespace_and_a_byte_order_mark_before_the_xml_declaration_are_tolerated() -> None:
    body = b"\xef\xbb\xbf \r\n\n" + (SITEMAPS / "no-namespace.xml").read_bytes()

    assert len(parse_sitemap(body).entries) == 2
    assert parse_sitemap(body).error is None


def test_a_plain_text_sitemap_gives_one_url_a_line() -> None:
    result = parse_sitemap((SITEMAPS / "sitemap.txt").read_bytes())

    assert (result.kind, result.error) == ("urlset", None)
    assert [entry.loc for entry in result.entries] == [
        "https://news.example.com/2024/05/01/one.html",
        "https://news.example.com/2024/05/01/two.html",
        "http://news.example.com/three.html",
    ]


def test_a_text_line_too_long_to_be_a_url_is_skipped_whole() -> None:
    body = b"https://a.example/" + b"x" * 20_000 + b"\nhttps://b.example/kept\n"

    assert locs(body) == ["https://b.example/kept"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024", "2024"),
        ("2024-02", "2024-02"),
        ("2024-02-29", "2024-02-29"),
        (" 2024-02-29T23:59+01:00 ", "2024-02-29T23:59:00+01:00"),
        ("2024-02-29t23:59:58z", "2024-02-29T23:59:58+00:00"),
        ("2024-02-29T23:59:58.123456789+0530", "2024-02-29T23:59:58.123456+05:30"),
        ("2024-02-29 23:59:58", "2024-02-29T23:59:58"),
        ("2023-02-29", None),
        ("2024-00", None),
        ("0000", None),
        ("24-02-29", None),
        ("2024-02-29T25:00Z", None),
        ("Wed, 01 May 2024 10:00:00 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_w3c_datetimes_become_iso_8601_as_precise_as_given(
    value: str | None, expected: str | None
) -> None:
    assert w3c_moment(value) == expected


# --- Limits ------------------------------------------------------------------------------------


def test_reading_stops_after_max_urls() -> None:
    result = parse_sitemap(b"".join(urlset(60_000)))

    assert len(result.entries) == 50_000
    assert result.truncated == "more than 50000 URLs"
    assert result.entries[-1].loc.endswith("article-049999.html")
    assert result.error is None


def test_exactly_max_urls_is_not_truncated() -> None:
    result = parse_sitemap(b"".join(urlset(500)), max_urls=500)

    assert (len(result.entries), result.truncated) == (500, None)


def test_a_plain_body_stops_at_max_bytes_without_a_half_url() -> None:
    body = b"https://a.example/one\nhttps://a.example/two-is-cut\n"
    limit = len(b"https://a.example/one\nhttps://a.example/two")
    result = parse_sitemap(body, max_bytes=limit)

    assert [entry.loc for entry in result.entries] == ["https://a.example/one"]
    assert result.truncated == f"more than {limit} bytes"


def test_an_xml_body_cut_at_max_bytes_keeps_the_entries_before_the_cut() -> None:
    body = b"".join(urlset(100))
    result = parse_sitemap(body, max_bytes=len(body) // 2)

    assert 40 < len(result.entries) < 50
    assert result.truncated == f"more than {len(body) // 2} bytes"
    assert result.error is None


def gzip_bomb(head: bytes, filler: bytes, size: int = 1 << 30) -> bytes:
    """``head`` then ``filler`` up to ``size`` bytes (1 GiB), gzipped a MiB at a time."""
    block = filler * ((1 << 20) // len(filler))
    return gzipped([head, *(block for _ in range(size // len(block)))], level=1)


@pytest.mark.timeout(60)  # a guard against hanging, not a timing goal
@pytest.mark.parametrize(
    ("head", "filler"),
    [
        (URLSET_OPEN + b"<url><loc>https://a.example/first</loc></url>", b"<!-- padding -->"),
        (b"https://a.example/first\n", b"\0"),
    ],
    ids=["xml", "text"],
)
def test_a_gzip_bomb_is_decompressed_only_up_to_max_bytes(head: bytes, filler: bytes) -> None:
    bomb = gzip_bomb(head, filler)
    tracemalloc.start()
    try:
        result = parse_sitemap(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert result.truncated == f"more than {50 * 1024 * 1024} bytes decompressed"
    assert [entry.loc for entry in result.entries] == ["https://a.example/first"]
    # Read in 64 KiB pieces, never the 50 MiB let alone the 1 GiB: a few MiB at most.
    assert peak < 4 * 1024 * 1024, peak


def test_a_broken_gzip_keeps_the_entries_before_the_break() -> None:
    body = gzipped(urlset(5000))
    result = parse_sitemap(body[: len(body) // 2])

    assert 1000 < len(result.entries) < 4000
    assert result.error is not None
    assert result.error.startswith("bad gzip data:")


def test_gzip_magic_without_gzip_data_is_an_error() -> None:
    result = parse_sitemap(b"\x1f\x8bnot gzip at all")

    assert result.entries == []
    assert result.error is not None
    assert result.error.startswith("bad gzip data:")


MEASURE = """
import gzip, json, sys
from lxml import etree
from spiders.sitemap_parsing import parse_sitemap

def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

body = sys.stdin.buffer.read()
before = peak_kib()
if sys.argv[1] == "stream":
    count = len(parse_sitemap(body).entries)
else:
    count = len(etree.fromstring(gzip.decompress(body)))
print(json.dumps({"count": count, "growth_kib": peak_kib() - before}))
"""


def peak_growth(body: bytes, how: str) -> dict[str, int]:
    """How much a fresh interpreter's peak resident memory grows reading ``body``.

    tracemalloc cannot tell: libxml2 allocates outside Python's allocator, so an lxml tree of
    any size traces as a few hundred bytes. Nor can ``ru_maxrss``, which a child inherits from
    its parent, pytest, however big that grew. ``VmHWM`` is the fresh process's own peak.
    """
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE, how],
        input=body,
        capture_output=True,
        check=True,
        cwd=PROJECT,
        timeout=120,
    )
    measured: dict[str, int] = json.loads(completed.stdout)
    return measured


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's VmHWM")
def test_memory_stays_flat_while_a_50000_url_sitemap_is_read() -> None:
    body = gzipped(urlset(50_000))  # 13 MB of XML in 400 KB

    streamed = peak_growth(body, "stream")
    tree = peak_growth(body, "tree")

    assert streamed["count"] == tree["count"] == 50_000
    # The kept entries take under 20 MiB (some 300 bytes each, with the list); a tree of the
    # document needs five times that, and would come on top of them.
    assert streamed["growth_kib"] < 24 * 1024, streamed
    assert streamed["growth_kib"] * 3 < tree["growth_kib"], (streamed, tree)


# --- Not sitemaps, and hostile documents -------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b"", b"   \r\n\t", b"\xef\xbb\xbf\n"], ids=["empty", "blank", "bom"]
)
def test_an_empty_body_is_an_error(body: bytes) -> None:
    assert parse_sitemap(body) == parse_sitemap(b"")
    assert parse_sitemap(body).error == "empty body"
    assert parse_sitemap(body).entries == []


_LINK = b'<a href="https://a.example/">a</a>'


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"<!DOCTYPE html>\n<html><head><title>Home</title></head></html>" + _LINK, "an HTML page"),
        (b"<!doctype HTML><html><head><meta charset=utf-8>" + _LINK, "an HTML page"),
        # Well-formed, so that its root element is seen: lxml 6.2 reports content after the
        # root element before it hands over the elements of a document read in one piece.
        (
            b'<html xmlns="http://www.w3.org/1999/xhtml"><body>' + _LINK + b"</body></html>",
            "root element <html>",
        ),
        (b"<html><head><meta charset=utf-8><title>Home</title></head>" + _LINK, None),
    ],
    ids=["html5", "html5-lowercase", "xhtml", "html-not-xml"],
)
def test_html_served_instead_of_a_sitemap_is_an_error(body: bytes, error: str | None) -> None:
    result = parse_sitemap(b"\n" + body)

    assert result.entries == []
    assert result.error is not None
    if error is None:
        assert result.error.startswith("not XML:")
    else:
        assert result.error == f"not a sitemap: {error}"


def test_text_without_any_url_is_an_error() -> None:
    result = parse_sitemap(b'{"error": "rate limited"}\n')

    assert result.error == "not a sitemap: no URL in a text body"
    assert result.entries == []


def test_a_document_cut_short_is_not_xml_but_keeps_its_entries() -> None:
    body = b"".join(urlset(3))[:-30]
    result = parse_sitemap(body)

    assert len(result.entries) == 2
    assert result.error is not None
    assert result.error.startswith("not XML:")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://a.example/&lol9;</loc><lastmod>2024</lastmod></url>
</urlset>
"""


# Past the first 64 KiB the prologue is no longer looked at before parsing: what stops a
# DOCTYPE there is lxml's options and libxml2's own limits.
LONG_PROLOGUE = b"<!--" + b" padding " * 10_000 + b"-->\n"


def padded(document: bytes) -> bytes:
    """The document with a long comment between its XML declaration and its DOCTYPE."""
    declaration, rest = document.split(b"\n", 1)
    return declaration + b"\n" + LONG_PROLOGUE + rest


@pytest.mark.timeout(30)  # a guard against hanging, not a timing goal
def test_billion_laughs_is_refused_before_parsing() -> None:
    result = parse_sitemap(BILLION_LAUGHS)

    assert result.error == "DTD/entities not allowed in sitemaps"
    assert (result.entries, result.kind) == ([], None)


@pytest.mark.timeout(30)
def test_billion_laughs_past_the_first_64_kib_is_stopped_by_libxml2() -> None:
    result = parse_sitemap(padded(BILLION_LAUGHS))

    # libxml2 parses an entity's text at its first use even when told not to substitute
    # entities; its amplification limit is what stops the expansion.
    assert result.error is not None
    assert "Maximum entity amplification factor exceeded" in result.error
    assert result.entries == []
    assert "lollol" not in repr(result)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1, to notice any connection a parser makes."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def external_references(secret_file: Path, port: int) -> dict[str, bytes]:
    """Documents that would read a local file or the network if the parser let them."""
    url = f"http://127.0.0.1:{port}"
    doctypes = {
        "file-entity": '<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        "secret-entity": f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]>',
        "refused-port-entity": '<!DOCTYPE urlset [<!ENTITY x SYSTEM "http://127.0.0.1:1/">]>',
        "network-entity": f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{url}/entity">]>',
        "parameter-entity": f'<!DOCTYPE urlset [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>',
        "file-parameter-entity": (
            f'<!DOCTYPE urlset [<!ENTITY % p SYSTEM "{secret_file.as_uri()}"> %p;]>'
        ),
        "external-dtd": f'<!DOCTYPE urlset SYSTEM "{url}/sitemap.dtd">',
    }
    documents = {
        name: (
            f'<?xml version="1.0"?>\n{doctype}\n<urlset><url><loc>https://a.example/&x;</loc>'
            f"<lastmod>&x;</lastmod></url></urlset>"
        ).encode()
        for name, doctype in doctypes.items()
    }
    return documents | {f"padded-{name}": padded(body) for name, body in documents.items()}


def test_external_entities_and_dtds_are_never_fetched(
    tmp_path: Path, listener: socket.socket
) -> None:
    secret_file = tmp_path / "secret.dtd"
    secret_file.write_text('<!ENTITY x "TOP-SECRET">', encoding="utf-8")
    documents = external_references(secret_file, listener.getsockname()[1])

    results = {name: parse_sitemap(body) for name, body in documents.items()}

    assert {name: result.error for name, result in results.items()} == dict.fromkeys(
        documents, "DTD/entities not allowed in sitemaps"
    )
    assert all(result.entries == [] for result in results.values())
    text = repr(results)
    assert "root:" not in text
    assert "TOP-SECRET" not in text
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected


def test_an_xinclude_is_not_followed(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET", encoding="utf-8")
    body = (
        f'<urlset xmlns:xi="http://www.w3.org/2001/XInclude"><url><loc>https://a.example/'
        f'<xi:include href="{secret_file.as_uri()}" parse="text"/></loc></url></urlset>'
    ).encode()

    result = parse_sitemap(body)

    assert result.entries == [SitemapEntry("https://a.example/")]
    assert "TOP-SECRET" not in repr(result)


def test_an_undeclared_entity_is_not_xml() -> None:
    result = parse_sitemap(b"<urlset><url><loc>https://a.example/&x;</loc></url></urlset>")

    assert result.entries == []
    assert result.error is not None
    assert result.error.startswith("not XML:")


def test_a_nesting_bomb_is_stopped_by_the_parser_limits() -> None:
    body = URLSET_OPEN + b"<url>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</url></urlset>"

    result = parse_sitemap(body)

    assert result.entries == []
    assert result.error is not None
    assert "depth" in result.error.lower()


# --- robots.txt --------------------------------------------------------------------------------

ROBOTS = b"""\
User-agent: *
Disallow: /search
Sitemap: https://news.example.com/sitemap-index.xml

User-agent: Googlebot-News
Allow: /
sitemap: /sitemaps/news.xml
SITEMAP:   sitemaps/relative-to-robots.xml.gz
Sitemap: https://cdn.example.net/sitemaps/archive.xml
Sitemap: /sitemaps/news.xml
Sitemap: ftp://news.example.com/sitemap.txt
Sitemap:
"""


def test_robots_sitemaps_are_made_absolute_in_order_without_repeats() -> None:
    assert sitemaps_from_robots(ROBOTS, "https://news.example.com/robots.txt") == [
        "https://news.example.com/sitemap-index.xml",
        "https://news.example.com/sitemaps/news.xml",
        "https://news.example.com/sitemaps/relative-to-robots.xml.gz",
        "https://cdn.example.net/sitemaps/archive.xml",
    ]


def test_robots_text_and_bytes_read_alike() -> None:
    base = "http://news.example.com/robots.txt"

    assert sitemaps_from_robots(ROBOTS.decode(), base) == sitemaps_from_robots(ROBOTS, base)
    assert sitemaps_from_robots(ROBOTS, base)[1] == "http://news.example.com/sitemaps/news.xml"


def test_robots_without_sitemaps_give_none() -> None:
    robots = b"User-agent: *\nDisallow: /\n# Sitemap: https://a.example/commented.xml\n"

    assert sitemaps_from_robots(robots, "https://a.example/robots.txt") == []

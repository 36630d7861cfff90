"""Meta refresh redirects are followed; pages that cannot declare one are not decoded for it."""

from __future__ import annotations

import gzip
from pathlib import Path

from w3lib.encoding import resolve_encoding

from spiders.refresh import may_refresh
from storage.sql import Database
from tests.cli import crawl_urls, host_port
from tests.conftest import FIXTURES
from tests.local_http import QuietHandler, html_pages, serving

_REFRESH = b'<html><head><meta http-equiv="Refresh" content="0; url=/story"></head></html>'


def test_a_page_that_cannot_declare_a_refresh_is_told_apart_by_its_bytes() -> None:
    plain = "<html><head><title>Grüße</title></head><body><p>Text</p></body></html>"
    assert may_refresh(_REFRESH, "text/html") is True
    assert may_refresh(plain.encode("utf-8"), "text/html; charset=utf-8") is False
    assert may_refresh(plain.encode("cp1252"), None) is False
    # The word past the first 4,096 characters is no refresh to Scrapy either.
    assert may_refresh(b"<html>" + b" " * 20_000 + _REFRESH, "text/html") is False


def test_encodings_that_write_letters_otherwise_are_left_to_scrapy() -> None:
    plain = "<html><head><title>Text</title></head></html>"
    assert may_refresh(plain.encode("utf-16"), "text/html") is True  # NUL bytes
    # EBCDIC, where Scrapy's w3lib reads it as such: w3lib 2.6 knows only the WHATWG encoding
    # labels, so that Scrapy decodes such a page as cp1252 and finds no refresh in it either.
    ebcdic = resolve_encoding("cp500") is not None
    assert may_refresh(plain.encode("cp500"), "text/html; charset=cp500") is ebcdic
    assert may_refresh(plain.encode("cp500"), "text/html; charset=utf-16") is True
    # A charset no codec knows is ignored, by Scrapy as here: the encoding is then guessed
    # among ASCII-compatible ones.
    assert may_refresh(plain.encode("utf-8"), "text/html; charset=no-such-thing") is False


def test_a_meta_refresh_leads_to_the_article_in_any_encoding(tmp_path: Path) -> None:
    first, second = sorted((FIXTURES / "news-site" / "pages").glob("*.html.gz"))[:2]

    def refresh_to(path: str) -> bytes:
        return _REFRESH.replace(b"/story", path.encode())

    pages = {
        "/story": ("text/html; charset=utf-8", gzip.decompress(first.read_bytes())),
        "/story-2": ("text/html; charset=utf-8", gzip.decompress(second.read_bytes())),
        "/moved": ("text/html", refresh_to("/story")),
        "/moved-16": (
            "text/html; charset=utf-16",
            refresh_to("/story-2").decode().encode("utf-16"),
        ),
    }

    class Site(QuietHandler):
        def do_GET(self) -> None:
            if self.path not in pages:
                self.reply(404)
                return
            content_type, content = pages[self.path]
            self.reply(200, content, {"Content-Type": content_type})

    database = f"sqlite:///{tmp_path / 'refresh.db'}"
    with serving(Site) as base:
        moved = [f"{base}/moved", f"{base}/moved-16"]
        summary = crawl_urls(moved, database, host_port(base), cwd=tmp_path)
    assert summary["articles_stored"] == 2, summary
    with Database.open(database) as stored:
        fetched = {article.fetched_url for article in stored.articles()}
    assert fetched == {f"{base}/story", f"{base}/story-2"}


def test_a_page_refreshing_itself_is_kept_and_a_refresh_loop_is_recorded(tmp_path: Path) -> None:
    fixture = sorted((FIXTURES / "news-site" / "pages").glob("*.html.gz"))[0]
    live = gzip.decompress(fixture.read_bytes()).replace(
        b"<head>", b'<head><meta http-equiv="refresh" content="60; url=/live">', 1
    )
    pages = {
        "/live": live,  # a live page that reloads itself every minute
        "/a": _REFRESH.replace(b"/story", b"/b"),
        "/b": _REFRESH.replace(b"/story", b"/a"),
    }
    database = f"sqlite:///{tmp_path / 'loops.db'}"
    with serving(html_pages(pages)) as base:
        summary = crawl_urls([f"{base}/live", f"{base}/a"], database, host_port(base), cwd=tmp_path)
    assert summary["articles_stored"] == 1, summary
    assert summary["skipped"] == {"redirect_loop": 1}, summary
    with Database.open(database) as stored:
        [article] = stored.articles()
        [failure] = stored.failures()
    assert article.fetched_url == f"{base}/live"
    assert (failure["url"], failure["reason"]) == (f"{base}/a", "redirect_loop")
    assert "meta refresh back to" in failure["detail"]

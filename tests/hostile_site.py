"""A hostile web site on 127.0.0.1: every kind of page a crawler must survive, at its own path.

``HostileSite`` serves, in a thread, the cases of ``PAGES`` (bombs, huge and binary pages,
redirect loops and redirects to places not allowed, a slow drip, 404s, a page nested
100,000 levels deep…), hostile feeds and sitemaps (billion laughs, external entities), and
good control pages. ``Trap`` is a second server that only counts requests: redirects and
entities that point at it must never reach it.
"""

from __future__ import annotations

import gzip
import random
import time
import zlib
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from tests.local_http import QuietHandler, serving

NEWS_PAGES = Path(__file__).resolve().parent / "fixtures" / "news-site" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """A path of the hostile site and what must become of it: a recorded reason or ``stored``."""

    path: str
    expected: str  # a Reason's value, or "stored" for a page that must become an article
    what: str


PAGES = [
    Case("/article.html", "stored", "a good article (control)"),
    Case("/wrong-charset.html", "stored", "a Latin-1 article declared as UTF-8"),
    Case("/gzip-bomb.html", "too_large", "1 GiB of zeros, gzip-encoded into 1 MB"),
    Case("/huge.html", "too_large", "60 MB of HTML, its size declared"),
    Case("/huge-undeclared.html", "too_large", "60 MB of HTML, no Content-Length"),
    Case("/binary.html", "not_html", "random bytes served as text/html"),
    Case("/report.pdf", "not_html", "a PDF"),
    Case("/photo.png", "not_html", "a PNG image"),
    Case("/pdf-as-html.html", "not_html", "a PDF served as text/html"),
    Case("/loop-a.html", "redirect_loop", "redirects to loop-b, which redirects back"),
    Case("/to-file.html", "bad_scheme", "redirects to file:///etc/passwd"),
    Case("/to-trap.html", "private_address", "redirects to a loopback port not allowed"),
    Case("/to-private.html", "private_address", "redirects to 10.0.0.1"),
    Case("/to-metadata.html", "private_address", "redirects to 169.254.169.254"),
    Case("/drip.html", "timeout", "one byte every 2 seconds"),
    Case("/empty.html", "empty", "200 with an empty body"),
    Case("/app-shell.html", "not_article", "a JavaScript-only app shell"),
    Case("/gone-404.html", "not_found", "404"),
    Case("/gone-410.html", "not_found", "410"),
    Case("/deep.html", "too_large", "an article nested 100,000 <div> levels deep"),
]
FEEDS = [
    Case("/feeds/billion-laughs.xml", "bad_feed", "RSS with nested entity definitions"),
    Case("/feeds/quadratic.xml", "bad_feed", "RSS with one 100 kB entity used 50,000 times"),
    Case("/feeds/xxe.xml", "bad_feed", "RSS with external entities (a file, the trap)"),
    Case("/feeds/huge.xml", "too_large", "an RSS feed over the feed size limit"),
    Case("/feeds/gzip-bomb.xml", "too_large", "1 GiB of zeros, gzip-encoded"),
    Case("/feeds/local-path.xml", "bad_feed", "a body naming a local file that holds a feed"),
]
SITEMAPS = [
    Case("/sitemaps/billion-laughs.xml", "bad_sitemap", "a urlset with nested entities"),
    Case("/sitemaps/xxe.xml", "bad_sitemap", "a urlset with external entities"),
    Case("/sitemaps/gzip-bomb.xml.gz", "bad_sitemap", "a gzipped urlset of 1 GiB whitespace"),
]


class Trap:
    """A server that answers 404 to everything and counts the requests it got."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.url = ""
        self._stack = ExitStack()

    def __enter__(self) -> Trap:
        requests = self.requests

        class Count(QuietHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                self.reply(404)

        self.url = self._stack.enter_context(serving(Count))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


class HostileSite:
    """The hostile site, serving while in a ``with`` block; ``url(path)`` names its pages."""

    def __init__(self, trap_url: str, workdir: Path, *, drip_interval: float = 2.0) -> None:
        self.trap_url = trap_url
        self.workdir = workdir
        self.drip_interval = drip_interval
        self.base_url = ""
        self._stack = ExitStack()
        self._bomb = _gzip_bomb(b"\0")
        self._routes = self._build_routes()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on the site."""
        return self.base_url + path

    def __enter__(self) -> HostileSite:
        routes = self._routes

        class Hostile(QuietHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.reply(404, b"no such page", HTML)
                    return
                # The crawler hangs up on bombs and drips, as it should.
                with suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

        self.base_url = self._stack.enter_context(serving(Hostile))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def control_feed(self) -> bytes:
        """An RSS feed listing the good articles and every hostile page."""
        items = "".join(
            f"<item><title>{escape(case.what)}</title><link>{escape(self.url(case.path))}</link>"
            "</item>"
            for case in PAGES
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Hostile</title><link>{self.base_url}/</link>{items}</channel></rss>"
        ).encode()

    def many_urls_sitemap(self, count: int = 20) -> bytes:
        """A urlset of ``count`` URLs (of 404 pages), for the URLs-per-sitemap limit."""
        urls = "".join(
            f"<url><loc>{self.url(f'/gone-404.html?n={n}')}</loc></url>" for n in range(count)
        )
        return (
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
        )

    def _build_routes(self) -> dict[str, Callable[[Any], None]]:
        article = gzip.decompress((NEWS_PAGES / "NineNews_2026_07_04.html.gz").read_bytes())
        french = gzip.decompress((NEWS_PAGES / "LeMonde_2023_09_01.html.gz").read_bytes())
        latin1 = french.decode("utf-8").encode("latin-1", "replace")
        noise = random.Random(7).randbytes(64 * 1024)
        pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 5 >>\nstream\n" + noise
        png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + noise
        deep = _deeply_nested(article, 100_000)
        trap = self.trap_url
        # A feed on the crawler's disk whose entry leads to the trap: read, it would be crawled.
        local_feed = self.workdir / "local-feed.xml"
        local_feed.write_bytes(
            _body(b"rss", b"local").replace(b"127.0.0.1:9", urlsplit(trap).netloc.encode())
        )
        fixed: dict[str, tuple[int, bytes, dict[str, str]]] = {
            "/robots.txt": (200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}),
            "/article.html": (200, article, HTML),
            "/wrong-charset.html": (200, latin1, HTML),
            "/gzip-bomb.html": (200, self._bomb, {**HTML, "Content-Encoding": "gzip"}),
            "/binary.html": (200, noise, HTML),
            "/report.pdf": (200, pdf, {"Content-Type": "application/pdf"}),
            "/photo.png": (200, png, {"Content-Type": "image/png"}),
            "/pdf-as-html.html": (200, pdf, HTML),
            "/loop-a.html": (302, b"", {"Location": "/loop-b.html"}),
            "/loop-b.html": (302, b"", {"Location": "/loop-a.html"}),
            "/to-file.html": (302, b"", {"Location": "file:///etc/passwd"}),
            "/to-trap.html": (302, b"", {"Location": f"{trap}/stolen"}),
            "/to-private.html": (302, b"", {"Location": "http://10.0.0.1/admin"}),
            "/to-metadata.html": (
                302,
                b"",
                {"Location": "http://169.254.169.254/latest/meta-data/"},
            ),
            "/empty.html": (200, b"", HTML),
            "/app-shell.html": (200, _APP_SHELL, HTML),
            "/gone-404.html": (404, b"<h1>Not found</h1>", HTML),
            "/gone-410.html": (410, b"<h1>Gone</h1>", HTML),
            "/deep.html": (200, deep, HTML),
            "/feeds/billion-laughs.xml": (200, _billion_laughs(b"rss"), _RSS),
            "/feeds/quadratic.xml": (200, _quadratic(), _RSS),
            "/feeds/xxe.xml": (200, _xxe(b"rss", trap), _RSS),
            "/feeds/huge.xml": (200, _huge_feed(), _RSS),
            "/feeds/gzip-bomb.xml": (200, self._bomb, {**_RSS, "Content-Encoding": "gzip"}),
            "/feeds/local-path.xml": (200, str(local_feed).encode(), _RSS),
            "/sitemaps/billion-laughs.xml": (200, _billion_laughs(b"urlset"), _XML),
            "/sitemaps/xxe.xml": (200, _xxe(b"urlset", trap), _XML),
            "/sitemaps/gzip-bomb.xml.gz": (
                200,
                _gzip_bomb(b" ", head=b"<urlset>"),
                {"Content-Type": "application/gzip"},
            ),
        }
        routes: dict[str, Callable[[Any], None]] = {
            path: _fixed(*response) for path, response in fixed.items()
        }
        routes["/feeds/control.xml"] = lambda handler: handler.reply(200, self.control_feed(), _RSS)
        routes["/huge.html"] = _huge(declared=True)
        routes["/huge-undeclared.html"] = _huge(declared=False)
        routes["/drip.html"] = self._drip
        routes["/sitemaps/many-urls.xml"] = lambda handler: handler.reply(
            200, self.many_urls_sitemap(), _XML
        )
        return routes

    def _drip(self, handler: Any) -> None:
        """Send the headers, then one byte every ``drip_interval`` seconds."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(100_000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(self.drip_interval)


_RSS = {"Content-Type": "application/rss+xml"}
_XML = {"Content-Type": "application/xml"}
_APP_SHELL = (
    b'<!DOCTYPE html><html><head><title>News</title><script src="/static/app.js" defer>'
    b"</script></head><body><noscript>You need to enable JavaScript to run this app."
    b'</noscript><div id="root"></div></body></html>'
)


def _fixed(status: int, body: bytes, headers: dict[str, str]) -> Callable[[Any], None]:
    return lambda handler: handler.reply(status, body, headers)


def _huge(*, declared: bool) -> Callable[[Any], None]:
    """60 MB of HTML, sent in 1 MB writes, with or without its Content-Length."""
    chunk = b"<p>" + b"All work and no play makes Jack a dull boy. " * 23_000 + b"</p>\n"

    def send(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        if declared:
            handler.send_header("Content-Length", str(60 * len(chunk)))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        for _ in range(60):
            handler.wfile.write(chunk)

    return send


def _gzip_bomb(filler: bytes, head: bytes = b"") -> bytes:
    """A gzip body of ``head`` then 1 GiB of ``filler``: 64 members of 16 MiB, about 1 MB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = compressor.compress(filler * (16 * MB)) + compressor.flush()
    return gzip.compress(head) + member * 64


def _deeply_nested(article: bytes, depth: int) -> bytes:
    """The article's body wrapped in ``depth`` ``<div>`` elements."""
    return b"<html><body>" + b"<div>" * depth + article + b"</div>" * depth + b"</body></html>"


def _billion_laughs(root: bytes) -> bytes:
    """A document whose one entity expands to 10^9 "lol"s, if anything expands it."""
    definitions = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1)) * 10) for n in range(1, 10)
    )
    body = _body(root, b"&lol9;")
    return b'<?xml version="1.0"?>\n<!DOCTYPE %s [%s]>\n%s' % (root, definitions, body)


def _quadratic() -> bytes:
    """One 100 kB entity used 50,000 times: 5 GB if expanded, no nesting needed."""
    definition = b'<!ENTITY a "' + b"A" * 100_000 + b'">'
    body = _body(b"rss", b"&a;" * 50_000)
    return b'<?xml version="1.0"?>\n<!DOCTYPE rss [%s]>\n%s' % (definition, body)


def _xxe(root: bytes, trap: str) -> bytes:
    """A document with external entities: a local file, and a URL on the trap server."""
    definitions = b'<!ENTITY file SYSTEM "file:///etc/passwd"><!ENTITY web SYSTEM "%s/xxe">' % (
        trap.encode()
    )
    body = _body(root, b"&file;&web;")
    return b'<?xml version="1.0"?>\n<!DOCTYPE %s [%s]>\n%s' % (root, definitions, body)


def _body(root: bytes, text: bytes) -> bytes:
    """An RSS feed or urlset with one entry whose title or URL holds ``text``."""
    if root == b"rss":
        return (
            b'<rss version="2.0"><channel><title>%s</title><item><title>%s</title>'
            b"<link>http://127.0.0.1:9/never</link></item></channel></rss>" % (text, text)
        )
    return (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://127.0.0.1:9/%s</loc></url></urlset>" % text
    )


def _huge_feed() -> bytes:
    """A valid RSS feed of about 1.5 MB (tests set the feed size limit below it)."""
    item = b"<item><title>%s</title><link>http://127.0.0.1:9/never</link></item>" % (b"x" * 3000)
    return b'<rss version="2.0"><channel><title>Huge</title>%s</channel></rss>' % (item * 500)

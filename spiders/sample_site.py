"""A local news site on 127.0.0.1 serving the stored fixture pages: for the demo, tests, benchmarks.

Each page is served at the path (and query) of its original URL, byte for byte as the publisher
sent it, with ``Last-Modified``/``ETag`` validators, ``304 Not Modified`` answers and gzip on
request. Around the pages the site has what a crawler looks for: ``/robots.txt``,
``/sitemap.xml``, an RSS 2.0 feed (``/feed.xml``), an RSS 1.0 feed (``/feed.rdf``), an Atom feed
(``/atom.xml``) and a front page linking to everything. With ``copies=n`` every page is served n
times, copy k (k >= 1) under the prefix ``/c{k}``; feeds, sitemap and front page list every copy.
``site.hits`` counts the GET and HEAD requests served per path, so a test can see what was fetched.

    python -m spiders.sample_site --port 8000
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from lxml import etree
from lxml.builder import E, ElementMaker
from lxml.html import builder as html
from lxml.html import tostring as html_tostring
from w3lib.url import safe_url_string

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "news-site"
FEED_PATHS = {"rss": "/feed.xml", "rss1": "/feed.rdf", "atom": "/atom.xml"}
FEED_TYPES = {
    "rss": "application/rss+xml",
    "rss1": "application/rdf+xml",
    "atom": "application/atom+xml",
}
_SITE_PATHS = {"/", "/robots.txt", "/sitemap.xml", *FEED_PATHS.values()}
_RDF_NS, _RSS1_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://purl.org/rss/1.0/"
_DC_NS, _ATOM_NS = "http://purl.org/dc/elements/1.1/", "http://www.w3.org/2005/Atom"
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_RDF = ElementMaker(namespace=_RDF_NS, nsmap={"rdf": _RDF_NS, None: _RSS1_NS, "dc": _DC_NS})
_RSS1, _DC = ElementMaker(namespace=_RSS1_NS), ElementMaker(namespace=_DC_NS)
_ATOM = ElementMaker(namespace=_ATOM_NS, nsmap={None: _ATOM_NS})
_SITEMAP = ElementMaker(namespace=_SITEMAP_NS, nsmap={None: _SITEMAP_NS})
_SITE_TITLE = "newsdesk sample site"
_SITE_DESCRIPTION = "Stored news pages served from a local site"


@dataclass(frozen=True)
class SampleCase:
    """One stored page: original URL, path it is served at here, file, expected article."""

    id: str
    url: str
    path: str
    html_file: Path
    publisher: str
    expected: dict[str, Any] = field(hash=False, repr=False)

    @property
    def published_at(self) -> datetime:
        """The expected publication time; a value without an offset is taken as UTC."""
        moment = datetime.fromisoformat(self.expected["published_at"])
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_cases(directory: Path) -> list[SampleCase]:
    """Read ``cases.jsonl`` in ``directory`` and give each case a distinct local path.

    The local path is the path and query of the original URL (percent-encoded, fragment
    dropped). A path taken by an earlier case or by the site itself is prefixed with ``/<id>``.
    """
    cases: list[SampleCase] = []
    taken = set(_SITE_PATHS)
    for line in (directory / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        parts = urlsplit(safe_url_string(record["url"]))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if path in taken:
            path = f"/{record['id']}{path}"
        taken.add(path)
        html_file, expected = directory / record["html"], record["expected"]
        cases.append(
            SampleCase(record["id"], record["url"], path, html_file, record["publisher"], expected)
        )
    return cases


@dataclass(frozen=True)
class _Document:
    """A response body with its type, validators and, for pages, the stored gzip bytes."""

    body: bytes
    content_type: str
    last_modified: datetime | None = None
    gzipped: bytes | None = None

    @cached_property
    def etag(self) -> str:
        """A strong validator of the uncompressed body."""
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


class _SiteServer(ThreadingHTTPServer):
    """The HTTP server, holding the documents by request path."""

    documents: dict[str, _Document]
    count_hit: Callable[[str], None]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is normal for a crawler; stay quiet about it.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the server's documents; never logs."""

    protocol_version = "HTTP/1.1"
    server: _SiteServer

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, send_body: bool) -> None:
        self.server.count_hit(self.path)
        document = self.server.documents.get(self.path)
        if document is None:
            headers = {"Content-Type": "text/plain; charset=utf-8"}
            return self._send(404, b"Not found\n", headers, send_body)
        accept_encoding = self.headers.get("Accept-Encoding")
        gzipped = document.gzipped if _accepts_gzip(accept_encoding) else None
        # Each representation has its own strong ETag (RFC 9110 section 8.8.3).
        etag = document.etag[:-1] + '-gzip"' if gzipped else document.etag
        headers = {"ETag": etag, "Content-Type": document.content_type}
        if document.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        if document.last_modified is not None:
            headers["Last-Modified"] = format_datetime(document.last_modified.astimezone(UTC), True)
        if self._not_modified(etag, document.last_modified):
            return self._send(304, b"", headers, send_body=False)
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        self._send(200, gzipped or document.body, headers, send_body)

    def _not_modified(self, etag: str, last_modified: datetime | None) -> bool:
        """RFC 9110 section 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is None or last_modified is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since

    def _send(self, status: int, body: bytes, headers: dict[str, str], send_body: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value accepts gzip (named, else ``*``) with a quality > 0."""
    qualities: dict[str, float] = {}
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.partition(";")
        name, _, value = params.partition("=")
        try:
            quality = float(value) if name.strip().lower() == "q" else 1.0
        except ValueError:
            quality = 0.0
        qualities[coding.strip().lower()] = quality
    return qualities.get("gzip", qualities.get("x-gzip", qualities.get("*", 0.0))) > 0


class SampleSite:
    """The local news site; a context manager that serves in a background thread while entered.

    ``with SampleSite(DEFAULT_DIRECTORY) as site:`` then ``site.feed_url("atom")`` or
    ``site.page_url(case)``. URLs name the bound address, so ``host`` must be one clients can reach.
    """

    def __init__(
        self, directory: Path, host: str = "127.0.0.1", port: int = 0, copies: int = 1
    ) -> None:
        if copies < 1:
            raise ValueError(f"copies must be at least 1, not {copies}")
        self.directory, self.host, self.port, self.copies = Path(directory), host, port, copies
        self.cases = load_cases(self.directory)
        self._pages: dict[str, _Document] = {}
        for case in self.cases:
            stored = case.html_file.read_bytes()
            page = _Document(gzip.decompress(stored), "text/html", case.published_at, stored)
            for copy in range(copies):
                self._pages[self.page_path(case, copy)] = page
        if len(self._pages) != len(self.cases) * copies:
            raise ValueError("two pages of the sample site share a URL path")
        self._server: _SiteServer | None = None
        self._thread: threading.Thread | None = None
        self._hits: Counter[str] = Counter()
        self._hits_lock = threading.Lock()

    def __enter__(self) -> Self:
        self._server = _SiteServer((self.host, self.port), _Handler)
        self._server.documents = {**self._pages, **self._site_documents()}
        self._server.count_hit = self._count_hit
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def hits(self) -> Counter[str]:
        """GET and HEAD requests served so far by path (with query), 404s included: a copy."""
        with self._hits_lock:
            return Counter(self._hits)

    def reset_hits(self) -> None:
        """Forget the requests served so far."""
        with self._hits_lock:
            self._hits.clear()

    def _count_hit(self, path: str) -> None:
        # One handler thread per connection: without the lock, two increments could become one.
        with self._hits_lock:
            self._hits[path] += 1

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running site (the port is known once it serves)."""
        if self._server is None:
            raise RuntimeError("the sample site is not serving; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def page_path(self, case: SampleCase, copy: int = 0) -> str:
        """The request path of one copy of a page: the case path, under ``/c{copy}`` from copy 1."""
        if not 0 <= copy < self.copies:
            raise ValueError(f"copy {copy} is not in range(0, {self.copies})")
        return case.path if copy == 0 else f"/c{copy}{case.path}"

    def page_url(self, case: SampleCase, copy: int = 0) -> str:
        """The absolute local URL of one copy of a page."""
        return self.base_url + self.page_path(case, copy)

    def feed_url(self, kind: str = "rss") -> str:
        """The URL of the ``rss`` (RSS 2.0), ``rss1`` (RSS 1.0/RDF) or ``atom`` (Atom 1.0) feed."""
        if kind not in FEED_PATHS:
            raise ValueError(f"unknown feed kind {kind!r}; expected one of {sorted(FEED_PATHS)}")
        return self.base_url + FEED_PATHS[kind]

    def urls_file_lines(self) -> list[str]:
        """Every page URL, all copies, one per line of a URL list (without newlines)."""
        return [url for url, _ in self._entries()]

    def _entries(self) -> Iterator[tuple[str, SampleCase]]:
        for copy in range(self.copies):
            for case in self.cases:
                yield self.page_url(case, copy), case

    def _site_documents(self) -> dict[str, _Document]:
        """robots.txt, sitemap, feeds and front page; built once the base URL is known."""
        newest = max((case.published_at for case in self.cases), default=datetime.now(UTC))
        robots = f"User-agent: *\nDisallow: /private/\n\nSitemap: {self.base_url}/sitemap.xml\n"
        return {
            "/robots.txt": _Document(robots.encode(), "text/plain; charset=utf-8"),
            "/sitemap.xml": _Document(self._sitemap(), "application/xml", newest),
            "/feed.xml": _Document(self._rss2(newest), FEED_TYPES["rss"], newest),
            "/feed.rdf": _Document(self._rss1(), FEED_TYPES["rss1"], newest),
            "/atom.xml": _Document(self._atom(newest), FEED_TYPES["atom"], newest),
            "/": _Document(self._front_page(), "text/html; charset=utf-8"),
        }

    def _sitemap(self) -> bytes:
        urls = (
            _SITEMAP.url(_SITEMAP.loc(url), _SITEMAP.lastmod(_w3c(case)))
            for url, case in self._entries()
        )
        return _xml(_SITEMAP.urlset(*urls))

    def _rss2(self, newest: datetime) -> bytes:
        items = (
            E.item(
                E.title(case.expected["title"]),
                E.link(url),
                E.guid(url, isPermaLink="true"),
                E.pubDate(format_datetime(case.published_at)),
            )
            for url, case in self._entries()
        )
        channel = E.channel(
            E.title(_SITE_TITLE),
            E.link(self.base_url + "/"),
            E.description(_SITE_DESCRIPTION),
            E.lastBuildDate(format_datetime(newest)),
            *items,
        )
        return _xml(E.rss(channel, version="2.0"))

    def _rss1(self) -> bytes:
        about, resource = f"{{{_RDF_NS}}}about", f"{{{_RDF_NS}}}resource"
        sequence = _RDF.Seq(*(_RDF.li({resource: url}) for url, _ in self._entries()))
        channel = _RSS1.channel(
            {about: self.feed_url("rss1")},
            _RSS1.title(_SITE_TITLE),
            _RSS1.link(self.base_url + "/"),
            _RSS1.description(_SITE_DESCRIPTION),
            _RSS1.items(sequence),
        )
        items = (
            _RSS1.item(
                {about: url},
                _RSS1.title(case.expected["title"]),
                _RSS1.link(url),
                _DC.date(_w3c(case)),
            )
            for url, case in self._entries()
        )
        return _xml(_RDF.RDF(channel, *items))

    def _atom(self, newest: datetime) -> bytes:
        entries = (
            _ATOM.entry(
                _ATOM.title(case.expected["title"]),
                _ATOM.link(rel="alternate", href=url),
                _ATOM.id(url),
                _ATOM.published(_w3c(case)),
                _ATOM.updated(_w3c(case)),
            )
            for url, case in self._entries()
        )
        feed = _ATOM.feed(
            _ATOM.title(_SITE_TITLE),
            _ATOM.id(self.base_url + "/"),
            _ATOM.updated(newest.isoformat(timespec="seconds")),
            _ATOM.author(_ATOM.name(_SITE_TITLE)),
            _ATOM.link(rel="self", href=self.feed_url("atom")),
            _ATOM.link(rel="alternate", href=self.base_url + "/"),
            *entries,
        )
        return _xml(feed)

    def _front_page(self) -> bytes:
        alternates = (
            html.LINK(rel="alternate", type=mime, href=self.feed_url(kind), title=kind)
            for kind, mime in FEED_TYPES.items()
        )
        head = html.HEAD(html.META(charset="utf-8"), html.TITLE(_SITE_TITLE), *alternates)
        links = (html.LI(html.A(case.expected["title"], href=url)) for url, case in self._entries())
        page = html.HTML(head, html.BODY(html.H1(_SITE_TITLE), html.UL(*links)))
        document: bytes = html_tostring(page, doctype="<!DOCTYPE html>", encoding="utf-8")
        return document


def _w3c(case: SampleCase) -> str:
    """A case's publication time in W3C date-time form (ISO 8601 with offset, to the second)."""
    return case.published_at.isoformat(timespec="seconds")


def _xml(root: etree._Element) -> bytes:
    """Serialise an element tree; lxml escapes text and rejects characters XML cannot hold."""
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="utf-8", pretty_print=True
    )
    return document


def main(argv: list[str] | None = None) -> None:
    """Serve the sample site until Ctrl-C, printing where its feeds are."""
    parser = argparse.ArgumentParser(description="Serve the newsdesk sample news site.")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--directory", type=Path, default=DEFAULT_DIRECTORY, help="has cases.jsonl")
    parser.add_argument("--copies", type=int, default=1, help="serve every page N times")
    args = parser.parse_args(argv)
    with SampleSite(args.directory, port=args.port, copies=args.copies) as site:
        print(f"{len(site.urls_file_lines())} pages at {site.base_url}/", flush=True)
        for kind in FEED_PATHS:
            print(f"{kind:5} feed: {site.feed_url(kind)}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()

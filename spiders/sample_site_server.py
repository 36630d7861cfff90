"""The HTTP side of the sample site: documents by request path, validators, gzip, throttling.

``SiteServer`` answers GET and HEAD from a dict of ``SiteDocument`` by request path (with query)
that its owner may swap for a new one at any time. Each request is first reported to
``record_request``, which may answer with a ``Throttle``: a one-off 429 (or 503) with
``Retry-After``, as sites do to crawlers that come too often.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class SiteDocument:
    """A response body with its type, validators and, for pages, the stored gzip bytes.

    ``gzipped`` is sent with ``Content-Encoding: gzip`` to clients that accept it; a document
    that *is* a gzip file (a ``.xml.gz`` sitemap) keeps it None and is sent as it is.
    """

    body: bytes
    content_type: str
    last_modified: datetime | None = None
    gzipped: bytes | None = None

    @cached_property
    def etag(self) -> str:
        """A strong validator of the uncompressed body."""
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class Throttle:
    """An answer that asks the client to come back later instead of serving the document."""

    status: int
    retry_after: int


class SiteServer(ThreadingHTTPServer):
    """The HTTP server, holding the documents by request path."""

    documents: dict[str, SiteDocument]
    record_request: Callable[[str], Throttle | None]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is normal for a crawler; stay quiet about it.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SiteHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the server's documents; never logs."""

    protocol_version = "HTTP/1.1"
    server: SiteServer

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, send_body: bool) -> None:
        throttle = self.server.record_request(self.path)
        if throttle is not None:
            return self._throttled(throttle, send_body)
        # One read of the attribute: the owner may swap the whole dict while we answer.
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

    def _throttled(self, throttle: Throttle, send_body: bool) -> None:
        body = f"Too many requests; try again in {throttle.retry_after} s.\n".encode()
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Retry-After": str(throttle.retry_after),
        }
        self._send(throttle.status, body, headers, send_body)

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

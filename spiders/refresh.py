"""Scrapy's meta refresh redirects, without decoding the pages that cannot declare one.

Scrapy's ``MetaRefreshMiddleware`` looks for ``<meta http-equiv="refresh" ...>`` in the first
4,096 characters of every HTML page, and to get them it decodes the whole page, guessing its
encoding where none is declared: about half a millisecond of the crawl process's CPU a page
on the corpus, for a page that the workers decode again. A refresh needs the word "refresh"
among those characters. In an encoding that writes ASCII letters as the ASCII bytes (UTF-8,
the ISO 8859 and Windows code pages, the East Asian multi-byte encodings) the word is then in
the body's first 16 KiB, as bytes: no character there takes more than four.

``HeadCheckedMetaRefresh`` hands Scrapy's check only the pages where those bytes hold the
word, or whose encoding may write it otherwise: a page with a NUL byte in its head (UTF-16 and
UTF-32 write one beside every ASCII letter), or one whose ``Content-Type`` declares a charset
that writes "refresh" differently (EBCDIC). The others are passed on as they are: Scrapy would
have found no refresh in them.

Where Scrapy follows a refresh, two cases are not redirects to follow. A refresh to the page
itself (a live page reloading every minute) is a reload: the page is kept, as it is, instead of
a request that Scrapy's duplicate filter would drop without a trace. A refresh back to a URL
earlier in the page's redirects is a loop, recorded as ``redirect_loop`` as ``RedirectGuard``
records HTTP redirect loops.
"""

from __future__ import annotations

import codecs

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request, Response
from w3lib.encoding import http_content_type_encoding
from w3lib.url import canonicalize_url

from spiders.guard import refuse_loop

# Scrapy reads 4,096 characters; no character of an ASCII-compatible encoding takes more
# than four bytes (UTF-8, GB 18030).
_HEAD_BYTES = 4 * 4096


def may_refresh(body: bytes, content_type: str | None) -> bool:
    """Whether an HTML page's first 4,096 characters may hold a meta refresh: False only
    where they certainly do not."""
    head = body[:_HEAD_BYTES]
    if b"refresh" in head.lower() or b"\x00" in head:
        return True
    declared = http_content_type_encoding(content_type) if content_type else None
    return declared is not None and not _writes_ascii_as_ascii(declared)


def _writes_ascii_as_ascii(encoding: str) -> bool:
    """Whether ``encoding`` writes the word "refresh" as its ASCII bytes."""
    try:
        return codecs.encode("refresh", encoding) == b"refresh"
    except (LookupError, UnicodeError):
        return False


class HeadCheckedMetaRefresh(MetaRefreshMiddleware):
    """Scrapy's ``MetaRefreshMiddleware`` (580, ``METAREFRESH_ENABLED``), asked only about
    the pages that may declare a refresh (``may_refresh``); a refresh to the page itself keeps
    the page, one back to an earlier URL of its redirects is a ``redirect_loop``."""

    # Without Scrapy's optional ``spider`` argument, which Scrapy deprecates and does not pass.
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        """``response``, or the request its meta refresh leads to, as Scrapy decides; refuses
        a refresh back to an earlier URL of the page's redirects."""
        if isinstance(response, HtmlResponse):
            content_type = response.headers.get(b"Content-Type")
            declared = content_type.decode("latin-1") if content_type else None
            if not may_refresh(response.body, declared):
                return response
        followed = super().process_response(request, response)
        if not isinstance(followed, Request):
            return followed
        if canonicalize_url(followed.url) == canonicalize_url(response.url):
            return response  # a reload of the page itself
        refuse_loop(followed.url, followed.meta.get("redirect_urls", []), "meta refresh")
        return followed

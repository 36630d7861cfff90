"""Read sitemaps (XML, gzipped XML or plain text) safely and with flat memory.

``parse_sitemap`` streams the document through ``lxml.etree.iterparse`` and forgets each
``<url>`` or ``<sitemap>`` once read, so memory grows only with the small entries kept. A
gzipped body is decompressed as it is read, up to ``max_bytes``. Entities are never expanded
and nothing outside the body is ever read: a DOCTYPE is refused outright, since sitemaps have
no use for one. Scrapy's own ``scrapy.utils.sitemap.Sitemap`` builds a whole tree, hence this.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeAlias
from urllib.parse import urljoin

from lxml import etree
from protego import Protego

NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_NEWS = f"{{{NEWS_NS}}}"
MAX_URLS = 50_000  # the sitemaps.org limits for one file
MAX_BYTES = 50 * 1024 * 1024
NO_DTD = "DTD/entities not allowed in sitemaps"

# Every protection lxml has: no entities, no DTD, no network, libxml2's size limits kept.
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
_W3C_MOMENT = re.compile(
    r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?",
    re.IGNORECASE,
)
# A regular expression because urlsplit took a third of the time of a 50,000-URL sitemap.
_HTTP_URL = re.compile(r"https?://[^\s/?#]+([/?#]\S*)?", re.IGNORECASE)
_ELEMENT_START = re.compile(rb"<[^?!]")  # not a declaration, comment or instruction
_DOCTYPE = re.compile(rb"<!DOCTYPE\s*([^\s\[>]*)", re.IGNORECASE)
_LINE_LIMIT = 8192  # a text sitemap line longer than this is no URL (sitemaps.org: < 2048)
_LEADING_JUNK = b" \t\r\n\xef\xbb\xbf"  # whitespace and the UTF-8 byte order mark

Kind = Literal["urlset", "sitemapindex"]


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """One ``<url>`` of a urlset or ``<sitemap>`` of a sitemap index, with what it says."""

    loc: str
    is_sitemap: bool = False
    lastmod: str | None = None  # ISO 8601, as precise as given
    news_title: str | None = None
    news_published_at: str | None = None
    news_keywords: list[str] = field(default_factory=list)
    news_language: str | None = None
    news_publication: str | None = None

    def to_hints(self) -> dict[str, Any]:
        """The article hints a spider passes on: only the keys with a value."""
        hints = {
            "title": self.news_title,
            "published_at": self.news_published_at,
            "tags": list(self.news_keywords),
            "language": self.news_language,
            "lastmod": self.lastmod,
        }
        return {key: value for key, value in hints.items() if value}


@dataclass
class SitemapParse:
    """The outcome of reading one sitemap.

    ``entries`` are those read before any stop and are usable even when ``truncated`` (a
    limit was reached) or ``error`` (the rest could not be read, or nothing could) is set.
    A plain-text sitemap is of kind ``urlset``.
    """

    entries: list[SitemapEntry] = field(default_factory=list)
    kind: Kind | None = None
    truncated: str | None = None
    error: str | None = None


def parse_sitemap(
    body: bytes, *, max_urls: int = MAX_URLS, max_bytes: int = MAX_BYTES
) -> SitemapParse:
    """The entries of an XML, gzipped XML or plain-text sitemap, read within the limits."""
    gzipped = body[:2] == b"\x1f\x8b"
    raw = gzip.GzipFile(fileobj=io.BytesIO(body)) if gzipped else io.BytesIO(body)
    capped = _CappedReader(raw, max_bytes)
    stream = io.BufferedReader(capped, buffer_size=64 * 1024)
    result = SitemapParse()
    first = _skip_leading_junk(stream)
    if not first:
        result.error = "empty body"
    elif first == b"<":
        _read_xml(stream, max_urls, result)
    else:
        _read_text(stream, max_urls, result)
    if capped.failure:
        result.error = capped.failure
    elif capped.exceeded:
        result.truncated = f"more than {max_bytes} bytes" + (" decompressed" if gzipped else "")
        if not result.entries and not result.error:
            # Else the spider could not tell this sitemap from an empty one.
            result.error = f"no URL in the first {max_bytes} bytes"
    return result


def sitemaps_from_robots(robots_txt: bytes | str, base_url: str) -> list[str]:
    """The absolute http(s) ``Sitemap:`` URLs of a robots.txt, in order, without repeats."""
    text = robots_txt.decode("utf-8", "replace") if isinstance(robots_txt, bytes) else robots_txt
    found = (_http_url(urljoin(base_url, url)) for url in Protego.parse(text).sitemaps)
    return list(dict.fromkeys(url for url in found if url))


def w3c_moment(value: str | None) -> str | None:
    """A W3C datetime (``YYYY`` … ``YYYY-MM-DDThh:mm:ss.sTZD``) as ISO 8601, or None.

    Precision is kept: ``2024`` and ``2024-05`` stay so, a bare date stays a date, and a
    date-time keeps its offset (``Z`` becomes ``+00:00``; one without an offset stays naive).
    """
    text = (value or "").strip()
    if not _W3C_MOMENT.fullmatch(text):
        return None
    try:
        if len(text) == 4:
            return text if int(text) > 0 else None
        if len(text) == 7:
            return date.fromisoformat(f"{text}-01").isoformat()[:7]
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


class _CappedReader(io.RawIOBase):
    """A raw stream that ends after ``max_bytes`` or at bad gzip data, and says which."""

    def __init__(self, raw: io.BufferedIOBase, max_bytes: int):
        super().__init__()
        self._raw, self._remaining = raw, max_bytes
        self.exceeded = False
        self.failure: str | None = None

    @property
    def stopped(self) -> bool:
        """Whether the stream ended early, at the byte limit or at bad gzip data."""
        return self.exceeded or self.failure is not None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.stopped:
            return 0
        view = memoryview(buffer).cast("B")
        try:
            chunk = self._raw.read(min(len(view), self._remaining + 1))
        except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
            # Ending here rather than raising keeps what was read before the bad bytes.
            self.failure = f"bad gzip data: {error}"
            return 0
        if len(chunk) > self._remaining:
            self.exceeded, chunk = True, chunk[: self._remaining]
        view[: len(chunk)] = chunk
        self._remaining -= len(chunk)
        return len(chunk)


Stream: TypeAlias = "io.BufferedReader[_CappedReader]"


def _skip_leading_junk(stream: Stream) -> bytes:
    """Drop leading whitespace and byte order mark; the first byte left, or b"" at the end."""
    while head := stream.peek(1):
        junk = len(head) - len(head.lstrip(_LEADING_JUNK))
        if junk < len(head):
            stream.read(junk)
            return stream.peek(1)[:1]
        stream.read(len(head))
    return b""


def _read_xml(stream: Stream, max_urls: int, result: SitemapParse) -> None:
    """Stream a urlset or sitemap index into ``result``, forgetting each element once read."""
    result.error = _doctype_refusal(stream.peek())
    if result.error:
        return
    root = prefix = None
    try:
        for _, element in etree.iterparse(stream, events=("end",), **_PARSER_OPTIONS):
            if root is None:
                root = element.getroottree().getroot()
                result.error = _refusal(root)
                if result.error:
                    return
                result.kind = "urlset" if root.tag.endswith("urlset") else "sitemapindex"
                namespace = etree.QName(root).namespace
                prefix = f"{{{namespace}}}" if namespace else ""
            if element.getparent() is not root:
                continue
            entry = _entry(element, result.kind == "sitemapindex", prefix or "")
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del root[0]
            if entry is not None and not _add(result, entry, max_urls):
                return
    except etree.XMLSyntaxError as error:
        if not stream.raw.stopped:  # else the parser only complains of the cut
            result.error = f"not XML: {error}"


def _refusal(root: Any) -> str | None:
    """Why a document with this root element is not read, or None when it is a sitemap."""
    name = etree.QName(root).localname
    if name not in ("urlset", "sitemapindex"):
        return f"not a sitemap: root element <{name}>"
    if root.getroottree().docinfo.doctype:  # one that _doctype_refusal did not see
        return NO_DTD
    return None


def _doctype_refusal(head: bytes) -> str | None:
    """Why a document is refused for a DOCTYPE in the prologue in ``head``, its first bytes.

    Looked for before libxml2 sees the document: even with entities left unresolved, it
    parses an entity's text at its first use, and only its amplification limit stops a
    billion laughs there.
    """
    root = _ELEMENT_START.search(head)
    doctype = _DOCTYPE.search(head, 0, root.start() if root else len(head))
    if doctype is None:
        return None
    return "not a sitemap: an HTML page" if doctype[1].lower() == b"html" else NO_DTD


def _entry(element: Any, is_sitemap: bool, prefix: str) -> SitemapEntry | None:
    """The entry an ``<url>`` or ``<sitemap>`` element gives, or None if it has no good loc.

    ``prefix`` is the root's namespace in braces: a sitemap's own elements share it.
    """
    if element.tag != prefix + ("sitemap" if is_sitemap else "url"):
        return None
    fields = _texts(element)
    loc = _http_url(fields.get(prefix + "loc"))
    if loc is None:
        return None
    lastmod = w3c_moment(fields.get(prefix + "lastmod"))
    news = element.find(_NEWS + "news")
    if is_sitemap or news is None:
        return SitemapEntry(loc, is_sitemap, lastmod)
    fields = _texts(news)
    publication = news.find(_NEWS + "publication")
    fields.update(_texts(publication) if publication is not None else {})
    keywords = (fields.get(_NEWS + "keywords") or "").split(",")
    return SitemapEntry(
        loc,
        is_sitemap,
        lastmod,
        news_title=_clean(fields.get(_NEWS + "title")),
        news_published_at=w3c_moment(fields.get(_NEWS + "publication_date")),
        news_keywords=[word.strip() for word in keywords if word.strip()],
        news_language=_clean(fields.get(_NEWS + "language")),
        news_publication=_clean(fields.get(_NEWS + "name")),
    )


def _texts(element: Any) -> dict[str, str | None]:
    """The text of each child element by tag (the first of a tag wins), read in one pass."""
    texts: dict[str, str | None] = {}
    for child in element:
        texts.setdefault(child.tag, child.text)
    return texts


def _read_text(stream: Stream, max_urls: int, result: SitemapParse) -> None:
    """A plain-text sitemap: one URL a line, anything else ignored."""
    result.kind = "urlset"
    for line in _lines(stream):
        loc = _http_url(line.decode("utf-8", "replace"))
        if loc is not None and not _add(result, SitemapEntry(loc), max_urls):
            return
    if not result.entries:
        result.error = "not a sitemap: no URL in a text body"


def _lines(stream: Stream) -> Iterator[bytes]:
    """The lines of a stream, skipping any longer than ``_LINE_LIMIT`` without holding them.

    A last line without its newline is left out when the stream was cut: it may be half a URL.
    """
    skipping = False
    while line := stream.readline(_LINE_LIMIT):
        ended = line.endswith(b"\n") or len(line) < _LINE_LIMIT
        cut = not line.endswith(b"\n") and stream.raw.stopped
        if ended and not skipping and not cut:
            yield line
        skipping = not ended


def _add(result: SitemapParse, entry: SitemapEntry, max_urls: int) -> bool:
    """Keep the entry; False (and ``truncated`` set) when it would pass ``max_urls``."""
    if len(result.entries) >= max_urls:
        result.truncated = f"more than {max_urls} URLs"
        return False
    result.entries.append(entry)
    return True


def _http_url(text: str | None) -> str | None:
    """The text, trimmed, if it is an absolute http(s) URL with a host and no space; else None."""
    url = (text or "").strip()
    return url if _HTTP_URL.fullmatch(url) else None


def _clean(text: str | None) -> str | None:
    """The text with surrounding whitespace removed, or None when nothing is left."""
    return (text or "").strip() or None

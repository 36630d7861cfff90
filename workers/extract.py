"""Turn a fetched page into an article: decode it, check it is worth it, run trafilatura.

``extract(page)`` returns an ``Article`` with the fields as the page gives them, or a ``Skip``
with the reason the page is not one. Cleaning the fields is ``normalise``'s job.
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from w3lib.encoding import html_to_unicode

from workers.metadata import PageMetadata, read_metadata
from workers.pagetype import judge, read_page_signals
from workers.records import Article, FetchedPage, Reason, Skip

_WORD = re.compile(r"\w+")
_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")


def media_type(headers: dict[str, str]) -> str:
    """The media type of a response, lower-cased without parameters ("" when not declared)."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""


def decode_html(page: FetchedPage) -> str:
    """The page's text, decoded as a browser would: header charset, BOM, meta tag, then a guess."""
    content_type = next(
        (value for name, value in page.headers.items() if name.lower() == "content-type"), None
    )
    _, text = html_to_unicode(content_type, page.body)
    return text


def check_page(page: FetchedPage, *, html_types: list[str], max_bytes: int) -> Skip | None:
    """The reason to skip the page before parsing it, or None when it is worth extracting."""
    declared = media_type(page.headers)
    if declared and declared not in html_types:
        return _skip(page, Reason.NOT_HTML, f"content type {declared}")
    if not page.body.strip():
        return _skip(page, Reason.EMPTY, "empty response body")
    if len(page.body) > max_bytes:
        return _skip(page, Reason.TOO_LARGE, f"{len(page.body)} bytes > {max_bytes}")
    if b"\x00" in page.body[:4096]:
        return _skip(page, Reason.NOT_HTML, "binary content")
    return None


def extract(
    page: FetchedPage,
    *,
    html_types: list[str],
    max_bytes: int,
    min_words: int,
) -> Article | Skip:
    """The article in ``page``, or the reason there is none."""
    skip = check_page(page, html_types=html_types, max_bytes=max_bytes)
    if skip:
        return skip
    tree = trafilatura.load_html(decode_html(page))
    if tree is None:
        return _skip(page, Reason.NOT_HTML, "not parseable as HTML")
    # Read before trafilatura runs: it prunes the tree it is given.
    declared_language = _declared_language(tree)
    metadata = read_metadata(tree, page.final_url)
    signals = read_page_signals(tree, page.final_url)
    extracted = trafilatura.bare_extraction(
        tree,
        url=page.final_url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
    )
    document = extracted.as_dict() if isinstance(extracted, Document) else extracted or {}
    if not (document.get("text") or "").strip():
        return _skip(page, Reason.EMPTY, "no main text found")
    body = document["text"]
    words = len(_WORD.findall(body))
    if words < min_words:
        return _skip(page, Reason.NOT_ARTICLE, f"{words} words of main text < {min_words}")
    not_article = judge(signals, body, free=metadata.free)
    if not_article:
        return _skip(page, Reason.NOT_ARTICLE, not_article)
    return _article(page, document, body, declared_language, metadata)


def _article(
    page: FetchedPage,
    document: dict[str, Any],
    body: str,
    declared_language: str | None,
    metadata: PageMetadata,
) -> Article:
    """The fields merged: the page's metadata first, then the listing's hints, then trafilatura."""
    hints = page.hints
    return Article(
        url=document.get("url") or page.final_url,
        fetched_url=page.final_url,
        title=metadata.heading or metadata.headline or hints.get("title") or document.get("title"),
        body=body,
        tags=(
            metadata.keywords
            or _as_list(hints.get("tags"))
            or metadata.meta_keywords
            or _as_list(document.get("tags"))
        ),
        authors=(
            metadata.persons
            or _as_list(document.get("author"), separator=";")
            or _as_list(hints.get("authors"))
            or metadata.organisations
        ),
        published_at=metadata.published_at or hints.get("published_at") or document.get("date"),
        updated_at=metadata.modified_at,
        language=metadata.language
        or document.get("language")
        or declared_language
        or hints.get("language"),
        description=metadata.description or document.get("description") or hints.get("summary"),
        image=metadata.image or document.get("image"),
        site_name=metadata.site_name or document.get("sitename"),
        categories=metadata.sections or _as_list(document.get("categories")),
        fetched_at=page.fetched_at,
        source=page.source,
    )


def _as_list(value: Any, separator: str = ",") -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [part for part in value.split(separator) if part.strip()]
    return [str(part) for part in value if str(part).strip()]


def _declared_language(tree: HtmlElement) -> str | None:
    """The ISO 639 code in ``<html lang>`` (or xml:lang), without its region."""
    root = tree.getroottree().getroot()
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    match = _LANG.match(lang.strip())
    return match.group(1).lower() if match else None


def _skip(page: FetchedPage, reason: Reason, detail: str) -> Skip:
    return Skip(url=page.url, reason=reason, detail=detail, stage="extract", source=page.source)

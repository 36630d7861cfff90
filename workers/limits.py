"""Limits a page must pass before extraction, for what the extraction libraries do not stop.

HTML nesting: libxml2 (under lxml and trafilatura) builds at most 255 levels of elements and
silently drops what lies deeper, so a page nested 100,000 levels deep comes out as an empty
page, or as a wrong one, rather than as refused. ``too_deep`` measures the nesting first with
a parser that builds no tree and stops at the limit, so the cost is one pass over the bytes,
and memory does not grow with the page.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from workers.records import FetchedPage, Reason, Skip


class _Deeper(Exception):
    """Raised inside the parser to stop it once the limit is passed."""


class _DepthCounter:
    """An lxml parser target that keeps only the current depth (no tree)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0

    def start(self, tag: str, attrib: Any) -> None:
        self.depth += 1
        if self.depth > self.limit:
            raise _Deeper

    def end(self, tag: str) -> None:
        self.depth -= 1

    def close(self) -> None:
        return None


def nested_deeper_than(html: bytes, limit: int) -> bool:
    """Whether elements in ``html`` nest more than ``limit`` levels deep, as an HTML parser
    reads them (implied end tags closed, as browsers close them)."""
    parser = etree.HTMLParser(target=_DepthCounter(limit), no_network=True)
    try:
        parser.feed(html)
        parser.close()
    except _Deeper:
        return True
    except etree.LxmlError:
        return False  # not for this check to judge; extraction says what the page is
    return False


def too_deep(page: FetchedPage, max_depth: int) -> Skip | None:
    """A ``too_large`` skip for a page nested deeper than ``max_depth``; None otherwise or
    when ``max_depth`` is 0."""
    if max_depth <= 0 or not nested_deeper_than(page.body, max_depth):
        return None
    detail = f"HTML nested deeper than {max_depth} levels"
    return Skip(page.url, Reason.TOO_LARGE, detail, "extract", page.source)

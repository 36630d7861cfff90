"""Limits a page must pass before extraction, for what the extraction libraries do not stop.

HTML nesting: libxml2 (under lxml and trafilatura) builds at most 255 levels of elements and
silently drops what lies deeper, so a page nested 100,000 levels deep comes out as an empty
page, or as a wrong one, rather than as refused. Below that cap, the parsed tree tells:
a page nested deeper than the limit has elements one level past it (``tree_deeper_than``, one
XPath step a level, 0.2 ms a page). For a limit at or past the cap the tree cannot tell, and
``nested_deeper_than`` measures the nesting with a parser that builds no tree and stops at
the limit: one more pass over the bytes (2-3 ms a page), with memory that does not grow with
the page.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from workers.records import FetchedPage, Reason, Skip

LIBXML2_LEVELS = 255  # libxml2 drops the elements nested deeper than this


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


def tree_deeper_than(tree: HtmlElement, limit: int) -> bool:
    """Whether the parsed ``tree`` has elements nested more than ``limit`` levels deep
    (``<html>`` is level 1); only meaningful for a ``limit`` below ``LIBXML2_LEVELS``."""
    root = tree.getroottree().getroot()
    return bool(root.xpath("/" + "/".join(["*"] * (limit + 1))))


def too_deep(page: FetchedPage, max_depth: int, tree: HtmlElement | None = None) -> Skip | None:
    """A ``too_large`` skip for a page nested deeper than ``max_depth``; None otherwise or
    when ``max_depth`` is 0. ``tree``, the page as parsed, spares a pass over the bytes."""
    if max_depth <= 0:
        return None
    if tree is not None and max_depth < LIBXML2_LEVELS:
        deeper = tree_deeper_than(tree, max_depth)
    else:
        deeper = nested_deeper_than(page.body, max_depth)
    if not deeper:
        return None
    detail = f"HTML nested deeper than {max_depth} levels"
    return Skip(page.url, Reason.TOO_LARGE, detail, "extract", page.source)

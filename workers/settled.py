"""Skip trafilatura's comparison with readability where it cannot change the extraction.

On every page, trafilatura (``bare_extraction``, balanced focus) runs readability over a copy of
the whole page and compares its text with its own (``trafilatura.external.compare_extraction``),
about 8 ms of a news page's ~45 ms. It keeps its own extraction unless readability's text is
more than twice as long, its own text is empty, has no paragraph text or more tables than
paragraphs, or is shorter than ``min_extracted_size`` or holds an element that readability's
cleaning would remove (then justext is tried).

readability's text is a part of the page's text: it only removes elements, and adds the word
"VIDEO" to each video ``<iframe>`` it keeps. So where trafilatura's own text is at least half
as long as all the page's text outside ``<script>``/``<style>`` (plus five characters an
``<iframe>``), and none of the other conditions holds, the comparison returns trafilatura's own
extraction, and running it only costs time. ``settled_comparison`` makes trafilatura skip it on
exactly those pages (about half of news-fixtures' and three quarters of wcxb-dev's; checked to
give the same text on all 1,686 corpus pages, ``tests/workers/test_settled.py`` on the fixture
pages).

It replaces ``trafilatura.core.compare_extraction`` for the duration of a call, and only for the
trafilatura versions it was checked against (``CHECKED``): with any other version, trafilatura
runs as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trafilatura
import trafilatura.core
from lxml import etree
from trafilatura.external import SANITIZED_XPATH, compare_extraction
from trafilatura.utils import trim

# The trafilatura versions whose comparison the reasoning above was checked against.
CHECKED = frozenset({"2.3.1"})
_VIDEO_MARK = len("VIDEO")


def settled(raw_tree: Any, body: Any, text: str, options: Any) -> bool:
    """Whether ``compare_extraction`` would return ``body`` and ``text`` unchanged.

    ``raw_tree`` is the copy of the page that the comparison would hand readability; it may be
    changed here, as readability would change it.
    """
    if options.focus != "balanced" or len(text) < options.min_extracted_size:
        return False
    if body.xpath(SANITIZED_XPATH):  # readability's cleaning, then justext, would run
        return False
    paragraphs = len(body.findall(".//p"))
    if not body.xpath(".//p//text()") or len(body.findall(".//table")) > paragraphs:
        return False
    # readability drops these before anything else; their text is never in its output.
    etree.strip_elements(raw_tree, "script", "style", "fencedframe", with_tail=False)
    page_text = trim(etree.tostring(raw_tree, method="text", encoding="unicode"))
    iframes = sum(1 for _ in raw_tree.iter("iframe"))
    return 2 * len(text) >= len(page_text) + _VIDEO_MARK * iframes


def _compare_unless_settled(
    cleaned_tree: Any, raw_tree: Any, body: Any, text: str, options: Any
) -> tuple[Any, str]:
    if settled(raw_tree, body, text, options):
        return body, text
    return compare_extraction(cleaned_tree, raw_tree, body, text, options)


@contextmanager
def settled_comparison() -> Iterator[None]:
    """Within the block, trafilatura skips the readability comparison where it is settled."""
    if trafilatura.__version__ not in CHECKED:
        yield
        return
    previous = trafilatura.core.compare_extraction
    trafilatura.core.compare_extraction = _compare_unless_settled
    try:
        yield
    finally:
        trafilatura.core.compare_extraction = previous

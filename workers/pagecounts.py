"""The element counts of ``workers.pagesignals``, taken in one walk over the parsed page.

Each count was an XPath of its own, and each XPath walks the whole tree again, testing every
element's ancestors for ``nav``, ``header``, ``footer`` and ``aside``: some 25 walks, 11-14 ms
of a page's 70-80 ms of extraction on news-fixtures. ``count_page`` walks the tree once, each
element handed what its ancestors are, and gives the same figures as those XPaths (checked page
by page over the 1,686 corpus pages when it was written). What each figure means is in
``PageSignals``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lxml.html import HtmlElement

# Bits of what an element's ancestors are (the element itself not included).
_OUTSIDE = 1  # nav, header, footer or aside: outside the main text
_SCRIPT = 2  # script or style
_PRE = 4
_NAV = 8
_ASIDE = 16
_LINK = 32  # an <a>
_MAIN = 64  # the main area (``<main>``, role=main or the body)
_OWN_BITS = {
    "nav": _OUTSIDE | _NAV,
    "header": _OUTSIDE,
    "footer": _OUTSIDE,
    "aside": _OUTSIDE | _ASIDE,
    "script": _SCRIPT,
    "style": _SCRIPT,
    "pre": _PRE,
    "a": _LINK,
}
_FIELD_TYPES = {"hidden", "submit", "button"}  # inputs that are no field to fill in
_PUBLISHED_NAMES = {"date", "pubdate", "publish-date"}


@dataclass
class PageCounts:
    """What one walk over a page found; ``main_*`` and the lists of texts are of the main area
    outside its nav, header, footer and aside (``texts`` also outside scripts and styles)."""

    texts: list[str] = field(default_factory=list)  # text nodes, in page order
    paragraphs: list[HtmlElement] = field(default_factory=list)
    links: list[HtmlElement] = field(default_factory=list)  # not inside another link
    main: Counter[str] = field(default_factory=Counter)  # tag names, and "linked_heading"...
    anywhere: Counter[str] = field(default_factory=Counter)
    repeated_blocks: int = 0  # anywhere in the main area (its nav and aside too)
    marks: list[str] = field(default_factory=list)  # class and id values, form actions
    itemprops: list[str] = field(default_factory=list)
    itemtypes: list[str] = field(default_factory=list)
    json_ld: list[str] = field(default_factory=list)  # the scripts' texts
    og_type: str | None = None


def count_page(tree: HtmlElement, main: HtmlElement) -> PageCounts:
    """The counts of the page ``tree``, with ``main`` as its main area."""
    counts = PageCounts()
    root = tree.getroottree().getroot()
    # libxml2 can leave more than one element at the top (a second <html> after the first
    # closed): XPath's "//" reaches them all, and so must the walk.
    before = list(root.itersiblings(preceding=True))[::-1]
    for top in (*before, root, *root.itersiblings()):
        _walk(top, 0, main, counts)
    return counts


def _walk(element: HtmlElement, above: int, main: HtmlElement, counts: PageCounts) -> None:
    tag = element.tag
    if not isinstance(tag, str):
        return  # a comment or processing instruction: its tail is the parent's text
    if element is main:
        inside = above | _MAIN
        _count_anywhere(element, tag, above, counts)
    else:
        inside = above
        _count_anywhere(element, tag, above, counts)
        if above & _MAIN:
            _count_main(element, tag, above, counts)
    own = inside | _OWN_BITS.get(tag, 0)
    if inside & _MAIN and not own & (_OUTSIDE | _SCRIPT) and element.text:
        counts.texts.append(element.text)
    for child in element:
        _walk(child, own, main, counts)
        if inside & _MAIN and not own & (_OUTSIDE | _SCRIPT) and child.tail:
            counts.texts.append(child.tail)


def _count_anywhere(element: HtmlElement, tag: str, above: int, counts: PageCounts) -> None:
    get = element.get
    for name in ("class", "id"):
        value = get(name)
        if value is not None:
            counts.marks.append(value)
    if get("itemprop") is not None:
        counts.itemprops.append(get("itemprop"))
    if get("itemtype") is not None:
        counts.itemtypes.append(get("itemtype"))
    anywhere = counts.anywhere
    if tag == "a":
        anywhere["nav_link"] += bool(above & _NAV)
        anywhere["aside_link"] += bool(above & _ASIDE)
        anywhere["author_link"] += get("rel") == "author"
    elif tag == "meta":
        name, prop = get("name"), get("property")
        if counts.og_type is None and "og:type" in (name, prop) and get("content") is not None:
            counts.og_type = get("content")
        anywhere["published_meta"] += prop == "article:published_time" or name in _PUBLISHED_NAMES
        anywhere["author_meta"] += name == "author" or prop == "article:author"
    elif tag == "input":
        kind = get("type")
        anywhere["field"] += kind not in _FIELD_TYPES
        anywhere["button"] += kind in ("submit", "button")
    elif tag in ("select", "textarea"):
        anywhere["field"] += 1
    elif tag in ("button", "pre"):
        anywhere[tag] += 1
    elif tag == "code":
        anywhere["code"] += not above & _PRE
    elif tag == "form" and get("action") is not None:
        counts.marks.append(get("action"))
    elif tag == "script" and get("type") == "application/ld+json":
        counts.json_ld.append(element.text or "")


def _count_main(element: HtmlElement, tag: str, above: int, counts: PageCounts) -> None:
    """Counts of an element inside the main area."""
    if element.get("class") is not None and _same_class_next(element):
        counts.repeated_blocks += 1
    if above & _OUTSIDE:
        return
    main = counts.main
    if tag == "a":
        href = element.get("href") or ""
        main["contact_link"] += href.startswith(("tel:", "mailto:"))
        if not above & _LINK:
            counts.links.append(element)
    elif tag == "p":
        counts.paragraphs.append(element)
    elif tag in ("h2", "h3", "h4"):
        main["subheading"] += 1
        has_link = element.find(".//a") is not None
        if element.get("id") is not None or any(
            (link.get("href") or "").startswith("#") for link in element.iterdescendants("a")
        ):
            main["anchored_heading"] += 1
        if tag != "h4" and (has_link or above & _LINK):
            main["linked_heading"] += 1
    elif tag in ("img", "table", "time", "article"):
        main[tag] += 1


def _same_class_next(element: HtmlElement) -> bool:
    """Whether the next element beside ``element`` has its class, and ``element`` holds a
    link: one of a row of teasers, cards or list items."""
    following = element.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()
    if following is None or following.get("class") != element.get("class"):
        return False
    return element.find(".//a") is not None

"""What a page's markup says about its kind, read before trafilatura prunes the tree.

``read_page_signals(tree, url)`` counts what tells a story from a list, a shop, a forum, a
service page or a manual on any site and in any language: the schema.org types declared in
JSON-LD and microdata, ``og:type``, the shape of the page's own URL
(``spiders.discovery.classify_url``), and the make-up of the main area: teaser blocks, link
density, paragraphs, headings, forms and buttons, prices, code, dates and comments. The element
counts come from one walk over the tree (``workers.pagecounts``), the rest from a few regular
expressions over what it collected. ``workers.pagetype`` weighs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml.html import HtmlElement

from spiders.discovery import classify_url
from workers.pagecounts import count_page

LONG_PARAGRAPH_WORDS = 40  # a <p> of 40+ words is prose, not a teaser, a caption or a button
# Words in class, id and itemprop values (and form actions) that name a part of a shop, a forum
# or a landing page. Front-end frameworks and themes write them in English whatever the page's
# language; each occurrence counts (``str.count``, several times faster than a regex here: no
# word of a group ends with the letters another begins with, so no two occurrences overlap).
MARKS = {
    "price": ("price", "offers"),  # itemprop price, priceCurrency, offers; "product-price"
    "cart": ("cart", "basket"),  # add-to-cart buttons and forms, mini-carts
    "comment": ("comment", "reply", "username"),  # comment threads, forum replies
    "avatar": ("avatar",),  # the pictures of the people who posted
    "button": ("btn", "button", "cta"),  # calls to action styled as buttons
}
# An amount of money: a currency sign or code beside a number ("$19.99", "12,50 €", "EUR 30").
# The lookahead lets the engine pass over a character that can start none of the four forms in
# one test instead of four (a third of the time on the corpus pages, the same matches).
_PRICE = re.compile(
    r"(?=[$€£¥₹₽₩\dUEGCJAI])"
    r"(?:[$€£¥₹₽₩]\s?\d|\d\s?[$€£¥₹₽₩]|\b(USD|EUR|GBP|CHF|JPY|CAD|AUD|INR)\s?\d|\d\s?(USD|EUR|GBP)\b)"
)
_HEADLINE = "a headline of several words"  # anchor text that makes a link a story's link
_WORD = re.compile(r"\w+")
_TITLE_END = re.compile(r"\s[|\-–—:·•»]\s")  # "Headline | Site", "Headline - Site"
_SCHEMA_PREFIX = re.compile(r"^(https?://schema\.org/|schema:)")
_PAGE_EXTENSION = re.compile(r"\.(html?|shtml|php\d?|aspx?|jsp|cms)$", re.IGNORECASE)
_SLUG_SEPARATORS = re.compile(r"[-_+]+")


@dataclass(frozen=True)
class PageSignals:
    """What the markup says about the kind of page.

    Counts are of the main area (``<main>``, ``role=main``, else the body) outside its nav,
    header, footer and aside, unless "anywhere" is noted.
    """

    types: frozenset[str] = field(default_factory=frozenset)  # schema.org, JSON-LD + microdata
    og_type: str = ""  # lower-case, "" when not declared
    url_kind: str | None = None  # classify_url of the page's own URL: article, listing or None
    story_path: bool = True  # no tag, forum, shop, docs or site-page segment (see below)
    host_label: str = ""  # the first label of the host, lower-case: "www", "docs", "forum"...
    slug_words: int = 0  # words of the URL's last path segment ("/news/council-votes": 2)
    heading_words: int = 0  # words of the first <h1>, anywhere: a headline has many
    title_words: int = 0  # words of <title>'s longest part between " | ", " - ", " – "...
    teasers: int = 0  # <article> elements, or linked h2/h3 headings, whichever are more
    repeated_blocks: int = 0  # elements with links followed by a sibling of the same class
    link_density: float = 0.0  # share of the main area's words that are link text
    words: int = 0  # words of the main area's text
    paragraphs: int = 0  # <p> elements
    long_paragraphs: int = 0  # <p> elements of LONG_PARAGRAPH_WORDS words or more
    subheadings: int = 0  # h2-h4 elements
    anchored_headings: int = 0  # h2-h4 with an id or a "#" link: a manual's linkable sections
    images: int = 0  # <img> elements
    tables: int = 0  # <table> elements
    times: int = 0  # <time> elements
    contact_links: int = 0  # tel: and mailto: links
    code_blocks: int = 0  # <pre> elements, anywhere
    inline_code: int = 0  # <code> elements outside <pre>, anywhere
    fields: int = 0  # visible <input>, <select> and <textarea> elements, anywhere
    buttons: int = 0  # <button> elements and button inputs, anywhere
    sidebar_links: int = 0  # links in <nav> and <aside> elements, anywhere
    prices: int = 0  # MARKS "price" anywhere, and amounts of money in the main area's text
    cart: int = 0  # MARKS "cart", anywhere
    comments: int = 0  # MARKS "comment", anywhere
    avatars: int = 0  # MARKS "avatar", anywhere
    calls_to_action: int = 0  # MARKS "button", anywhere
    published: bool = False  # a publication date declared (article:published_time, datePublished)
    author: bool = False  # an author declared (meta author, article:author, rel=author, itemprop)


def read_page_signals(tree: HtmlElement, url: str) -> PageSignals:
    """The signals of the parsed page ``tree`` found at ``url`` (call before trafilatura).

    ``story_path`` asks ``classify_url`` whether the URL would be a story's if a headline linked
    to it: not when a path segment names a list by tag or author, an account, a shop, a forum,
    a manual or a site page ("/impressum"), nor for a one-word path ("/news").
    """
    main = _main_area(tree)
    counts = count_page(tree, main)
    parts = urlsplit(url)
    site = f"{parts.scheme}://{parts.netloc}/" if parts.netloc else ""
    segments = [_PAGE_EXTENSION.sub("", unquote(s)) for s in parts.path.split("/") if s]
    text = " ".join(counts.texts)
    words = len(_WORD.findall(text))
    paragraphs = [len(_WORD.findall(p.text_content())) for p in counts.paragraphs]
    linked = sum(len(_WORD.findall(link.text_content())) for link in counts.links)
    marks = "\n".join(counts.marks + counts.itemprops).lower()
    marked = {mark: sum(map(marks.count, words)) for mark, words in MARKS.items()}
    inside, anywhere = counts.main, counts.anywhere
    return PageSignals(
        types=frozenset(_declared_types(counts.json_ld, counts.itemtypes)),
        og_type=str(counts.og_type).strip().lower() if counts.og_type is not None else "",
        url_kind=classify_url(url, site) if site else None,
        story_path=bool(site) and classify_url(url, site, _HEADLINE, "heading") == "article",
        host_label=(parts.hostname or "").split(".")[0],
        slug_words=len(_SLUG_SEPARATORS.split(segments[-1].strip("-_+"))) if segments else 0,
        heading_words=len(_WORD.findall(" ".join(tree.xpath("(//h1)[1]//text()")))),
        title_words=max(
            len(_WORD.findall(part)) for part in _TITLE_END.split(tree.findtext(".//title") or "")
        ),
        teasers=max(inside["article"], inside["linked_heading"]),
        repeated_blocks=counts.repeated_blocks,
        link_density=min(linked / words, 1.0) if words else 0.0,
        words=words,
        paragraphs=len(paragraphs),
        long_paragraphs=sum(length >= LONG_PARAGRAPH_WORDS for length in paragraphs),
        subheadings=inside["subheading"],
        anchored_headings=inside["anchored_heading"],
        images=inside["img"],
        tables=inside["table"],
        times=inside["time"],
        contact_links=inside["contact_link"],
        code_blocks=anywhere["pre"],
        inline_code=anywhere["code"],
        fields=anywhere["field"],
        buttons=anywhere["button"],
        sidebar_links=anywhere["nav_link"] + anywhere["aside_link"],
        prices=marked["price"] + len(_PRICE.findall(text)),
        cart=marked["cart"],
        comments=marked["comment"],
        avatars=marked["avatar"],
        calls_to_action=marked["button"],
        published="datePublished" in counts.itemprops
        or anywhere["published_meta"] > 0
        or any("datePublished" in script for script in counts.json_ld),
        author="author" in counts.itemprops
        or anywhere["author_meta"] > 0
        or anywhere["author_link"] > 0
        or any('"author"' in script for script in counts.json_ld),
    )


def _declared_types(scripts: list[str], itemtypes: list[str]) -> Iterator[str]:
    """The schema.org type names of the page's JSON-LD ``scripts`` and microdata ``itemtypes``."""
    for script in scripts:
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for node in _nodes(data):
            declared = node.get("@type")
            for name in declared if isinstance(declared, list) else [declared]:
                if isinstance(name, str):
                    yield _SCHEMA_PREFIX.sub("", name)
    for itemtype in itemtypes:
        for name in str(itemtype).split():
            yield name.rstrip("/").rpartition("/")[2]


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """The JSON-LD nodes of a script at its top level: lists and ``@graph`` opened."""
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from _nodes(data.get("@graph"))


def _main_area(tree: HtmlElement) -> HtmlElement:
    """The ``<main>`` element (or ``role=main``), else the body, else the whole page."""
    for path in ("//main", "//*[@role='main']", "//body"):
        found = tree.xpath(path)
        if found:
            return found[0]
    return tree

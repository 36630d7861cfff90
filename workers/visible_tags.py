"""The tag list a page shows its readers: the compact group of tag links by the article.

The last source of tags (``workers.metadata``): many sites put their topics only in a visible
row of links ("Tags: Putin, NATO, Ukraine"), not in their markup for search engines.
"""

from __future__ import annotations

import re
from itertools import islice
from urllib.parse import urlsplit

from lxml.html import HtmlElement

# What sites call a tag list in class, id and data-* values, and in the path of a tag's page.
_TAG_MARK = re.compile(
    r"(?<![a-z])(?:tags?|taglist|keywords?|topics?|subjects?|schlagw\w*|stichw\w*|thema|themen)"
    r"(?![a-z])",
    re.IGNORECASE,
)
_TAG_WORD = r"(?:tags?|topics?|subjects?|keywords?|thema|themen|schlagw\w*|stichw\w*)"
_TAG_PATH = re.compile(rf"/{_TAG_WORD}/", re.IGNORECASE)
# The page of all the site's tags ("/themen/", "/topics"): a link to it is no tag ("Alle Themen").
_TAG_INDEX = re.compile(rf"/{_TAG_WORD}/?$", re.IGNORECASE)
_NOT_TAGS = re.compile(r"breadcrumb|navigation|menu|(?<![a-z])aside(?![a-z])", re.IGNORECASE)
# The characters ``urlsplit`` takes out of an address wherever they are.
_URL_IGNORED = dict.fromkeys(map(ord, "\t\r\n"))
# A tag is a few words; a group is a tag list when its links are most of its text.
_TAG_WORDS = 6
_TAG_CHARS = 60
_LINK_SHARE = 0.6


def visible_tags(tree: HtmlElement) -> list[str]:
    """The texts of the page's visible tag list: the compact group of tag links by the article.

    A link is a tag when it says so (``rel="tag"``), when its page is a tag page (a path segment
    ``/tag/``, ``/topics/``, ``/thema/``, ``/schlagwort/``...), or when it or a near ancestor is
    marked as one in its class, id or ``data-*`` values ("taglist", "topic-tags", "Tags Box").
    Its group is its highest near ancestor (up to four levels) whose text is still mostly link
    text, so that a tag linked from running text is no tag. Links in ``<nav>`` (but a ``<nav>``
    in the article marked as its tag list), in a breadcrumb, menu or element classed "aside"
    (where sites show their trending topics), or in a ``<header>``/``<footer>`` outside the
    article are site navigation, and so is a link to the index of all tags ("/themen/"). Of
    the groups, the one in the article that holds the ``<h1>``
    wins, then one in ``<main>``, then a marked one, then the largest.
    """
    groups: dict[HtmlElement, list[str]] = {}
    marks = _Marks()
    for link in tree.xpath("//a[@href]"):
        # Is it a tag link? Asked before its text is read: few of a page's links are, and
        # reading a link's text costs more.
        href = link.get("href").strip()
        if href.startswith("#") or not _is_tag_link(link, href, marks):
            continue
        text = " ".join(link.text_content().split())
        if not text or len(text) > _TAG_CHARS or len(text.split()) > _TAG_WORDS:
            continue
        if _TAG_INDEX.search(urlsplit(href).path):
            continue
        if _in_navigation(link, marks):
            continue
        group = _link_group(link, marks)
        if group is not None:
            groups.setdefault(group, []).append(text)
    if not groups:
        return []
    best = max(groups, key=lambda group: (*_place(group), len(set(groups[group]))))
    return list(dict.fromkeys(groups[best]))


class _Marks:
    """What the class, id and ``data-*`` values of an element say, and whether its text is
    mostly link text, read once per element: a page's links share their ancestors, and most
    pages have hundreds of links."""

    def __init__(self) -> None:
        self._tags: dict[HtmlElement, bool] = {}
        self._not_tags: dict[HtmlElement, bool] = {}
        self._mostly_links: dict[HtmlElement, bool] = {}

    def tags(self, element: HtmlElement) -> bool:
        """Whether the element is marked as a tag list."""
        if element not in self._tags:
            self._tags[element] = _marked_as_tags(element)
        return self._tags[element]

    def not_tags(self, element: HtmlElement) -> bool:
        """Whether the element is marked as a breadcrumb, a menu or an aside."""
        if element not in self._not_tags:
            marks = f"{element.get('class', '')} {element.get('id', '')}"
            self._not_tags[element] = bool(_NOT_TAGS.search(marks))
        return self._not_tags[element]

    def mostly_links(self, element: HtmlElement) -> bool:
        """Whether the element's text is mostly the text of its links (a tag list's is)."""
        if element not in self._mostly_links:
            link_chars = sum(len("".join(a.text_content().split())) for a in element.iter("a"))
            text_chars = len("".join(element.text_content().split()))
            self._mostly_links[element] = link_chars >= _LINK_SHARE * text_chars
        return self._mostly_links[element]


def _is_tag_link(link: HtmlElement, href: str, marks: _Marks) -> bool:
    if link.get("rel") == "tag" or _tag_path(href):
        return True
    return any(map(marks.tags, [link, *islice(link.iterancestors(), 4)]))


def _tag_path(href: str) -> bool:
    """Whether the link's path names a tag page. The path is a part of the address as
    ``urlsplit`` reads it (tabs and line breaks taken out), so an address in which the
    pattern is nowhere is not split at all: most of a page's links."""
    return bool(
        _TAG_PATH.search(href.translate(_URL_IGNORED)) and _TAG_PATH.search(urlsplit(href).path)
    )


def _marked_as_tags(element: HtmlElement) -> bool:
    return any(
        _TAG_MARK.search(value)
        for name, value in element.attrib.items()
        if name in {"class", "id"} or name.startswith("data-")
    )


def _in_navigation(link: HtmlElement, marks: _Marks) -> bool:
    ancestors = list(link.iterancestors())
    in_article = any(element.tag == "article" for element in ancestors)
    # A <nav> inside the article that is marked as its tag list is that list, not the site's.
    own_tags = in_article and any(map(marks.tags, ancestors[:5]))
    for element in ancestors:
        if (element.tag == "nav" or element.get("role") == "navigation") and not own_tags:
            return True
        if element.tag in {"header", "footer"} and not in_article:
            return True
        if marks.not_tags(element):
            return True
    return False


def _link_group(link: HtmlElement, marks: _Marks) -> HtmlElement | None:
    group = None
    for element in islice(link.iterancestors(), 4):
        if not marks.mostly_links(element):
            break
        group = element
    return group


def _place(group: HtmlElement) -> tuple[bool, bool, bool]:
    ancestors = [group, *group.iterancestors()]
    return (
        any(
            element.tag == "article" and element.find(".//h1") is not None for element in ancestors
        ),
        any(element.tag == "main" for element in ancestors),
        any(map(_marked_as_tags, ancestors[:5])),
    )

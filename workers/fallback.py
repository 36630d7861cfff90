"""trafilatura's reading of a page's metadata, one field at a time and only when asked.

``extract`` trusts what the page declares (``workers.metadata``: JSON-LD, microdata,
OpenGraph, meta tags) before trafilatura's metadata, which is the last fallback of most fields.
``trafilatura.bare_extraction(..., with_metadata=True)`` computes all of it for every page
whatever is used: it parses the JSON-LD a second time (12 ms a page on news-fixtures, 40 % of
its metadata time) and walks the tree for authors, categories and tags (another 10 ms). So
``extract`` asks trafilatura for the main text alone and reads a field here when the page's
own metadata leaves it empty.

Each field takes the steps ``trafilatura.metadata.extract_metadata`` takes for it, in the same
order, with the same helpers: the meta tags first (``examine_meta``), then the tree
(``extract_title``, ``extract_author``, ``extract_url``, ``extract_catstags``,
``extract_sitename``) and htmldate for the date. The one step left out is trafilatura's own
JSON-LD reading: ``workers.metadata`` has read the JSON-LD already, and first.
"""

from __future__ import annotations

import html
from functools import cached_property
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import line_processing

_MAX_CHARS = 10000  # trafilatura's own cut of a metadata string (Document.clean_and_trim)


class TrafilaturaFields:
    """The metadata fields trafilatura would find in ``tree``, each read on first use.

    ``tree`` must be the page as parsed, before anything prunes it: the fields are read when
    asked for, so the tree is kept until then (``bare_extraction`` works on a copy of it).
    """

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self._tree = tree
        self._url = url

    @cached_property
    def _meta(self) -> Document:
        found = examine_meta(self._tree)
        if found.author and " " not in found.author:
            found.author = None  # a single word is a handle or a site, as trafilatura judges
        return found

    @cached_property
    def title(self) -> str | None:
        """The title of the meta tags, else of ``<title>`` and the headings."""
        return _clean(self._meta.title or extract_title(self._tree))

    @cached_property
    def author(self) -> str | None:
        """The author of the meta tags, else of the byline; several are joined with "; "."""
        return _clean(self._meta.author or extract_author(self._tree))

    @cached_property
    def url(self) -> str | None:
        """The declared URL (``og:url``, ``twitter:url``), else the canonical link, else the
        page's own: trafilatura's reading, which its date and site name use. The article's own
        URL is chosen otherwise (``workers.canonical.declared_url``)."""
        return _clean(self._meta.url or extract_url(self._tree, self._url))

    @cached_property
    def date(self) -> str | None:
        """htmldate's publication date (YYYY-MM-DD), with trafilatura's default settings."""
        params: dict[str, Any] = {**set_date_params(True), "url": self.url}
        return _clean(find_date(self._tree, **params))

    @cached_property
    def site_name(self) -> str | None:
        """The site's name as trafilatura gives it: meta tags, ``<title>``, else the host."""
        name = self._meta.sitename or extract_sitename(self._tree)
        if name:
            name = name.lstrip("@")
            if name and "." not in name and not name[0].isupper():
                name = name.title()
            return _clean(name)
        match = META_URL.match(self.url or "")
        return match[1] if match else None

    @cached_property
    def description(self) -> str | None:
        return _clean(self._meta.description)

    @cached_property
    def image(self) -> str | None:
        return _clean(self._meta.image)

    @cached_property
    def categories(self) -> list[str]:
        return list(self._meta.categories or extract_catstags("category", self._tree))

    @cached_property
    def tags(self) -> list[str]:
        return list(self._meta.tags or extract_catstags("tag", self._tree))


def _clean(value: str | None) -> str | None:
    """A string field as ``Document.clean_and_trim`` leaves it: cut, entities decoded, trimmed."""
    if not value:
        return value
    if len(value) > _MAX_CHARS:
        value = value[: _MAX_CHARS - 1] + "…"
    return line_processing(html.unescape(value))

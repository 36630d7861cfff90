"""How the sample site lists its articles: the ``Listing`` record, sections, languages, summaries.

Front page, section pages, feeds and sitemaps all show an article through its ``Listing``: the
expected values of its case, the section of its publisher's country, the language its page
declares and a summary cut from the start of its expected body.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from spiders.sample_site import SampleCase

SECTIONS = {
    "europe": "Europe",
    "americas": "Americas",
    "asia-pacific": "Asia & Pacific",
    "africa-middle-east": "Africa & Middle East",
    "world": "World",  # publishers of any other country
}
_SECTION_COUNTRIES = {
    "europe": "at be ch de dk es fr gl isl it lt lu no pl pt se tr ua uk",
    "americas": "ca us",
    "asia-pacific": "au id ind jp kr vn",
    "africa-middle-east": "il lb na za",
}
# The main language of a country's news, for the pages that do not declare theirs.
_COUNTRY_LANGUAGES = dict(
    re.findall(
        r"(\w+):(\w+)",
        "at:de au:en be:nl ca:en ch:de de:de dk:da es:es fr:fr gl:kl id:id il:he ind:en isl:is "
        "it:it jp:ja kr:ko lb:ar lt:lt lu:lb na:en no:no pl:pl pt:pt se:sv tr:tr ua:uk uk:en "
        "us:en vn:vi za:en",
    )
)
_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_]|$)")


@dataclass(frozen=True)
class Listing:
    """One served article page as the site's listings, feeds and sitemaps show it."""

    path: str
    title: str
    published_at: datetime
    modified_at: datetime  # the sitemaps' lastmod: published_at until the page changes
    publisher: str
    language: str  # ISO 639 code
    section: str  # a key of SECTIONS
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str


def listing_for(case: SampleCase, page: bytes) -> Listing:
    """How the site lists a case, at the case's path, given the page it serves for it."""
    expected = case.expected
    section = next(
        (
            name
            for name, countries in _SECTION_COUNTRIES.items()
            if case.country in countries.split()
        ),
        "world",
    )
    return Listing(
        path=case.path,
        title=expected["title"],
        published_at=case.published_at,
        modified_at=case.published_at,
        publisher=case.publisher,
        language=page_language(page) or _COUNTRY_LANGUAGES.get(case.country, "und"),
        section=section,
        authors=tuple(expected.get("authors") or ()),
        tags=tuple(expected.get("tags") or ()),
        summary=summary(expected.get("body") or ""),
    )


def page_language(page: bytes) -> str | None:
    """The language a page declares, ``<html lang>`` else ``og:locale``: its primary subtag."""
    for _, element in etree.iterparse(io.BytesIO(page), events=("start",), html=True):
        declared = element.get("lang") if element.tag == "html" else None
        if element.tag == "meta" and element.get("property") == "og:locale":
            declared = element.get("content")
        if declared and (match := _LANGUAGE.match(declared.strip())):
            return match[1].lower()
        if element.tag == "body":
            break
    return None


def summary(body: str, words: int = 30) -> str:
    """The start of the first paragraph of a body, cut after ``words`` words."""
    first = body.strip().split("\n\n", 1)[0].split()
    text = " ".join(first[:words]) + (" …" if len(first) > words else "")
    # lxml refuses control characters; split() has dropped the ones that are whitespace.
    return "".join(char for char in text if unicodedata.category(char) != "Cc")

"""What a page says of itself in its markup: JSON-LD, microdata, OpenGraph, meta, Dublin Core.

``read_metadata(tree, url)`` reads the parsed page once (with extruct, on the tree that
trafilatura will use next; call it first, as trafilatura prunes that tree) into one
``PageMetadata``. Where the syntaxes disagree, each field takes the first of them that has a
value, in this order of trust:

1. JSON-LD, the article object (NewsArticle, Article, BlogPosting and their kin, also inside
   ``@graph`` and lists): it is written for search engines about this one article.
2. Microdata, the article item: the same vocabulary, marked up in the visible page.
3. OpenGraph and ``article:*`` properties: written for social previews, also per article.
4. ``<meta name>`` tags (``news_keywords``, ``keywords``, ``author``), then Dublin Core.
5. For tags only, last: the visible tag list (see ``visible_tags``). Measured on
   news-fixtures, it does better after the ``keywords`` meta than before it (0.781 against
   0.778 tag F1): where a page has both, the meta list is more often the complete one.

``extract`` merges the result with the listing's hints and trafilatura's output (see there).
Names are kept raw here (``normalise.clean_authors`` cleans them); authors are split into
persons and organisations by their schema.org ``@type`` so that a publisher named as the
author is used only when no person is.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import extruct
from lxml.html import HtmlElement

from workers.normalise import own_hosts
from workers.visible_tags import visible_tags

# schema.org types of a news or blog article (the types of CreativeWork that are one article).
ARTICLE_TYPES = frozenset(
    {
        "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle",
        "OpinionNewsArticle", "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle",
        "SatiricalArticle", "BlogPosting", "LiveBlogPosting", "SocialMediaPosting", "Report",
        "TechArticle", "ScholarlyArticle", "AdvertiserContentArticle", "VideoObject",
    }
)  # fmt: skip
PERSON_TYPES = frozenset({"Person"})
_SYNTAXES = ["json-ld", "microdata", "opengraph", "dublincore"]
_SEPARATED = re.compile(r"[,;|]")
# Where a site's name joins its parts: "産経新聞：産経ニュース", "Lesotho Times | News".
_SITE_NAME_PARTS = re.compile(r"\s*[:：|–—]\s*|\s+-\s+")
_SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:")
# How a kicker ends before the headline proper: "Kicker: Headline", "Kicker - Headline".
_KICKER_END = re.compile(r"\S(?::|\s[-–—|/])\s*$")
# Chinese, Japanese kana and kanji, Korean hangul: scripts that put no spaces between words.
_SPACELESS_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# A declared headline longer than this, or of sentences ending in a full stop, is a summary.
_HEADLINE_WORDS = 40
_PARAGRAPH = re.compile(r"[.!?]\s+\S.*\.\s*$")


@dataclass(frozen=True)
class PageMetadata:
    """The article's metadata as the page declares it; empty fields where it declares nothing."""

    headline: str | None = None
    heading: str | None = None  # the visible <h1>, when the headline contains it (see _heading)
    persons: list[str] = field(default_factory=list)  # authors that are people
    organisations: list[str] = field(default_factory=list)  # authors that are not
    published_at: str | None = None  # ISO 8601 as declared, with offset when given
    modified_at: str | None = None
    keywords: list[str] = field(default_factory=list)  # JSON-LD keywords, article:tag (_fuller)
    meta_keywords: list[str] = field(default_factory=list)  # keywords meta, else visible tags
    sections: list[str] = field(default_factory=list)  # articleSection, article:section
    description: str | None = None
    image: str | None = None
    site_name: str | None = None
    language: str | None = None
    free: bool | None = None  # isAccessibleForFree
    body: str | None = None  # articleBody


def read_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """The metadata that ``tree`` declares (read before trafilatura prunes it)."""
    found = extruct.extract(tree, base_url=url, syntaxes=_SYNTAXES, errors="ignore")
    items = list(_flatten(found.get("json-ld", [])))
    items += [_from_microdata(item) for item in found.get("microdata", [])]
    article = _main_article(items, url)
    nodes = {item["@id"]: item for item in items if isinstance(item.get("@id"), str)}
    og = _opengraph(found.get("opengraph", []))
    meta = _meta_names(tree)
    dc = _dublin_core(found.get("dublincore", []))
    persons, organisations = _authors(article.get("author") or article.get("creator"), nodes)
    if not persons:
        persons = [
            name
            for name in og.get("article:author", []) + meta.get("author", [])
            if not _is_url(name)
        ]
    publisher = _resolve(article.get("publisher"), nodes)
    headline = (
        _as_headline(_text(article.get("headline")))
        or _first(og, "og:title")
        or _first(dc, "title")
    )
    site_name = _first(og, "og:site_name") or _name(publisher) or _site_name(items)
    listed_keywords = _keywords(
        _own_list(meta.get("news_keywords", []), site_name, url)
        or _own_list(meta.get("keywords", []), site_name, url)
        or visible_tags(tree)
    )
    declared_keywords = _keywords(
        _strings(article.get("keywords")) or _article_tags(og, listed_keywords)
    )
    heading = _heading(tree, headline)
    if heading and headline and _kicker_declared(headline, heading, og.get("og:title", [])):
        heading = None
    return PageMetadata(
        headline=headline,
        heading=heading or _without_kicker(headline, og.get("og:title", [])),
        persons=persons or dc.get("creator", []),
        organisations=organisations,
        published_at=_dated(
            tree,
            "datePublished",
            article.get("datePublished"),
            article.get("dateCreated"),
            *og.get("article:published_time", []),
            *dc.get("date", []),
            *dc.get("issued", []),
        ),
        modified_at=_dated(
            tree,
            "dateModified",
            article.get("dateModified"),
            *og.get("article:modified_time", []),
        ),
        keywords=_fuller(declared_keywords, listed_keywords),
        meta_keywords=listed_keywords,
        sections=_strings(article.get("articleSection")) or og.get("article:section", []),
        description=_text(article.get("description")) or _first(og, "og:description"),
        image=_image(article.get("image")) or _first(og, "og:image"),
        site_name=site_name,
        language=_text(article.get("inLanguage")) or _first(og, "og:locale"),
        free=_free(article),
        body=_text(article.get("articleBody")),
    )


def schema_type(item: dict[str, Any]) -> set[str]:
    """The schema.org type names of a JSON-LD node, without their prefixes."""
    declared = item.get("@type") or []
    names = [declared] if isinstance(declared, str) else declared
    result = set()
    for name in names:
        if isinstance(name, str):
            for prefix in _SCHEMA_PREFIXES:
                name = name.removeprefix(prefix)
            result.add(name)
    return result


def _flatten(value: Any) -> Any:
    """Every JSON-LD node in ``value``: top-level lists and ``@graph`` are opened."""
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        if "@graph" in value:
            yield from _flatten(value["@graph"])
        if "@type" in value:
            yield value


def _from_microdata(item: dict[str, Any]) -> dict[str, Any]:
    """A microdata item (extruct's form) as a JSON-LD node."""
    node: dict[str, Any] = {"@type": item.get("type") or []}
    for key, value in (item.get("properties") or {}).items():
        if isinstance(value, list):
            node[key] = [
                _from_microdata(v) if isinstance(v, dict) and "type" in v else v for v in value
            ]
        elif isinstance(value, dict) and "type" in value:
            node[key] = _from_microdata(value)
        else:
            node[key] = value
    return node


def _main_article(items: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """The article node about this page: the one naming its URL, else the first with a headline."""
    articles = [item for item in items if schema_type(item) & ARTICLE_TYPES]
    if not articles:
        return {}
    for article in articles:
        own = [article.get("url"), article.get("@id"), _resolve_id(article.get("mainEntityOfPage"))]
        if url and any(isinstance(u, str) and u.rstrip("/") == url.rstrip("/") for u in own):
            return article
    with_headline = [article for article in articles if article.get("headline")]
    return (with_headline or articles)[0]


def _site_name(items: list[dict[str, Any]]) -> str | None:
    """The name of the page's ``WebSite`` node, else of its first ``Organization``: sites
    that declare no publisher on the article still describe themselves beside it."""
    for kinds in ({"WebSite"}, {"Organization", "NewsMediaOrganization"}):
        for item in items:
            if schema_type(item) & kinds and _name(item):
                return _name(item)
    return None


def _resolve_id(value: Any) -> Any:
    return value.get("@id") if isinstance(value, dict) else value


def _resolve(value: Any, nodes: dict[str, dict[str, Any]]) -> Any:
    """A node that is given only by reference (``{"@id": ...}``) replaced by the node itself."""
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in nodes:
        return nodes[value["@id"]]
    return value


def _authors(value: Any, nodes: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Names of the persons and of the organisations in a JSON-LD ``author`` value."""
    persons: list[str] = []
    organisations: list[str] = []
    for author in value if isinstance(value, list) else [value]:
        author = _resolve(author, nodes)
        if isinstance(author, str):
            if not _is_url(author):  # a bare string is a person's name more often than not
                persons.append(author)
        elif isinstance(author, dict):
            names = [name for name in _strings(author.get("name")) if not _is_url(name)]
            if not names:  # schema.org's parts of a name, where the CMS gives no whole one
                parts = _strings(author.get("givenName")) + _strings(author.get("familyName"))
                names = [" ".join(part.strip() for part in parts)] if parts else []
            is_person = not schema_type(author) or schema_type(author) & PERSON_TYPES
            (persons if is_person else organisations).extend(names)
    return persons, organisations


def _heading(tree: HtmlElement, headline: str | None) -> str | None:
    """The page's visible ``<h1>`` when the declared headline contains it.

    A headline declared as "Kicker: Headline" or "Section - Headline" for search engines shows
    the bare headline in the page's heading; finding that heading inside the declared text tells
    which part is the headline without guessing at separators.
    """
    if not headline:
        return None
    folded = " ".join(html.unescape(headline).split()).casefold()
    for h1 in tree.xpath("//h1")[:3]:
        text = " ".join(h1.text_content().split())
        if len(text.split()) >= 3 and text.casefold() in folded and text.casefold() != folded:
            return text
    return None


def _as_headline(text: str | None) -> str | None:
    """A declared headline, or None when it reads as a paragraph rather than a title.

    Some CMS templates fill the JSON-LD ``headline`` with the article's description or its
    first paragraph (cut at a fixed length). A title is a line: over 40 words, or two sentences
    and more ending in a full stop, is a summary, and the next source of the title is used.
    """
    if text and (len(text.split()) > _HEADLINE_WORDS or _PARAGRAPH.search(text)):
        return None
    return text


def _kicker_declared(headline: str, heading: str, titles: list[str]) -> bool:
    """Whether ``headline`` is "Kicker: ``heading``" and an ``og:title`` is that same text.

    The visible ``<h1>`` often shows the kicker in an element of its own, so ``_heading`` would
    take the headline without it; where the social previews' title carries the kicker too,
    both of the publisher's declared titles name the article with it.
    """
    folded = _fold(headline)
    return _kicked(folded, _fold(heading)) and any(_fold(title) == folded for title in titles)


def _without_kicker(headline: str | None, others: list[str]) -> str | None:
    """Another declared title that is ``headline`` without a kicker ("Kicker: " or "Kicker - ").

    Many sites lead their headline with a section label or a catchword for search engines
    ("Minderheit in Syrien - Drusen fordern ...") and give the bare headline to social
    previews; where one title is exactly the other with such a prefix cut off, the bare one is
    the headline itself.
    """
    if not headline:
        return None
    folded = _fold(headline)
    for other in others:
        bare = _fold(other)
        if len(bare.split()) >= 3 and _kicked(folded, bare):
            return " ".join(html.unescape(other).split())
    return None


def _kicked(folded: str, bare: str) -> bool:
    """Whether the folded title ``folded`` is ``bare`` with a kicker before it."""
    return folded.endswith(bare) and bool(bare) and bool(_KICKER_END.search(folded[: -len(bare)]))


def _fold(text: str) -> str:
    """Text compared as a reader would: entities decoded, spaces collapsed, case folded."""
    return " ".join(html.unescape(text).replace("\u00ad", "").split()).casefold()


def _keywords(values: list[str]) -> list[str]:
    """Declared keywords, unless they are one run-together string.

    A single value of more than five words without any list separator is a list whose
    separators were lost ("Boxen Russland Tyson Fury"): it cannot be split back into tags, so
    it is dropped and the next source is used. In scripts written without spaces between words
    (Chinese, Japanese, Korean), spaces are the separators: such a value is split at them.
    """
    if len(values) == 1 and not _SEPARATED.search(values[0]):
        words = values[0].split()
        if len(words) > 1 and all(_SPACELESS_SCRIPT.search(word) for word in words):
            return words
        if len(words) > 5:
            return []
    return values


def _fuller(declared: list[str], listed: list[str]) -> list[str]:
    """The declared keywords, or the page's other list when it is the fuller form of them.

    JSON-LD ``keywords`` and ``article:tag`` are often cut to the first few tags or to the
    section, or lose their separators ("Cannes Messen Duisburg"), while the ``keywords`` meta
    (or, without one, the visible tag list) of the same page has them all: a list that holds
    every declared tag and more, or the same words with separators, is used instead.
    """
    declared_tags, listed_tags = _tag_set(declared), _tag_set(listed)
    if declared_tags and declared_tags < listed_tags:
        return listed
    if len(declared) == 1 and len(listed_tags) > 1 and _words(declared) == _words(listed):
        return listed
    return declared


def _article_tags(og: dict[str, list[str]], listed: list[str]) -> list[str]:
    """The ``article:tag`` values, unless the one value there is the article's category.

    Some CMSs put the section or an ad category in a single ``article:tag`` ("Politics",
    "Business, Finance, & Economics") and the article's topics in the ``keywords`` meta: a
    lone value that shares no tag with a list of three or more there is set aside.
    """
    tags = og.get("article:tag", [])
    listed_tags = _folded(_tag_set(listed))
    if len(tags) == 1 and len(listed_tags) >= 3 and not _folded(_tag_set(tags)) & listed_tags:
        return []
    return tags


def _folded(tags: set[str]) -> set[str]:
    """The tags without accents ("córdoba" and "cordoba" are one tag)."""
    return {
        "".join(
            char for char in unicodedata.normalize("NFKD", tag) if not unicodedata.combining(char)
        )
        for tag in tags
    }


def _own_list(values: list[str], site_name: str | None, url: str) -> list[str]:
    """A ``keywords`` meta list, unless it is the site's own list, the same on every page.

    Many sites fill the meta on every page with their name and sections ("日刊ゲンダイDIGITAL,
    政治, 社会, 芸能..."): a list with the site's name (or a part of it, "産経新聞" of
    "産経新聞：産経ニュース") or its host name among its entries describes the site, not the
    article, and the next source is read instead.
    """
    site = {part.strip().casefold() for part in _SITE_NAME_PARTS.split(site_name or "")}
    site = (site | own_hosts(url)) - {""}
    return [] if _tag_set(values) & site else values


def _tag_set(values: list[str]) -> set[str]:
    return {tag.strip().casefold() for value in values for tag in _SEPARATED.split(value)} - {""}


def _words(values: list[str]) -> list[str]:
    spaced = (_SEPARATED.sub(" ", value) for value in values)
    return sorted(word.casefold() for value in spaced for word in value.split())


def _opengraph(found: list[dict[str, Any]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for item in found:
        for name, value in item.get("properties", []):
            if isinstance(value, str) and value.strip():
                values.setdefault(name.lower(), []).append(value.strip())
    return values


def _meta_names(tree: HtmlElement) -> dict[str, list[str]]:
    """Meta tags that no extruct syntax covers: keywords, news_keywords, author.

    Some sites write them with ``property`` instead of ``name``; both are read.
    """
    values: dict[str, list[str]] = {}
    for meta in tree.xpath("//meta[@name or @property][@content]"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        if name in {"keywords", "news_keywords", "author"} and meta.get("content").strip():
            values.setdefault(name, []).append(meta.get("content").strip())
    return values


def _dated(tree: HtmlElement, name: str, *candidates: Any) -> str | None:
    """``_first_date`` of the declared ``candidates`` followed by the page's ``itemprop=name``
    dates, which are looked for (a walk over the whole page) only when they could change the
    result: when the candidates give no date, or one without both its time and its offset."""
    chosen = _first_date(*candidates)
    if chosen is not None and _precision(chosen) == 2:
        return chosen
    return _first_date(*candidates, *_itemprop_dates(tree, name))


def _itemprop_dates(tree: HtmlElement, name: str) -> list[str]:
    """The machine-readable dates of the page's ``itemprop=name`` elements, in page order.

    Pages often mark their visible date up as ``<time itemprop="datePublished" datetime=…>``
    without the ``itemscope`` it belongs to, so extruct's microdata has no item holding it (a
    date inside a declared article item comes first anyway). Only the ``datetime`` or
    ``content`` attribute is read: the visible text is for people.
    """
    found = tree.xpath(f"//*[@itemprop='{name}'][@datetime or @content]")
    return [element.get("datetime") or element.get("content") for element in found[:3]]


def _dublin_core(found: list[dict[str, Any]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for item in found:
        for element in item.get("elements", []) + item.get("terms", []):
            name = element.get("name", "").lower().rpartition(".")[2]
            content = (element.get("content") or "").strip()
            if content:
                values.setdefault(name, []).append(content)
    return values


def _strings(value: Any) -> list[str]:
    """A value that may be a string, a list, or nodes with a ``name``, as a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        return _strings(value.get("name") or value.get("@value"))
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _text(value: Any) -> str | None:
    texts = _strings(value)
    return texts[0].strip() if texts else None


def _name(value: Any) -> str | None:
    return _text(value.get("name")) if isinstance(value, dict) else None


def _first(values: dict[str, list[str]], name: str) -> str | None:
    return values.get(name, [None])[0]


def _image(value: Any) -> str | None:
    if isinstance(value, list):
        return next((url for url in map(_image, value) if url), None)
    if isinstance(value, dict):
        return _image(value.get("url") or value.get("contentUrl"))
    return value if isinstance(value, str) and value.strip() else None


def _free(article: dict[str, Any]) -> bool | None:
    """``isAccessibleForFree`` of the article, false too when a part of it is declared not free
    (Google's paywall markup: ``hasPart`` with ``isAccessibleForFree`` false and a
    ``cssSelector`` naming the paywalled element)."""
    parts = article.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict) and _boolean(part.get("isAccessibleForFree")) is False:
            return False
    return _boolean(article.get("isAccessibleForFree"))


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _is_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://", "//", "www."))


def _first_date(*candidates: Any) -> str | None:
    """The first readable ISO 8601 date, made more precise by a later one on the same day.

    A page may give only a day in one place and the time with its offset in another; the day
    comes from the more trusted place, the time from the other when they agree on the day.
    """
    dates = [parsed for parsed in map(parse_date, candidates) if parsed]
    if not dates:
        return None
    chosen = dates[0]
    for other in dates[1:]:
        if other[:10] == chosen[:10] and _precision(other) > _precision(chosen):
            chosen = other
    return chosen


def parse_date(value: Any) -> str | None:
    """An ISO 8601 date or date-time as declared (offset kept), or None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "T", 1)
    if len(text) < 10:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(text) == 10:
        return parsed.date().isoformat()
    return parsed.isoformat()


def _precision(iso: str) -> int:
    """0 for a day, 1 for a time without offset, 2 for a time with its offset."""
    if len(iso) == 10:
        return 0
    return 2 if datetime.fromisoformat(iso).tzinfo else 1

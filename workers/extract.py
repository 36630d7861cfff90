"""Turn a fetched page into an article: decode it, check it is worth it, run trafilatura.

``extract(page)`` returns an ``Article`` with the fields as the page gives them, or a ``Skip``
with the reason the page is not one. Cleaning the fields is ``normalise``'s job. Each field
takes the first source that has a value, the page's own markup before the listing's hints and
trafilatura: the order of trust for every field is in docs/quality.md. The page is parsed once;
extruct (``metadata``), the byline and tag readers and the page-type signals read that tree,
trafilatura extracts the main text from a copy of it, and its metadata is read from the tree
only for the fields the page's own markup leaves empty (``workers.fallback``).
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
import trafilatura.utils
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction
from trafilatura.settings import Document
from w3lib.encoding import html_to_unicode

from workers.body import (
    BODY_FORMATS,
    count_words,
    keep_declared,
    looks_cut,
    main_text,
    plain_text,
    render,
    without_repeats,
)
from workers.bylines import is_publisher, visible_bylines
from workers.canonical import declared_url
from workers.fallback import TrafilaturaFields
from workers.language import article_language
from workers.limits import too_deep
from workers.metadata import PageMetadata, read_metadata
from workers.normalise import clean_authors
from workers.pagetype import judge, read_page_signals
from workers.records import Article, FetchedPage, Reason, Skip
from workers.scripthtml import script_html
from workers.settled import settled_comparison

_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")


def _elements_classed_in_c() -> None:
    """Make trafilatura's HTML parser give every element lxml.html's ``HtmlElement`` class
    through a lookup in C.

    lxml.html picks each element's Python class with a lookup written in Python
    (``HtmlElementClassLookup``), called whenever Python code reaches an element it has not
    reached before: some 6,000 calls a page between trafilatura and the readers here, about 2 ms
    of a page's 40. The classes it picks besides ``HtmlElement`` are for form fields
    (``InputElement.value``...), which neither uses; the extraction is the same on the 1,686
    corpus pages. The parser is trafilatura's module-level one (``load_html`` takes no other),
    so this is skipped where a trafilatura version has none.
    """
    parser = getattr(trafilatura.utils, "HTML_PARSER", None)
    if isinstance(parser, etree.HTMLParser):
        parser.set_element_class_lookup(
            etree.ElementDefaultClassLookup(
                element=HtmlElement,
                comment=HtmlComment,
                pi=HtmlProcessingInstruction,
                entity=HtmlEntity,
            )
        )


_elements_classed_in_c()


def media_type(headers: dict[str, str]) -> str:
    """The media type of a response, lower-cased without parameters ("" when not declared)."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""


def decode_html(page: FetchedPage) -> str:
    """The page's text: UTF-8 when it is valid UTF-8, else as a browser would decode it
    (header charset, BOM, meta tag, then a guess)."""
    if not page.body.isascii():
        # Bytes that decode as UTF-8 are UTF-8 whatever the page declares: text in a legacy
        # encoding (GBK, Windows-1252...) practically never forms valid multi-byte sequences,
        # while pages saved as UTF-8 under a stale "gb2312" meta tag are common.
        try:
            return page.body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
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
    body_format: str = "text",
    max_depth: int = 0,
) -> Article | Skip:
    """The article in ``page``, or the reason there is none.

    ``body_format`` is "text" (plain text, paragraphs a line each), "markdown" or "html"
    (see ``workers.body``); every check reads the plain text whatever the format. A page
    nested deeper than ``max_depth`` levels is refused (``workers.limits``; 0: no limit).
    """
    if body_format not in BODY_FORMATS:
        raise ValueError(f"body format {body_format!r} is none of {', '.join(BODY_FORMATS)}")
    skip = check_page(page, html_types=html_types, max_bytes=max_bytes)
    if skip:
        return skip
    tree = trafilatura.load_html(decode_html(page))
    # Before the parse is judged: a page nested too deep can come out of libxml2 as no tree.
    deep = too_deep(page, max_depth, tree)
    if deep:
        return deep
    if tree is None:
        return _skip(page, Reason.NOT_HTML, "not parseable as HTML")
    declared_language = _declared_language(tree)
    metadata = read_metadata(tree, page.final_url)
    signals = read_page_signals(tree, page.final_url)
    fallback = TrafilaturaFields(tree, page.final_url)
    # On a copy of the tree: ``fallback`` and ``script_html`` read it as parsed.
    extracted = _extraction(tree, page.final_url, body_format)
    document = _document(extracted, metadata, body_format)
    text = main_text(document, metadata.body, min_words)
    if count_words(text) < min_words:
        rendered = script_html(tree)  # a script-rendered page: the text is in its data
        if rendered is not None:
            extracted_from_script = _extraction(
                f"<html><body><article>{rendered}</article></body></html>",
                page.final_url,
                body_format,
            )
            from_script = _document(extracted_from_script, metadata, body_format)
            if count_words(from_script.get("text") or "") > count_words(text):
                extracted, document = extracted_from_script, from_script
                text = main_text(document, metadata.body, min_words)
    if not text.strip():
        return _skip(page, Reason.EMPTY, "no main text found")
    words = count_words(text)
    if words < min_words:
        return _skip(page, Reason.NOT_ARTICLE, f"{words} words of main text < {min_words}")
    paywalled = _paywalled(metadata, text)
    not_article = judge(signals, text, free=False if paywalled else metadata.free)
    if not_article:
        return _skip(page, Reason.NOT_ARTICLE, not_article)
    article = _article(page, tree, fallback, text, declared_language, metadata)
    body = without_repeats(text, article.title, article.authors)
    if body_format != "text" and text is document["text"]:
        body = render(extracted, text, body_format, article.title)
    return article.replace(body=body, paywalled=paywalled)


def _extraction(html: HtmlElement | str, url: str, body_format: str) -> Any:
    """trafilatura's extraction of the main text (a ``Document``, or None), without its
    readability comparison where that cannot change it (``workers.settled``)."""
    with settled_comparison():
        return trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=False,
            include_comments=False,
            include_tables=True,
            include_formatting=body_format != "text",
        )


def _document(extracted: Any, metadata: PageMetadata, body_format: str) -> dict[str, Any]:
    """The extraction as a dict whose ``text`` is plain text, without the blocks that the
    page's ``articleBody`` shows are not the story's (``body.keep_declared``)."""
    if isinstance(extracted, Document) and keep_declared(extracted.body, metadata.body):
        extracted.text = plain_text(extracted)
    document = extracted.as_dict() if isinstance(extracted, Document) else extracted or {}
    if body_format != "text":
        document["text"] = plain_text(extracted)
    return document


def _paywalled(metadata: PageMetadata, text: str) -> bool | None:
    """True when the page declares the article not free or its text visibly stops short;
    False when it declares it free; None when it says nothing either way."""
    if metadata.free is False or looks_cut(text):
        return True
    return False if metadata.free else None


def _article(
    page: FetchedPage,
    tree: HtmlElement,
    fallback: TrafilaturaFields,
    body: str,
    declared_language: str | None,
    metadata: PageMetadata,
) -> Article:
    """The fields merged: the page's metadata first, then the listing's hints, then trafilatura."""
    hints = page.hints
    return Article(
        url=declared_url(tree, page.final_url) or page.final_url,
        fetched_url=page.final_url,
        title=metadata.heading or metadata.headline or hints.get("title") or fallback.title,
        body=body,
        tags=(
            metadata.keywords
            or _as_list(hints.get("tags"))
            or metadata.meta_keywords
            or fallback.tags
        ),
        authors=_authors(page, tree, fallback, metadata),
        published_at=metadata.published_at or hints.get("published_at") or fallback.date,
        updated_at=metadata.modified_at,
        language=article_language(
            [metadata.language, declared_language, hints.get("language")],
            body,
        ),
        description=metadata.description or fallback.description or hints.get("summary"),
        image=metadata.image or fallback.image,
        site_name=metadata.site_name or fallback.site_name,
        categories=metadata.sections or fallback.categories,
        fetched_at=page.fetched_at,
        source=page.source,
    )


def _authors(
    page: FetchedPage, tree: HtmlElement, fallback: TrafilaturaFields, metadata: PageMetadata
) -> list[str]:
    """The people who wrote the article; the publisher only when no person is named.

    In order: the declared persons, trafilatura's author, the visible byline, the listing's
    hint. Each is split into names first ("David Straub, MDR THÜRINGEN" is a writer and the
    newsroom), and a name that is the publisher's own (``bylines.is_publisher``) is set aside
    and used, with the declared organisations, only when nothing else is left. Declared
    persons come with the organisations declared beside them that are not the site itself:
    a news agency credited next to the writer ("Paula Steiger", "SDA") wrote part of it.
    Each source is read only when the ones before it named no person (trafilatura's reading
    walks the tree). Where the page declares authors, trafilatura would give those same
    names, so it is asked only when the page declares none: its guess from the page's layout
    ("Full Bio", "Author Posted by ...") is worth less than the visible byline.
    """
    publishers = [name for name in (metadata.site_name, *metadata.organisations) if name]
    declared = bool(metadata.persons or metadata.organisations)
    set_aside: list[str] = []
    for source, read in enumerate(
        (
            lambda: metadata.persons,
            lambda: [] if declared else _as_list(fallback.author, separator=";"),
            lambda: visible_bylines(tree),
            lambda: _as_list(page.hints.get("authors")),
        )
    ):
        people, own = _people(read(), publishers, page.final_url)
        if people and source == 0:
            return people + _agencies(metadata, page.final_url)
        if people:
            return people
        set_aside += own
    return metadata.organisations or set_aside[:1]


def _people(values: list[str], publishers: list[str], url: str) -> tuple[list[str], list[str]]:
    """The clean names of ``values`` that are people, and those that are the publisher's.

    A value that is one name is judged as written, before cleaning drops what gives the
    publisher away ("Deutsche Welle (www.dw.com)"); one of several names is judged name by
    name ("David Straub, MDR THÜRINGEN" is a writer and the newsroom).
    """
    people: list[str] = []
    own: list[str] = []
    for value in values:
        names = clean_authors([value])
        if len(names) == 1 and is_publisher(value, publishers, url):
            own += names
            continue
        for name in names:
            (own if is_publisher(name, publishers, url) else people).append(name)
    return clean_authors(people), clean_authors(own)


def _agencies(metadata: PageMetadata, url: str) -> list[str]:
    """The declared organisations that are not the site publishing the article."""
    site = [metadata.site_name] if metadata.site_name else []
    return [name for name in metadata.organisations if not is_publisher(name, site, url)]


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

"""The sample site's HTML around the articles: front page, sections, topics, service pages, logo.

Like a real news site, every page shares a header (logo, sections, service links, topics, a
columnist) and a footer (privacy, imprint, feeds, the logo file) and links with root-relative
hrefs. Listing pages show teasers: the headline linking to the article, byline, date, summary.
None of these pages is an article. ``insert_paragraph`` changes an article page as its
publisher would: a new paragraph in its main text.
"""

from __future__ import annotations

import html
import re
import struct
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from lxml import html as lxml_html
from lxml.html import HtmlElement, tostring
from lxml.html.builder import CLASS, E
from w3lib.encoding import html_to_unicode

from spiders.sample_site_listings import SECTIONS, Listing
from spiders.sample_site_xml import FEED_PATHS, FEED_TYPES, SITE_TITLE, w3c

# Path: heading and paragraph. The pages a sitemap of pages lists, as real sites do.
SERVICE_PAGES = {
    "/about": (
        "About us",
        "The newsdesk sample site gathers stories from publishers around the world and serves "
        "them from one local address, so that crawlers can be tried without the internet.",
    ),
    "/contact": (
        "Contact",
        "Tips, corrections and questions reach the newsroom by email or telephone, on weekdays "
        "from nine to five.",
    ),
    "/privacy": (
        "Privacy",
        "This site sets no cookies and keeps no record of visitors beyond a count of requests, "
        "which is forgotten when the site stops.",
    ),
    "/imprint": (
        "Imprint",
        "Published by the newsdesk project. Every story remains the work and the property of "
        "the publisher named in its byline.",
    ),
}
FORM_PAGES = ("/login", "/search", "/search?q=")
LOGO_PATH = "/media/logo.png"
PAGE_SIZE = 8  # teasers per section page
_TOPICS = 6  # tags named in the header
_WORD = re.compile(r"\w+")
_SKIPPED = {"head", "script", "style", "noscript", "template", "textarea", "title"}
_NOT_BODY = {"h1", "h2", "h3", "h4", "h5", "h6", "a", "abbr", "b", "cite", "code", "em", "font"}
_NOT_BODY |= {"i", "mark", "q", "s", "small", "span", "strong", "sub", "sup", "time", "u"}


def slug(name: str) -> str:
    """A URL path segment for a name: its lower-case words joined by hyphens, percent-encoded."""
    words = _WORD.findall(unicodedata.normalize("NFKC", name).casefold())
    return quote("-".join(words), safe="-") or "-"


def section_path(section: str, page: int = 1) -> str:
    """The path of a section's page: ``/section/<slug>/``, then ``?page=<n>`` from page 2."""
    return f"/section/{section}/" + (f"?page={page}" if page > 1 else "")


def tag_path(tag: str) -> str:
    """The path of a topic page."""
    return f"/tag/{slug(tag)}/"


def author_path(name: str) -> str:
    """The path of an author page."""
    return f"/author/{slug(name)}/"


class SitePages:
    """Every HTML page of the site but the articles, built from the article listings."""

    def __init__(self, listings: Sequence[Listing]) -> None:
        # Newest first; sorted() is stable, so copies of a page stay in copy order.
        self.listings = sorted(listings, key=lambda listing: listing.published_at, reverse=True)
        self.sections = {
            section: members
            for section in SECTIONS
            if (members := [item for item in self.listings if item.section == section])
        }
        # most_common() keeps first-seen order among equals: ties go to the newest story.
        tags = Counter(tag for item in self.listings for tag in dict.fromkeys(item.tags))
        topics = {tag_path(tag): tag for tag, _ in tags.most_common()}
        self.topics = list(topics.values())[:_TOPICS]
        authors = Counter(author for item in self.listings for author in item.authors)
        self.columnist = authors.most_common(1)[0][0] if authors else None

    def documents(self) -> dict[str, bytes]:
        """Every page by request path."""
        pages = {"/": self._front_page()}
        for section, members in self.sections.items():
            pages.update(self._section_pages(section, members))
        for tag in self.topics:
            members = [item for item in self.listings if tag in item.tags]
            pages[tag_path(tag)] = self._topic_page(tag, f"Stories about {tag}.", members)
        if self.columnist is not None:
            members = [item for item in self.listings if self.columnist in item.authors]
            intro = f"Stories by {self.columnist}, newest first."
            pages[author_path(self.columnist)] = self._topic_page(self.columnist, intro, members)
        for path, (heading, text) in SERVICE_PAGES.items():
            pages[path] = self._page(heading, E.h1(heading), E.p(text), *_extras(path))
        pages["/login"] = self._login()
        pages["/search"] = pages["/search?q="] = self._search()
        return pages

    def _front_page(self) -> bytes:
        blocks = (
            E.section(
                E.h2(E.a(SECTIONS[section], href=section_path(section))),
                *(_teaser(item) for item in members),
                CLASS("section-block"),
            )
            for section, members in self.sections.items()
        )
        return self._page(SITE_TITLE, E.h1(SITE_TITLE), *blocks)

    def _section_pages(self, section: str, members: list[Listing]) -> dict[str, bytes]:
        chunks = [members[start : start + PAGE_SIZE] for start in range(0, len(members), PAGE_SIZE)]
        name, pages = SECTIONS[section], {}
        for number, chunk in enumerate(chunks, start=1):
            title = name if number == 1 else f"{name}, page {number}"
            content = [E.h1(name), *(_teaser(item) for item in chunk)]
            if len(chunks) > 1:
                content.append(_pagination(section, number, len(chunks)))
            pages[section_path(section, number)] = self._page(title, *content)
        return pages

    def _topic_page(self, heading: str, intro: str, members: list[Listing]) -> bytes:
        teasers = (_teaser(item, kicker=True) for item in members)
        return self._page(heading, E.h1(heading), E.p(intro), *teasers)

    def _login(self) -> bytes:
        form = E.form(
            E.label("Email", E.input(type="email", name="email", autocomplete="username")),
            E.label("Password", E.input(type="password", name="password")),
            E.button("Sign in", type="submit"),
            action="/login",
            method="post",
        )
        intro = E.p("Subscribers sign in to comment and to keep a reading list.")
        return self._page("Sign in", E.h1("Sign in"), intro, form)

    def _search(self) -> bytes:
        form = E.form(
            E.label("Search the archive", E.input(type="search", name="q")),
            E.button("Search", type="submit"),
            action="/search",
            method="get",
            role="search",
        )
        hint = E.p("Search by a word from a headline, a name or a place.")
        return self._page("Search", E.h1("Search"), form, hint)

    def _page(self, title: str, *content: HtmlElement) -> bytes:
        alternates = (
            E.link(
                rel="alternate", type=FEED_TYPES[kind], href=path, title=f"{SITE_TITLE} ({kind})"
            )
            for kind, path in FEED_PATHS.items()
        )
        head = E.head(
            E.meta(charset="utf-8"),
            E.meta(name="viewport", content="width=device-width, initial-scale=1"),
            E.title(title if title == SITE_TITLE else f"{title} | {SITE_TITLE}"),
            *alternates,
            E.link(rel="icon", type="image/png", href=LOGO_PATH),
        )
        body = E.body(self._header(), E.main(*content), _footer())
        page: bytes = tostring(
            E.html(head, body, lang="en"), doctype="<!DOCTYPE html>", encoding="utf-8"
        )
        return page

    def _header(self) -> HtmlElement:
        logo = E.a(E.img(src=LOGO_PATH, alt=SITE_TITLE, width="120", height="32"), href="/")
        sections = (E.li(E.a(SECTIONS[name], href=section_path(name))) for name in self.sections)
        service = [("About us", "/about"), ("Contact", "/contact"), ("Sign in", "/login")]
        service.append(("Search", "/search?q="))
        topics = [E.li(E.a(tag, href=tag_path(tag))) for tag in self.topics]
        if self.columnist is not None:
            link = E.a(f"Columnist: {self.columnist}", href=author_path(self.columnist))
            topics.append(E.li(link, CLASS("columnist")))
        return E.header(
            logo,
            E.nav(E.ul(*sections), CLASS("sections"), **{"aria-label": "Sections"}),
            E.nav(_links(service), CLASS("service"), **{"aria-label": "Service"}),
            E.nav(E.h2("Topics"), E.ul(*topics), CLASS("topics")),
            id="top",
        )


def _footer() -> HtmlElement:
    links = [("Privacy", "/privacy"), ("Imprint", "/imprint"), ("RSS", FEED_PATHS["rss"])]
    links += [("Atom", FEED_PATHS["atom"]), ("Archive search", "/search")]
    links += [("Our logo (PNG)", LOGO_PATH), ("Back to top", "#top")]
    notice = E.p(f"© {SITE_TITLE}. Every story © its publisher.")
    return E.footer(_links(links), notice)


def _links(pairs: Sequence[tuple[str, str]]) -> HtmlElement:
    return E.ul(*(E.li(E.a(text, href=href)) for text, href in pairs))


def _extras(path: str) -> Iterator[HtmlElement]:
    """What a service page has besides its paragraph: the contact page's addresses."""
    if path == "/contact":
        yield _links([("newsroom@example.org", "mailto:newsroom@example.org")])
        yield _links([("+1 555 0100", "tel:+15550100")])


def _teaser(listing: Listing, kicker: bool = False) -> HtmlElement:
    parts = []
    if kicker:
        section_link = E.a(SECTIONS[listing.section], href=section_path(listing.section))
        parts.append(E.p(section_link, CLASS("kicker")))
    parts.append(E.h3(E.a(listing.title, href=listing.path)))
    moment = listing.published_at
    when = E.time(_display_date(moment), datetime=w3c(moment))
    byline = [f"By {', '.join(listing.authors)} · "] if listing.authors else []
    parts += [E.p(*byline, when, CLASS("meta")), E.p(listing.summary, CLASS("summary"))]
    return E.article(*parts, CLASS("teaser"))


def _pagination(section: str, number: int, count: int) -> HtmlElement:
    items: list[Any] = []
    if number > 1:
        items.append(E.li(E.a("Previous", href=section_path(section, number - 1), rel="prev")))
    for other in range(1, count + 1):
        current = E.span(str(other), **{"aria-current": "page"})
        items.append(
            E.li(current if other == number else E.a(str(other), href=section_path(section, other)))
        )
    if number < count:
        items.append(E.li(E.a("Next", href=section_path(section, number + 1), rel="next")))
    return E.nav(E.ul(*items), CLASS("pagination"))


def logo_png(width: int = 120, height: int = 32) -> bytes:
    """The site's logo, a small real PNG (8-bit RGB): a navy bar with an amber block."""

    def row(y: int) -> bytes:
        amber = height // 4 <= y < 3 * height // 4
        pixels = (
            b"\xf5\xb7\x00" if amber and x < height else b"\x1a\x2b\x4c" for x in range(width)
        )
        return b"\x00" + b"".join(pixels)  # filter type 0 (none) before each row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    pixels = zlib.compress(b"".join(row(y) for y in range(height)), 9)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def insert_paragraph(page: bytes, text: str, expected_body: str) -> bytes:
    """The page with a new paragraph of ``text`` in its main text, re-serialised by lxml.

    The main text is the element holding most of the page's paragraphs that are in the
    expected body (``<p>`` elements, or text between ``<br>`` in a ``<div>``); the paragraph
    goes after the first of them. A page without any gets it at the start of ``<body>``.
    """
    encoding, decoded = html_to_unicode(None, page)
    root = lxml_html.document_fromstring(decoded)
    places = list(_body_places(root, _words(expected_body)))
    paragraph = E.p(text)
    if not places:
        body = root.find("body")
        (root if body is None else body).insert(0, paragraph)
    else:
        container, _ = Counter(holder for holder, _ in places).most_common(1)[0]
        after = next(after for holder, after in places if holder is container)
        if after is None:  # the text before the container's first child
            container.insert(0, paragraph)
        elif after.tag == "p":
            paragraph.tail, after.tail = after.tail, None
            after.addnext(paragraph)
        else:  # text after a child such as <br>: the paragraph follows that text
            after.addnext(paragraph)
    tree = root.getroottree()
    changed: bytes = tostring(
        tree, encoding=encoding, doctype=tree.docinfo.doctype, include_meta_content_type=True
    )
    return changed


def _body_places(root: HtmlElement, expected: str) -> Iterator[tuple[HtmlElement, Any]]:
    """(container, what the paragraph follows) for each page paragraph found in ``expected``.

    "What it follows" is the ``<p>`` itself, the child whose tail is the paragraph, or None
    for the container's leading text.
    """
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in _SKIPPED:
            continue
        if any(above.tag in _SKIPPED or above.tag == "p" for above in element.iterancestors()):
            continue
        if element.tag == "p":
            if _is_body_text(element.text_content(), expected):
                yield element.getparent(), element
        elif element.tag not in _NOT_BODY:
            if _is_body_text(element.text, expected):
                yield element, None
            for child in element:
                if _is_body_text(child.tail, expected):
                    yield element, child


def _is_body_text(text: str | None, expected: str) -> bool:
    words = _words(text or "")
    return words.count(" ") >= 4 and words in expected  # five words at least


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _display_date(moment: datetime) -> str:
    """A time as readers see it, in the publisher's zone: 2025-06-05 12:36."""
    return f"{moment:%Y-%m-%d %H:%M}"


def retitle(page: bytes, old_title: str, new_title: str) -> bytes:
    """The page with its headline ``old_title`` replaced by ``new_title`` wherever it appears,
    raw or escaped: ``<title>``, ``<h1>``, ``og:title``, JSON-LD. ``new_title`` must need no
    escaping in HTML or JSON (no quotes, ``&``, ``<``, ``>`` or backslashes)."""
    if any(char in new_title for char in "\"'&<>\\"):
        raise ValueError(f"a headline that would need escaping: {new_title!r}")
    encoding, decoded = html_to_unicode(None, page)
    for old in dict.fromkeys([old_title, html.escape(old_title), html.escape(old_title, False)]):
        decoded = decoded.replace(old, new_title)
    return decoded.encode(encoding, errors="xmlcharrefreplace")

"""Site discovery: the article and section links of a page, the site's feeds and sitemaps.

Pure functions on a page's HTML and URL; the crawl spider decides what to fetch and how deep.
``classify_url`` applies its rules in this order (``docs/discovery.md`` tells them in full):
another site, not an HTML page, a page that is not a story (lists by tag, author or date, account,
legal and service pages, pagination, print/share/AMP variants, media, forums, shops), the URL's
story shape, then the link's context (a headline in a teaser, a short path in a menu).
"""

from __future__ import annotations

import re
from itertools import pairwise
from urllib.parse import parse_qsl, unquote, urldefrag, urljoin, urlsplit

import lxml.html
from courlan import extract_domain, is_not_crawlable, is_valid_url
from lxml import etree
from w3lib.encoding import html_to_unicode
from w3lib.url import safe_url_string

from spiders.sitemap_parsing import sitemaps_from_robots

MIN_SLUG_WORDS = 4  # "how-to-fix-it": 4+ words between - or _ is a headline; sections have 1-3
MIN_ID_DIGITS = 5  # 5+ digits in a row is a story id; 4 would be a year, 1-3 a page or an issue
MIN_CODE_CHARS = 6  # "/articles/clymn8zyrp9o": a story code of 6+ letters and digits
MIN_HEADLINE_WORDS = 4  # anchor text of 4+ words reads as a headline, not as a section's name
MAX_SECTION_WORDS = 3  # anchor text of 1-3 words reads as a section's name ("Sport", "Welt")
MAX_LISTING_SEGMENTS = 2  # "/sport", "/sport/football": deeper paths are not section fronts

# feedparser reads these; JSON Feed (application/feed+json) it does not, so it is left out.
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
WELL_KNOWN_SITEMAPS: tuple[str, ...] = (
    "/sitemap.xml",
    "/sitemap_index.xml",
    "/sitemap-index.xml",
    "/news-sitemap.xml",
    "/sitemap-news.xml",
    "/sitemap_news.xml",
)

# Whole path segments (lower-case, page extension dropped) that mark a page that is no story,
# wherever they stand: lists by tag, author or category, account and search pages, variants,
# media, feeds, forums, shops and documentation. A slug ending "-page" or "-tag" is no match.
_NAVIGATION = frozenset(
    """tag tags topic topics thema themen schlagwort schlagworte stichwort label labels
    author authors autor autoren auteur autore user users profile profil member members
    category categories cat kat kategorie kategorien categoria categorie
    search suche recherche buscar busca cerca zoeken szukaj sok login logout signin sign-in signup
    sign-up register registrieren registrierung anmelden account accounts konto my-account
    mein-konto subscribe subscription subscriptions abo abonnement abonnieren newsletter
    newsletters cart basket checkout warenkorb print drucken share comments comment amp feed
    feeds rss atom video videos gallery galleries galerie bildergalerie fotostrecke fotos photos
    podcast podcasts audio forum forums community thread threads showthread viewtopic questions
    discussion discussions product products shop collections dp itm pdp sku docs documentation wiki
    wp-admin wp-content wp-json wp-login""".split()  # noqa: SIM905 (a word list reads as prose)
)
# A site's own pages, in several languages, when they open or close the path ("/impressum",
# "/about/team", "/legal/privacy"); in the middle ("/business/jobs/...") they name a section.
_SITE_PAGES = frozenset(
    """about about-us contact contact-us contacts imprint impressum privacy privacy-policy
    privacy-notice cookies cookie-policy terms terms-of-use terms-of-service terms-and-conditions
    legal disclaimer accessibility jobs careers advertise advertising help faq sitemap
    kontakt datenschutz datenschutzerklaerung datenschutzerklärung agb nutzungsbedingungen
    ueber-uns über-uns karriere werbung mediadaten hilfe barrierefreiheit mentions-legales
    contactez-nous qui-sommes-nous a-propos confidentialite cgu cgv publicite aviso-legal contacto
    quienes-somos sobre-nosotros privacidad politica-de-privacidad publicidad chi-siamo contatti
    note-legali over-ons colofon voorwaarden om-oss personvern o-nas regulamin
    polityka-prywatnosci contato privacidade""".split()  # noqa: SIM905 (a word list reads as prose)
)
# Lists by date or number: "/archive/2024/05", "/page/3"; but "/archive/63076" is a story.
_NUMBERED_LISTS = frozenset(
    {"archive", "archives", "archiv", "archivio", "archivo", "page", "paged", "seite"}
)
# Segments after which one story's code ("/articles/clymn8zyrp9o") or slug ("/p/my-post") comes.
_ARTICLE_MARKERS = frozenset(
    """a article articles artikel beitrag blog blogs cnt
    p post posts story stories""".split()  # noqa: SIM905 (a word list reads as prose)
)
_INDEX_PAGES = frozenset({"index", "default", "home"})  # "/sport/index.html" is "/sport/"
_PAGINATION_QUERY = frozenset({"page", "p", "pg", "paged", "seite", "pagina", "start", "offset"})
_UTILITY_QUERY = frozenset({"s", "q", "query", "search", "print", "share", "replytocom", "amp"})
_DENIED_HOST_LABELS = frozenset(
    {"amp", "login", "account", "accounts", "auth", "sso", "abo", "shop", "jobs"}
)
_NOT_PAGES = re.compile(
    r"\.(jpe?g|png|gif|webp|avif|svg|ico|bmp|tiff?|mp[34]|m4[av]|mov|avi|webm|ogg|ogv|wav|flac"
    r"|aac|pdf|zip|gz|tgz|rar|7z|exe|dmg|apk|docx?|xlsx?|pptx?|csv|js|mjs|css|woff2?|ttf|eot"
    r"|json|xml|rss|atom|rdf|ics|vcf|txt)$",
    re.IGNORECASE,
)
_PAGE_EXTENSIONS = re.compile(r"\.(html?|shtml|php\d?|aspx?|jsp|cms)$", re.IGNORECASE)
_PAGINATION_SEGMENT = re.compile(r"^(page|seite|pagina|strona|sida)[-_]?\d+$")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATE = re.compile(  # "/2024/05/03/x", "/2024/feb/24/x": a date, then a segment not all digits
    rf"/(19|20)\d\d/(0?[1-9]|1[0-2]|{_MONTHS})(/\d\d?)?/(?=[^/]*[^\d/])",
    re.IGNORECASE,
)
_DATE_PART = re.compile(rf"^(\d{{1,4}}|{_MONTHS})$")  # a year, month, day or number
_STORY_ID = re.compile(rf"\d{{{MIN_ID_DIGITS}}}")
_LANGUAGE = re.compile(r"^[a-z]{2}([-_][a-z]{2})?$")
_WORD_SEPARATORS = re.compile(r"[-_]+")
_WORD = re.compile(r"\w+")  # a word of anchor text: "Africa & Middle East" has three
_KIND_RANK = (None, "article", "listing")  # the kind a URL linked twice keeps: the later here
_NAV_CLASSES = frozenset({"nav", "navbar", "navigation", "menu", "menubar", "mainnav", "topnav"})
_PLACES = {tag: tag for tag in ("nav", "header", "footer", "aside", "article")}
_PLACES |= dict.fromkeys(("h1", "h2", "h3", "h4"), "heading")  # where a link stands
_UTF8_PARSER = lxml.html.HTMLParser(encoding="utf-8")


def classify_url(url: str, site_url: str, anchor_text: str = "", context: str = "") -> str | None:
    """``"article"``, ``"listing"`` (a section front to read for links) or ``None`` (skip it).

    ``context`` names the link's surroundings, space-separated, as ``find_links`` gives them:
    ``nav`` (also a menu by class, id or role), ``header``, ``footer``, ``aside``, ``article``,
    ``heading`` (h1-h4).
    """
    if not is_valid_url(url) or not _same_site(url, site_url):
        return None
    parts = urlsplit(url)
    names = [_PAGE_EXTENSIONS.sub("", unquote(s).lower()) for s in parts.path.split("/") if s]
    if _is_not_a_story(url, names) or _is_variant(parts.query):
        return None
    if _DATE.search(parts.path) or _has_story_name(names) or _is_slugged_page(parts.path, names):
        return "article"
    places = set(context.split())
    words = len(_WORD.findall(anchor_text))
    in_menu = bool(places & {"nav", "header"})
    teaser = bool(places & {"article", "heading"}) and not in_menu
    if teaser and words >= MIN_HEADLINE_WORDS and not (len(names) == 1 and names[0].isalpha()):
        return "article"
    if names and names[-1] in _INDEX_PAGES:
        names = names[:-1]
    depth = len(names) - (1 if names and _LANGUAGE.match(names[0]) else 0)
    if depth <= MAX_LISTING_SEGMENTS and (in_menu or 0 < words <= MAX_SECTION_WORDS or depth == 0):
        return "listing"
    return None


def _same_site(url: str, site_url: str) -> bool:
    """Same registrable domain (courlan), or the same host and port where there is none (an IP).

    A few sub-domains are other services, whatever their domain: ``amp.``, ``login.``, ``shop.``.
    """
    url, site_url = safe_url_string(url), safe_url_string(site_url)  # "münchen.de": IDNA
    if (urlsplit(url).hostname or "").split(".")[0] in _DENIED_HOST_LABELS:
        return False
    domain, site_domain = extract_domain(url), extract_domain(site_url)
    if domain and site_domain:
        return domain == site_domain
    return urlsplit(url).netloc.lower() == urlsplit(site_url).netloc.lower()


def _is_not_a_story(url: str, names: list[str]) -> bool:
    """Whether the path is a file, a feed, a list by tag or date, a site or account page, media."""
    if is_not_crawlable(unquote(url)) or (names and _NOT_PAGES.search(names[-1])):
        return True
    if any(name in _NAVIGATION or _PAGINATION_SEGMENT.match(name) for name in names):
        return True
    outer = names[1:2] if names and _LANGUAGE.match(names[0]) else names[:1]
    if (names and names[-1] in _SITE_PAGES) or (outer and outer[0] in _SITE_PAGES):
        return True
    for i, name in enumerate(names):
        if name in _NUMBERED_LISTS and all(_DATE_PART.match(n) for n in names[i + 1 :]):
            return True
    return bool(names) and names[0].isdigit() and all(_DATE_PART.match(n) for n in names)


def _is_variant(query: str) -> bool:
    """Whether the query asks for a search, a page of a list, or a print, share or AMP copy."""
    for key, value in parse_qsl(query, keep_blank_values=True):
        key, value = key.lower(), value.lower()
        if key in _UTILITY_QUERY or value in {"amp", "print"}:
            return True
        if key in _PAGINATION_QUERY and value.isdigit():
            return True
    return False


def _has_story_name(names: list[str]) -> bool:
    """Whether the path ends with a long slug or a story id, or has a story after a marker."""
    while len(names) > 2 and _DATE_PART.match(names[-1]) and _DATE_PART.match(names[-2]):
        names = names[:-1]  # "/my-long-slug/2024/12": a date may close the story's path
    for name in names[-2:]:
        if _words(name) >= MIN_SLUG_WORDS or _STORY_ID.search(name):
            return True
    for marker, name in pairwise(names):
        coded = len(name) >= MIN_CODE_CHARS and any(c.isdigit() for c in name)
        if marker in _ARTICLE_MARKERS and (coded or _words(name) >= 2):
            return True
    return False


def _is_slugged_page(path: str, names: list[str]) -> bool:
    """Whether the path is a ``.html`` (or similar) page below the root, named by a slug."""
    return len(names) >= 2 and _words(names[-1]) >= 2 and bool(_PAGE_EXTENSIONS.search(path))


def _words(name: str) -> int:
    """The number of words of a slug: its parts between hyphens and underscores."""
    return len([word for word in _WORD_SEPARATORS.split(name) if word])


def find_links(html: bytes | str, page_url: str, site_url: str) -> list[tuple[str, str]]:
    """The page's article and section links, ``(url, kind)``, in document order, each once.

    Links resolve against ``<base href>`` or the page's URL, without their fragment; links to the
    page itself are left out. Of a URL linked more than once, a link that makes it a listing (a
    short path in a menu) outweighs one that makes it an article (a headline in a teaser); a URL
    shaped like a story is an article wherever it is linked.
    """
    document = _parse(html)
    if document is None:
        return []
    base = _base_url(document, page_url)
    page = urldefrag(page_url)[0]
    kinds: dict[str, str | None] = {}
    for anchor in document.iter("a"):
        url = _absolute(base, anchor.get("href"))
        if url is None or url == page or kinds.get(url) == "listing":
            continue
        kind = classify_url(url, site_url, anchor.text_content(), _context(anchor))
        kinds[url] = max(kind, kinds.get(url), key=_KIND_RANK.index)
    return [(url, kind) for url, kind in kinds.items() if kind is not None]


def _parse(html: bytes | str) -> lxml.html.HtmlElement | None:
    """The parsed document, or ``None`` for an empty page.

    Bytes are decoded as browsers do (w3lib: BOM, then ``<meta charset>``, then UTF-8 or
    windows-1252); text goes to lxml as UTF-8, which also takes an XML declaration in its stride.
    """
    text = html if isinstance(html, str) else html_to_unicode(None, html)[1]
    try:
        return lxml.html.document_fromstring(text.encode("utf-8"), parser=_UTF8_PARSER)
    except etree.ParserError:  # "Document is empty"
        return None


def _absolute(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base``, percent-encoded as Scrapy requests it (w3lib), without
    its fragment; ``None`` if empty or malformed."""
    href = (href or "").strip()
    try:
        return safe_url_string(urldefrag(urljoin(base, href))[0]) if href else None
    except ValueError:  # "http://[oops": an unclosed IPv6 bracket
        return None


def _base_url(document: lxml.html.HtmlElement, page_url: str) -> str:
    """The URL that relative links resolve against: ``<base href>`` if any, else the page's."""
    for base in document.iter("base"):
        url = _absolute(page_url, base.get("href"))
        if url:
            return url
    return page_url


def _context(anchor: lxml.html.HtmlElement) -> str:
    """The names of the anchor's surroundings: nav, header, footer, aside, article, heading."""
    places = set()
    for element in anchor.iterancestors():
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in _PLACES:
            places.add(_PLACES[tag])
        marks = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if element.get("role") == "navigation" or _NAV_CLASSES & set(re.split(r"[\s_-]+", marks)):
            places.add("nav")
    return " ".join(sorted(places))


def find_feeds(html: bytes | str, page_url: str) -> list[str]:
    """The RSS 2.0, RSS 1.0 (RDF) and Atom feeds the page announces, absolute, each once.

    These are ``<link rel="alternate">`` elements with a ``FEED_TYPES`` type. JSON Feed is left
    out: feedparser, which reads the feeds, does not read it.
    """
    document = _parse(html)
    if document is None:
        return []
    base = _base_url(document, page_url)
    feeds: list[str] = []
    for link in document.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        url = _absolute(base, link.get("href"))
        if "alternate" in rels and kind in FEED_TYPES and url and url not in feeds:
            feeds.append(url)
    return feeds


def well_known_sitemap_urls(site_url: str) -> list[str]:
    """The ``WELL_KNOWN_SITEMAPS`` paths on the site: where to look when robots.txt names none."""
    parts = urlsplit(site_url)
    return [f"{parts.scheme}://{parts.netloc}{path}" for path in WELL_KNOWN_SITEMAPS]


def sitemap_urls(robots_txt: str | None, site_url: str) -> list[str]:
    """The sitemaps robots.txt names (read by protego), else the well-known paths on the site."""
    named = sitemaps_from_robots(robots_txt, site_url) if robots_txt else []
    return named or well_known_sitemap_urls(site_url)

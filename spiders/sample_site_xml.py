"""The sample site's XML documents: RSS 2.0, RSS 1.0 and Atom feeds, and sitemaps.

``feed_documents`` and ``sitemap_documents`` give every feed and sitemap of the site by path.
Sitemaps follow sitemaps.org (``urlset``, ``sitemapindex``); the news sitemap adds Google's
``news`` namespace. lxml escapes the text and rejects what XML cannot hold.

    /sitemap.xml               every article (the site's first sitemap, kept for old clients)
    /sitemap_index.xml         an index of:
      /sitemap-news.xml          the newest half of the articles, with news:news
      /sitemap-articles.xml.gz   every article, a gzip file
      /sitemap-archive.xml       another index, of:
        /sitemap-pages.xml         the service pages (about, contact...)
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree
from lxml.builder import E, ElementMaker

from spiders.sample_site_listings import Listing
from spiders.sample_site_server import SiteDocument

FEED_PATHS = {"rss": "/feed.xml", "rss1": "/feed.rdf", "atom": "/atom.xml"}
FEED_TYPES = {
    "rss": "application/rss+xml",
    "rss1": "application/rdf+xml",
    "atom": "application/atom+xml",
}
SITEMAP_PATHS = {
    "plain": "/sitemap.xml",
    "index": "/sitemap_index.xml",
    "news": "/sitemap-news.xml",
    "articles": "/sitemap-articles.xml.gz",
    "archive": "/sitemap-archive.xml",
    "pages": "/sitemap-pages.xml",
}
SERVICE_PAGES_UPDATED = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)  # the lastmod of about, contact...
SITE_TITLE = "newsdesk sample site"
SITE_DESCRIPTION = "Stored news pages served from a local site"
_RDF_NS, _RSS1_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://purl.org/rss/1.0/"
_DC_NS, _ATOM_NS = "http://purl.org/dc/elements/1.1/", "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_RDF = ElementMaker(namespace=_RDF_NS, nsmap={"rdf": _RDF_NS, None: _RSS1_NS, "dc": _DC_NS})
_RSS1, _DC = ElementMaker(namespace=_RSS1_NS), ElementMaker(namespace=_DC_NS)
_ATOM = ElementMaker(namespace=_ATOM_NS, nsmap={None: _ATOM_NS})
_SITEMAP = ElementMaker(namespace=SITEMAP_NS, nsmap={None: SITEMAP_NS})
_NEWS_SITEMAP = ElementMaker(namespace=SITEMAP_NS, nsmap={None: SITEMAP_NS, "news": NEWS_NS})
_NEWS = ElementMaker(namespace=NEWS_NS)


def feed_documents(base_url: str, listings: Sequence[Listing]) -> dict[str, SiteDocument]:
    """The three feeds by path, each of every listing, dated by the newest change."""
    newest = max(item.modified_at for item in listings)
    bodies = {
        "rss": rss2(base_url, listings, newest),
        "rss1": rss1(base_url, base_url + FEED_PATHS["rss1"], listings),
        "atom": atom(base_url, base_url + FEED_PATHS["atom"], listings, newest),
    }
    return {
        FEED_PATHS[kind]: SiteDocument(body, FEED_TYPES[kind], newest)
        for kind, body in bodies.items()
    }


def sitemap_documents(
    base_url: str, listings: Sequence[Listing], service_paths: Iterable[str]
) -> dict[str, SiteDocument]:
    """The sitemaps by path (see the module's docstring), each with its newest lastmod."""
    url = {name: base_url + path for name, path in SITEMAP_PATHS.items()}
    articles = [(base_url + item.path, item.modified_at) for item in listings]
    newest = max(moment for _, moment in articles)
    news = sorted(listings, key=lambda item: item.published_at, reverse=True)
    news = news[: (len(news) + 1) // 2]
    news_newest = max(item.modified_at for item in news)
    pages_updated = SERVICE_PAGES_UPDATED
    service_pages = [(base_url + path, pages_updated) for path in service_paths]
    children = [(url["news"], news_newest), (url["articles"], newest)]
    children.append((url["archive"], pages_updated))
    documents = {
        "plain": (urlset(articles), newest),
        "index": (sitemap_index(children), newest),
        "news": (news_urlset(base_url, news), news_newest),
        "archive": (sitemap_index([(url["pages"], pages_updated)]), pages_updated),
        "pages": (urlset(service_pages), pages_updated),
    }
    served = {
        SITEMAP_PATHS[name]: SiteDocument(body, "application/xml", moment)
        for name, (body, moment) in documents.items()
    }
    # Served as a gzip file, as sites do, not with Content-Encoding: the client unpacks it.
    gzipped = gzip.compress(urlset(articles), mtime=0)
    served[SITEMAP_PATHS["articles"]] = SiteDocument(gzipped, "application/x-gzip", newest)
    return served


def rss2(base_url: str, listings: Sequence[Listing], built_at: datetime) -> bytes:
    """An RSS 2.0 feed of the listings; ``lastBuildDate`` is when the site last changed."""
    items = (
        E.item(
            E.title(listing.title),
            E.link(base_url + listing.path),
            E.guid(base_url + listing.path, isPermaLink="true"),
            E.pubDate(format_datetime(listing.published_at)),
        )
        for listing in listings
    )
    channel = E.channel(
        E.title(SITE_TITLE),
        E.link(base_url + "/"),
        E.description(SITE_DESCRIPTION),
        E.lastBuildDate(format_datetime(built_at)),
        *items,
    )
    return _xml(E.rss(channel, version="2.0"))


def rss1(base_url: str, feed_url: str, listings: Sequence[Listing]) -> bytes:
    """An RSS 1.0 (RDF) feed of the listings, dated by publication."""
    about, resource = f"{{{_RDF_NS}}}about", f"{{{_RDF_NS}}}resource"
    urls = [base_url + listing.path for listing in listings]
    sequence = _RDF.Seq(*(_RDF.li({resource: url}) for url in urls))
    channel = _RSS1.channel(
        {about: feed_url},
        _RSS1.title(SITE_TITLE),
        _RSS1.link(base_url + "/"),
        _RSS1.description(SITE_DESCRIPTION),
        _RSS1.items(sequence),
    )
    items = (
        _RSS1.item(
            {about: url},
            _RSS1.title(listing.title),
            _RSS1.link(url),
            _DC.date(w3c(listing.published_at)),
        )
        for url, listing in zip(urls, listings, strict=True)
    )
    return _xml(_RDF.RDF(channel, *items))


def atom(base_url: str, feed_url: str, listings: Sequence[Listing], updated: datetime) -> bytes:
    """An Atom 1.0 feed of the listings; each entry's ``updated`` moves when its page changes."""
    entries = (
        _ATOM.entry(
            _ATOM.title(listing.title),
            _ATOM.link(rel="alternate", href=base_url + listing.path),
            _ATOM.id(base_url + listing.path),
            _ATOM.published(w3c(listing.published_at)),
            _ATOM.updated(w3c(listing.modified_at)),
        )
        for listing in listings
    )
    feed = _ATOM.feed(
        _ATOM.title(SITE_TITLE),
        _ATOM.id(base_url + "/"),
        _ATOM.updated(w3c(updated)),
        _ATOM.author(_ATOM.name(SITE_TITLE)),
        _ATOM.link(rel="self", href=feed_url),
        _ATOM.link(rel="alternate", href=base_url + "/"),
        *entries,
    )
    return _xml(feed)


def urlset(urls: Iterable[tuple[str, datetime]]) -> bytes:
    """A sitemap ``urlset`` of (absolute URL, last modification) pairs."""
    elements = (
        _SITEMAP.url(_SITEMAP.loc(url), _SITEMAP.lastmod(w3c(moment))) for url, moment in urls
    )
    return _xml(_SITEMAP.urlset(*elements))


def sitemap_index(sitemaps: Iterable[tuple[str, datetime]]) -> bytes:
    """A ``sitemapindex`` of (absolute sitemap URL, newest lastmod in it) pairs."""
    elements = (
        _SITEMAP.sitemap(_SITEMAP.loc(url), _SITEMAP.lastmod(w3c(moment)))
        for url, moment in sitemaps
    )
    return _xml(_SITEMAP.sitemapindex(*elements))


def news_urlset(base_url: str, listings: Iterable[Listing]) -> bytes:
    """A Google News sitemap: each URL with its lastmod and ``news:news``.

    ``news:news`` holds the publication (the publisher's name and the page's language), the
    publication date, the title and, when the page has tags, ``news:keywords``.
    """
    elements = []
    for listing in listings:
        news = _NEWS.news(
            _NEWS.publication(_NEWS.name(listing.publisher), _NEWS.language(listing.language)),
            _NEWS.publication_date(w3c(listing.published_at)),
            _NEWS.title(listing.title),
        )
        if listing.tags:
            news.append(_NEWS.keywords(", ".join(listing.tags)))
        loc = _NEWS_SITEMAP.loc(base_url + listing.path)
        elements.append(
            _NEWS_SITEMAP.url(loc, _NEWS_SITEMAP.lastmod(w3c(listing.modified_at)), news)
        )
    return _xml(_NEWS_SITEMAP.urlset(*elements))


def w3c(moment: datetime) -> str:
    """A time in W3C date-time form (ISO 8601 with offset, to the second)."""
    return moment.isoformat(timespec="seconds")


def _xml(root: etree._Element) -> bytes:
    """Serialise an element tree; lxml escapes text and rejects characters XML cannot hold."""
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="utf-8", pretty_print=True
    )
    return document

"""Is this page an article? Front pages, listings, tag and author pages, shops, forums, video
pages and paywall teasers are not.

Two steps, because trafilatura prunes the tree it is given:

1. ``read_page_signals(tree, url)``, before trafilatura runs, reads what the markup says: the
   schema.org types declared in JSON-LD and microdata, ``og:type``, the shape of the page's own
   URL (``spiders.discovery.classify_url``) and the structure of the main area (link density,
   repeated teaser blocks, ``<h1>`` headings).
2. ``judge(signals, body, dated=...)``, after trafilatura, adds what its main text looks like
   and returns ``None`` for an article, or the reason the page is not one.

``judge`` applies two rules (paywall teaser, video page), then a scoring table (``WEIGHTS``):
evidence of an article (declared article type, og:type article, a story-shaped URL) counts
against evidence of a list, a shop or a forum (declared types, og:type, a front-page URL, teaser
blocks, link density, short lines, little prose). The reason names every signal that counted
and its points ("listing (score 5): 34 teaser blocks +1, link density 0.62 +2, ...").
Structural signals are weak one by one, so only several together outweigh a story's URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from spiders.discovery import classify_url
from workers.body import count_words

# schema.org types of one article (CreativeWork kin). Unlike ``metadata.ARTICLE_TYPES``,
# VideoObject is not one here: a page whose main thing is a video is a video page.
ARTICLE_TYPES = frozenset(
    {
        "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle",
        "OpinionNewsArticle", "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle",
        "SatiricalArticle", "BlogPosting", "LiveBlogPosting", "Report", "TechArticle",
        "ScholarlyArticle", "AdvertiserContentArticle", "Review", "Recipe", "HowTo",
    }
)  # fmt: skip
# schema.org types of a page that is not one article: a list, a shop, a forum, a profile.
# WebSite and WebPage are left out: nearly every page, articles too, declares them.
NOT_ARTICLE_TYPES = frozenset(
    {
        "CollectionPage", "ItemList", "SearchResultsPage", "Product", "ProductGroup", "Offer",
        "AggregateOffer", "QAPage", "DiscussionForumPosting", "ProfilePage", "FAQPage",
        "Question", "SoftwareApplication", "Course", "Event", "JobPosting", "Service",
        "LocalBusiness", "Store",
    }
)  # fmt: skip
# og:type values of an article ("article", also "blog", "news") and of other pages.
OG_ARTICLE = frozenset({"article", "blog", "news", "newsarticle"})
OG_NOT_ARTICLE_PREFIXES = ("website", "product", "profile", "video", "music", "book", "place")

# Main-text and structure thresholds.
SHORT_LINE_WORDS = 12  # a line of at most 12 words is a teaser, a menu item or a caption
SHORT_LINES = 0.6  # 60%+ short lines: trafilatura's text is a list, not prose
PROSE_WORDS = 300  # words in lines longer than SHORT_LINE_WORDS; an article has 300 or more
TEASER_WORDS = 150  # under 150 words of main text: room for a teaser or a caption, not a story
TEASERS = 4  # 4+ <article> blocks or linked h2/h3 headings in the main area
LINK_DENSITY = 0.3  # 30%+ of the main area's words are link text...
HIGH_LINK_DENSITY = 0.5  # ...50%+: a list of links, counted twice

# The scoring table: points towards "not an article", points against it, and the bar. The
# weights were chosen on the shared corpora (wcxb-dev's page types, news-fixtures), keeping the
# articles rejected under 2%: declared types and the URL's story shape are the strongest
# evidence; each structural signal alone is weak (a long "related" box, a glossary, a recipe
# with short lines), so it takes three points of them to reject a page with no article evidence.
# A declared publication date was measured and left out: once the types and og:type are
# counted it told nothing more, and trafilatura finds some date on nearly every page.
WEIGHTS = {
    "declared article": -2,  # JSON-LD/microdata ARTICLE_TYPES
    "og:type article": -1,
    "story-shaped URL": -2,  # classify_url(url, site) == "article"
    "declared non-article": 2,  # NOT_ARTICLE_TYPES and no article type
    "og:type not article": 1,  # website, product, profile, video...
    "front-page URL": 1,  # classify_url(url, site) == "listing"
    "teaser blocks": 1,  # TEASERS or more
    "link density": 1,  # LINK_DENSITY or more; HIGH_LINK_DENSITY counts it twice
    "short lines": 1,  # SHORT_LINES or more of trafilatura's lines are short
    "little prose": 2,  # under PROSE_WORDS words in long lines
}
NOT_ARTICLE_SCORE = 3  # a page scoring 3 or more is not an article

_WORD = re.compile(r"\w+")
_SCHEMA_PREFIX = re.compile(r"^(https?://schema\.org/|schema:)")
_OUTSIDE_MAIN = "ancestor::nav or ancestor::header or ancestor::footer or ancestor::aside"


@dataclass(frozen=True)
class PageSignals:
    """What the markup says about the kind of page, read before trafilatura prunes the tree."""

    types: frozenset[str] = field(default_factory=frozenset)  # schema.org, JSON-LD + microdata
    og_type: str = ""  # lower-case, "" when not declared
    url_kind: str | None = None  # classify_url of the page's own URL: article, listing or None
    teasers: int = 0  # repeated teaser blocks in the main area
    link_density: float = 0.0  # share of the main area's words that are link text
    headings: int = 0  # <h1> elements


def read_page_signals(tree: HtmlElement, url: str) -> PageSignals:
    """The signals of the parsed page ``tree`` found at ``url`` (call before trafilatura)."""
    main = _main_area(tree)
    parts = urlsplit(url)
    site = f"{parts.scheme}://{parts.netloc}/" if parts.netloc else ""
    og = tree.xpath("//meta[@property='og:type' or @name='og:type']/@content")
    return PageSignals(
        types=frozenset(_declared_types(tree)),
        og_type=str(og[0]).strip().lower() if og else "",
        url_kind=classify_url(url, site) if site else None,
        teasers=_teasers(main),
        link_density=_link_density(main),
        headings=len(tree.xpath("//h1")),
    )


def judge(signals: PageSignals, body: str, *, free: bool | None = None) -> str | None:
    """``None`` when the page is an article, else the reason it is not, its signals named.

    Two rules come first, then the scoring table (``WEIGHTS``): a paywall teaser (declared
    not free, with under ``TEASER_WORDS`` words of text) and a video page (og:type video.*,
    as short) are no articles whatever else the page says.
    """
    words = count_words(body)
    if free is False and words < TEASER_WORDS:
        return f"paywall teaser: not free (declared, or the text is cut), {words} words"
    if signals.og_type.startswith("video") and words < TEASER_WORDS:
        return f"video page: og:type {signals.og_type}, {words} words of main text"
    found = _evidence(signals, body)
    score = sum(WEIGHTS[name] * times for name, (times, _) in found.items())
    if score < NOT_ARTICLE_SCORE:
        return None
    kind = "listing" if signals.teasers >= TEASERS or signals.link_density >= LINK_DENSITY else ""
    declared = sorted(signals.types & NOT_ARTICLE_TYPES)
    kind = f"declared {'/'.join(declared)}" if declared else kind or "not an article"
    said = ", ".join(
        f"{shown} {WEIGHTS[name] * times:+d}" for name, (times, shown) in found.items()
    )
    return f"{kind} (score {score}): {said}"


def _evidence(signals: PageSignals, body: str) -> dict[str, tuple[int, str]]:
    """The ``WEIGHTS`` entries that apply: name -> (times counted, how the reason shows it)."""
    lengths = [count_words(line) for line in body.splitlines() if line.strip()]
    prose = sum(length for length in lengths if length > SHORT_LINE_WORDS)
    short = sum(length <= SHORT_LINE_WORDS for length in lengths) / len(lengths) if lengths else 1
    declared_article = signals.types & ARTICLE_TYPES
    checks = {
        "declared article": (
            bool(declared_article),
            f"declared {'/'.join(sorted(declared_article))}",
        ),
        "og:type article": (signals.og_type in OG_ARTICLE, f"og:type {signals.og_type}"),
        "story-shaped URL": (signals.url_kind == "article", "story-shaped URL"),
        "declared non-article": (
            bool(signals.types & NOT_ARTICLE_TYPES) and not declared_article,
            f"declared {'/'.join(sorted(signals.types & NOT_ARTICLE_TYPES))}",
        ),
        "og:type not article": (
            signals.og_type.startswith(OG_NOT_ARTICLE_PREFIXES),
            f"og:type {signals.og_type}",
        ),
        "front-page URL": (signals.url_kind == "listing", "front-page URL"),
        "teaser blocks": (signals.teasers >= TEASERS, f"{signals.teasers} teaser blocks"),
        "link density": (
            signals.link_density >= LINK_DENSITY,
            f"link density {signals.link_density:.2f}",
        ),
        "short lines": (short >= SHORT_LINES, f"{short:.0%} short lines"),
        "little prose": (prose < PROSE_WORDS, f"{prose} words of prose"),
    }
    found = {name: (1, shown) for name, (applies, shown) in checks.items() if applies}
    if signals.link_density >= HIGH_LINK_DENSITY:
        found["link density"] = (2, found["link density"][1])
    return found


def _declared_types(tree: HtmlElement) -> Iterator[str]:
    """The schema.org type names of the page's JSON-LD nodes and microdata items."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for node in _nodes(data):
            declared = node.get("@type")
            for name in declared if isinstance(declared, list) else [declared]:
                if isinstance(name, str):
                    yield _SCHEMA_PREFIX.sub("", name)
    for itemtype in tree.xpath("//*[@itemtype]/@itemtype"):
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


def _teasers(main: HtmlElement) -> int:
    """Repeated teaser blocks: ``<article>`` elements, or h2/h3 headings that are links."""
    articles = len(main.xpath(f".//article[not({_OUTSIDE_MAIN})]"))
    linked = len(
        main.xpath(f".//*[self::h2 or self::h3][(.//a or ancestor::a) and not({_OUTSIDE_MAIN})]")
    )
    return max(articles, linked)


def _link_density(main: HtmlElement) -> float:
    """The share of the main area's words (outside nav, header, footer, aside) in links."""
    outside = f"{_OUTSIDE_MAIN} or ancestor::script or ancestor::style"
    total = sum(len(_WORD.findall(text)) for text in main.xpath(f".//text()[not({outside})]"))
    links = main.xpath(f".//a[not({_OUTSIDE_MAIN} or ancestor::a)]")
    linked = sum(len(_WORD.findall(link.text_content())) for link in links)
    return min(linked / total, 1.0) if total else 0.0

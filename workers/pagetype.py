"""Is this page an article? Front pages, listings, tag and author pages, shops, forums, service
pages, manuals, video pages and paywall teasers are not.

Two steps, because trafilatura prunes the tree it is given:

1. ``read_page_signals(tree, url)`` (``workers.pagesignals``), before trafilatura runs, reads
   what the markup says: declared schema.org types, ``og:type``, the URL's shape and the make-up
   of the main area (teasers, link density, paragraphs, forms, prices, code, comments...).
2. ``judge(signals, body, free=...)``, after trafilatura, adds the shape of its main text and
   returns ``None`` for an article, or the reason the page is not one.

``judge`` applies two rules first (a paywall teaser, a video page), then a logistic model: each
of ``features(signals, body)`` is standardised and weighed, and a page whose score reaches the
model's threshold is not an article. The weights, the scaling and the threshold are in
``workers.pagetype_model``, fitted offline by ``benchmarks/pagetype_fit.py`` (scikit-learn,
cross-validated by site; docs/quality.md tells how to refit); here the score is a plain sum.
The reason names the kind of page and the features that pushed the score up the most
("listing (score 4.2): link density 0.92 +1.6, non-story path +1.0, ...").
"""

from __future__ import annotations

import math
import re
from statistics import fmean

from workers import pagetype_model
from workers.body import count_words
from workers.pagesignals import PageSignals, read_page_signals

__all__ = ["PageSignals", "features", "judge", "read_page_signals", "rule_reason", "score"]

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
# schema.org types of pages that are not one article, by kind. WebSite, WebPage and FAQPage are
# left out: articles declare them as often as other pages do.
LIST_TYPES = frozenset({"CollectionPage", "ItemList", "SearchResultsPage"})
SHOP_TYPES = frozenset(
    {"Product", "ProductGroup", "ProductModel", "IndividualProduct", "Offer", "AggregateOffer",
     "ItemPage"}
)  # fmt: skip
FORUM_TYPES = frozenset({"QAPage", "DiscussionForumPosting", "Comment", "SocialMediaPosting"})
OTHER_TYPES = frozenset(
    {
        "ProfilePage", "AboutPage", "ContactPage", "SoftwareApplication", "WebApplication",
        "SoftwareSourceCode", "APIReference", "Course", "Event", "JobPosting", "Service",
        "LocalBusiness", "Store",
    }
)  # fmt: skip
# og:type values of an article ("article", also "blog", "news") and of a shop's product.
OG_ARTICLE = frozenset({"article", "blog", "news", "newsarticle"})
OG_PRODUCT = "product"  # "product", "product.item", "product.group"
# First labels of a host that serves a manual, a forum, a shop or help pages, not stories.
SERVICE_HOSTS = frozenset(
    """docs doc developer developers learn wiki help support kb forum forums community discuss
    discourse answers shop store""".split()  # noqa: SIM905 (a word list reads as prose)
)

SHORT_LINE_WORDS = 12  # a line of at most 12 words is a teaser, a menu item or a caption
LONG_LINE_WORDS = 40  # a line of 40+ words is a paragraph of prose
TEASER_WORDS = 150  # under 150 words of main text: room for a teaser or a caption, not a story
REASON_SIGNALS = 4  # the reason names the four features that raised the score the most
# The kind of page that a feature raising the score points to, for the reason.
KINDS = {
    "declared list type": "listing", "front-page URL": "listing", "teaser blocks": "listing",
    "repeated link blocks": "listing", "link density": "listing",
    "declared shop type": "shop", "og:type product": "shop", "prices": "shop", "cart": "shop",
    "declared forum type": "forum", "comments": "forum", "avatars": "forum",
    "code blocks": "manual", "inline code": "manual", "anchored headings": "manual",
}  # fmt: skip

_SENTENCE_END = re.compile(r"[.!?。！？…:;\"”»)]\s*$")


def judge(signals: PageSignals, body: str, *, free: bool | None = None) -> str | None:
    """``None`` when the page is an article, else the reason it is not, its signals named.

    Two rules come first: a paywall teaser (declared not free, under ``TEASER_WORDS`` words of
    text) and a video page (og:type video.*, as short) are no articles whatever else the page
    says. Then the model: a score of at least its threshold is no article.
    """
    ruled = rule_reason(signals, body, free=free)
    if ruled:
        return ruled
    total, parts = score(signals, body)
    if total < pagetype_model.THRESHOLD:
        return None
    raising = _raising(parts)[:REASON_SIGNALS]
    kind = next((KINDS[name] for _, name, _ in raising if name in KINDS), "not an article")
    declared = sorted(signals.types & (LIST_TYPES | SHOP_TYPES | FORUM_TYPES | OTHER_TYPES))
    if declared and not signals.types & ARTICLE_TYPES:
        kind = f"declared {'/'.join(declared)}"
    said = ", ".join(f"{shown} {part:+.1f}" for part, _, shown in raising)
    return f"{kind} (score {total:.1f}): {said}"


def rule_reason(signals: PageSignals, body: str, *, free: bool | None = None) -> str | None:
    """The reason when one of the two rules makes the page no article, else ``None``."""
    words = count_words(body)
    if free is False and words < TEASER_WORDS:
        return f"paywall teaser: not free (declared, or the text is cut), {words} words"
    if signals.og_type.startswith("video") and words < TEASER_WORDS:
        return f"video page: og:type {signals.og_type}, {words} words of main text"
    return None


def score(signals: PageSignals, body: str) -> tuple[float, list[tuple[float, str, str]]]:
    """The model's score (log-odds that the page is no article) and each feature's part of it,
    ``(part, name, shown)``: its weight times its value's distance from the fitted mean."""
    found = features(signals, body)
    parts = [
        (weight * (found[name][0] - mean) / scale, name, found[name][1])
        for name, mean, scale, weight in pagetype_model.FEATURES
    ]
    return pagetype_model.INTERCEPT + sum(part for part, _, _ in parts), parts


def _raising(parts: list[tuple[float, str, str]]) -> list[tuple[float, str, str]]:
    """The parts that raise the score, largest first; parts shown alike are summed ("og:type
    product" both is a product's og:type and is not an article's)."""
    summed: dict[str, float] = {}
    named: dict[str, tuple[float, str]] = {}  # shown -> the largest part and its name
    for part, name, shown in parts:
        summed[shown] = summed.get(shown, 0.0) + part
        named[shown] = max(named.get(shown, (part, name)), (part, name))
    found = [(total, named[shown][1], shown) for shown, total in summed.items() if total > 0]
    return sorted(found, reverse=True)


def features(signals: PageSignals, body: str) -> dict[str, tuple[float, str]]:
    """The model's features of a page: name -> (the value the model reads, how a reason shows
    it). Counts are read as ``log(1 + n)``: the tenth teaser tells less than the second."""
    return {
        **_declared_features(signals),
        **_markup_features(signals),
        **_text_features(signals, body),
    }


def _declared_features(signals: PageSignals) -> dict[str, tuple[float, str]]:
    """What the page declares about itself: schema.org types, og:type, its URL's shape."""
    og = f"og:type {signals.og_type or 'not declared'}"
    url_kind = signals.url_kind
    service_host = signals.host_label in SERVICE_HOSTS
    return {
        "declared article type": _types(signals.types, ARTICLE_TYPES, "article"),
        "declared list type": _types(signals.types, LIST_TYPES, "list"),
        "declared shop type": _types(signals.types, SHOP_TYPES, "shop"),
        "declared forum type": _types(signals.types, FORUM_TYPES, "forum"),
        "declared other type": _types(signals.types, OTHER_TYPES, "other non-article"),
        "og:type article": (float(signals.og_type in OG_ARTICLE), og),
        "og:type website": (float(signals.og_type == "website"), og),
        "og:type product": (float(signals.og_type.startswith(OG_PRODUCT)), og),
        "og:type other": (
            float(
                bool(signals.og_type)
                and signals.og_type not in OG_ARTICLE
                and signals.og_type != "website"
                and not signals.og_type.startswith(OG_PRODUCT)
            ),
            og,
        ),
        "story-shaped URL": _flag(
            url_kind == "article", "story-shaped URL", "URL not story-shaped"
        ),
        "front-page URL": _flag(url_kind == "listing", "front-page URL", "no front-page URL"),
        "non-story path": _flag(not signals.story_path, "non-story path", "story path"),
        "service host": _flag(service_host, f"{signals.host_label}.* host", "no service host"),
        "heading words": _words(signals.heading_words, "words in the <h1>"),
        "title words": _words(signals.title_words, "words in the title"),
        "slug words": (min(signals.slug_words, 12), f"{signals.slug_words} words in the URL slug"),
    }


def _markup_features(signals: PageSignals) -> dict[str, tuple[float, str]]:
    """The make-up of the page: teasers, links, paragraphs, forms, prices, code, comments."""
    s = signals
    long_share = s.long_paragraphs / s.paragraphs if s.paragraphs else 0.0
    return {
        "teaser blocks": _counted(s.teasers, "teaser blocks"),
        "repeated link blocks": _counted(s.repeated_blocks, "repeated link blocks"),
        "link density": (s.link_density, f"link density {s.link_density:.2f}"),
        "page words": _counted(s.words, "words in the main area"),
        "long paragraphs": _counted(s.long_paragraphs, "long paragraphs"),
        "long paragraph share": (long_share, f"{long_share:.0%} of paragraphs long"),
        "subheadings": _counted(s.subheadings, "subheadings"),
        "anchored headings": _counted(s.anchored_headings, "anchored headings"),
        "images": _counted(s.images, "images"),
        "tables": _counted(s.tables, "tables"),
        "times": _counted(s.times, "<time> elements"),
        "contact links": _counted(s.contact_links, "tel: and mailto: links"),
        "code blocks": _counted(s.code_blocks, "code blocks"),
        "inline code": _counted(s.inline_code, "inline code elements"),
        "form fields": _counted(s.fields, "form fields"),
        "buttons": _counted(s.buttons, "buttons"),
        "calls to action": _counted(s.calls_to_action, "button-styled elements"),
        "sidebar links": _counted(s.sidebar_links, "links in nav and aside"),
        "prices": _counted(s.prices, "price marks"),
        "cart": _counted(s.cart, "cart marks"),
        "comments": _counted(s.comments, "comment marks"),
        "avatars": _counted(s.avatars, "avatar marks"),
        "published": _flag(s.published, "publication date declared", "no date declared"),
        "author": _flag(s.author, "author declared", "no author declared"),
    }


def _text_features(signals: PageSignals, body: str) -> dict[str, tuple[float, str]]:
    """The shape of trafilatura's main text: how long, how much prose, how much of the page."""
    lines = [line for line in body.splitlines() if line.strip()]
    lengths = [count_words(line) for line in lines]
    words = sum(lengths)
    prose = [length for length in lengths if length > SHORT_LINE_WORDS]
    short = 1 - len(prose) / len(lengths) if lengths else 1.0
    sentences = sum(bool(_SENTENCE_END.search(line)) for line in lines) / (len(lines) or 1)
    long_lines = sum(length >= LONG_LINE_WORDS for length in lengths) / (len(lines) or 1)
    kept = min(words / signals.words, 2.0) if signals.words else 0.0
    line_words = fmean(prose) if prose else 0.0
    return {
        "text words": _counted(words, "words of main text"),
        "prose words": _counted(sum(prose), "words of prose"),
        "short lines": (short, f"{short:.0%} short lines"),
        "sentence lines": (sentences, f"{sentences:.0%} of lines end a sentence"),
        "long lines": (long_lines, f"{long_lines:.0%} of lines 40+ words long"),
        "prose line words": (math.log1p(line_words), f"{line_words:.0f} words a prose line"),
        "kept share": (kept, f"{kept:.0%} of the page's words kept"),
    }


def _types(declared: frozenset[str], kind: frozenset[str], name: str) -> tuple[float, str]:
    found = sorted(declared & kind)
    return (1.0, f"declared {'/'.join(found)}") if found else (0.0, f"no {name} type declared")


def _flag(value: bool, shown: str, otherwise: str) -> tuple[float, str]:
    return (1.0, shown) if value else (0.0, otherwise)


def _words(count: int, shown: str) -> tuple[float, str]:
    return min(count, 20), f"{count} {shown}"


def _counted(count: int, shown: str) -> tuple[float, str]:
    return math.log1p(count), f"{count} {shown}"

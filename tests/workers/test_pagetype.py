"""Telling articles from other pages: the signals read from the markup, the model, the rules."""

from __future__ import annotations

import gzip
import json

import lxml.html
import pytest
import trafilatura

from tests.conftest import FIXTURES, NEWS_SITE
from workers import pagetype_model
from workers.extract import extract
from workers.pagetype import PageSignals, features, judge, read_page_signals, score
from workers.records import FetchedPage, Reason, Skip

CASES = [json.loads(line) for line in (NEWS_SITE / "cases.jsonl").read_text().splitlines()]
PAGES = FIXTURES / "pagetype"
PROSE = "\n".join(
    f"Paragraph {n} of the report tells at length what the council decided and why it matters."
    for n in range(30)
)  # 30 lines of 15 words: 450 words of prose
TEASER_LINES = "\n".join(f"Headline number {n}" for n in range(30))  # short lines, no prose
STORY = "https://example.com/news/2026/01/02/council-votes-to-rebuild-the-old-bridge"


def signals_of(html: str, url: str = "https://example.com/news/some-page") -> PageSignals:
    return read_page_signals(lxml.html.fromstring(html), url)


def test_declared_types_come_from_json_ld_graph_and_microdata() -> None:
    html = """<html><head>
      <script type="application/ld+json">{"@graph": [{"@type": "WebSite"},
        {"@type": ["CollectionPage"]}]}</script>
      <script type="application/ld+json">[{"@type": "schema:ItemList"}]</script>
      <script type="application/ld+json">{not json</script>
      <meta property="og:type" content="Website"></head>
      <body><div itemscope itemtype="https://schema.org/Product/"></div></body></html>"""
    signals = signals_of(html)
    assert signals.types == {"WebSite", "CollectionPage", "ItemList", "Product"}
    assert signals.og_type == "website"


def test_structure_of_the_main_area() -> None:
    teasers = "".join(
        f"<article class='card'><h2><a href='/s/{n}'>Story {n}</a></h2><p>one two three</p>"
        "</article>"
        for n in range(6)
    )
    html = f"""<html><head><title>Latest news | The Daily Example</title></head><body>
      <nav>{"<a href='/x'>menu link</a>" * 50}</nav>
      <main><h1>Latest</h1>{teasers}</main><footer><a href='/y'>legal</a></footer></body></html>"""
    signals = signals_of(html, "https://example.com/")
    assert signals.teasers == 6
    assert signals.repeated_blocks == 5  # six like cards: five are followed by another
    # Main area: "Latest" + 6 x ("Story n" + "one two three") = 31 words, 12 of them in links;
    # the menu in <nav> and the footer are not counted.
    assert signals.words == 31
    assert signals.link_density == pytest.approx(12 / 31)
    assert signals.sidebar_links == 50
    assert (signals.heading_words, signals.title_words) == (1, 3)  # "The Daily Example": 3
    assert signals.url_kind == "listing"


def test_paragraphs_headings_and_what_a_story_declares() -> None:
    long = " ".join(["word"] * 45)
    html = f"""<html><head><title>Council votes to rebuild the old bridge - Example</title>
      <meta property="article:published_time" content="2026-01-02T10:00:00Z">
      <script type="application/ld+json">{{"@type": "NewsArticle",
        "author": {{"@type": "Person", "name": "A. Writer"}}}}</script></head>
      <body><h1>Council votes to rebuild the old bridge</h1><time>2 January</time>
      <p>{long}</p><p>{long}</p><p>A short caption.</p>
      <h2 id="cost">What it costs</h2><h3>Who pays</h3><table><tr><td>1</td></tr></table>
      </body></html>"""
    signals = signals_of(html, STORY)
    assert (signals.paragraphs, signals.long_paragraphs) == (3, 2)
    assert (signals.subheadings, signals.anchored_headings) == (2, 1)
    assert (signals.tables, signals.times) == (1, 1)
    assert (signals.heading_words, signals.title_words) == (7, 7)
    assert signals.published and signals.author
    assert not signals_of("<p>no dates here</p>").published


def test_shop_forum_and_manual_markup() -> None:
    html = """<html><body><main>
      <div class="product-price" itemprop="offers"><span itemprop="price">19.99</span></div>
      <p>Now $24.99, was 30 €.</p>
      <form action="/cart/add"><input type="number" name="qty"><input type="hidden" name="id">
        <select><option>M</option></select><button class="btn add-to-cart">Add</button>
        <input type="submit" value="Buy"></form>
      <div class="comment"><img class="avatar"><span class="username">ann</span></div>
      <pre><code>make install</code></pre><p>Run <code>make</code>.</p>
      <a href="tel:+15550100">call</a><a href="mailto:shop@example.com">mail</a>
      </main></body></html>"""
    signals = signals_of(html, "https://docs.example.com/products/sleep-mask")
    # "product-price", "offers", "price"; "$24.99" and "30 €" in the text
    assert signals.prices == 5
    assert signals.cart == 2  # the form's action and the button's "add-to-cart"
    assert (signals.fields, signals.buttons, signals.calls_to_action) == (2, 2, 1)  # "btn"
    assert (signals.comments, signals.avatars) == (2, 1)  # "comment", "username"
    assert (signals.code_blocks, signals.inline_code) == (1, 1)
    assert signals.contact_links == 2
    assert signals.host_label == "docs"
    assert not signals.story_path  # "/products/" names a shop's pages


def test_url_shape_of_the_page_itself() -> None:
    story = signals_of("<p>x</p>", STORY)
    assert (story.url_kind, story.story_path, story.slug_words) == ("article", True, 7)
    tag = signals_of("<p>x</p>", "https://example.com/tag/council")
    assert (tag.url_kind, tag.story_path, tag.slug_words) == (None, False, 1)


def test_the_model_reads_every_feature_the_page_gives() -> None:
    """The fitted model and ``features`` name the same features in the same order: a feature
    added or renamed without refitting fails here."""
    names = [name for name, _, _, _ in pagetype_model.FEATURES]
    assert names == list(features(PageSignals(), ""))
    assert all(scale > 0 for _, _, scale, _ in pagetype_model.FEATURES)


def test_the_score_is_the_sum_of_the_features_parts() -> None:
    signals = PageSignals(og_type="website", url_kind="listing", teasers=34, link_density=0.62)
    total, parts = score(signals, TEASER_LINES)
    assert total == pytest.approx(pagetype_model.INTERCEPT + sum(part for part, _, _ in parts))
    link = next(part for part, name, _ in parts if name == "link density")
    mean, scale, weight = next(
        row[1:] for row in pagetype_model.FEATURES if row[0] == "link density"
    )
    assert link == pytest.approx(weight * (0.62 - mean) / scale)


def test_a_listing_is_named_with_its_strongest_signals() -> None:
    signals = PageSignals(
        og_type="website", url_kind="listing", story_path=False, teasers=34, repeated_blocks=33,
        link_density=0.62, words=400, paragraphs=34, heading_words=1, title_words=2,
    )  # fmt: skip
    reason = judge(signals, TEASER_LINES)
    assert reason is not None
    kind, _, said = reason.partition(": ")
    assert kind.startswith("listing (score ")
    shown = said.split(", ")
    assert len(shown) == 4
    assert "link density 0.62" in [part.rpartition(" ")[0] for part in shown]
    points = [float(part.rpartition(" ")[2]) for part in shown]
    assert points == sorted(points, reverse=True) and all(point > 0 for point in points)


def test_a_declared_article_with_prose_and_a_headline_is_an_article() -> None:
    signals = PageSignals(
        types=frozenset({"NewsArticle", "WebSite", "ItemList"}), og_type="article",
        url_kind="article", slug_words=6, heading_words=9, title_words=9, words=500,
        paragraphs=30, long_paragraphs=10, published=True, author=True,
    )  # fmt: skip
    assert judge(signals, PROSE) is None
    # The same page with a related-stories box, teasers and links around it: still one.
    boxed = PageSignals(**{**signals.__dict__, "teasers": 6, "link_density": 0.35})
    assert judge(boxed, PROSE) is None


def test_a_declared_product_is_named_by_its_type() -> None:
    signals = PageSignals(
        types=frozenset({"Product", "WebSite"}), og_type="product", story_path=False,
        prices=12, cart=6, buttons=20, fields=8, heading_words=3, title_words=3,
    )  # fmt: skip
    reason = judge(signals, TEASER_LINES)
    assert reason is not None and reason.startswith("declared Product (score ")
    assert "og:type product" in reason


def test_a_paywall_teaser_is_not_an_article_even_when_declared_one() -> None:
    signals = PageSignals(types=frozenset({"NewsArticle"}), og_type="article", url_kind="article")
    teaser = "The council voted on the plan late on Tuesday. " * 10  # 90 words
    reason = judge(signals, teaser, free=False)
    assert reason == "paywall teaser: not free (declared, or the text is cut), 90 words"
    assert judge(signals, teaser, free=True) is None
    assert judge(signals, PROSE, free=False) is None  # the body is there: the page is readable


def test_a_video_page_with_a_caption_is_not_an_article() -> None:
    signals = PageSignals(og_type="video.other", url_kind="article")
    caption = "Watch the council vote on the plan. " * 10
    assert judge(signals, caption) == "video page: og:type video.other, 70 words of main text"
    signals = PageSignals(
        og_type="video.other", url_kind="article", slug_words=6, heading_words=9, title_words=9,
        paragraphs=30, long_paragraphs=10, words=500,
    )  # fmt: skip
    assert judge(signals, PROSE) is None


@pytest.mark.parametrize(
    ("name", "url", "kind"),
    [
        ("2911", "https://news.ycombinator.com/jobs", "listing (score "),
        ("4107", "https://www.sleepnumber.com/products/sleep-sound-therapy-system", "shop (score "),
        ("0525", "https://forum.doom9.org/showthread.php?t=186269", "not an article (score "),
    ],
)
def test_real_pages_that_are_no_articles_are_skipped_with_the_reason(
    name: str, url: str, kind: str
) -> None:
    """A job board, a shop's product and a forum thread of WCXB (see tests/fixtures/pagetype)."""
    html = gzip.decompress((PAGES / f"{name}.html.gz").read_bytes())
    page = FetchedPage(url, url, 200, {}, html, "2026-01-01T00:00:00Z", "wcxb")
    found = extract(page, html_types=["text/html"], max_bytes=10_000_000, min_words=50)
    assert isinstance(found, Skip)
    assert found.reason == Reason.NOT_ARTICLE
    assert found.detail.startswith(kind), found.detail


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_every_fixture_news_page_is_an_article(case: dict) -> None:
    html = gzip.decompress((NEWS_SITE / case["html"]).read_bytes()).decode("utf-8", "replace")
    tree = trafilatura.load_html(html)
    signals = read_page_signals(tree, case["url"])
    body = trafilatura.extract(tree, url=case["url"], include_comments=False) or ""
    assert judge(signals, body) is None, signals

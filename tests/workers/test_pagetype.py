"""Telling articles from other pages: the signals read from the markup, and each rule."""

from __future__ import annotations

import gzip
import json

import lxml.html
import pytest
import trafilatura

from tests.conftest import NEWS_SITE
from workers.pagetype import PageSignals, judge, read_page_signals

CASES = [json.loads(line) for line in (NEWS_SITE / "cases.jsonl").read_text().splitlines()]
PROSE = "\n".join(
    f"Paragraph {n} of the report tells at length what the council decided and why it matters."
    for n in range(30)
)  # 30 lines of 15 words: 450 words of prose
TEASER_LINES = "\n".join(f"Headline number {n}" for n in range(30))  # short lines, no prose


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
        f"<article><h2><a href='/s/{n}'>Story {n}</a></h2><p>one two three</p></article>"
        for n in range(6)
    )
    html = f"""<html><body><nav>{"<a href='/x'>menu link</a>" * 50}</nav>
      <main><h1>Latest</h1>{teasers}</main><footer><a href='/y'>legal</a></footer></body></html>"""
    signals = signals_of(html, "https://example.com/")
    assert signals.teasers == 6
    # Main area: "Latest" + 6 x ("Story n" + "one two three") = 31 words, 12 of them in links;
    # the menu in <nav> and the footer are not counted.
    assert signals.link_density == pytest.approx(12 / 31)
    assert signals.headings == 1
    assert signals.url_kind == "listing"


def test_url_shape_of_the_page_itself() -> None:
    assert signals_of("<p>x</p>", "https://example.com/2026/01/02/council-votes").url_kind == (
        "article"
    )
    assert signals_of("<p>x</p>", "https://example.com/tag/council").url_kind is None


def test_a_declared_article_with_prose_is_an_article() -> None:
    signals = PageSignals(
        types=frozenset({"NewsArticle", "WebSite", "ItemList"}), og_type="article"
    )
    assert judge(signals, PROSE) is None


def test_an_article_with_a_related_box_stays_an_article() -> None:
    """Teasers and links around a story do not outweigh its story URL and its prose."""
    signals = PageSignals(og_type="website", url_kind="article", teasers=6, link_density=0.35)
    assert judge(signals, PROSE) is None


def test_a_listing_is_named_with_its_signals() -> None:
    signals = PageSignals(og_type="website", url_kind="listing", teasers=34, link_density=0.62)
    reason = judge(signals, TEASER_LINES)
    assert reason is not None
    assert reason.startswith("listing (score 8): ")
    for shown in ("34 teaser blocks +1", "link density 0.62 +2", "og:type website +1",
                  "front-page URL +1", "100% short lines +1", "0 words of prose +2"):  # fmt: skip
        assert shown in reason


def test_a_declared_collection_page_is_not_an_article() -> None:
    signals = PageSignals(types=frozenset({"CollectionPage", "WebSite"}))
    reason = judge(signals, TEASER_LINES)
    assert reason is not None and reason.startswith("declared CollectionPage (score 5)")


def test_a_declared_product_with_a_long_description_is_no_article_without_more() -> None:
    """A declared type alone (2 points) is under the bar; with little prose it is over."""
    assert judge(PageSignals(types=frozenset({"Product"})), PROSE) is None
    assert judge(PageSignals(types=frozenset({"Product"})), TEASER_LINES) is not None


def test_short_lines_and_little_prose_without_article_evidence() -> None:
    reason = judge(PageSignals(), TEASER_LINES)
    assert reason == "not an article (score 3): 100% short lines +1, 0 words of prose +2"
    assert judge(PageSignals(url_kind="article"), TEASER_LINES) is None


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
    assert judge(signals, PROSE) is None


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_every_fixture_news_page_is_an_article(case: dict) -> None:
    html = gzip.decompress((NEWS_SITE / case["html"]).read_bytes()).decode("utf-8", "replace")
    tree = trafilatura.load_html(html)
    signals = read_page_signals(tree, case["url"])
    body = trafilatura.extract(tree, url=case["url"], include_comments=False) or ""
    assert judge(signals, body) is None, signals

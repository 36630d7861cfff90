"""Extraction: golden pages from the fixture site, and the pages that are not articles."""

from __future__ import annotations

import gzip
import json
import time

import pytest
import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from benchmarks.metrics import title_match, word_f1
from tests.conftest import NEWS_SITE
from workers.errors import ExtractionTimeout
from workers.records import Article, FetchedPage, Reason, Skip
from workers.tasks import PageWork, article_from_page, time_limit

CASES = [json.loads(line) for line in (NEWS_SITE / "cases.jsonl").read_text().splitlines()]
WORK = PageWork(database_url="sqlite://")
STORY_URL = "https://example.com/news/council-approves-the-plan"  # shaped like a story
APP_SHELL = b"<html><body><div id=app></div><script>boot()</script></body></html>"
# The body of a hand-written article: long enough to count as one.
REPORT = "".join(
    f"<p>Paragraph {n} of the report, with enough words to count.</p>" for n in range(12)
)


def fetched(
    body: bytes,
    content_type: str | None = "text/html",
    url: str = STORY_URL,
    hints: dict | None = None,
) -> FetchedPage:
    headers = {"Content-Type": content_type} if content_type else {}
    return FetchedPage(url, url, 200, headers, body, "2026-01-01T00:00:00+00:00", "test",
                       hints or {})  # fmt: skip


def case_page(case: dict) -> FetchedPage:
    body = gzip.decompress((NEWS_SITE / case["html"]).read_bytes())
    return fetched(body, content_type=None, url=case["url"])


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden_page(case: dict) -> None:
    """Each stored page gives an article whose body matches the publisher's text."""
    article = article_from_page(case_page(case), WORK)
    assert isinstance(article, Article), article
    expected = case["expected"]
    assert word_f1(article.body, expected["body"]) >= 0.85
    assert article.title
    assert article.word_count >= 50
    assert article.content_hash and len(article.content_hash) == 64
    assert "\n\n" in article.body or article.word_count < 150  # paragraphs kept
    if article.published_at:
        assert article.published_at[:4].isdigit()


def test_golden_pages_titles_and_bodies_overall() -> None:
    """Across the sample: most titles exact, bodies near the publisher's text on average."""
    articles = [article_from_page(case_page(case), WORK) for case in CASES]
    assert all(isinstance(article, Article) for article in articles)
    titles = [
        title_match(a.title, c["expected"]["title"]) for a, c in zip(articles, CASES, strict=True)
    ]
    f1 = [word_f1(a.body, c["expected"]["body"]) for a, c in zip(articles, CASES, strict=True)]
    assert sum(titles) / len(titles) >= 0.8
    assert sum(f1) / len(f1) >= 0.93


def test_authors_tags_and_language_of_a_known_page() -> None:
    case = next(c for c in CASES if c["id"].startswith("SalzburgerNachrichten"))
    article = article_from_page(case_page(case), WORK)
    assert isinstance(article, Article)
    assert article.language == "de"
    assert article.published_at and article.published_at.startswith("2025-06-05")
    assert article.url.startswith("https://www.sn.at/politik/")


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (fetched(b"%PDF-1.7 binary", "application/pdf"), Reason.NOT_HTML),
        (fetched(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "text/html"), Reason.NOT_HTML),
        (fetched(b"", "text/html"), Reason.EMPTY),
        (fetched(b"   \n", "text/html"), Reason.EMPTY),
        (fetched(APP_SHELL), Reason.EMPTY),
        (fetched(b"<html><body><article><p>" + b"Too short to be news. " * 5 + b"</p></article>"),
         Reason.NOT_ARTICLE),
        (fetched(b"<html><body>" + b"<p>x</p>" * 800_000 + b"</body></html>"), Reason.TOO_LARGE),
    ],
    ids=["pdf", "binary-as-html", "empty", "blank", "app-shell", "too-short", "too-large"],
)  # fmt: skip
def test_pages_that_are_not_articles_get_a_reason(page: FetchedPage, reason: Reason) -> None:
    result = article_from_page(page, WORK)
    assert isinstance(result, Skip)
    assert result.reason == reason
    assert result.detail
    assert result.url == page.url


def test_mis_declared_charset_falls_back_to_the_meta_tag() -> None:
    text = "<html><head><meta charset='windows-1252'><title>Caf\u00e9 news</title></head><body>"
    text += "<article>" + "<p>Un caf\u00e9 cr\u00e8me co\u00fbte deux euros \u00e0 Paris.</p>" * 20
    page = fetched((text + "</article></body></html>").encode("cp1252"), "text/html")
    article = article_from_page(page, WORK)
    assert isinstance(article, Article)
    assert "caf\u00e9 cr\u00e8me" in article.body


def test_time_limit_interrupts_a_long_extraction() -> None:
    started = time.monotonic()
    with pytest.raises(ExtractionTimeout), time_limit(0.2):
        while True:
            time.sleep(0.01)
    assert time.monotonic() - started < 2


def test_extraction_timeout_is_recorded_as_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    def endless(*args: object, **kwargs: object) -> None:
        while True:
            time.sleep(0.01)

    monkeypatch.setattr("workers.tasks.extract", endless)
    page = case_page(CASES[0])
    result = article_from_page(page, PageWork(database_url="sqlite://", time_limit=0.2))
    assert isinstance(result, Skip)
    assert result.reason == Reason.EXTRACT_TIMEOUT


def test_what_the_listing_said_fills_what_the_page_lacks() -> None:
    """A Google News sitemap's title, date, keywords and language are fallbacks."""
    html = f"<html><body><article>{REPORT}</article></body></html>".encode()
    hints = {"title": "Council approves the plan", "published_at": "2026-11-28T09:00:00+01:00",
             "tags": ["council", "budget"], "language": "en"}  # fmt: skip
    article = article_from_page(fetched(html, hints=hints), WORK)
    assert isinstance(article, Article)
    assert article.title == "Council approves the plan"
    assert article.published_at == "2026-11-28T09:00:00+01:00"
    assert article.tags == ["council", "budget"]
    assert article.language == "en"


def test_declared_metadata_comes_before_the_listing_and_trafilatura() -> None:
    """JSON-LD's headline, persons, date and keywords win; the publisher is no person."""
    ld = ('{"@type": "NewsArticle", "headline": "Council approves the plan",'
          ' "datePublished": "2026-11-28T09:00:00+01:00", "keywords": "council, budget",'
          ' "articleSection": "Local", "author": [{"@type": "Person", "name": "By Jane Doe"},'
          ' {"@type": "Organization", "name": "Example Times"}]}')  # fmt: skip
    html = (f'<html><head><title>Council | Example Times</title>'
            f'<script type="application/ld+json">{ld}</script>'
            '<meta name="keywords" content="news, example, times"></head>'
            f"<body><article>{REPORT}</article></body></html>").encode()  # fmt: skip
    hints = {"title": "Listing title", "published_at": "2026-11-27", "tags": ["listing"]}
    article = article_from_page(fetched(html, hints=hints), WORK)
    assert isinstance(article, Article)
    assert article.title == "Council approves the plan"
    assert article.published_at == "2026-11-28T09:00:00+01:00"
    assert article.tags == ["council", "budget"]
    assert article.categories == ["Local"]
    assert article.authors == ["Jane Doe"]


def test_the_publisher_is_the_author_only_when_no_person_is_named() -> None:
    ld = '{"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Example Times"}}'
    html = (f'<html><head><script type="application/ld+json">{ld}</script></head>'
            f"<body><article>{REPORT}</article></body></html>").encode()  # fmt: skip
    article = article_from_page(fetched(html), WORK)
    assert isinstance(article, Article)
    assert article.authors == ["Example Times"]


def test_a_declared_publisher_author_gives_way_to_the_byline_not_to_a_layout_guess() -> None:
    """trafilatura's guess from the layout ("Full Bio" in an author box) is not asked when the
    page declares its authors: here the publisher, set aside for the visible byline."""
    ld = ('{"@type": "Article", "headline": "Council approves the plan",'
          ' "author": {"@type": "Person", "name": "The Example Times Team"},'
          ' "publisher": {"@type": "Organization", "name": "Example Times"}}')  # fmt: skip
    html = (f'<html><head><script type="application/ld+json">{ld}</script></head><body>'
            '<div class="author-box"><a class="author" href="/bio">Full Bio</a></div>'
            "<article><h1>Council approves the plan</h1>"
            f'<p class="byline">By Jane Doe</p>{REPORT}</article></body></html>'
            ).encode()  # fmt: skip
    article = article_from_page(fetched(html), WORK)
    assert isinstance(article, Article)
    assert article.authors == ["Jane Doe"]


def test_without_declared_authors_trafilatura_reads_them_from_the_page() -> None:
    html = ('<html><head><meta name="author" content="Jane Doe"></head><body>'
            f"<article>{REPORT}</article></body></html>").encode()  # fmt: skip
    article = article_from_page(fetched(html), WORK)
    assert isinstance(article, Article)
    assert article.authors == ["Jane Doe"]


def test_a_section_front_is_skipped_with_the_signals_that_decided() -> None:
    teasers = "".join(
        f"<article><h2><a href='/world/story-{n}'>Council story number {n} today</a></h2>"
        f"<p>A short summary of story {n}.</p></article>"
        for n in range(20)
    )
    html = (
        "<html><head><meta property='og:type' content='website'></head>"
        f"<body><main><h1>World</h1>{teasers}</main></body></html>"
    ).encode()
    result = article_from_page(fetched(html, url="https://example.com/"), WORK)
    assert isinstance(result, Skip)
    assert result.reason == Reason.NOT_ARTICLE
    assert result.detail.startswith("listing (score ")
    assert "front-page URL +" in result.detail


def test_pages_are_parsed_into_plain_html_elements_classed_in_c() -> None:
    """trafilatura's parser is given lxml's lookup in C (``workers.extract``): every element
    is an ``HtmlElement``, form fields too, and a page with a form is still an article."""
    tree = trafilatura.load_html(
        f"<html><body><form action=/s><input name=q><select name=s></select></form>"
        f"<article><h1>Council approves the plan</h1>{REPORT}</article></body></html>"
    )
    assert tree is not None
    assert {type(element) for element in tree.iter(etree.Element)} == {HtmlElement}
    assert [element.tag for element in tree.iter("input", "select")] == ["input", "select"]
    page = fetched(etree.tostring(tree))
    article = article_from_page(page, WORK)
    assert isinstance(article, Article)
    assert article.title == "Council approves the plan"
    assert "Paragraph 11 of the report" in article.body

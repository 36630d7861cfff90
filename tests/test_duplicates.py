"""One canonical record per story: URL variants, syndicated copies, workers storing at once.

The corpus tests store 188 distinct real articles (tests/fixtures/stories) as the workers do,
normalised and fingerprinted, then a syndicated copy of each: no two originals may share a
story, and every copy long enough to compare must join its original's story.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from spiders.sample_site import SampleSite
from storage.models import StoredArticle
from storage.sql import NEW, UNCHANGED, Database
from storage.stories import story_id_for
from tests.cli import crawl_summary, host_port, newsdesk
from tests.conftest import FIXTURES
from workers.dedupe import DedupeRules, fingerprint
from workers.normalise import normalise
from workers.records import Article

STORIES = FIXTURES / "stories" / "articles.jsonl"
RULES = DedupeRules()
EXTRA = "This story first appeared on the site of our partner and is republished with permission."


def corpus_articles() -> list[Article]:
    """The fixture articles, normalised, each under its publisher's URL."""
    articles = []
    for line in STORIES.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        raw = Article(
            url=case["url"],
            fetched_url=case["url"],
            title=case["title"],
            body=case["body"],
            published_at=case["published_at"],
            language="xx",  # not guessed: these tests are about stories
        )
        articles.append(normalise(raw))
    return articles


def syndicated_copy(article: Article, number: int) -> Article:
    """The article as a partner site republishes it: another URL and headline, a paragraph more."""
    url = f"https://partner.example/wire/{number}"
    copy = article.replace(
        url=url, fetched_url=url, title=f"Wire: {article.title}", body=f"{article.body}\n\n{EXTRA}"
    )
    return normalise(copy)


def store(database: Database, article: Article) -> str:
    """Store as ``workers.tasks.process_page`` does: with the article's fingerprint."""
    return database.store(
        article,
        fingerprint=fingerprint(article.body, RULES),
        similarity_threshold=RULES.threshold,
    )


def by_url(database: Database) -> dict[str, Article]:
    return {article.url: article for article in database.articles()}


def test_no_false_merge_among_distinct_articles_and_every_copy_is_linked(
    database: Database,
) -> None:
    originals = corpus_articles()
    assert len(originals) >= 150
    for article in originals:
        assert store(database, article) == NEW

    stored = by_url(database)
    assert len(stored) == len(originals)
    assert {a.story_id for a in stored.values()} == {story_id_for(a.url) for a in originals}
    assert all(a.duplicate_of is None for a in stored.values())

    copies = [syndicated_copy(article, number) for number, article in enumerate(originals)]
    for copy in copies:
        assert store(database, copy) == NEW
    stored = by_url(database)
    comparable = [fingerprint(a.body, RULES) is not None for a in originals]
    linked = [stored[copy.url].duplicate_of == original.url
              for copy, original in zip(copies, originals, strict=True)]  # fmt: skip
    # Every copy of an original that can be compared is linked; the rest (too short) stand alone.
    assert linked == comparable
    assert sum(linked) >= 180
    for copy, original in zip(copies, originals, strict=True):
        expected = original.url if fingerprint(original.body, RULES) else None
        assert stored[copy.url].story_id == story_id_for(expected or copy.url)
    assert len(list(database.articles(unique=True))) == len(originals) + linked.count(False)


def test_the_same_body_under_another_url_is_an_exact_duplicate(database: Database) -> None:
    short = Article(url="https://a.example/1", fetched_url="https://a.example/1", title="A",
                    body="Too short to compare by shingles, but equal.")  # fmt: skip
    short = normalise(short)
    copy = short.replace(url="https://b.example/1", fetched_url="https://b.example/1")
    assert fingerprint(short.body, RULES) is None
    store(database, short)
    store(database, copy)
    stored = by_url(database)
    assert stored[copy.url].duplicate_of == short.url
    assert stored[copy.url].story_id == stored[short.url].story_id == story_id_for(short.url)


def test_a_changed_body_is_a_revision_and_keeps_its_story(database: Database) -> None:
    original, other = corpus_articles()[:2]
    copy = syndicated_copy(original, 1)
    store(database, original)
    store(database, copy)
    # The copy's page now carries a wholly different text: still the same URL, the same story.
    revised = normalise(copy.replace(body=other.body))
    store(database, revised)
    assert store(database, revised) == UNCHANGED
    stored = by_url(database)
    assert stored[copy.url].story_id == story_id_for(original.url)
    assert [r["revision"] for r in database.revisions() if r["url"] == copy.url] == [1, 2]


def store_at_once(database: Database, first: Article, second: Article) -> list[str]:
    """Store two articles from two threads released at the same moment; their outcomes."""
    start = threading.Barrier(2)

    def store_when_both_ready(article: Article) -> str:
        start.wait(timeout=30)
        return store(database, article)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(store_when_both_ready, [first, second]))


def test_copies_stored_at_the_same_moment_end_in_one_story(database: Database) -> None:
    """Two workers storing two copies of one story at once, for ten stories: one story each."""
    originals = corpus_articles()[:10]
    pairs = [(syndicated_copy(a, n), syndicated_copy(a, 100 + n)) for n, a in enumerate(originals)]
    for first, second in pairs:
        assert store_at_once(database, first, second) == [NEW, NEW]
    stored = by_url(database)
    for first, second in pairs:
        one, two = stored[first.url], stored[second.url]
        assert one.story_id == two.story_id
        assert {one.duplicate_of, two.duplicate_of} in ({None, first.url}, {None, second.url})


def test_one_page_stored_twice_at_once_is_one_article(database: Database) -> None:
    original = corpus_articles()[0]
    store(database, original)
    copy = syndicated_copy(original, 1)
    assert sorted(store_at_once(database, copy, copy)) == sorted([NEW, UNCHANGED])
    assert database.count_articles() == 2
    assert by_url(database)[copy.url].duplicate_of == original.url


@pytest.mark.slow
def test_tracking_amp_and_syndicated_urls_give_one_article_with_its_copy_linked(
    news_site: SampleSite, database_url: str, tmp_path: Path
) -> None:
    case = news_site.cases[0]
    wire = news_site.syndicated_url(case, host="localhost")
    allow = ["--allow-private", host_port(news_site.base_url), "--allow-private", host_port(wire)]
    # The publisher's article under three URLs, then (in a later crawl) the partner's copy.
    variants = [news_site.tracking_url(case), news_site.amp_url(case), news_site.page_url(case)]
    for number, pages in enumerate([variants, [wire]]):
        urls = tmp_path / f"urls-{number}.txt"
        urls.write_text("\n".join(pages) + "\n")
        summary = crawl_summary(
            "--urls", str(urls), "--database", database_url, *allow, cwd=tmp_path
        )
        assert summary["pages_fetched"] == len(pages)
        assert summary["skipped"] == {} and summary["failed"] == {}
        assert summary["articles"]["new"] == 1

    with Database.open(database_url) as database:
        stored = list(database.articles())
    canonical = news_site.page_url(case)
    assert sorted(a.url for a in stored) == sorted([canonical, wire])
    [article] = [a for a in stored if a.url == canonical]
    [copy] = [a for a in stored if a.url == wire]
    assert copy.title != article.title and copy.title.startswith("Wire report: ")
    assert copy.word_count > article.word_count
    assert article.duplicate_of is None
    assert copy.duplicate_of == canonical
    assert copy.story_id == article.story_id == story_id_for(canonical)

    unique = newsdesk("export", "--unique", "--database", database_url, cwd=tmp_path)
    assert unique.returncode == 0, unique.stderr
    assert [json.loads(line)["url"] for line in unique.stdout.splitlines()] == [canonical]
    everything = newsdesk("export", "--database", database_url, cwd=tmp_path)
    assert len(everything.stdout.splitlines()) == 2


def test_dates_keep_their_offset_and_are_stored_in_utc_too(database: Database) -> None:
    article = Article(url="https://a.example/1", fetched_url="https://a.example/1", title="A",
                      body="Text.", published_at="2025-02-04T09:30:00+01:00",
                      updated_at="1970-01-01")  # fmt: skip
    article = normalise(article)
    store(database, article)
    with database.engine.connect() as connection:
        row = connection.execute(select(StoredArticle.__table__)).mappings().one()
    assert row["published_at"] == "2025-02-04T09:30:00+01:00"
    moment = row["published_at_utc"]  # SQLite gives it back without its zone, which is UTC
    assert moment.replace(tzinfo=moment.tzinfo or UTC) == datetime(2025, 2, 4, 8, 30, tzinfo=UTC)
    assert row["updated_at"] is None and row["updated_at_utc"] is None
    [stored] = database.articles()
    assert stored.notes == ["updated_at: rejected '1970-01-01': before 1990"]

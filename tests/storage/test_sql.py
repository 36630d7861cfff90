"""storage.sql for real, on a SQLite file and a PostgreSQL database: writes, skips, counts."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import PageFailure, StoredArticle
from storage.sql import NEW, UNCHANGED, UPDATED, Database, database_url
from storage.stories import story_id_for
from workers.errors import ConfigurationError, StorageUnavailable
from workers.records import Article, Reason, Skip

UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:1/x"


def make_article(number: int = 1, **changes: object) -> Article:
    """An article with every field set, unicode in text and lists."""
    article = Article(
        url=f"https://news.example/politik/artikel-{number}",
        fetched_url=f"https://news.example/politik/artikel-{number}?utm_source=feed",
        title=f"Größte Reform seit 1990 – «Ça change» 개혁 {number} 🗞️",
        body="Erster Absatz über Zürich.\n\n두 번째 단락.\n\nTroisième paragraphe, « guillemets ».",
        tags=["Politik", "Ökonomie", "정치"],
        authors=["Jürgen Groß", "김민지"],
        published_at="2025-02-04T09:30:00+01:00",
        updated_at="2025-02-04",
        language="de",
        description="Eine Beschreibung mit ümlauten — und Gedankenstrich.",
        image="https://news.example/bilder/ß.jpg",
        site_name="Nachrichten Beispiel",
        categories=["Inland", "Wirtschaft"],
        word_count=123,
        content_hash=f"{number:064x}",
        fetched_at="2025-02-04T10:00:00+00:00",
        source="news.example",
    )
    return article.replace(**changes)


def in_own_story(article: Article) -> Article:
    """``article`` as stored when it is the first copy of its story (storage.stories)."""
    return article.replace(story_id=story_id_for(article.url), duplicate_of=None)


def stored_row(database: Database, url: str) -> dict[str, Any]:
    """The raw articles row of ``url``, bookkeeping columns included."""
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(StoredArticle.__table__).where(StoredArticle.url == url)
        ).mappings()
        found = [dict(row) for row in rows]
    assert len(found) == 1
    return found[0]


def failure_rows(database: Database) -> dict[str, dict[str, Any]]:
    """The page_failures rows, by URL."""
    with database.engine.connect() as connection:
        rows = connection.execute(select(PageFailure.__table__)).mappings()
        return {row["url"]: dict(row) for row in rows}


# --- Articles -----------------------------------------------------------------------------


def test_a_new_article_is_stored_with_every_field(database: Database) -> None:
    article = make_article()

    assert database.store(article) == NEW

    assert list(database.articles()) == [in_own_story(article)]
    assert database.count_articles() == 1


def test_the_same_article_again_is_unchanged_and_keeps_one_row(database: Database) -> None:
    article = make_article()
    database.store(article)
    first = stored_row(database, article.url)

    assert database.store(article) == UNCHANGED

    assert list(database.articles()) == [in_own_story(article)]
    again = stored_row(database, article.url)
    assert again["id"] == first["id"]
    assert again["last_stored_at"] == first["last_stored_at"]


def test_a_changed_content_hash_updates_the_row_to_the_latest_fields(database: Database) -> None:
    article = make_article()
    database.store(article)
    first = stored_row(database, article.url)
    time.sleep(0.01)
    changed = article.replace(
        fetched_url="https://news.example/politik/artikel-1",
        title="Korrigiert: Größte Reform 🗞️",
        body="Neuer Text, vollständig ersetzt.\n\n改訂された段落。",
        tags=["Korrektur"],
        authors=[],
        categories=["Inland"],
        published_at="2025-02-04T09:30:00+01:00",
        updated_at="2025-02-05T08:00:00+01:00",
        language="fr",
        description=None,
        image=None,
        site_name=None,
        word_count=9,
        content_hash="f" * 64,
        fetched_at="2025-02-05T08:05:00+00:00",
        source="other.example",
    )

    assert database.store(changed) == UPDATED

    assert list(database.articles()) == [in_own_story(changed)]
    assert database.count_articles() == 1
    latest = stored_row(database, article.url)
    assert latest["id"] == first["id"]
    assert latest["first_stored_at"] == first["first_stored_at"]
    assert latest["last_stored_at"] > first["last_stored_at"]


def test_changed_fields_under_the_same_hash_leave_the_row_as_it_was(database: Database) -> None:
    # An update is decided by the content hash alone (Database.store's contract).
    article = make_article()
    database.store(article)

    assert database.store(article.replace(title="Another title")) == UNCHANGED

    assert [stored.title for stored in database.articles()] == [article.title]


def test_articles_are_read_back_oldest_first(database: Database) -> None:
    articles = [make_article(number) for number in (3, 1, 2)]
    for article in articles:
        database.store(article)

    assert list(database.articles()) == [in_own_story(article) for article in articles]
    assert database.count_articles() == 3


def test_an_empty_database_counts_nothing(database: Database) -> None:
    assert database.count_articles() == 0
    assert database.count_failures() == {}
    assert list(database.articles()) == []
    assert database.failures() == []


# --- Skips ----------------------------------------------------------------------------------


def test_recording_a_skip_twice_keeps_one_row_with_the_latest_reason(database: Database) -> None:
    url = "https://news.example/video/1"
    database.record_skip(Skip(url, Reason.TIMEOUT, "took 30 s", stage="fetch", source="a"))
    first = failure_rows(database)[url]
    time.sleep(0.01)

    database.record_skip(Skip(url, Reason.NOT_ARTICLE, "42 words", stage="extract", source="b"))

    rows = failure_rows(database)
    assert list(rows) == [url]
    row = rows[url]
    assert row["attempts"] == 2
    assert (row["reason"], row["detail"], row["stage"], row["source"]) == (
        "not_article",
        "42 words",
        "extract",
        "b",
    )
    assert row["first_seen"] == first["first_seen"]
    assert row["last_seen"] > first["last_seen"]
    assert first["attempts"] == 1
    assert first["reason"] == "timeout"


def test_failures_are_listed_newest_first_with_their_details(database: Database) -> None:
    database.record_skip(Skip("https://a.example/1", Reason.NOT_FOUND, "HTTP 404", stage="fetch"))
    time.sleep(0.01)
    database.record_skip(Skip("https://a.example/2", Reason.EMPTY, "", source="a.example"))

    failures = database.failures()

    assert [(f["url"], f["reason"], f["detail"], f["stage"], f["source"]) for f in failures] == [
        ("https://a.example/2", "empty", "", "extract", "a.example"),
        ("https://a.example/1", "not_found", "HTTP 404", "fetch", None),
    ]


def test_a_long_detail_is_cut_to_2000_characters(database: Database) -> None:
    database.record_skip(Skip("https://a.example/1", Reason.EXTRACT_ERROR, "é" * 5000))

    assert database.failures()[0]["detail"] == "é" * 2000


@pytest.mark.parametrize("skipped_as", ["page_url", "fetched_url", "url"])
def test_storing_an_article_removes_its_recorded_skip(database: Database, skipped_as: str) -> None:
    article = make_article()
    page_url = "https://feeds.example/redirect?to=artikel-1"
    skipped_url = {"page_url": page_url, "fetched_url": article.fetched_url, "url": article.url}[
        skipped_as
    ]
    other = "https://news.example/another-page"
    database.record_skip(Skip(skipped_url, Reason.TIMEOUT, "first attempt timed out"))
    database.record_skip(Skip(other, Reason.NOT_ARTICLE, "a list page"))

    assert database.store(article, page_url=page_url) == NEW

    assert list(failure_rows(database)) == [other]
    assert database.count_failures() == {"not_article": 1}


def test_failures_are_counted_by_reason(database: Database) -> None:
    reasons = [Reason.NOT_ARTICLE] * 3 + [Reason.TIMEOUT] * 2 + [Reason.ROBOTS_TXT]
    for number, reason in enumerate(reasons):
        database.record_skip(Skip(f"https://a.example/{number}", reason))
    database.record_skip(Skip("https://a.example/0", Reason.NOT_ARTICLE))  # counted once

    # The most frequent first.
    assert list(database.count_failures().items()) == [
        ("not_article", 3),
        ("timeout", 2),
        ("robots_txt", 1),
    ]


# --- Several writers ---------------------------------------------------------------------------


def test_writers_storing_the_same_articles_at_once_make_one_row_each(
    database: Database, database_url: str
) -> None:
    articles = [make_article(number) for number in range(20)]
    writers = 8
    start = threading.Barrier(writers)

    def write(offset: int) -> list[str]:
        own = Database.open(database_url, migrate=False)
        try:
            order = articles[offset:] + articles[:offset]  # each writer starts elsewhere
            start.wait(timeout=30)
            return [own.store(article) for article in order]
        finally:
            own.close()

    with ThreadPoolExecutor(writers) as pool:
        outcomes = [outcome for result in pool.map(write, range(writers)) for outcome in result]

    assert Counter(outcomes) == {NEW: 20, UNCHANGED: 20 * (writers - 1)}
    assert database.count_articles() == 20
    assert sorted(article.url for article in database.articles()) == sorted(
        article.url for article in articles
    )


# --- Opening ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["nosuchdb://x", "not a database url", "mysql://u@h/d"])
def test_an_unusable_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Database.open(url)

    assert url in str(raised.value)


@pytest.mark.timeout(30)  # a hang, not a slow answer, is what this guards against
def test_an_unreachable_postgresql_is_unavailable_storage() -> None:
    with pytest.raises(StorageUnavailable) as raised:
        Database.open(UNREACHABLE_POSTGRES)

    assert "127.0.0.1" in str(raised.value)


def test_an_unreachable_postgresql_does_not_show_the_password() -> None:
    with pytest.raises(StorageUnavailable) as raised:
        Database.open("postgresql://newsdesk:s3cr3t-pw@127.0.0.1:1/x")

    assert "s3cr3t-pw" not in str(raised.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///newsdesk.db", "sqlite:///newsdesk.db"),
    ],
)
def test_postgresql_urls_get_the_psycopg_driver(given: str, expected: str) -> None:
    assert database_url(given) == expected

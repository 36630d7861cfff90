"""Re-crawl decisions and Retry-After: pure functions on small inputs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from spiders.incremental import Refetch, conditional_headers, parse_moment, should_fetch
from spiders.politeness import retry_after_seconds

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def state(**values: object) -> dict:
    base = {
        "outcome": "article",
        "etag": None,
        "last_modified": None,
        "listed_at": None,
        "first_fetched_at": NOW - timedelta(hours=5),
        "fetched_at": NOW - timedelta(hours=1),
    }
    return {**base, **values}


@pytest.mark.parametrize(
    ("stored", "listed_at", "expected"),
    [
        (None, None, True),  # never seen
        (state(), None, False),  # seen, and the listing gives no date
        (state(listed_at="2026-11-28T10:00:00+00:00"), "2026-11-28T10:00:00+00:00", False),
        (state(listed_at="2026-11-28T10:00:00+00:00"), "2026-11-29T09:00:00+00:00", True),
        (state(listed_at="2026-11-28"), "2026-11-28", False),
        (state(listed_at="2026-11-28"), "2026-11-29", True),
        # Found first without a date: compared with when it was fetched (11:00).
        (state(), "2026-11-29T10:30:00+00:00", False),
        (state(), "2026-11-29T11:30:00+00:00", True),
        (state(), "2026-11-29T12:30:00+01:00", True),  # 11:30 UTC
        (state(listed_at="2026-11-28"), "not a date", False),
    ],
)
def test_should_fetch_follows_the_listing(stored: dict | None, listed_at: str | None,
                                          expected: bool) -> None:  # fmt: skip
    assert should_fetch(stored, listed_at, NOW, Refetch()) is expected


def test_recent_articles_are_refetched_when_due() -> None:
    refetch = Refetch(interval=timedelta(minutes=30), window=timedelta(days=1))
    assert should_fetch(state(), None, NOW, refetch)  # fetched an hour ago, 5 h old
    assert not should_fetch(state(fetched_at=NOW - timedelta(minutes=10)), None, NOW, refetch)
    old = state(first_fetched_at=NOW - timedelta(days=3))
    assert not should_fetch(old, None, NOW, refetch)  # no longer recent
    skipped = state(outcome="not_article")
    assert not should_fetch(skipped, None, NOW, refetch)  # only articles are refetched


def test_conditional_headers() -> None:
    assert conditional_headers(None) == {}
    stored = state(etag='"abc"', last_modified="Sat, 28 Nov 2026 10:00:00 GMT")
    assert conditional_headers(stored) == {
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Sat, 28 Nov 2026 10:00:00 GMT",
    }


def test_parse_moment() -> None:
    assert parse_moment("2026-11-29") == datetime(2026, 11, 29, tzinfo=UTC)
    assert parse_moment("2026-11-29T10:00:00Z") == datetime(2026, 11, 29, 10, tzinfo=UTC)
    assert parse_moment("") is None and parse_moment("soon") is None


def test_retry_after() -> None:
    assert retry_after_seconds(b"2", default=10, limit=600) == 2
    assert retry_after_seconds("86400", default=10, limit=600) == 600  # capped
    assert retry_after_seconds(None, default=10, limit=600) == 10
    assert retry_after_seconds("garbage", default=10, limit=600) == 10
    later = format_datetime(datetime.fromtimestamp(time.time() + 30, UTC), usegmt=True)
    assert 28 <= retry_after_seconds(later, default=10, limit=600) <= 30
    past = format_datetime(datetime.fromtimestamp(time.time() - 30, UTC), usegmt=True)
    assert retry_after_seconds(past, default=10, limit=600) == 0

"""The work done on every fetched page: decode → extract → normalise → store.

Both paths run this code: the embedded default calls ``process_page`` in a process pool
inside the crawl, and the Celery task calls it in a worker. It takes and returns plain JSON,
so whatever carries the page (a pipe, a Redis queue) carries the same message.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from storage.sql import Database
from workers.dedupe import DedupeRules, fingerprint
from workers.errors import ExtractionTimeout
from workers.extract import check_page, extract
from workers.limits import too_deep
from workers.normalise import UrlRules, body_text, normalise
from workers.records import Article, FetchedPage, Reason, Skip


@dataclass(frozen=True)
class PageWork:
    """How pages are processed: limits and where to store. Plain values, built from settings."""

    database_url: str
    html_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    max_bytes: int = 5 * 1024 * 1024
    min_words: int = 50
    body_format: str = "text"  # text, markdown or html (EXTRACT_BODY_FORMAT)
    max_depth: int = 200
    time_limit: float = 30.0
    hard_time_limit: float = 120.0
    sqlite_busy_timeout: float = 60.0
    url_rules: UrlRules = field(default_factory=UrlRules)
    dedupe: DedupeRules = field(default_factory=DedupeRules)

    @classmethod
    def from_settings(cls, settings: Any, database_url: str | None = None) -> PageWork:
        """The values of the settings module (or a Scrapy ``Settings``) that matter here."""
        get = settings.get if hasattr(settings, "get") else lambda name: getattr(settings, name)
        return cls(
            database_url=database_url or get("DATABASE_URL"),
            html_types=tuple(get("CRAWL_HTML_TYPES")),
            max_bytes=int(get("EXTRACT_MAX_BYTES")),
            min_words=int(get("EXTRACT_MIN_WORDS")),
            body_format=str(get("EXTRACT_BODY_FORMAT")),
            max_depth=int(get("EXTRACT_MAX_DEPTH")),
            time_limit=float(get("EXTRACT_TIME_LIMIT")),
            hard_time_limit=float(get("EXTRACT_HARD_TIME_LIMIT")),
            sqlite_busy_timeout=float(get("DATABASE_SQLITE_BUSY_TIMEOUT")),
            url_rules=UrlRules.from_settings(settings),
            dedupe=DedupeRules.from_settings(settings),
        )


_databases: dict[str, Database] = {}


def database_for(work: PageWork) -> Database:
    """This process's connection pool to the work's database, opened once per process."""
    if work.database_url not in _databases:
        _databases[work.database_url] = Database.open(
            work.database_url, migrate=False, sqlite_busy_timeout=work.sqlite_busy_timeout
        )
    return _databases[work.database_url]


def forget_databases() -> None:
    """Drop this process's connection pools (after a fork, the parent's are not ours)."""
    for database in _databases.values():
        database.engine.dispose(close=False)
    _databases.clear()


def article_from_page(page: FetchedPage, work: PageWork) -> Article | Skip:
    """Extract and normalise one page, within the time limit; no storage."""
    try:
        with time_limit(work.time_limit):
            refused = page_refusal(page, work)
            if refused:
                return refused
            found = extract(
                page,
                html_types=list(work.html_types),
                max_bytes=work.max_bytes,
                min_words=work.min_words,
                body_format=work.body_format,
            )
            if not isinstance(found, Article):
                return found
            return normalise(found, url_rules=work.url_rules, body_format=work.body_format)
    except ExtractionTimeout:
        detail = f"extraction took longer than {work.time_limit:g} s"
        return Skip(page.url, Reason.EXTRACT_TIMEOUT, detail, "extract", page.source)
    except SoftTimeLimitExceeded:
        raise  # the Celery task's own time limit: the task records it as extract_timeout
    except Exception as error:  # noqa: BLE001 - one bad page must not stop the rest
        detail = f"{type(error).__name__}: {error}"
        return Skip(page.url, Reason.EXTRACT_ERROR, detail, "extract", page.source)


def page_refusal(page: FetchedPage, work: PageWork) -> Skip | None:
    """The reason a page is not handed to extraction at all: the checks of ``check_page``
    (media type, empty, size), then nesting depth (``workers.limits``)."""
    html_types = list(work.html_types)
    return check_page(page, html_types=html_types, max_bytes=work.max_bytes) or too_deep(
        page, work.max_depth
    )


def process_page(message: dict[str, Any], work: PageWork) -> dict[str, Any]:
    """Process one page message (``FetchedPage.to_dict()``) and return its outcome as JSON.

    The outcome is ``{"url", "outcome", ...}``: outcome ``new``, ``updated`` or ``unchanged``
    with the article's ``article_url``, or ``skipped``/``failed`` with ``reason`` and
    ``detail``. Storage errors propagate, so the caller can retry.
    """
    page = FetchedPage.from_dict(message)
    result = article_from_page(page, work)
    database = database_for(work)
    validators = page_validators(page)
    if isinstance(result, Skip):
        database.record_skip(result, validators)
        return {
            "url": page.url,
            "outcome": "failed" if result.reason.is_failure else "skipped",
            "reason": str(result.reason),
            "detail": result.detail,
        }
    change = database.store(
        result,
        page_url=page.url,
        validators=validators,
        fingerprint=fingerprint(body_text(result.body, work.body_format), work.dedupe),
        similarity_threshold=work.dedupe.threshold,
    )
    return {"url": page.url, "outcome": change, "article_url": result.url}


def page_validators(page: FetchedPage) -> dict[str, Any]:
    """What the next crawl needs to ask for the page conditionally: ETag, Last-Modified, and
    the date its listing gave it."""
    headers = {name.lower(): value for name, value in page.headers.items()}
    return {
        "etag": headers.get("etag"),
        "last_modified": headers.get("last-modified"),
        "listed_at": page.hints.get("listed_at"),
    }


def record_skip(message: dict[str, Any], work: PageWork) -> dict[str, Any]:
    """Record a page the crawler already gave up on (``Skip.to_dict()``); return its outcome."""
    skip = Skip.from_dict(message)
    database_for(work).record_skip(skip)
    outcome = "failed" if skip.reason.is_failure else "skipped"
    return {"url": skip.url, "outcome": outcome, "reason": str(skip.reason), "detail": skip.detail}


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ExtractionTimeout in the block after ``seconds``, where a signal can be used.

    Signals reach only a process's main thread, which is where pool and Celery workers run
    their tasks; elsewhere the block runs unlimited.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expire(_signum: int, _frame: Any) -> None:
        raise ExtractionTimeout(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

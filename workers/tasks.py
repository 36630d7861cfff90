"""The work done on every fetched page: decode → extract → normalise → store.

Both paths run this code: the embedded default calls ``process_page`` in a process pool
inside the crawl, and the Celery task calls it in a worker. It takes and returns plain JSON,
so whatever carries the page (a pipe, a Redis queue) carries the same message.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from storage.sql import Database
from workers.dedupe import fingerprint
from workers.errors import ExtractionTimeout
from workers.extract import check_page, extract
from workers.normalise import body_text, normalise
from workers.pagework import PageWork
from workers.records import Article, FetchedPage, Reason, Skip

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
    return timed_article_from_page(page, work)[0]


def timed_article_from_page(
    page: FetchedPage, work: PageWork
) -> tuple[Article | Skip, float | None]:
    """``article_from_page``, and the seconds extraction and normalisation took (also when
    they timed out or failed); None for a page refused before extraction (``page_refusal``)."""
    started: float | None = None
    try:
        with time_limit(work.time_limit):
            refused = page_refusal(page, work)
            if refused:
                return refused, None
            started = time.perf_counter()
            found = extract(
                page,
                html_types=list(work.html_types),
                max_bytes=work.max_bytes,
                min_words=work.min_words,
                body_format=work.body_format,
                max_depth=work.max_depth,
            )
            if isinstance(found, Article):
                found = normalise(found, url_rules=work.url_rules, body_format=work.body_format)
            return found, _since(started)
    except ExtractionTimeout:
        detail = f"extraction took longer than {work.time_limit:g} s"
        skip = Skip(page.url, Reason.EXTRACT_TIMEOUT, detail, "extract", page.source)
    except SoftTimeLimitExceeded:
        raise  # the Celery task's own time limit: the task records it as extract_timeout
    except Exception as error:  # noqa: BLE001 - one bad page must not stop the rest
        detail = f"{type(error).__name__}: {error}"
        skip = Skip(page.url, Reason.EXTRACT_ERROR, detail, "extract", page.source)
    return skip, _since(started)


def _since(started: float | None) -> float | None:
    return None if started is None else time.perf_counter() - started


def page_refusal(page: FetchedPage, work: PageWork) -> Skip | None:
    """The reason a page is not handed to extraction at all: the checks of ``check_page``
    (media type, empty, size). Extraction checks the nesting depth on the parsed page."""
    return check_page(page, html_types=list(work.html_types), max_bytes=work.max_bytes)


def process_page(message: dict[str, Any], work: PageWork) -> dict[str, Any]:
    """Process one page message (``FetchedPage.to_dict()``) and return its outcome as JSON.

    The outcome is ``{"url", "outcome", ...}``: outcome ``new``, ``updated`` or ``unchanged``
    with the article's ``article_url``, or ``skipped``/``failed`` with ``reason`` and
    ``detail``; and ``extract_seconds`` when the page was handed to extraction (for
    ``workers.metrics``). Storage errors propagate, so the caller can retry.
    """
    return process_fetched(FetchedPage.from_dict(message), work)


def process_fetched(page: FetchedPage, work: PageWork) -> dict[str, Any]:
    """``process_page`` of the page itself, as the embedded pool hands it over."""
    result, seconds = timed_article_from_page(page, work)
    timing = {} if seconds is None else {"extract_seconds": seconds}
    database = database_for(work)
    validators = page_validators(page)
    if isinstance(result, Skip):
        database.record_skip(result, validators)
        return {
            "url": page.url,
            "outcome": "failed" if result.reason.is_failure else "skipped",
            "reason": str(result.reason),
            "detail": result.detail,
            **timing,
        }
    change = database.store(
        result,
        page_url=page.url,
        validators=validators,
        fingerprint=fingerprint(body_text(result.body, work.body_format), work.dedupe),
        similarity_threshold=work.dedupe.threshold,
    )
    return {"url": page.url, "outcome": change, "article_url": result.url, **timing}


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

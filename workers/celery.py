"""The Celery app: page tasks for the workers, crawl tasks for beat. ``celery -A workers`` finds it.

Tasks are thin: they decode their JSON message, call the plain functions in ``workers.tasks``
or ``workers.crawls`` and decide whether to retry. Settings come from ``settings.py``
(the ``CELERY_*`` names). A page is acknowledged only once stored or recorded (``acks_late``), and
given back to the queue if its worker process dies (``task_reject_on_worker_lost``); storing
is idempotent, so a page processed twice is stored once.
"""

from __future__ import annotations

import logging
from functools import cache
from types import SimpleNamespace
from typing import Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_process_init
from sqlalchemy.exc import InterfaceError, OperationalError

import settings
from storage.sql import Database
from workers import tasks
from workers.errors import StorageUnavailable
from workers.records import Reason, Skip

log = logging.getLogger(__name__)


def celery_config() -> SimpleNamespace:
    """Celery's settings: the ``CELERY_*`` names of ``settings.py``, in Celery's own spelling.

    Handing Celery the settings module itself would make it take newsdesk's ``BROKER_URL``
    for its own old-style setting of that name and read the whole module the old way.
    """
    names = [name for name in vars(settings) if name.startswith("CELERY_")]
    return SimpleNamespace(
        **{n.removeprefix("CELERY_").lower(): getattr(settings, n) for n in names}
    )


app = Celery("newsdesk")
app.config_from_object(celery_config())

# Worth another try later: the database is down, restarting, or locked.
TRANSIENT = (StorageUnavailable, OperationalError, InterfaceError)


@cache
def page_work() -> tasks.PageWork:
    """How this worker processes pages, from the settings."""
    return tasks.PageWork.from_settings(settings)


class PageTask(Task):
    """A page task that records the page as failed when it finally gives up."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """Record the page with its reason, so it is accounted for; log if even that fails."""
        message = args[0] if args else {}
        reason = (
            Reason.EXTRACT_TIMEOUT
            if isinstance(exc, SoftTimeLimitExceeded)
            else (Reason.STORE_ERROR)
        )
        skip = Skip(
            url=message.get("url", "?"),
            reason=reason,
            detail=f"{type(exc).__name__}: {exc}"[:500],
            stage="store" if reason is Reason.STORE_ERROR else "extract",
            source=message.get("source"),
        )
        try:
            tasks.database_for(page_work()).record_skip(skip)
        except Exception:
            log.exception("page %s lost: could not record its failure", skip.url)


# Storage that fails for a passing reason is tried again, with exponential back-off and jitter.
STORE_RETRIES: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": settings.WORKER_RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": settings.WORKER_STORE_RETRIES,
}


@app.task(name="newsdesk.process_page", base=PageTask, **STORE_RETRIES)
def process_page(message: dict[str, Any]) -> dict[str, Any]:
    """Extract, normalise and store one page (``FetchedPage.to_dict()``)."""
    return tasks.process_page(message, page_work())


@app.task(name="newsdesk.record_skip", **STORE_RETRIES)
def record_skip(message: dict[str, Any]) -> dict[str, Any]:
    """Record a page the crawler gave up on (``Skip.to_dict()``)."""
    return tasks.record_skip(message, page_work())


@app.task(
    name="newsdesk.crawl_source",
    acks_late=False,  # a crawl lost with its worker runs again at its next schedule
    soft_time_limit=settings.CRAWL_TIME_LIMIT,
    time_limit=settings.CRAWL_TIME_LIMIT + 60,
)
def crawl_source(name: str) -> dict[str, Any]:
    """Crawl one stored source in a fresh process, unless a crawl of it is running."""
    from workers.crawls import crawl_source_once

    return crawl_source_once(name)


@worker_init.connect
def _migrate(**_: Any) -> None:
    """Bring the schema up to date once, before the worker takes pages."""
    Database.open(settings.DATABASE_URL).close()


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker process must not share its parent's database connections."""
    tasks.forget_databases()

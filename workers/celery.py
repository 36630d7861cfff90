"""The Celery app: page tasks for the workers, crawl tasks for beat. ``celery -A workers`` finds it.

Tasks are thin: they decode their JSON message, call the plain functions in ``workers.tasks``
or ``workers.crawls`` and decide whether to retry. Settings come from ``settings.py``
(the ``CELERY_*`` names). Every page ends stored or recorded with its reason, whatever fails:

- a page is acknowledged only once stored or recorded (``acks_late``), and given back to the
  queue if its worker process dies (``task_reject_on_worker_lost``), or, for a whole worker
  killed, once ``BROKER_VISIBILITY_TIMEOUT`` has passed; storing is idempotent, so a page
  processed twice is stored once;
- storage that fails while the database is unreachable is tried again with exponential
  back-off (``WORKER_STORE_RETRIES``); then the page is recorded as ``store_error``, and while
  even that cannot be written the page stays on the queue and is tried again;
- a page that took its worker process down ``WORKER_LOST_LIMIT`` times (a crash, the out of
  memory killer) is recorded as ``extract_error`` instead of being processed again; its
  deliveries are counted in Redis, since a redelivered message is the message as first sent;
- a page that runs past the hard time limit is recorded as ``extract_timeout``.

Each page's outcome is counted in the Prometheus metrics (``workers.metrics``) once it is
stored or recorded, in the process that did it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import redis
from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_init,
    worker_process_init,
)
from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy.exc import InterfaceError, OperationalError

import settings
from storage.sql import Database
from workers import metrics, tasks
from workers.errors import StorageUnavailable
from workers.queue import celery_config
from workers.records import Reason, Skip

log = logging.getLogger(__name__)


app = Celery("newsdesk")
app.config_from_object(celery_config())

# Worth another try later: the database is down, restarting, or locked.
TRANSIENT = (StorageUnavailable, OperationalError, InterfaceError)


@cache
def page_work() -> tasks.PageWork:
    """How this worker processes pages, from the settings."""
    return tasks.PageWork.from_settings(settings)


class PageTask(Task):
    """A page task that records the page when it fails in a way the task could not handle.

    That is a hard time limit (called in the worker's main process, its pool process killed)
    or an error outside the task's own handling. When even recording fails, the page is sent
    again, to be tried once the database is back: it is never dropped.
    """

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """Record the page with its reason, or put it back on the queue."""
        message = args[0] if args else {}
        if isinstance(exc, TimeLimitExceeded):
            skip = _skip(message, Reason.EXTRACT_TIMEOUT, f"killed at the hard time limit: {exc}")
        else:
            skip = _skip(message, Reason.STORE_ERROR, _describe(exc), "store")
        forget_deliveries(task_id)
        try:
            tasks.database_for(page_work()).record_skip(skip)
        except Exception as error:  # noqa: BLE001 - whatever it is, the page must not be lost
            log.warning("could not record %s (%s); queueing it again", skip.url, error)
            self.apply_async(args=[message], countdown=settings.WORKER_RETRY_BACKOFF_MAX)
        else:
            metrics.count_skip(skip)


def backoff(retries: int) -> float:
    """Seconds before try ``retries + 1``: doubling up to ``WORKER_RETRY_BACKOFF_MAX``, jittered.

    Half the interval is fixed and half random ("equal jitter"), so the workers do not all come
    back at once and yet the retries together last at least half their nominal time: with
    the defaults, a page rides out a database outage of two minutes before it is given up.
    """
    interval = get_exponential_backoff_interval(
        1, retries, settings.WORKER_RETRY_BACKOFF_MAX, full_jitter=False
    )
    return interval / 2 + random.uniform(0, interval / 2)


_DELIVERIES = "newsdesk:page-deliveries:{task_id}"
_DELIVERIES_KEPT = 7 * 86400  # seconds: longer than any redelivery takes


@cache
def _delivery_counter() -> redis.Redis:
    return redis.Redis.from_url(app.conf.broker_url, socket_timeout=5, socket_connect_timeout=5)


@contextmanager
def counted_delivery(task_id: str) -> Iterator[int]:
    """Count a start of the page task ``task_id``; yield how many starts did not end.

    The count is dropped when the task ends, whatever way (stored, recorded, retried), so
    only deliveries that took their worker process down with them stay counted. Without
    Redis at that moment the page is processed uncounted (0).
    """
    key = _DELIVERIES.format(task_id=task_id)
    try:
        with _delivery_counter().pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, _DELIVERIES_KEPT)
            count = int(pipe.execute()[0])
    except redis.RedisError as error:
        log.warning("could not count the delivery of page task %s: %s", task_id, error)
        count = 0
    try:
        yield count
    finally:
        forget_deliveries(task_id)


def forget_deliveries(task_id: str) -> None:
    """Drop the delivery count of a page task that ended."""
    try:
        _delivery_counter().delete(_DELIVERIES.format(task_id=task_id))
    except redis.RedisError as error:
        log.warning("could not reset the delivery count of page task %s: %s", task_id, error)


@app.task(bind=True, name="newsdesk.process_page", base=PageTask)
def process_page(self: Task, message: dict[str, Any]) -> dict[str, Any]:
    """Extract, normalise and store one page (``FetchedPage.to_dict()``)."""
    with counted_delivery(self.request.id) as deliveries:
        if deliveries > settings.WORKER_LOST_LIMIT:
            detail = f"worker process lost {deliveries - 1}x while processing the page"
            return give_up(self, message, _skip(message, Reason.EXTRACT_ERROR, detail))
        try:
            return _counted(tasks.process_page(message, page_work()), message)
        except TRANSIENT as error:
            if self.request.retries < settings.WORKER_STORE_RETRIES:
                countdown = backoff(self.request.retries)
                raise self.retry(exc=error, countdown=countdown, max_retries=None) from None
            skip = _skip(message, Reason.STORE_ERROR, _describe(error), "store")
        except SoftTimeLimitExceeded:
            detail = f"past WORKER_SOFT_TIME_LIMIT ({settings.WORKER_SOFT_TIME_LIMIT} s)"
            skip = _skip(message, Reason.EXTRACT_TIMEOUT, detail)
        except Exception as error:  # noqa: BLE001 - recorded with its reason, not lost
            skip = _skip(message, Reason.STORE_ERROR, _describe(error), "store")
        return give_up(self, message, skip)


def give_up(task: Task, message: dict[str, Any], skip: Skip) -> dict[str, Any]:
    """Record the page as not stored, with its reason.

    While the database cannot be reached the page stays on the queue and comes back every
    ``WORKER_RETRY_BACKOFF_MAX`` seconds: processed again then, it may well be stored.
    """
    try:
        tasks.database_for(page_work()).record_skip(skip)
    except TRANSIENT as error:
        countdown = settings.WORKER_RETRY_BACKOFF_MAX
        raise task.retry(exc=error, countdown=countdown, max_retries=None) from None
    log.warning("page %s recorded as %s: %s", skip.url, skip.reason, skip.detail)
    metrics.count_skip(skip)
    return {"url": skip.url, "outcome": "failed", "reason": str(skip.reason),
            "detail": skip.detail}  # fmt: skip


@app.task(bind=True, name="newsdesk.record_skip")
def record_skip(self: Task, message: dict[str, Any]) -> dict[str, Any]:
    """Record a page the crawler gave up on (``Skip.to_dict()``); wait for the database."""
    try:
        return _counted(tasks.record_skip(message, page_work()), message)
    except TRANSIENT as error:
        countdown = backoff(self.request.retries)
        raise self.retry(exc=error, countdown=countdown, max_retries=None) from None


def _counted(outcome: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """The page's outcome, counted in the metrics (``workers.metrics``)."""
    metrics.count_outcome(outcome, message.get("source"))
    return outcome


def _skip(message: dict[str, Any], reason: Reason, detail: str, stage: str = "extract") -> Skip:
    return Skip(message.get("url", "?"), reason, detail[:500], stage, message.get("source"))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


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


@worker_init.connect
def _load_models(**_: Any) -> None:
    """Load, before the pool forks, what its processes would each load on their first page
    (``workers.preload``): prefork pool processes inherit the parent's memory, so it costs
    nothing in each pool process and in each one that replaces a recycled one
    (``WORKER_MAX_TASKS_PER_CHILD``)."""
    import workers.preload  # noqa: F401 - imported for the pool processes, see above


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker process must not share its parent's database connections."""
    tasks.forget_databases()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _json_logs(logger: logging.Logger, **_: Any) -> None:
    """With ``LOG_JSON``, Celery's log handlers (worker, beat) write JSON lines (workers.logs)."""
    if settings.LOG_JSON:
        from workers.logs import use_json

        use_json(logger)

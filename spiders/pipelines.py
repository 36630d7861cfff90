"""Hand every item of a crawl to the workers and count what became of it.

``FetchedPage`` items are processed into articles; ``Skip`` items (requests that failed) are
recorded with their reason. With no broker (``BROKER_URL`` empty) a local process pool does
the work; with one, the pages go on the Redis queue for ``newsdesk worker`` processes. The
outcomes are counted in the crawl's stats under ``newsdesk/...``, which the summary prints,
and in the Prometheus counters (``workers.metrics``).

While the database is unreachable, a page is handed over again with growing pauses
(``WORKER_STORE_RETRIES``, ``WORKER_RETRY_BACKOFF_MAX``, as the queue workers do). A page that
still cannot be stored or recorded is counted as ``store_error``: nothing marks it as seen,
so the next crawl fetches it again.

The local pool's processes take a second or two to start (``workers.embedded``); they are
started when the crawl schedules its first request for a page that is not stored yet, so that
they are ready by the time it arrives. A conditional request (a page seen before, which may
come back ``304 Not Modified``) does not start them: a re-crawl that finds nothing new never
pays for them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Protocol

from scrapy import Request, signals
from sqlalchemy.exc import InterfaceError, OperationalError

from storage.sql import Database
from workers import metrics
from workers.errors import StorageUnavailable
from workers.pagework import PageWork
from workers.records import FetchedPage, Reason, Skip

log = logging.getLogger(__name__)

# Worth handing the page over again later: the database is down, restarting, or locked.
_PASSING = (StorageUnavailable, OperationalError, InterfaceError)


class Workers(Protocol):
    """What the pipeline hands pages to: the local pool or the queue."""

    async def process(self, page: FetchedPage) -> dict[str, Any]: ...
    async def record(self, skip: Skip) -> dict[str, Any]: ...
    def start(self) -> None: ...
    def close(self) -> None: ...


class HandOffPipeline:
    """Item pipeline that passes pages to the workers (the embedded pool by default)."""

    def __init__(self, work: PageWork, stats: Any, *, processes: int = 0, broker: str = "",
                 send_retries: int = 8, send_max_interval: float = 5.0,
                 store_retries: int = 8, store_max_interval: float = 300.0) -> None:  # fmt: skip
        self.work = work
        self.stats = stats
        self.processes = processes
        self.broker = broker
        self.send_retries = send_retries
        self.send_max_interval = send_max_interval
        self.store_retries = store_retries
        self.store_max_interval = store_max_interval
        self.workers: Workers | None = None
        self._pages_coming = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> HandOffPipeline:
        """The pipeline, configured from the crawl's settings."""
        settings = crawler.settings
        pipeline = cls(
            PageWork.from_settings(settings),
            crawler.stats,
            processes=settings.getint("EMBEDDED_PROCESSES"),
            broker=settings.get("BROKER_URL") or "",
            send_retries=settings.getint("BROKER_SEND_RETRIES"),
            send_max_interval=settings.getfloat("BROKER_SEND_MAX_INTERVAL"),
            store_retries=settings.getint("WORKER_STORE_RETRIES"),
            store_max_interval=settings.getfloat("WORKER_RETRY_BACKOFF_MAX"),
        )
        crawler.signals.connect(pipeline.request_scheduled, signal=signals.request_scheduled)
        return pipeline

    def request_scheduled(self, request: Request) -> None:
        """At the crawl's first request for a page not stored yet, have the workers start."""
        if self._pages_coming or request.meta.get("newsdesk_stage") != "fetch":
            return
        if b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers:
            return
        self._pages_coming = True
        if self.workers is not None:
            self.workers.start()

    def open_spider(self) -> None:
        """Bring the database's schema up to date, then start the workers or the queue."""
        database = Database.open(self.work.database_url)
        if self.broker:
            from workers.queue import QueueWorkers, sending_app

            app = sending_app(self.broker)
            self.workers = QueueWorkers(app, database, self.send_retries, self.send_max_interval)
        else:
            from workers.embedded import EmbeddedWorkers

            database.close()
            self.workers = EmbeddedWorkers(self.work, self.processes)
        if self._pages_coming:
            self.workers.start()

    def close_spider(self) -> None:
        """Wait for the pages still being processed."""
        if self.workers is not None:
            self.workers.close()

    async def process_item(self, item: Any) -> Any:
        """Process a page or record a skip; count the outcome."""
        if not isinstance(item, (FetchedPage, Skip)):
            return item
        if isinstance(item, FetchedPage):
            self.stats.inc_value("newsdesk/pages_fetched")
            metrics.count_fetched(item.source)
        try:
            outcome = await self.hand_off(item)
        except Exception as error:  # noqa: BLE001 - counted and logged, the crawl goes on
            log.error("could not process %s (the next crawl fetches it again): %s",
                      item.url, error)  # fmt: skip
            outcome = {"outcome": "failed", "reason": str(Reason.STORE_ERROR)}
        self.count(outcome)
        # The outcome as the pool process or the queue sent it back: a page handed to a
        # queue worker (``queued``) is counted by that worker once it is done.
        metrics.count_outcome(outcome, item.source)
        return outcome

    async def hand_off(self, item: FetchedPage | Skip) -> dict[str, Any]:
        """Process the page or record the skip; again later while the database is away."""
        assert self.workers is not None, "open_spider was not called"
        retries = 0
        while True:
            try:
                if isinstance(item, FetchedPage):
                    return await self.workers.process(item)
                return await self.workers.record(item)
            except _PASSING as error:
                if retries >= self.store_retries:
                    raise
                # Doubling pauses, half of each fixed and half random, as the workers wait.
                pause = min(self.store_max_interval, 2.0**retries) * random.uniform(0.5, 1)
                log.warning("database unavailable for %s (%s); again in %.1f s",
                            item.url, error, pause)  # fmt: skip
                await asyncio.sleep(pause)
                retries += 1

    def count(self, outcome: dict[str, Any]) -> None:
        """Add one outcome to the crawl's stats."""
        kind = outcome.get("kind", outcome["outcome"])
        if kind in ("skipped", "failed"):
            self.stats.inc_value(f"newsdesk/{kind}/{outcome['reason']}")
        elif kind == "queued":
            self.stats.inc_value("newsdesk/pages_queued")
        else:
            self.stats.inc_value(f"newsdesk/articles/{kind}")

"""Hand every item of a crawl to the workers and count what became of it.

``FetchedPage`` items are processed into articles; ``Skip`` items (requests that failed) are
recorded with their reason. The outcomes are counted in the crawl's stats under
``newsdesk/...``, which the crawl summary prints.
"""

from __future__ import annotations

import logging
from typing import Any

from storage.sql import Database
from workers.embedded import EmbeddedWorkers
from workers.records import FetchedPage, Reason, Skip
from workers.tasks import PageWork

log = logging.getLogger(__name__)


class HandOffPipeline:
    """Item pipeline that passes pages to the workers (the embedded pool by default)."""

    def __init__(self, work: PageWork, processes: int, stats: Any) -> None:
        self.work = work
        self.processes = processes
        self.stats = stats
        self.workers: EmbeddedWorkers | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> HandOffPipeline:
        """The pipeline, configured from the crawl's settings."""
        settings = crawler.settings
        return cls(
            PageWork.from_settings(settings),
            settings.getint("EMBEDDED_PROCESSES"),
            crawler.stats,
        )

    def open_spider(self) -> None:
        """Bring the database's schema up to date, then start the workers."""
        Database.open(self.work.database_url).close()
        self.workers = EmbeddedWorkers(self.work, self.processes)

    def close_spider(self) -> None:
        """Wait for the pages still being processed."""
        if self.workers is not None:
            self.workers.close()

    async def process_item(self, item: Any) -> Any:
        """Process a page or record a skip; count the outcome."""
        assert self.workers is not None, "open_spider was not called"
        try:
            if isinstance(item, FetchedPage):
                self.stats.inc_value("newsdesk/pages_fetched")
                outcome = await self.workers.process(item)
            elif isinstance(item, Skip):
                outcome = await self.workers.record(item)
            else:
                return item
        except Exception as error:  # noqa: BLE001 - counted and logged, the crawl goes on
            log.error("could not process %s: %s", getattr(item, "url", item), error)
            outcome = {"outcome": "failed", "reason": str(Reason.STORE_ERROR)}
        self.count(outcome)
        return outcome

    def count(self, outcome: dict[str, Any]) -> None:
        """Add one outcome to the crawl's stats."""
        kind = outcome["outcome"]
        if kind in ("skipped", "failed"):
            self.stats.inc_value(f"newsdesk/{kind}/{outcome['reason']}")
        else:
            self.stats.inc_value(f"newsdesk/articles/{kind}")

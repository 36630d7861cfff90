"""Celery beat's schedule, read from the sources table: one crawl task per enabled source.

Beat re-reads the table every ``SOURCES_RELOAD_INTERVAL`` seconds, so ``newsdesk sources
import`` takes effect without a restart. A source keeps its place in the schedule across
reloads as long as its schedule is unchanged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import ScheduleEntry, Scheduler

import settings
from storage.sql import Database
from workers.sources import crawl_schedule

log = logging.getLogger(__name__)


def source_entries(database: Database) -> dict[str, dict[str, Any]]:
    """Beat entries for the enabled sources that have a schedule."""
    entries = {}
    for source in database.sources(enabled_only=True):
        schedule = crawl_schedule(source)
        if schedule is not None:
            entries[f"crawl:{source.name}"] = {
                "task": "newsdesk.crawl_source",
                "schedule": schedule,
                "args": (source.name,),
            }
    return entries


class SourceScheduler(Scheduler):
    """A beat scheduler whose entries are the stored sources, reloaded now and then."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loaded_at = 0.0
        self._database: Database | None = None
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        """Load the sources when beat starts."""
        self._reload()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Reload the sources when due, then do beat's usual tick."""
        if time.monotonic() - self._loaded_at >= settings.SOURCES_RELOAD_INTERVAL:
            self._reload()
        interval: float = super().tick(*args, **kwargs)
        return min(interval, settings.SOURCES_RELOAD_INTERVAL)

    def _reload(self) -> None:
        self._loaded_at = time.monotonic()
        try:
            if self._database is None:  # once: the schema is checked and migrated here
                self._database = Database.open(settings.DATABASE_URL)
            wanted = source_entries(self._database)
        except Exception as error:  # noqa: BLE001 - keep the schedule we have, try again later
            log.error("could not read the sources: %s", error)
            return
        current: dict[str, ScheduleEntry] = self.schedule
        for name in set(current) - set(wanted):
            del current[name]
        for name, entry in wanted.items():
            old = current.get(name)
            if old is None or old.schedule != entry["schedule"]:
                current[name] = ScheduleEntry(name=name, app=self.app, **entry)
        log.info("beat schedule: %s", ", ".join(sorted(current)) or "no sources")

    def close(self) -> None:
        """Close beat's database connections with the scheduler."""
        super().close()
        if self._database is not None:
            self._database.close()

"""The hand-off to queue workers: put each page on the Redis queue for the Celery workers.

Sending happens in a thread, so Scrapy's reactor never waits on Redis. While the broker is
unreachable a page is retried with growing pauses (``BROKER_SEND_RETRIES``); if it still
cannot be sent, it is recorded in the database as failed with reason ``queue_error`` and the
crawl goes on. Nothing is dropped without a record.

The crawl sends through an app of its own (``sending_app``), configured as the workers' app in
``workers.celery`` is, but without its tasks: those import the extraction code, which a crawl
that only queues pages has no use for.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

import settings
from storage.sql import Database
from workers.records import FetchedPage, Reason, Skip

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


def sending_app(broker_url: str) -> Celery:
    """A Celery app that sends to ``broker_url``, configured as the workers' app, without tasks.

    Tasks are sent by name (``newsdesk.process_page``). The app does not become the process's
    current one, so the crawl leaves any other app of the process as it was.
    """
    app = Celery("newsdesk", set_as_current=False)
    app.config_from_object(celery_config())
    app.conf.broker_url = broker_url
    return app


class QueueWorkers:
    """Sends pages and skips to the Celery workers through the broker."""

    def __init__(
        self, app: Celery, database: Database, retries: int = 8, max_interval: float = 5.0
    ) -> None:
        self.app = app
        self.database = database
        self.retry_policy = {
            "max_retries": retries,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": max_interval,
        }

    def start(self) -> None:
        """Nothing to start: the workers are processes of their own."""

    async def process(self, page: FetchedPage) -> dict[str, Any]:
        """Queue ``page`` for extraction; ``queued``, or ``failed`` when the broker is gone."""
        return await self._send("newsdesk.process_page", page.to_dict(), page.url, page.source)

    async def record(self, skip: Skip) -> dict[str, Any]:
        """Queue ``skip`` for recording; with no broker, record it here."""
        outcome = await self._send("newsdesk.record_skip", skip.to_dict(), skip.url, skip.source)
        if outcome["outcome"] == "queued":
            outcome = {**outcome, "reason": str(skip.reason), "kind": _kind(skip)}
        return outcome

    async def _send(
        self, task: str, message: dict[str, Any], url: str, source: str | None
    ) -> dict[str, Any]:
        try:
            await asyncio.to_thread(self._send_now, task, message)
        except (BrokerError, ConnectionError, OSError) as error:
            detail = f"broker unreachable after {self.retry_policy['max_retries']} tries: {error}"
            log.error("could not queue %s: %s", url, detail)
            skip = Skip(url, Reason.QUEUE_ERROR, detail[:500], "queue", source)
            await asyncio.to_thread(self.database.record_skip, skip)
            return {"url": url, "outcome": "failed", "reason": str(Reason.QUEUE_ERROR)}
        return {"url": url, "outcome": "queued"}

    def _send_now(self, task: str, message: dict[str, Any]) -> None:
        self.app.send_task(task, args=[message], retry=True, retry_policy=self.retry_policy)

    def close(self) -> None:
        """Release the broker and database connections."""
        self.app.close()
        self.database.close()


def _kind(skip: Skip) -> str:
    return "failed" if skip.reason.is_failure else "skipped"

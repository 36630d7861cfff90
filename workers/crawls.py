"""Scheduled crawls: run a source's crawl in a fresh process, never two of one source at once.

Twisted's reactor cannot be restarted, so each crawl is a ``newsdesk crawl --source NAME``
child process. A lock in Redis (with an expiry, renewed while the crawl runs) keeps a second
trigger of the same source from starting while the first runs; that trigger is recorded as a
skipped crawl, with the reason.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from typing import Any

import redis

import settings
from storage.sql import Database

log = logging.getLogger(__name__)

LOCK_KEY = "newsdesk:crawl-lock:{name}"


def crawl_command(
    name: str, database_url: str | None = None, broker_url: str | None = None
) -> list[str]:
    """The command line of one crawl of the stored source ``name``, onto the queue (or, with
    ``broker_url`` empty, processed in the crawl's own pool); the settings' by default."""
    database_url = settings.DATABASE_URL if database_url is None else database_url
    broker_url = settings.BROKER_URL if broker_url is None else broker_url
    return [
        sys.executable, "-m", "workers.cli", "crawl", "--source", name, "--json",
        "--database", database_url, "--broker", broker_url,
    ]  # fmt: skip


def crawl_source_once(name: str) -> dict[str, Any]:
    """Run a crawl of source ``name`` unless one is running; return what happened."""
    client = redis.Redis.from_url(settings.BROKER_URL)
    lock = client.lock(LOCK_KEY.format(name=name), timeout=settings.CRAWL_LOCK_TIMEOUT)
    if not lock.acquire(blocking=False):
        detail = "skipped: a crawl of this source is already running"
        log.warning("crawl of source %s %s", name, detail)
        with Database.open(settings.DATABASE_URL, migrate=False) as database:
            database.start_crawl(name, status="skipped", detail=detail)
        return {"source": name, "status": "skipped", "detail": detail}
    stop_renewing = threading.Event()
    renewer = threading.Thread(target=_renew, args=(lock, stop_renewing), daemon=True)
    renewer.start()
    try:
        done = subprocess.run(
            crawl_command(name),
            capture_output=True,
            text=True,
            timeout=settings.CRAWL_TIME_LIMIT,
            check=False,
        )
    finally:
        stop_renewing.set()
        renewer.join()
        try:
            lock.release()
        except redis.exceptions.LockError:
            log.warning("crawl lock of source %s had expired before the crawl ended", name)
    if done.returncode != 0:
        log.error("crawl of source %s failed: %s", name, done.stderr.strip()[-2000:])
        return {"source": name, "status": "failed", "detail": done.stderr.strip()[-500:]}
    return {"source": name, "status": "finished", "summary": json.loads(done.stdout)}


def _renew(lock: Any, stop: threading.Event) -> None:
    """Keep the lock while the crawl runs: renew it at a third of its expiry."""
    while not stop.wait(settings.CRAWL_LOCK_TIMEOUT / 3):
        try:
            lock.reacquire()
        except redis.RedisError as error:
            log.warning("could not renew crawl lock %s: %s", lock.name, error)

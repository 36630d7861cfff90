"""Does a worker's memory stay flat? Feed one worker process the corpus pages many times over.

``measure_worker_memory(folder, pages, work)`` starts ``newsdesk worker -c 1`` on a Redis and a
PostgreSQL database of its own, with the project's default recycling
(``WORKER_MAX_TASKS_PER_CHILD``, ``WORKER_MAX_MEMORY_PER_CHILD``), and sends it ``pages``
page messages, the corpus pages in turn, each under a URL of its own, a few at a time so that
Redis never holds more than ``_QUEUED`` of them. Every half second it samples the resident
memory of the pool process (the one that extracts) and of the worker's main process.

Growth compares the pool process's median memory near the end (the last tenth of the pages)
with its median early on (the second tenth, after the caches of the first pages are warm).
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from statistics import median
from typing import Any

import psutil
from celery import Celery

from benchmarks.services import QueueProbe, fresh_postgres, own_redis, workers
from benchmarks.usage import MB
from spiders.sample_site import load_cases
from storage.sql import Database
from workers.records import FetchedPage

_QUEUED = 8  # messages waiting in Redis at most
_SAMPLE_EVERY = 0.5  # seconds


def corpus_messages(folder: Path) -> list[dict[str, Any]]:
    """One page message per corpus page, as a crawl would queue it."""
    messages = []
    for case in load_cases(folder):
        body = gzip.decompress(case.html_file.read_bytes())
        headers = {"Content-Type": "text/html"}
        page = FetchedPage(
            case.url, case.url, 200, headers, body, "2026-01-01T00:00:00+00:00", "memory"
        )
        messages.append(page.to_dict())
    return messages


def measure_worker_memory(folder: Path, pages: int, work: Path) -> dict[str, Any]:
    """Feed ``pages`` pages to one worker process; its memory early, late and at its largest."""
    messages = corpus_messages(folder)
    samples: list[tuple[int, int, int]] = []  # pages done, pool process RSS, main process RSS
    with own_redis() as (broker, _), fresh_postgres() as database:
        Database.open(database).close()
        with workers(1, broker, database, work / "memory-worker.log") as worker:
            sender = Celery(broker=broker)
            probe = QueueProbe(broker)
            main = psutil.Process(worker.pid)
            sent, next_sample = 0, 0.0
            try:
                while sent < pages or not probe.empty():
                    waiting = probe.waiting()
                    if sent < pages and waiting < _QUEUED:
                        message = dict(messages[sent % len(messages)])
                        message["url"] = f"{message['url']}#m{sent}"  # a URL of its own
                        sender.send_task("newsdesk.process_page", args=[message], queue="pages")
                        sent += 1
                        continue
                    if time.monotonic() >= next_sample:
                        samples.append((sent - waiting, *_rss(main)))
                        next_sample = time.monotonic() + _SAMPLE_EVERY
                    time.sleep(0.02)
                samples.append((pages, *_rss(main)))
            finally:
                sender.close()
                probe.close()
    return memory_figures(samples, pages)


def memory_figures(samples: list[tuple[int, int, int]], pages: int) -> dict[str, Any]:
    """Early, late and largest pool-process memory, and the growth from early to late."""
    early = [pool for done, pool, _ in samples if pages * 0.1 <= done < pages * 0.2 and pool]
    late = [pool for done, pool, _ in samples if done >= pages * 0.9 and pool]
    early_mb = median(early) / MB if early else 0.0
    late_mb = median(late) / MB if late else 0.0
    return {
        "pages": pages,
        "early_mb": early_mb,
        "late_mb": late_mb,
        "growth": late_mb / early_mb - 1 if early_mb else 0.0,
        "peak_mb": max((pool for _, pool, _ in samples), default=0) / MB,
        "main_peak_mb": max((main for _, _, main in samples), default=0) / MB,
        "samples": [
            [done, round(pool / MB, 1), round(main / MB, 1)] for done, pool, main in samples
        ],
    }


def _rss(main: psutil.Process) -> tuple[int, int]:
    """The largest pool process's resident memory, and the main process's."""
    try:
        children = main.children()
        pool = max((child.memory_info().rss for child in children), default=0)
        return pool, main.memory_info().rss
    except psutil.Error:
        return 0, 0

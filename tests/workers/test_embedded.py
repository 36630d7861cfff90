"""The embedded pool's processes start with the task code and the models already loaded,
and they are started before the first page arrives, without holding the crawl."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector

from spiders.pipelines import HandOffPipeline
from storage.sql import Database
from workers.embedded import EmbeddedWorkers
from workers.pagework import PageWork
from workers.records import FetchedPage

_PRELOADED = ("workers.preload", "workers.tasks", "datasketch")


def _loaded() -> dict[str, bool]:
    """Which of the preloaded modules a pool process holds before its first page."""
    return {name: name in sys.modules for name in _PRELOADED}


def _frozen() -> int:
    """How many objects a pool process keeps out of the garbage collector's sight."""
    return gc.get_freeze_count()


def test_pool_processes_start_with_the_task_code_and_models_loaded() -> None:
    workers = EmbeddedWorkers(PageWork(database_url="sqlite://"), processes=1)
    try:
        # The pool's own scheduling, with a probe instead of a page: nothing of the task code
        # has been asked for in that process yet.
        loaded = workers._pool.schedule(_loaded).result(timeout=120)
        frozen = workers._pool.schedule(_frozen).result(timeout=120)
    finally:
        workers.close()
    assert loaded == {"workers.preload": True, "workers.tasks": True, "datasketch": True}
    # What was loaded before the fork is frozen: the collector's full collections skip it.
    assert frozen > 50_000


def _pipeline(tmp_path: Path) -> HandOffPipeline:
    work = PageWork(database_url=f"sqlite:///{tmp_path / 'pool.db'}")
    return HandOffPipeline(work, StatsCollector(_Crawler()), processes=1)


class _Crawler:
    """What Scrapy's stats collector reads of a crawler: its settings."""

    settings = Settings()


def _request(url: str, stage: str = "fetch", **headers: str) -> Request:
    return Request(url, headers=headers or None, meta={"newsdesk_stage": stage})


def test_the_pool_starts_at_the_first_request_for_a_page_not_stored_yet(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    pipeline.open_spider()
    workers = pipeline.workers
    assert isinstance(workers, EmbeddedWorkers)
    try:
        # A feed, and a page seen before (it may come back 304): no page to extract yet.
        pipeline.request_scheduled(_request("http://a.example/feed", stage="feed"))
        pipeline.request_scheduled(_request("http://a.example/seen", **{"If-None-Match": '"1"'}))
        assert workers._starting is None
        pipeline.request_scheduled(_request("http://a.example/new"))
        assert workers._starting is not None
        workers._starting.join(timeout=120)
        assert workers._pool.active
        loaded = workers._pool.schedule(_loaded).result(timeout=120)
    finally:
        pipeline.close_spider()
    assert loaded["workers.tasks"]


def test_a_page_request_before_the_pipeline_opens_starts_the_pool_as_it_opens(
    tmp_path: Path,
) -> None:
    pipeline = _pipeline(tmp_path)
    pipeline.request_scheduled(_request("http://a.example/new"))
    pipeline.open_spider()
    workers = pipeline.workers
    assert isinstance(workers, EmbeddedWorkers)
    try:
        assert workers._starting is not None
    finally:
        pipeline.close_spider()


def test_a_page_handed_over_while_the_pool_starts_waits_for_it(tmp_path: Path) -> None:
    workers = EmbeddedWorkers(PageWork(database_url=f"sqlite:///{tmp_path / 'pool.db'}"), 1)
    Database.open(workers.work.database_url).close()
    page = FetchedPage(
        url="https://a.example/none",
        final_url="https://a.example/none",
        status=200,
        headers={"Content-Type": "text/html"},
        body=b"<html><body><p>Too short.</p></body></html>",
        fetched_at="2026-11-29T12:00:00+00:00",
        source="test",
    )

    async def run() -> dict[str, Any]:
        workers.start()  # the pool starts in its thread; the page comes in meanwhile
        return await workers.process(page)

    try:
        outcome = asyncio.run(run())
    finally:
        workers.close()
    assert (outcome["outcome"], outcome["reason"]) == ("skipped", "not_article"), outcome

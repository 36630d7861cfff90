"""The embedded default: process pages in a pool of local processes, with no broker.

The crawl hands each page to ``EmbeddedWorkers``; a pool process runs the same task code a
Celery worker runs (``workers.tasks``), so the downloads never wait for extraction.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from workers.records import FetchedPage, Skip
from workers.tasks import PageWork, process_page, record_skip


class EmbeddedWorkers:
    """A pool of processes that extract, normalise and store pages."""

    def __init__(self, work: PageWork, processes: int = 0) -> None:
        self.work = work
        self.processes = processes or os.cpu_count() or 1
        # forkserver: the crawl's process has threads and a running reactor; never fork it.
        context = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)

    async def process(self, page: FetchedPage) -> dict[str, Any]:
        """The outcome of processing ``page`` (see ``workers.tasks.process_page``)."""
        future = self._pool.submit(process_page, page.to_dict(), self.work)
        return await asyncio.wrap_future(future)

    async def record(self, skip: Skip) -> dict[str, Any]:
        """The outcome of recording ``skip``."""
        future = self._pool.submit(record_skip, skip.to_dict(), self.work)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Wait for pages in progress, then stop the processes."""
        self._pool.shutdown(wait=True, cancel_futures=False)

"""The embedded default: process pages in a pool of local processes, with no broker.

The crawl hands each page to ``EmbeddedWorkers``; a pool process runs the same task code a
Celery worker runs (``workers.tasks``), so the downloads never wait for extraction.

Extraction stops itself after ``EXTRACT_TIME_LIMIT`` with a signal, but a signal cannot stop
code that does not return to Python (a C library looping). So the pool (pebble's, which can
do what the standard library's cannot) also holds each page to ``EXTRACT_HARD_TIME_LIMIT``:
past it the process is killed and replaced, and the page recorded as ``extract_timeout``. A
process that dies on a page (killed for memory, crashed) costs that page alone, recorded as
``extract_error``; the pool goes on with a new process.

Starting the processes takes the fork server's preload (the task code and the models, about
1.5 s of CPU), during which pebble's first ``schedule`` would hold the crawl's reactor. So the
pool is started in a thread of its own (``start``): by the hand-off pipeline as soon as the
crawl asks for its first new page, before that page has arrived, and otherwise when the first
page or skip comes in; the crawl goes on fetching meanwhile. A crawl that fetches no page (a
re-crawl of an unchanged site) never starts it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from typing import Any

from pebble import ProcessExpired, ProcessPool

from workers.pagework import PageWork, process_fetched, ready, record_skip
from workers.records import FetchedPage, Reason, Skip


class EmbeddedWorkers:
    """A pool of processes that extract, normalise and store pages."""

    def __init__(self, work: PageWork, processes: int = 0) -> None:
        self.work = work
        self.processes = processes or os.cpu_count() or 1
        # forkserver: the crawl's process has threads and a running reactor; never fork it.
        # The fork server loads the task code and the models once (``workers.preload``) and
        # the command's own module, so that each pool process forked from it starts with them
        # instead of importing them again (1-3 s of CPU a process). The preload takes effect
        # where this starts the fork server, as a crawl command does.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["__main__", "workers.preload"])
        self._pool = ProcessPool(max_workers=self.processes, context=context)
        self._starting: threading.Thread | None = None

    def start(self) -> None:
        """Start the pool's processes in the background, if that is not under way already."""
        if self._starting is None:
            # pebble starts its processes on the first task it is given: a no-op one here.
            self._starting = threading.Thread(
                target=self._pool.schedule, args=(ready,), name="newsdesk-pool-start", daemon=True
            )
            self._starting.start()

    async def _started(self) -> None:
        """Wait, without holding the reactor, until the pool's processes have been started."""
        self.start()
        assert self._starting is not None
        if self._starting.is_alive():
            await asyncio.to_thread(self._starting.join)

    async def process(self, page: FetchedPage) -> dict[str, Any]:
        """The outcome of processing ``page`` (see ``workers.tasks.process_page``)."""
        limit = self.work.hard_time_limit or None
        # The page itself, not its JSON message: a pipe to a local process carries the bytes as
        # they are, and deflating and base64-encoding every page cost the crawl process about a
        # tenth of its CPU time (py-spy, 400 pages).
        await self._started()
        future = self._pool.schedule(process_fetched, args=(page, self.work), timeout=limit)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            reason = Reason.EXTRACT_TIMEOUT
            detail = f"processing killed after {limit:g} s (EXTRACT_HARD_TIME_LIMIT)"
        except ProcessExpired as error:
            reason, detail = Reason.EXTRACT_ERROR, f"the process handling the page died: {error}"
        return await self.record(Skip(page.url, reason, detail, "extract", page.source))

    async def record(self, skip: Skip) -> dict[str, Any]:
        """The outcome of recording ``skip``."""
        await self._started()
        future = self._pool.schedule(record_skip, args=(skip.to_dict(), self.work))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Wait for pages in progress, then stop the processes."""
        if self._starting is not None:
            self._starting.join()
        self._pool.close()
        self._pool.join()

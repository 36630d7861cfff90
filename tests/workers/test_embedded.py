"""The embedded pool's processes start with the task code and the models already loaded."""

from __future__ import annotations

import sys

from workers.embedded import EmbeddedWorkers
from workers.pagework import PageWork

_PRELOADED = ("workers.preload", "workers.tasks", "datasketch")


def _loaded() -> dict[str, bool]:
    """Which of the preloaded modules a pool process holds before its first page."""
    return {name: name in sys.modules for name in _PRELOADED}


def test_pool_processes_start_with_the_task_code_and_models_loaded() -> None:
    workers = EmbeddedWorkers(PageWork(database_url="sqlite://"), processes=1)
    try:
        # The pool's own scheduling, with a probe instead of a page: nothing of the task code
        # has been asked for in that process yet.
        loaded = workers._pool.schedule(_loaded).result(timeout=120)
    finally:
        workers.close()
    assert loaded == {"workers.preload": True, "workers.tasks": True, "datasketch": True}

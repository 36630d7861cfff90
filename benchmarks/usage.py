"""CPU time and memory of a pipeline's processes, sampled with psutil while it runs.

A pipeline is one or more root processes and everything they start (pool processes, Celery's
prefork children, the forkserver). ``TreeSampler`` polls every process of those trees every
``interval`` seconds and keeps, per process, the latest CPU time (user + system) and the
largest resident set size seen. CPU time used before ``start()`` by processes already running
(workers that were started and waited for) is subtracted, so only the measured window counts.

A process that ends loses at most its last ``interval`` of CPU time from the sum: a few
hundredths of a second per process, against minutes for a pipeline at full scale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024


@dataclass
class ProcessUse:
    """What one process used in the window: CPU seconds and its peak resident memory."""

    pid: int
    name: str
    cpu_seconds: float = 0.0
    peak_rss: int = 0
    first_rss: int = 0  # resident memory at the first sample, to see growth


@dataclass
class TreeUse:
    """What a pipeline's processes used together, and each one of them."""

    processes: dict[int, ProcessUse] = field(default_factory=dict)

    @property
    def cpu_seconds(self) -> float:
        """User + system seconds of all the processes, in the window."""
        return sum(process.cpu_seconds for process in self.processes.values())

    @property
    def peak_rss(self) -> int:
        """The largest peak resident set size of any one process, in bytes."""
        return max((process.peak_rss for process in self.processes.values()), default=0)

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe summary, with every process's figures."""
        return {
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_rss_mb": round(self.peak_rss / MB, 1),
            "processes": [
                {
                    "pid": use.pid,
                    "name": use.name,
                    "cpu_seconds": round(use.cpu_seconds, 3),
                    "peak_rss_mb": round(use.peak_rss / MB, 1),
                }
                for use in self.processes.values()
            ],
        }


class TreeSampler:
    """Polls the process trees under some root pids in a background thread.

    ``add(pid)`` adds a root while sampling (a crawl started after the workers);
    ``stop()`` takes a last sample and returns the ``TreeUse``.
    """

    def __init__(self, roots: list[int] | None = None, interval: float = 0.1) -> None:
        self.interval = interval
        self._roots: list[psutil.Process] = []
        self._baseline: dict[int, float] = {}
        self._use = TreeUse()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        for pid in roots or []:
            self.add(pid)

    def add(self, pid: int) -> None:
        """Sample this process and its descendants too."""
        with self._lock:
            self._roots.append(psutil.Process(pid))

    def start(self) -> TreeSampler:
        """Take the baseline of the processes running now and start polling."""
        with self._lock:
            for process in self._tree():
                self._baseline[process.pid] = _cpu(process) or 0.0
        self._thread.start()
        return self

    def stop(self) -> TreeUse:
        """Take a last sample, stop polling, return what was used."""
        self._stopped.set()
        self._thread.join()
        self.sample()
        return self._use

    def sample(self) -> None:
        """Read the CPU time and resident memory of every process of the trees now."""
        with self._lock:
            for process in self._tree():
                try:
                    cpu = _cpu(process)
                    rss = process.memory_info().rss
                    known = self._use.processes.get(process.pid)
                    name = known.name if known else _role(process)
                except psutil.Error:
                    continue
                if cpu is None:
                    continue
                use = self._use.processes.setdefault(
                    process.pid, ProcessUse(process.pid, name, first_rss=rss)
                )
                use.cpu_seconds = max(0.0, cpu - self._baseline.get(process.pid, 0.0))
                use.peak_rss = max(use.peak_rss, rss)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.sample()

    def _tree(self) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        for root in self._roots:
            try:
                found += [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
        return found


def _cpu(process: psutil.Process) -> float | None:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def _role(process: psutil.Process) -> str:
    """A short name for a process: its command line's telling part."""
    try:
        command = process.cmdline()
    except psutil.Error:
        return "?"
    words = [part for part in command if not part.startswith("-")][:4]
    text = " ".join(word.rsplit("/", 1)[-1] for word in words)
    return text[:60] or process.name()


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` seconds pass; return the last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())

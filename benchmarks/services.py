"""The distributed pipeline's parts for a benchmark: its own Redis, a fresh PostgreSQL database,
``newsdesk worker`` processes, and what Redis and PostgreSQL did per page.

The benchmark starts a redis-server of its own (``tests.services.start_redis``) rather than use
a database of the machine's shared one: then ``INFO commandstats`` and the server's CPU time
count this benchmark's work alone. PostgreSQL is the machine's (or a throwaway one, as for the
tests), with a fresh database that is dropped afterwards; ``pg_stat_database`` of that
database counts its transactions and row writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
import redis

from tests import services

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
ROOT = Path(__file__).resolve().parent.parent

# A benchmark of a local site is not a politeness test: no AutoThrottle, a near-zero delay
# (Scrapy starts every queued request of a site at once with 0, see settings.DOWNLOAD_DELAY),
# and as many requests in flight to the one site as over all sites.
BENCHMARK_SETTINGS = {
    "NEWSDESK_DOWNLOAD_DELAY": "0.001",
    "NEWSDESK_AUTOTHROTTLE_ENABLED": "false",
    "NEWSDESK_CONCURRENT_REQUESTS": "16",
    "NEWSDESK_CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "NEWSDESK_LOG_LEVEL": "WARNING",
}


def benchmark_environment(**extra: str) -> dict[str, str]:
    """This process's environment without NEWSDESK_* variables, plus the benchmark settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    return {**clean, **BENCHMARK_SETTINGS, **extra}


@contextmanager
def own_redis() -> Iterator[tuple[str, int]]:
    """A redis-server of the benchmark's own: its URL (database 0) and its pid."""
    server = services.start_redis()
    try:
        yield f"{server.url}/0", server.process.pid
    finally:
        server.stop()


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped afterwards."""
    url = services.fresh_postgres_database(services.postgres_url())
    try:
        yield url
    finally:
        services.drop_postgres_database(url)


@contextmanager
def workers(
    count: int, broker: str, database: str, log: Path, **environment: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A ``newsdesk worker -c COUNT -Q pages`` process, ready, stopped with SIGTERM after."""
    command = [
        NEWSDESK,
        "worker",
        "-c",
        str(count),
        "-Q",
        "pages",
        "-n",
        f"bench{count}@%h",
        "--broker",
        broker,
        "--database",
        database,
        "--loglevel",
        "WARNING",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
            env=benchmark_environment(**environment),
        )
    try:
        _wait_ready(process, count, log)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], count: int, log: Path) -> None:
    """Wait until the worker's pool processes are up (its log level hides the "ready" line)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker ended: {log.read_text(errors='replace')[-2000:]}")
        try:
            if len(psutil.Process(process.pid).children(recursive=True)) >= count:
                time.sleep(1.0)  # the pool processes' own start-up
                return
        except psutil.Error:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the worker was not ready in 90 s: {log.read_text()[-2000:]}")


class QueueProbe:
    """Looks at a broker's queue over one connection, counting the Redis commands it sends,
    so that they can be taken out of the commands the pipeline sent (``redis_commands``)."""

    def __init__(self, broker: str, queue: str = "pages") -> None:
        self.client = redis.Redis.from_url(broker)
        self.queue = queue
        self.commands = 0

    def empty(self) -> bool:
        """No message waiting in the queue and none taken but unacknowledged (``acks_late``)."""
        keys = self.client.keys(f"{self.queue}*")
        waiting = sum(int(self.client.llen(key)) for key in keys)
        unacked = int(self.client.hlen("unacked"))
        self.commands += 2 + len(keys)
        return waiting == 0 and unacked == 0

    def waiting(self) -> int:
        """Messages in the queue or taken and not yet acknowledged."""
        self.commands += 2
        return int(self.client.llen(self.queue)) + int(self.client.hlen("unacked"))

    def redis_commands(self) -> int:
        """Commands the server has run since it started, less this probe's own."""
        stats = self.client.info("commandstats")
        self.commands += 1
        return sum(int(entry["calls"]) for entry in stats.values()) - self.commands

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def queue_empty(broker: str, queue: str = "pages") -> bool:
    """No message waiting in the queue and none taken but unacknowledged (``acks_late``)."""
    probe = QueueProbe(broker, queue)
    try:
        return probe.empty()
    finally:
        probe.close()


@dataclass(frozen=True)
class PostgresCounters:
    """What ``pg_stat_database`` counts for one database, and its backends' CPU time."""

    commits: int
    rows_written: int  # inserted + updated + deleted
    backend_cpu_seconds: float
    backends: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return dict(self.__dict__)


def postgres_counters(url: str) -> PostgresCounters:
    """The database's commits and row writes so far, and the CPU time of its open backends."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    libpq = target.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_force_next_flush()")
        row = connection.execute(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted"
            " FROM pg_stat_database WHERE datname = %s",
            (target.database,),
        ).fetchone()
        pids = [
            pid
            for (pid,) in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (target.database,),
            )
        ]
    cpu = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            continue
    commits, written = row if row else (0, 0)
    return PostgresCounters(int(commits), int(written), cpu, len(pids))

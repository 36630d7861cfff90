"""Prometheus metrics (``newsdesk_*``): what crawls and workers count, what a scrape looks up.

Counted once per page, in the process where the page's outcome arrives: the crawl counts the
pages it fetched and, with the embedded pool, the outcome each pool process sends back; a
queue worker's task counts the outcome of its page. ``docs/metrics.md`` lists every metric.

- ``newsdesk_pages_fetched_total{source}``: article pages downloaded and handed to the workers
  (the crawl summary's ``pages_fetched``).
- ``newsdesk_articles_stored_total{outcome, source}``: ``new``, ``updated`` or ``unchanged``.
- ``newsdesk_pages_skipped_total{reason, kind, source}``: pages that did not become articles,
  by the reason the failures table records; ``kind`` is ``failed`` for the reasons worth a
  retry (``Reason.is_failure``), else ``skipped``.
- ``newsdesk_extraction_seconds``: a histogram of the time extraction and normalisation took,
  for each page handed to extraction (pages refused before it, such as ``not_html``, are not).

Looked up when scraped (``ScrapeCollector``), never on the way of a page: the depth of each
Celery queue in the broker, whether the broker answered, and each enabled source's newest
article and last finished crawl.

Several processes, one count: with ``METRICS_DIR``, counts go to files in that folder
(prometheus_client's multiprocess mode), and an endpoint adds up every file there. A file is
named by a slot, not by a process id: each process holds a lock on its slot while it lives
and a later process takes over a free slot with its counts, so the folder holds one file per
process running at once rather than one per process that ever ran (prometheus_client never
deletes a counter's file, and every scrape reads them all).
"""

from __future__ import annotations

import atexit
import fcntl
import itertools
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

import settings
from storage.freshness import last_finished_crawls, newest_articles
from workers.errors import ConfigurationError
from workers.records import Reason, Skip

log = logging.getLogger(__name__)

# Seconds; extraction is given up at EXTRACT_TIME_LIMIT (30 s by default).
EXTRACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ARTICLE_OUTCOMES = ("new", "updated", "unchanged")
BROKER_TIMEOUT = 1.0  # seconds a scrape waits for the broker


class Counts:
    """The counters and the histogram of one process."""

    def __init__(self) -> None:
        # registry=None: each endpoint builds its own registry (``registry``), and one
        # reading the files of the multiprocess mode must not also hold them.
        self.pages_fetched = Counter(
            "newsdesk_pages_fetched",
            "Article pages downloaded and handed to the workers.",
            ["source"],
            registry=None,
        )
        self.articles_stored = Counter(
            "newsdesk_articles_stored",
            "Articles stored, by outcome: new, updated (a new revision) or unchanged.",
            ["outcome", "source"],
            registry=None,
        )
        self.pages_skipped = Counter(
            "newsdesk_pages_skipped",
            "Pages that did not become articles, by the reason recorded in the failures "
            "table; kind is failed for reasons worth a retry, else skipped.",
            ["reason", "kind", "source"],
            registry=None,
        )
        self.extraction_seconds = Histogram(
            "newsdesk_extraction_seconds",
            "Seconds extraction and normalisation took for a page handed to extraction.",
            buckets=EXTRACTION_BUCKETS,
            registry=None,
        )

    def all(self) -> list[Counter | Histogram]:
        """Every metric, for exposition."""
        return [
            self.pages_fetched,
            self.articles_stored,
            self.pages_skipped,
            self.extraction_seconds,
        ]


_counts: Counts | None = None
_directory: Path | None = None


def counts() -> Counts:
    """This process's metrics, made on first use: in the files of ``METRICS_DIR`` if set."""
    global _counts
    if _counts is None:
        if _directory is not None:
            # Read when a metric's value is made; every value of ours is made after this.
            values.ValueClass = values.MultiProcessValue(process_identifier=ProcessSlot(_directory))
        _counts = Counts()
    return _counts


def count_in(directory: str | Path) -> None:
    """Count in files under ``directory`` from now on, here and in the processes started from
    here (prometheus_client's multiprocess mode); before anything is counted."""
    global _directory
    path = Path(directory).resolve()
    if _counts is not None and path != _directory:
        raise RuntimeError(f"metrics already counted elsewhere than {path}")
    path.mkdir(parents=True, exist_ok=True)
    settings.use_metrics_dir(str(path))
    _directory = path


def directory() -> Path | None:
    """The folder counts are kept in, or None when this process keeps its own in memory."""
    return _directory


def count_fetched(source: str | None) -> None:
    """Count an article page that was downloaded and handed to the workers."""
    counts().pages_fetched.labels(source or "").inc()


def count_outcome(outcome: dict[str, Any], source: str | None) -> None:
    """Count a page's final outcome, as ``workers.tasks`` returns it; ``queued`` is not one.

    ``extract_seconds``, when present, is how long extraction took.
    """
    kind = outcome.get("outcome")
    if kind in ARTICLE_OUTCOMES:
        counts().articles_stored.labels(kind, source or "").inc()
    elif kind in ("skipped", "failed"):
        reason = Reason(outcome["reason"])
        failed = "failed" if reason.is_failure else "skipped"
        counts().pages_skipped.labels(str(reason), failed, source or "").inc()
    seconds = outcome.get("extract_seconds")
    if seconds is not None:
        counts().extraction_seconds.observe(seconds)


def count_skip(skip: Skip) -> None:
    """Count a page recorded as not stored."""
    kind = "failed" if skip.reason.is_failure else "skipped"
    count_outcome({"outcome": kind, "reason": str(skip.reason)}, skip.source)


class ProcessSlot:
    """The name of this process's metric files, called by prometheus_client on every count.

    A slot is a lock file in the folder, ``slot-N.lock``, held (``flock``) while the process
    lives: no two running processes share one, whatever their process ids (also across
    containers sharing the folder), and the kernel frees it however the process ends. A
    forked child takes a slot of its own on its first count.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pid = 0
        self._name = ""
        self._lock: IO[bytes] | None = None

    def __call__(self) -> str:
        if self._pid != os.getpid():
            self._claim()
            self._pid = os.getpid()
        return self._name

    def _claim(self) -> None:
        if self._lock is not None:
            self._lock.close()  # the parent's, inherited by fork: the parent still holds it
        for number in itertools.count():
            lock = open(self.folder / f"slot-{number}.lock", "ab")  # noqa: SIM115 - held open
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            # No "_": prometheus_client splits file names at it.
            self._lock, self._name = lock, f"slot{number}"
            return


class ScrapeCollector(Collector):
    """Gauges looked up when an endpoint is scraped.

    With a Redis broker: ``newsdesk_queue_depth{queue}``, the pages (or crawls) waiting in
    each Celery queue, and ``newsdesk_broker_up``; the broker is given one try of at most
    BROKER_TIMEOUT seconds, so a scrape neither hangs nor fails while it is down. With a
    database: ``newsdesk_source_last_crawl_timestamp_seconds{source}`` and
    ``newsdesk_source_last_article_timestamp_seconds{source}`` for each enabled source; the
    newest articles take a pass over the articles table, so that answer is kept for
    ``freshness_interval`` seconds.
    """

    def __init__(
        self,
        *,
        engine: Engine | None = None,
        broker_url: str = "",
        queues: Iterable[str] = (),
        freshness_interval: float = 60.0,
    ) -> None:
        self.engine = engine
        self.queues = sorted(queues)
        self.freshness_interval = freshness_interval
        self._broker: redis.Redis | None = None
        if broker_url.startswith(("redis://", "rediss://", "unix://")):
            self._broker = redis.Redis.from_url(
                broker_url,
                socket_connect_timeout=BROKER_TIMEOUT,
                socket_timeout=BROKER_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )
        elif broker_url:
            log.warning("queue depth is only looked up in a Redis broker, not %s", broker_url)
        self._articles: tuple[float, dict[str, datetime]] | None = None

    def describe(self) -> Iterable[Metric]:
        """Nothing to check at registration: the names are newsdesk's own."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The gauges, looked up now."""
        if self._broker is not None:
            yield from self._queue_depths(self._broker)
        if self.engine is not None:
            yield from self._freshness(self.engine)

    def _queue_depths(self, broker: redis.Redis) -> Iterator[Metric]:
        up = GaugeMetricFamily("newsdesk_broker_up", "1 if the broker answered this scrape.")
        depth = GaugeMetricFamily(
            "newsdesk_queue_depth",
            "Messages waiting in each Celery queue of the broker (taken ones not counted).",
            labels=["queue"],
        )
        try:
            with broker.pipeline(transaction=False) as pipe:
                for queue in self.queues:
                    for key in _queue_keys(queue):
                        pipe.llen(key)
                lengths = iter(pipe.execute())
        except redis.RedisError as error:
            log.warning("queue depth not looked up, the broker did not answer: %s", error)
            up.add_metric([], 0)
            yield up
            return
        for queue in self.queues:
            depth.add_metric([queue], sum(next(lengths) for _ in _queue_keys(queue)))
        up.add_metric([], 1)
        yield up
        yield depth

    def _freshness(self, engine: Engine) -> Iterator[Metric]:
        try:
            crawls = last_finished_crawls(engine)
            articles = self._newest_articles(engine)
        except SQLAlchemyError as error:
            log.warning("source freshness not looked up, the database did not answer: %s", error)
            return
        yield _timestamps(
            "newsdesk_source_last_crawl_timestamp_seconds",
            "When the last finished crawl of each enabled source ended (Unix time).",
            crawls,
        )
        yield _timestamps(
            "newsdesk_source_last_article_timestamp_seconds",
            "When the newest article of each enabled source was first stored (Unix time).",
            articles,
        )

    def _newest_articles(self, engine: Engine) -> dict[str, datetime]:
        now = time.monotonic()
        if self._articles is None or now - self._articles[0] >= self.freshness_interval:
            self._articles = (now, newest_articles(engine))
        return self._articles[1]


def _queue_keys(queue: str) -> list[str]:
    """The Redis lists of a Celery queue: one per priority step (kombu's Redis transport)."""
    from kombu.transport.redis import PRIORITY_STEPS, Channel  # for scrapes only: not a crawl's

    return [queue, *(f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS if step)]


def _timestamps(name: str, documentation: str, moments: dict[str, datetime]) -> Metric:
    gauge = GaugeMetricFamily(name, documentation, labels=["source"])
    for source, moment in sorted(moments.items()):
        gauge.add_metric([source], moment.timestamp())
    return gauge


class _ThisProcess(Collector):
    """The counts of this process, when it keeps them in memory (no ``METRICS_DIR``)."""

    def collect(self) -> Iterator[Metric]:
        if _counts is not None:
            for metric in _counts.all():
                yield from metric.collect()


def celery_queues() -> list[str]:
    """The Celery queues newsdesk uses: the default one (pages) and those of its routes."""
    routed = [route["queue"] for route in settings.CELERY_TASK_ROUTES.values()]
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed})


def registry(engine: Engine | None = None, broker_url: str = "") -> CollectorRegistry:
    """What an endpoint exposes: the counts (of every process counting in ``METRICS_DIR``, or
    of this one) and the gauges looked up from ``engine`` and ``broker_url`` when scraped."""
    exposed = CollectorRegistry()
    if _directory is not None:
        MultiProcessCollector(exposed, path=str(_directory))
    else:
        exposed.register(_ThisProcess())
    exposed.register(
        ScrapeCollector(
            engine=engine,
            broker_url=broker_url,
            queues=celery_queues(),
            freshness_interval=settings.METRICS_FRESHNESS_INTERVAL,
        )
    )
    return exposed


def serve_worker_metrics(port: int, *, database_url: str, broker_url: str) -> None:
    """Serve ``/metrics`` on ``port`` (0: do nothing) from a thread of this worker process.

    The worker's pool processes count in ``METRICS_DIR``, or, when it is not set, in a folder
    of this worker's own, removed when it exits; the crawls it runs count there too.
    """
    if not port:
        return
    if _directory is None:
        own = tempfile.mkdtemp(prefix="newsdesk-metrics-")
        atexit.register(_remove_folder, own, os.getpid())
        count_in(own)
    # No pooled connection: the pool processes forked later must not inherit one.
    engine = create_engine(_driver(database_url), poolclass=NullPool)
    try:
        start_http_server(port, settings.METRICS_HOST, registry(engine, broker_url))
    except OSError as error:
        where = f"{settings.METRICS_HOST}:{port}"
        raise ConfigurationError(f"cannot serve metrics on {where}: {error.strerror}") from error


def _remove_folder(folder: str, owner: int) -> None:
    """Remove ``folder`` when the process that made it exits (not a forked child of it)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def _driver(url: str) -> str:
    from storage.sql import database_url

    return database_url(url)


if settings.METRICS_DIR:
    count_in(settings.METRICS_DIR)

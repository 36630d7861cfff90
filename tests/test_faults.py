"""Faults with real processes: every page ends stored exactly once or recorded with a reason.

The main run crawls 324 pages of the local site (its 36 pages, served 9 times) onto a Redis
of the test's own, which keeps an append-only file synced on every write; two ``newsdesk
worker`` processes store them in a PostgreSQL of the test's own. As the pages are stored,
three faults strike in turn: a worker is killed, Redis is killed and started again, and
PostgreSQL refuses connections for 20 s. None may be lost, none stored twice. (One run for
the three, since a run takes two minutes on two cores.)

Smaller tests show the parts: pages lost from Redis are fetched again by the next crawl, a
page that keeps killing its worker process or runs past the hard time limit is recorded, and
a crawl without a broker waits out a database outage.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

import psutil
import pytest
import redis
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from sqlalchemy.exc import OperationalError

from spiders.pipelines import HandOffPipeline
from spiders.sample_site import SampleSite
from storage.sql import Database
from tests import services
from tests.cli import crawl_summary, host_port
from tests.conftest import NEWS_SITE
from tests.processes import (
    big_page,
    kill_while_busy,
    newsdesk_process,
    wait_for,
    worker_busy_with_a_big_page,
    worker_ready,
)
from workers.records import FetchedPage, Reason, Skip
from workers.tasks import PageWork

COPIES = 9
PAGES = 36 * COPIES


@pytest.fixture(scope="module")
def site() -> Iterator[SampleSite]:
    """The local site with every page served 9 times: 324 pages."""
    with SampleSite(NEWS_SITE, copies=COPIES) as served:
        yield served


@pytest.fixture(scope="module")
def own_redis() -> Iterator[services.ThrowawayServer]:
    """A Redis of this module's own, with an append-only file, that a test may kill."""
    server = services.start_redis(durable=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[services.ThrowawayServer]:
    """A PostgreSQL of this module's own, that a test may stop and start."""
    server = services.start_postgres()
    yield server
    server.stop()


@dataclass
class FaultRun:
    """One run: the site crawled onto the test's Redis, workers storing into its PostgreSQL."""

    site: SampleSite
    broker: str
    database: str
    logs: Path

    def crawl(self, *args: str) -> dict:
        """Crawl every page onto the queue (with no worker running yet); the summary."""
        urls = self.logs / "urls.txt"
        urls.write_text("\n".join(self.site.urls_file_lines()))
        allow = host_port(self.site.base_url)
        return crawl_summary("--urls", str(urls), *self.common(), *args,
                             "--allow-private", allow, cwd=self.logs)  # fmt: skip

    def common(self) -> list[str]:
        """The options naming the broker and the database."""
        return ["--broker", self.broker, "--database", self.database]

    @contextmanager
    def worker(self, name: str) -> Iterator[Popen[bytes]]:
        """A running one-process ``newsdesk worker`` named ``name``, its log in ``name.log``."""
        with newsdesk_process("worker", "-c", "1", "-n", f"{name}@%h", *self.common(),
                              log=self.log(name), ready=worker_ready) as process:  # fmt: skip
            yield process

    def log(self, name: str) -> Path:
        """The log file of worker ``name``."""
        return self.logs / f"{name}.log"

    def wait_until_stored(self, count: int, timeout: float = 120) -> None:
        """Wait until ``count`` articles are stored."""
        with Database.open(self.database, migrate=False) as database:
            wait_for(lambda: database.count_articles() >= count, timeout, self.log("one"))

    def wait_until_done(self, timeout: float = 240) -> Accounts:
        """Wait until every page is stored or recorded and the queue is empty; the accounts."""
        queue = redis.Redis.from_url(self.broker)

        def done() -> bool:
            try:
                idle = queue.llen("pages") == 0 and queue.hlen("unacked") == 0
            except redis.RedisError:
                return False
            return idle and len(accounts(self.database).pages) >= PAGES

        try:
            wait_for(done, timeout, self.log("two"))
            time.sleep(2)  # time for a late second copy of a page to show up
        finally:
            queue.close()
        return accounts(self.database)


@dataclass(frozen=True)
class Accounts:
    """What became of the pages: stored (with their revisions) or recorded with a reason."""

    stored: Counter[str]  # page URL: articles stored from it
    revisions: Counter[str]  # article URL: versions stored
    recorded: dict[str, str]  # page URL: reason

    @property
    def pages(self) -> set[str]:
        """Every page accounted for."""
        return set(self.stored) | set(self.recorded)


def accounts(database_url: str) -> Accounts:
    """The accounts of the pages in a database."""
    with Database.open(database_url, migrate=False) as database:
        stored = Counter(article.fetched_url for article in database.articles())
        revisions = Counter(revision["url"] for revision in database.revisions())
        recorded = {row["url"]: row["reason"] for row in database.failures()}
    return Accounts(stored, revisions, recorded)


def assert_every_page_accounted_for_once(run: FaultRun, found: Accounts) -> None:
    """Zero lost, zero duplicated: each page stored exactly once or recorded with a reason."""
    urls = set(run.site.urls_file_lines())
    assert len(urls) == PAGES
    assert found.pages == urls  # none lost (and none made up)
    assert set(found.stored).isdisjoint(found.recorded)  # never both
    assert set(found.stored.values()) == {1}  # each page stored by one article
    assert set(found.revisions.values()) == {1}  # and that article stored once
    assert all(Reason(reason) for reason in found.recorded.values())


@pytest.fixture
def run(
    site: SampleSite,
    own_redis: services.ThrowawayServer,
    own_postgres: services.ThrowawayServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FaultRun]:
    """An empty queue and database, and settings that make recovery quick enough to wait for.

    A page held by a dead worker comes back after 10 s (an hour by default); store retries
    wait at most 8 s each (5 min by default), still riding out more than 20 s in all.
    """
    client = redis.Redis.from_url(own_redis.url)
    client.flushall()
    client.close()
    database = services.fresh_postgres_database(own_postgres.url)
    for name, value in {
        "BROKER_VISIBILITY_TIMEOUT": "10",
        "BROKER_RESTORE_INTERVAL": "1",
        "WORKER_RETRY_BACKOFF_MAX": "8",
        "WORKER_PREFETCH_MULTIPLIER": "1",
        "DOWNLOAD_DELAY": "0.01",
        "AUTOTHROTTLE_ENABLED": "false",
    }.items():
        monkeypatch.setenv(f"NEWSDESK_{name}", value)
    yield FaultRun(site, f"{own_redis.url}/0", database, tmp_path)
    if own_postgres.process.poll() is None:
        services.drop_postgres_database(database)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_every_page_is_accounted_for_through_a_killed_worker_redis_and_database_outages(
    run: FaultRun,
    own_redis: services.ThrowawayServer,
    own_postgres: services.ThrowawayServer,
) -> None:
    """One run of 324 pages through the three faults, a quarter of the pages apart."""
    assert run.crawl()["pages_queued"] == PAGES
    queue = redis.Redis.from_url(run.broker)
    with run.worker("one") as one, run.worker("two"):
        # (a) A worker is killed with SIGKILL while it processes a page; a supervisor would
        # start another. The page comes back to the queue once its visibility timeout passes.
        run.wait_until_stored(PAGES // 5)
        in_flight = kill_while_busy(one, run.log("one"))
        assert one.returncode == -signal.SIGKILL
        with run.worker("three"):
            # (b) Redis crashes and comes back: only what is on disk survives.
            run.wait_until_stored(2 * PAGES // 5)
            waiting = queue.llen("pages")
            own_redis.halt(signal.SIGKILL)
            time.sleep(3)
            own_redis.start_again()
            assert queue.llen("pages") >= waiting - 2  # the workers take pages, not Redis
            # (c) PostgreSQL refuses connections for 20 s.
            run.wait_until_stored(3 * PAGES // 5)
            own_postgres.halt()
            time.sleep(20)
            own_postgres.start_again()
            found = run.wait_until_done()
    queue.close()
    logs = {name: run.log(name).read_text() for name in ("one", "two", "three")}
    assert len(in_flight) == 1
    assert all(f"[{task}] succeeded" in logs["two"] + logs["three"] for task in in_flight)
    assert "Connection to broker lost" in logs["two"]
    assert "retry: Retry in" in logs["two"] + logs["three"]  # pages waited for the database
    assert_every_page_accounted_for_once(run, found)
    assert len(found.stored) == PAGES  # and none of them needed to be given up


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_pages_lost_from_redis_are_fetched_again_by_the_next_crawl(
    news_site: SampleSite,
    own_redis: services.ThrowawayServer,
    own_postgres: services.ThrowawayServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The crawl state counts pages stored or recorded, not pages queued.

    The pages come from a feed, whose own validators are saved only once every page it lists
    was stored or recorded: a ``304 Not Modified`` must not hide pages that Redis lost.
    """
    monkeypatch.setenv("NEWSDESK_DOWNLOAD_DELAY", "0.01")
    monkeypatch.setenv("NEWSDESK_AUTOTHROTTLE_ENABLED", "false")
    database = services.fresh_postgres_database(own_postgres.url)
    broker = f"{own_redis.url}/0"
    queue = redis.Redis.from_url(broker)
    queue.flushall()
    args = ["--feed", news_site.feed_url("rss"), "--broker", broker, "--database", database,
            "--allow-private", host_port(news_site.base_url)]  # fmt: skip
    try:
        assert crawl_summary(*args, cwd=tmp_path)["pages_queued"] == 36
        queue.flushdb()  # Redis lost every queued page
        again = crawl_summary(*args, cwd=tmp_path)
        assert (again["pages_known"], again["pages_queued"]) == (0, 36)
        log = tmp_path / "worker.log"
        with (
            newsdesk_process("worker", "-c", "1", "--broker", broker, "--database", database,
                             log=log, ready=worker_ready),
            Database.open(database, migrate=False) as stored,
        ):  # fmt: skip
            wait_for(lambda: stored.count_articles() == 36, 120, log)
        last = crawl_summary(*args, cwd=tmp_path)
        assert (last["pages_known"], last["pages_queued"]) == (36, 0)
        assert last["listings_not_modified"] == 0
        final = crawl_summary(*args, cwd=tmp_path)
        assert (final["pages_queued"], final["listings_not_modified"]) == (0, 1)
    finally:
        queue.close()
        services.drop_postgres_database(database)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_a_page_that_keeps_killing_its_worker_process_is_recorded(
    broker_url: str, postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poison page is given to a worker again only ``WORKER_LOST_LIMIT`` times."""
    monkeypatch.setenv("NEWSDESK_WORKER_LOST_LIMIT", "1")
    log = tmp_path / "worker.log"
    with worker_busy_with_a_big_page(broker_url, postgres_database, log) as worker:
        for child in psutil.Process(worker.pid).children():
            child.kill()  # as a segfault or the out of memory killer would
        with Database.open(postgres_database, migrate=False) as database:
            wait_for(lambda: database.failures(), 60, log)
            time.sleep(2)  # time for a wrong article to show up
            failures = database.failures()
            assert database.count_articles() == 0
    assert [(f["reason"], f["stage"]) for f in failures] == [("extract_error", "extract")]
    assert failures[0]["detail"] == "worker process lost 1x while processing the page"
    assert failures[0]["url"] == big_page().url


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_a_page_killed_at_the_hard_time_limit_is_recorded(
    broker_url: str, postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool process stuck where the soft limit cannot reach it is killed; its page recorded."""
    for name, value in {"WORKER_SOFT_TIME_LIMIT": "2", "WORKER_HARD_TIME_LIMIT": "4"}.items():
        monkeypatch.setenv(f"NEWSDESK_{name}", value)
    log = tmp_path / "worker.log"
    with (
        worker_busy_with_a_big_page(broker_url, postgres_database, log) as worker,
        Database.open(postgres_database, migrate=False) as database,
    ):
        for child in psutil.Process(worker.pid).children():
            child.suspend()  # stuck in C code, say: the soft limit's signal does not get through
        wait_for(lambda: database.failures(), 60, log)
        time.sleep(2)  # time for a wrong article to show up
        failures = database.failures()
        assert database.count_articles() == 0
    assert [(f["reason"], f["url"]) for f in failures] == [("extract_timeout", big_page().url)]
    assert failures[0]["detail"].startswith("killed at the hard time limit")
    assert "Hard time limit (4s) exceeded" in log.read_text()


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_a_page_past_the_soft_time_limit_is_recorded(
    broker_url: str, postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_WORKER_SOFT_TIME_LIMIT", "1")
    log = tmp_path / "worker.log"
    with (
        worker_busy_with_a_big_page(broker_url, postgres_database, log),
        Database.open(postgres_database, migrate=False) as database,
    ):
        wait_for(lambda: database.failures(), 60, log)
        failures = database.failures()
        assert database.count_articles() == 0
    assert [(f["reason"], f["url"]) for f in failures] == [("extract_timeout", big_page().url)]


class _DatabaseAway:
    """Workers whose database answers only from the third try on."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0

    async def process(self, page: FetchedPage) -> dict[str, Any]:
        self.tries += 1
        if self.tries <= self.failures:
            raise OperationalError("INSERT …", {}, ConnectionRefusedError("refused"))
        return {"url": page.url, "outcome": "new"}

    async def record(self, skip: Skip) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("retries", "outcome", "tries"), [(8, "new", 3), (1, "failed", 2)])
def test_the_crawl_hands_a_page_over_again_while_the_database_is_away(
    retries: int, outcome: str, tries: int
) -> None:
    stats = StatsCollector(Crawler(Spider, {}))
    pipeline = HandOffPipeline(PageWork("sqlite://"), stats, store_retries=retries,
                               store_max_interval=0.01)  # fmt: skip
    pipeline.workers = workers = _DatabaseAway(failures=2)
    page = big_page()
    done = asyncio.run(pipeline.process_item(page))
    assert (done["outcome"], workers.tries) == (outcome, tries)
    counted = "newsdesk/articles/new" if outcome == "new" else "newsdesk/failed/store_error"
    assert stats.get_value(counted) == 1

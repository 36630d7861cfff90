"""The production shape with real parts: crawl onto Redis, Celery workers, PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import redis

from benchmarks.metrics import title_match, word_f1
from spiders.sample_site import SampleSite
from storage.sql import Database
from tests import services
from tests.cli import NEWSDESK, crawl_summary, host_port
from tests.conftest import NEWS_SITE
from tests.processes import newsdesk_process, wait_for, worker_busy_with_a_big_page, worker_ready

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_crawl_onto_the_queue_and_two_workers_store_every_page_once(
    news_site: SampleSite, broker_url: str, postgres_database: str, tmp_path: Path
) -> None:
    common = ["--broker", broker_url, "--database", postgres_database]
    with (
        newsdesk_process("worker", "-c", "1", "-Q", "pages", "-n", "one@%h", *common,
                         log=tmp_path / "one.log", ready=worker_ready),
        newsdesk_process("worker", "-c", "1", "-Q", "pages", "-n", "two@%h", *common,
                         log=tmp_path / "two.log", ready=worker_ready),
    ):  # fmt: skip
        summary = crawl_summary(
            "--feed", news_site.feed_url("rss"), *common,
            "--allow-private", host_port(news_site.base_url), cwd=tmp_path,
        )  # fmt: skip
        assert summary["pages_queued"] == 36
        assert summary["articles_stored"] == 0  # the workers store them, not the crawler
        database = Database.open(postgres_database, migrate=False)
        wait_for(lambda: database.count_articles() >= 36, 120, tmp_path / "one.log")
        articles = list(database.articles())
        database.close()
    logs = [(tmp_path / name).read_text() for name in ("one.log", "two.log")]
    assert all("newsdesk.process_page" in log for log in logs)  # both workers took pages
    assert len(articles) == 36
    assert len({a.url for a in articles}) == 36
    expected = {case.path: case.expected for case in news_site.cases}
    f1 = [word_f1(a.body, expected[_path(a.fetched_url)]["body"]) for a in articles]
    titles = [title_match(a.title, expected[_path(a.fetched_url)]["title"]) for a in articles]
    assert sum(f1) / len(f1) >= 0.93
    assert sum(titles) / len(titles) >= 0.8


def test_pages_wait_for_a_broker_that_is_briefly_down(
    news_site: SampleSite, postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crawl keeps trying while Redis is down, and queues every page once it is back."""
    port = services.free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    monkeypatch.setenv("NEWSDESK_BROKER_SEND_RETRIES", "40")
    monkeypatch.setenv("NEWSDESK_BROKER_SEND_MAX_INTERVAL", "1")
    args = ["crawl", "--feed", news_site.feed_url("rss"), "--max-pages", "5", "--json",
            "--broker", broker, "--database", postgres_database,
            "--allow-private", host_port(news_site.base_url)]  # fmt: skip
    crawl = subprocess.Popen([NEWSDESK, *args], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(4)  # the crawl has fetched its pages and is retrying the broker by now
    assert crawl.poll() is None
    server = services.start_redis(port)
    try:
        out, _ = crawl.communicate(timeout=120)
        summary = json.loads(out)
        assert summary["pages_queued"] == 5
        assert summary["failed"] == {}
        assert redis.Redis.from_url(broker).llen("pages") == 5  # waiting for a worker
    finally:
        server.stop()


def test_pages_are_recorded_when_the_broker_stays_down(
    news_site: SampleSite, postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = f"redis://127.0.0.1:{services.free_port()}/0"
    monkeypatch.setenv("NEWSDESK_BROKER_SEND_RETRIES", "2")
    summary = crawl_summary(
        "--feed", news_site.feed_url("rss"), "--max-pages", "5", "--broker", broker,
        "--database", postgres_database, "--allow-private", host_port(news_site.base_url),
        cwd=tmp_path,
    )  # fmt: skip
    assert summary["pages_queued"] == 0
    assert summary["failed"] == {"queue_error": 5}
    with Database.open(postgres_database) as database:
        failures = database.failures()
    assert len(failures) == 5
    assert {f["reason"] for f in failures} == {"queue_error"}
    assert all("broker unreachable" in f["detail"] for f in failures)


def test_a_page_whose_worker_process_is_killed_is_processed_again(
    broker_url: str, postgres_database: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with worker_busy_with_a_big_page(broker_url, postgres_database, log) as worker:
        children = psutil.Process(worker.pid).children()
        assert children
        for child in children:
            child.kill()
        with Database.open(postgres_database, migrate=False) as database:
            wait_for(lambda: database.count_articles() == 1, 90, log)
            time.sleep(2)  # time for a wrong second copy or a failure record to show up
            assert database.count_articles() == 1
            assert database.failures() == []
    assert "WorkerLostError" in log.read_text()


def test_two_crawlers_sharing_a_frontier_fetch_each_page_once(
    broker_url: str, postgres_database: str, tmp_path: Path
) -> None:
    with SampleSite(NEWS_SITE, copies=3) as site:
        urls = tmp_path / "urls.txt"
        urls.write_text("\n".join(site.urls_file_lines()))
        args = ["crawl", "--urls", str(urls), "--frontier", "run-1", "--json",
                "--broker", broker_url, "--database", postgres_database,
                "--allow-private", host_port(site.base_url)]  # fmt: skip
        env = {**os.environ, "NEWSDESK_DOWNLOAD_DELAY": "0.05"}
        crawlers = [
            subprocess.Popen([NEWSDESK, *args], stdout=subprocess.PIPE, text=True, env=env)
            for _ in range(2)
        ]
        summaries = [json.loads(crawler.communicate(timeout=180)[0]) for crawler in crawlers]
        hits = site.hits
    pages = [site.page_path(case, copy) for copy in range(3) for case in site.cases]
    assert {path: hits[path] for path in pages} == {path: 1 for path in pages}
    assert sum(s["pages_queued"] for s in summaries) == 108
    assert all(s["pages_queued"] > 0 for s in summaries)  # both did part of the work

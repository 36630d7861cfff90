"""The production shape with real parts: crawl onto Redis, Celery workers, PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from benchmarks.metrics import title_match, word_f1
from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import crawl_summary, host_port
from tests.processes import newsdesk_process, wait_for, worker_ready

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

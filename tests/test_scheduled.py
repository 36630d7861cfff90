"""Scheduled crawls with real parts: sources, beat, a worker, Redis, PostgreSQL."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import newsdesk, write_sources
from tests.processes import newsdesk_process, wait_for, worker_ready

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def test_sources_import_and_list(news_site: SampleSite, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'sources.db'}"
    sources = write_sources(tmp_path / "sources.toml", news_site, every="15m", max_pages=5)
    done = newsdesk("sources", "import", str(sources), "--database", database, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sample: new"
    again = newsdesk("sources", "import", str(sources), "--database", database, cwd=tmp_path)
    assert again.stdout.strip() == "sample: unchanged"
    listed = newsdesk("sources", "list", "--database", database, cwd=tmp_path)
    assert listed.stdout.startswith("sample  every 15m  1 feeds  never crawled")
    crawl = newsdesk("crawl", "--source", "sample", "--database", database, "--json", cwd=tmp_path)
    assert crawl.returncode == 0, crawl.stderr
    assert json.loads(crawl.stdout)["articles_stored"] == 5  # the source's max_pages
    rows = json.loads(newsdesk("sources", "list", "--json", "--database", database,
                               cwd=tmp_path).stdout)  # fmt: skip
    assert rows[0]["last_crawl"]["status"] == "finished"
    assert rows[0]["last_crawl"]["summary"]["articles_stored"] == 5


def test_beat_runs_the_crawl_and_an_overlapping_trigger_is_skipped(
    news_site: SampleSite,
    broker_url: str,
    postgres_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A slow crawl (about 0.3 s a page, one at a time) and a schedule of every 2 s, so beat
    # triggers the source again while its first crawl is still running.
    sources = write_sources(
        tmp_path / "sources.toml", news_site, every="2s",
        download_delay=0.3, concurrent_requests_per_domain=1,
    )  # fmt: skip
    common = ["--broker", broker_url, "--database", postgres_database]
    done = newsdesk("sources", "import", str(sources), "--database", postgres_database,
                    cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("NEWSDESK_SOURCES_RELOAD_INTERVAL", "1")
    database = Database.open(postgres_database, migrate=False)
    with (
        newsdesk_process("worker", "-c", "3", *common, log=tmp_path / "worker.log",
                         ready=worker_ready),
        newsdesk_process("beat", *common, log=tmp_path / "beat.log"),
    ):  # fmt: skip
        wait_for(lambda: database.count_articles() >= 36, 180, tmp_path / "worker.log")
        wait_for(lambda: any(c["status"] == "finished" for c in database.crawls("sample")), 60)
    crawls = database.crawls("sample", limit=100)
    database.close()
    skipped = [c for c in crawls if c["status"] == "skipped"]
    assert skipped, crawls
    assert all("already running" in c["detail"] for c in skipped)
    worker_log = (tmp_path / "worker.log").read_text()
    assert "crawl of source sample skipped: a crawl of this source is already running" in worker_log
    beat_log = (tmp_path / "beat.log").read_text()
    assert "crawl:sample" in beat_log
    # Every crawl that ran did so alone: no two "running"/"finished" crawls overlap in time.
    ran = sorted((c["started_at"], c["finished_at"]) for c in crawls if c["status"] == "finished")
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(ran))

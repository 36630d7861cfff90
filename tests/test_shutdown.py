"""Graceful shutdown with real processes: SIGTERM to a worker and to a crawl loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import NEWSDESK, crawl_summary, host_port
from tests.conftest import NEWS_SITE
from tests.processes import wait_for, worker_busy_with_a_big_page

pytestmark = pytest.mark.slow


@pytest.mark.redis
@pytest.mark.postgres
def test_sigterm_to_a_worker_finishes_its_page(
    broker_url: str, postgres_database: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with worker_busy_with_a_big_page(broker_url, postgres_database, log) as worker:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    with Database.open(postgres_database, migrate=False) as database:
        assert database.count_articles() == 1
        assert database.failures() == []
    assert "succeeded" in log.read_text()


def test_sigterm_to_a_crawl_stops_it_cleanly_and_the_next_run_carries_on(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'stopped.db'}"
    with SampleSite(NEWS_SITE, copies=3) as site:
        urls = tmp_path / "urls.txt"
        urls.write_text("\n".join(site.urls_file_lines()))
        args = ["--urls", str(urls), "--database", database,
                "--allow-private", host_port(site.base_url)]  # fmt: skip
        crawl = subprocess.Popen([NEWSDESK, "crawl", *args, "--json"], stdout=subprocess.PIPE,
                                 text=True, cwd=tmp_path)  # fmt: skip
        wait_for(lambda: sum(site.hits.values()) >= 10, 60)
        crawl.send_signal(signal.SIGTERM)
        out, _ = crawl.communicate(timeout=120)
        assert crawl.returncode == 0
        first = json.loads(out)
        with Database.open(database) as stored:
            assert 0 < stored.count_articles() < 108  # stopped part-way
            assert stored.count_articles() == first["articles_stored"]  # in-flight pages kept
            assert stored.crawls(limit=1)[0]["status"] == "finished"
        second = crawl_summary(*args, cwd=tmp_path)
        pages = [site.page_path(case, copy) for copy in range(3) for case in site.cases]
        assert all(site.hits[path] == 1 for path in pages)  # nothing fetched twice
    assert first["articles_stored"] + second["articles_stored"] == 108

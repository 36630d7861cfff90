"""The crawl's own process fetches and hands pages over; it never loads the extraction code.

So a re-crawl that finds nothing new costs Scrapy's start-up and a few database reads, not the
import of trafilatura (issue 8). Each crawl runs ``newsdesk crawl`` in a child process of its
own, which reports, once done, which of the heavy modules it had loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from scrapy.settings import Settings

from spiders.addons import REMOTE_CONTROL, LeanExtensions
from spiders.sample_site import SampleSite
from tests.cli import host_port

# What only a pool process or a queue worker needs: extraction, and the workers' Celery app
# (whose tasks import extraction); aiohttp comes with Scrapy's remote control.
HEAVY = ("trafilatura", "extruct", "workers.extract", "workers.tasks", "workers.celery", "aiohttp")

_REPORTING_CRAWL = f"""
import json, sys
from workers.cli import main
status = main(["crawl", *sys.argv[1:], "--json"])
loaded = sorted(name for name in {HEAVY!r} if name in sys.modules)
print(json.dumps({{"status": status, "loaded": loaded}}), file=sys.stderr)
"""


def crawl_in_child(*args: str, cwd: Path) -> tuple[dict[str, Any], list[str]]:
    """The summary of ``newsdesk crawl ARGS --json`` run in a child process, and the heavy
    modules that process had loaded by its end."""
    done = subprocess.run(
        [sys.executable, "-c", _REPORTING_CRAWL, *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["status"] == 0, done.stderr
    return json.loads(done.stdout), report["loaded"]


def test_an_embedded_crawl_and_its_recrawl_leave_extraction_to_the_pool(
    news_site: SampleSite, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(news_site.page_url(news_site.cases[0]) + "\n", encoding="utf-8")
    common = ["--urls", str(urls), "--database", f"sqlite:///{tmp_path / 'n.db'}",
              "--allow-private", host_port(news_site.base_url)]  # fmt: skip

    first, loaded = crawl_in_child(*common, cwd=tmp_path)
    assert first["pages_fetched"] == 1
    assert first["articles"] == {"new": 1}  # extracted and stored by a pool process
    assert loaded == []

    again, loaded = crawl_in_child(*common, cwd=tmp_path)
    assert (again["pages_known"], again["pages_fetched"], again["articles_stored"]) == (1, 0, 0)
    assert loaded == []


@pytest.mark.redis
def test_a_crawl_onto_the_queue_sends_pages_without_the_workers_code(
    news_site: SampleSite, broker_url: str, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(news_site.page_url(news_site.cases[0]) + "\n", encoding="utf-8")
    summary, loaded = crawl_in_child(
        "--urls", str(urls), "--database", f"sqlite:///{tmp_path / 'n.db'}",
        "--allow-private", host_port(news_site.base_url), "--broker", broker_url,
        cwd=tmp_path,
    )  # fmt: skip
    assert summary["pages_queued"] == 1
    assert loaded == []
    queue = redis.Redis.from_url(broker_url)
    try:
        messages = [json.loads(raw) for raw in queue.lrange("pages", 0, -1)]
    finally:
        queue.close()
    assert [m["headers"]["task"] for m in messages] == ["newsdesk.process_page"]


def test_the_remote_control_is_left_out_unless_enabled() -> None:
    settings = Settings({"REMOTE_CONTROL_ENABLED": False})
    assert REMOTE_CONTROL in settings.getdict("EXTENSIONS_BASE")  # Scrapy's default
    LeanExtensions().update_settings(settings)
    assert REMOTE_CONTROL not in settings.getdict("EXTENSIONS_BASE")
    assert "scrapy.extensions.corestats.CoreStats" in settings.getdict("EXTENSIONS_BASE")

    enabled = Settings()  # on by Scrapy's default
    LeanExtensions().update_settings(enabled)
    assert REMOTE_CONTROL in enabled.getdict("EXTENSIONS_BASE")

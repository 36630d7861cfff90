"""Finding articles on a whole site, and re-crawling only what changed, with real parts."""

from __future__ import annotations

import json
import time
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import crawl_summary, host_port, newsdesk
from tests.conftest import NEWS_SITE
from tests.local_http import QuietHandler, serving

pytestmark = pytest.mark.slow


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_site_discovery_and_incremental_recrawl(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'site.db'}"
    with SampleSite(NEWS_SITE) as site:
        args = ["--site", site.base_url + "/", "--database", database,
                "--allow-private", host_port(site.base_url)]  # fmt: skip
        articles = set(site.article_paths())

        # The home page alone: feeds, sitemaps and sections are found, articles stored.
        first = crawl_summary(*args, cwd=tmp_path)
        with Database.open(database) as stored:
            paths = {_path(a.fetched_url) for a in stored.articles()}
        assert len(paths & articles) >= 0.95 * len(articles)
        assert paths <= articles  # no about, contact, tag, section… page became an article
        assert first["articles"] == {"new": len(paths)}
        hits = site.hits
        assert all(hits[path] == 1 for path in articles)  # each article page fetched once
        assert not any(hits[path] for path in site.non_article_paths() if "/tag/" in path)

        # Unchanged site: no article page is asked for again, nothing is stored.
        site.reset_hits()
        second = crawl_summary(*args, cwd=tmp_path)
        assert sum(site.hits[path] for path in articles) == 0
        assert second["articles"] == {}
        assert second["pages_fetched"] == 0

        # One page changes and its sitemap lastmod moves: exactly that page is fetched again.
        changed = site.cases[3]
        site.change_page(changed, text="Update: the council has since confirmed the plan.")
        site.reset_hits()
        third = crawl_summary(*args, cwd=tmp_path)
        refetched = {path for path in articles if site.hits[path]}
        assert refetched == {site.page_path(changed)}
        assert third["articles"] == {"updated": 1}

    done = newsdesk("export", "--revisions", "--database", database, cwd=tmp_path)
    revisions = [json.loads(line) for line in done.stdout.splitlines()]
    of_changed = [r for r in revisions if _path(r["fetched_url"]) == site.page_path(changed)]
    assert [r["revision"] for r in of_changed] == [1, 2]
    assert "the council has since confirmed the plan" in of_changed[1]["body"]
    assert "the council has since confirmed the plan" not in of_changed[0]["body"]
    assert len(revisions) == len(paths) + 1

    report = json.loads(
        newsdesk("stats", "--crawls", "5", "--json", "--database", database, cwd=tmp_path).stdout
    )
    summaries = [crawl["summary"] for crawl in report["crawls"]]
    assert [s["articles"] for s in summaries] == [{"updated": 1}, {}, {"new": len(paths)}]
    assert summaries[2]["pages_discovered"] >= 36


def test_a_sitemap_index_alone_finds_every_article(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'sitemap.db'}"
    with SampleSite(NEWS_SITE) as site:
        summary = crawl_summary(
            "--sitemap", site.base_url + "/sitemap_index.xml", "--database", database,
            "--allow-private", host_port(site.base_url), cwd=tmp_path,
        )  # fmt: skip
        articles = set(site.article_paths())
        assert all(site.hits[path] == 1 for path in articles)
    assert summary["articles"] == {"new": 36}
    # The sitemaps also list the about, contact… pages: fetched, and not stored as articles.
    assert set(summary["skipped"]) == {"not_article"}


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'throttled.db'}"
    with SampleSite(NEWS_SITE) as site:
        path = site.page_path(site.cases[5])
        site.throttle_once(path, retry_after=2, status=429)
        urls = tmp_path / "urls.txt"
        urls.write_text(site.base_url + path + "\n")
        summary = crawl_summary(
            "--urls", str(urls), "--database", database,
            "--allow-private", host_port(site.base_url), cwd=tmp_path,
        )  # fmt: skip
        first, second = site.request_times(path)
    # The crawler holds the request by the wall clock (the time travels with the request), the
    # site times it by the monotonic one; while NTP slews the wall clock the two drift by a few
    # milliseconds over two seconds (1.995 s seen here just after the machine booted).
    assert second - first >= 2.0 - 0.05
    assert summary["articles"] == {"new": 1}


def test_a_site_that_keeps_failing_gets_a_growing_delay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    times: list[float] = []

    class Failing(QuietHandler):
        def do_GET(self) -> None:
            times.append(time.monotonic())  # robots.txt first: it fails too
            time.sleep(0.2)  # as slow as a real site, so each failure is seen before the next
            self.reply(500)

    slow_and_failing = {
        "RETRY_TIMES": "0", "AUTOTHROTTLE_ENABLED": "false", "DOWNLOAD_DELAY": "0.2",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "CRAWL_BACKOFF_AFTER": "2",
        "CRAWL_BACKOFF_MAX_DELAY": "2",
    }  # fmt: skip
    for name, value in slow_and_failing.items():
        monkeypatch.setenv(f"NEWSDESK_{name}", value)
    with serving(Failing) as base:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{base}/story-{n}.html\n" for n in range(6)))
        summary = crawl_summary(
            "--urls", str(urls), "--database", f"sqlite:///{tmp_path / 'failing.db'}",
            "--allow-private", host_port(base), cwd=tmp_path,
        )  # fmt: skip
    assert summary["failed"] == {"http_error": 6}
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert len(gaps) == 6
    assert gaps[0] < 0.9  # before the second failure in a row: no back-off
    # Then 1 s, then 2 s between requests (Scrapy varies each delay by up to half of it).
    assert min(gaps[2:]) >= 0.9
    assert sum(gaps[2:]) >= 4.5

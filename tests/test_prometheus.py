"""Prometheus metrics with real parts: crawls, ``newsdesk serve`` and workers, scraped over HTTP.

The counters must say what the database says: articles stored as rows, skips by reason as the
failures table, and each later crawl must move them by what it did.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis
from celery import Celery
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from spiders.sample_site import SampleSite
from storage.queries import ArticleFilter, Queries
from storage.sql import Database
from tests import services
from tests.cli import crawl_summary, host_port, newsdesk
from tests.conftest import NEWS_SITE
from tests.processes import big_page, newsdesk_process, wait_for, worker_ready
from workers import metrics
from workers.metrics import ScrapeCollector, registry
from workers.pagework import PageWork
from workers.records import Article, FetchedPage, Source
from workers.tasks import process_page


@dataclass(frozen=True)
class Scrape:
    """The samples of one scrape."""

    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` that have ``labels`` (0 when there is none)."""
        return sum(s.value for s in self._matching(name, labels))

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """The samples of ``name`` that have ``labels``, added up by the value of ``label``."""
        found: dict[str, float] = {}
        for sample in self._matching(name, labels):
            key = sample.labels[label]
            found[key] = found.get(key, 0) + sample.value
        return found

    def moved_from(self, before: Scrape, name: str, label: str, **labels: str) -> dict[str, float]:
        """How much each value of ``label`` of ``name`` went up since the scrape ``before``."""
        old, new = before.by(name, label, **labels), self.by(name, label, **labels)
        return {
            key: value - old.get(key, 0) for key, value in new.items() if value != old.get(key, 0)
        }

    def has(self, name: str) -> bool:
        """Whether any sample is called ``name``."""
        return any(sample.name == name for sample in self.samples)

    def _matching(self, name: str, labels: dict[str, str]) -> list[Sample]:
        return [s for s in self.samples if s.name == name and labels.items() <= s.labels.items()]


def parse(text: str) -> Scrape:
    """The samples of a Prometheus text exposition."""
    families = text_string_to_metric_families(text)
    return Scrape([sample for family in families for sample in family.samples])


def scrape(url: str) -> Scrape:
    """Scrape ``url`` as Prometheus does: a plain GET, no credentials."""
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def newest_article_time(database: Database, source: str) -> float:
    """When the newest article of ``source`` was first stored, as the API lists it."""
    page = Queries(database.engine).articles(ArticleFilter(source=source), 200)
    return max(datetime.fromisoformat(item["first_stored_at"]).timestamp() for item in page.items)


def last_crawl_time(database: Database, source: str) -> float:
    """When the last finished crawl of ``source`` ended, as ``newsdesk stats`` records it."""
    crawl = next(c for c in database.crawls(source) if c["status"] == "finished")
    finished: datetime = crawl["finished_at"]
    return finished.timestamp() if finished.tzinfo else finished.replace(tzinfo=UTC).timestamp()


@pytest.mark.slow
def test_serve_shows_what_the_crawls_counted_and_the_database_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_METRICS_DIR", str(tmp_path / "metrics"))
    monkeypatch.setenv("NEWSDESK_API_TOKEN", "a-token-that-metrics-do-not-need")
    database_url = f"sqlite:///{tmp_path / 'news.db'}"
    with SampleSite(NEWS_SITE) as site:  # its own: one of its pages changes
        base = site.base_url
        # The Atom feed, whose entries' dates move when a page changes; a 404, a page that is
        # not an article and an image beside it.
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "sample"\nfeeds = ["{site.feed_url("atom")}"]\n'
            f'urls = ["{base}/missing", "{base}/about", "{base}/media/logo.png"]\n'
            f'allow_private = ["{host_port(base)}"]\n'
        )
        imported = newsdesk("sources", "import", str(tmp_path / "sources.toml"),
                            "--database", database_url, cwd=tmp_path)  # fmt: skip
        assert imported.returncode == 0, imported.stderr
        first = crawl_summary("--source", "sample", "--database", database_url, cwd=tmp_path)

        port = services.free_port()
        with newsdesk_process(
            "serve", "--database", database_url, "--port", str(port), log=tmp_path / "serve.log",
            ready=lambda text: "Uvicorn running on" in text, timeout=120,
        ):  # fmt: skip
            server = f"http://127.0.0.1:{port}"
            before = scrape(f"{server}/metrics")
            with Database.open(database_url, migrate=False) as database:
                stored, failures = database.count_articles(), database.count_failures()
                newest = newest_article_time(database, "sample")
                crawled = last_crawl_time(database, "sample")
            assert "/metrics" not in httpx.get(f"{server}/openapi.json").json()["paths"]

            # A page changes; a URL with tracking parameters and an AMP URL lead to two stored
            # articles; a page that is not an article; a URL already recorded is not fetched.
            site.change_page(site.cases[0])
            listed = tmp_path / "more.txt"
            listed.write_text(f"{site.tracking_url(site.cases[1])}\n{site.amp_url(site.cases[2])}\n"
                              f"{base}/contact\n{base}/missing\n")  # fmt: skip
            second = crawl_summary(
                "--feed", site.feed_url("atom"), "--urls", str(listed), "--source", "sample",
                "--allow-private", host_port(base), "--database", database_url, cwd=tmp_path,
            )  # fmt: skip
            after = scrape(f"{server}/metrics")  # the same server: it reads the counts anew
            with Database.open(database_url, migrate=False) as database:
                stored_after, failures_after = database.count_articles(), database.count_failures()
                revisions = len(list(database.revisions()))
                crawled_after = last_crawl_time(database, "sample")

    # The first crawl: every counter as the database and the crawl summary have it.
    assert first["articles"] == {"new": 36} and stored == 36
    assert before.by("newsdesk_articles_stored_total", "outcome") == {"new": stored}
    assert before.value("newsdesk_articles_stored_total", source="sample") == stored
    assert failures == {"not_found": 1, "not_article": 1, "not_html": 1}
    assert before.by("newsdesk_pages_skipped_total", "reason", source="sample") == failures
    assert before.by("newsdesk_pages_skipped_total", "kind") == {"skipped": 3}
    assert first["pages_fetched"] == 38  # 36 articles, /about, the logo; the 404 is no page
    assert before.value("newsdesk_pages_fetched_total", source="sample") == 38
    # Every page fetched went to extraction, but the image (not_html), refused before it.
    assert before.value("newsdesk_extraction_seconds_count") == 38 - 1
    assert before.value("newsdesk_extraction_seconds_bucket", le="+Inf") == 38 - 1
    assert before.value("newsdesk_extraction_seconds_sum") > 0
    assert before.value("newsdesk_source_last_article_timestamp_seconds", source="sample") == (
        pytest.approx(newest, abs=1e-3)
    )
    assert before.value("newsdesk_source_last_crawl_timestamp_seconds", source="sample") == (
        pytest.approx(crawled, abs=1e-3)
    )
    assert not before.has("newsdesk_queue_depth") and not before.has("newsdesk_broker_up")

    # The second crawl moved each counter by what it did, and no more.
    fetched = [scraped.value("newsdesk_pages_fetched_total") for scraped in (before, after)]
    assert fetched[1] - fetched[0] == second["pages_fetched"] == 4
    assert second["articles"] == {"updated": 1, "unchanged": 2}
    assert after.by("newsdesk_articles_stored_total", "outcome") == {
        "new": 36, "updated": 1, "unchanged": 2,
    }  # fmt: skip
    assert stored_after == 36  # the unchanged ones are the stored articles of those URLs
    assert revisions == 36 + 1  # one revision each, and the new one of the changed page
    assert failures_after == {"not_found": 1, "not_article": 2, "not_html": 1}
    assert after.by("newsdesk_pages_skipped_total", "reason") == failures_after
    assert after.value("newsdesk_extraction_seconds_count") - 37 == 4
    assert after.value("newsdesk_source_last_crawl_timestamp_seconds") == (
        pytest.approx(crawled_after, abs=1e-3)
    )
    assert crawled_after > crawled
    # Both crawls ran one after the other: the second took over the first's files.
    folder = tmp_path / "metrics"
    assert sorted(path.name for path in folder.glob("*.db")) == [
        "counter_slot0.db", "histogram_slot0.db",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_a_worker_serves_the_queue_depth_and_the_counts_of_its_processes(
    news_site: SampleSite,
    broker_url: str,
    postgres_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed = news_site.feed_url("rss")
    common = ["--broker", broker_url, "--database", postgres_database]
    folder = tmp_path / "metrics"
    monkeypatch.setenv("NEWSDESK_METRICS_DIR", str(folder))
    summary = crawl_summary("--feed", feed, *common, "--allow-private",
                            host_port(news_site.base_url), cwd=tmp_path)  # fmt: skip
    assert summary["pages_queued"] == 36

    # A worker that takes crawls only, so the pages wait on the queue. Without METRICS_DIR it
    # counts in a folder of its own, where the crawl did not count.
    monkeypatch.delenv("NEWSDESK_METRICS_DIR")
    port = services.free_port()
    with newsdesk_process("worker", "-Q", "crawls", "-c", "1", "--metrics-port", str(port),
                          *common, log=tmp_path / "crawls.log", ready=worker_ready):  # fmt: skip
        waiting = scrape(f"http://127.0.0.1:{port}/metrics")
    assert waiting.by("newsdesk_queue_depth", "queue") == {"pages": 36, "crawls": 0}
    assert waiting.value("newsdesk_broker_up") == 1
    assert not waiting.has("newsdesk_pages_fetched_total")

    # A worker of two pool processes counting in the crawl's folder: its endpoint adds up the
    # crawl's counts and those of its processes.
    monkeypatch.setenv("NEWSDESK_METRICS_DIR", str(folder))
    port = services.free_port()
    log = tmp_path / "pages.log"
    url = f"http://127.0.0.1:{port}/metrics"
    with newsdesk_process("worker", "-c", "2", "--metrics-port", str(port), *common, log=log,
                          ready=worker_ready):  # fmt: skip
        wait_for(lambda: scrape(url).value("newsdesk_articles_stored_total") >= 36, 120, log)
        done = scrape(url)
        with Database.open(postgres_database, migrate=False) as database:
            stored, failures = database.count_articles(), database.count_failures()
    assert stored == 36 and failures == {}
    assert done.by("newsdesk_articles_stored_total", "outcome") == {"new": stored}
    assert done.value("newsdesk_articles_stored_total", source=feed) == stored
    assert done.value("newsdesk_pages_fetched_total", source=feed) == 36  # by the crawl
    assert done.value("newsdesk_extraction_seconds_count") == 36
    assert not done.has("newsdesk_pages_skipped_total")
    assert done.by("newsdesk_queue_depth", "queue") == {"pages": 0, "crawls": 0}
    assert "ForkPoolWorker" in log.read_text()  # the pages were stored in pool processes


def test_extraction_time_is_counted_for_pages_handed_to_extraction(sqlite_database: str) -> None:
    Database.open(sqlite_database).close()  # the schema
    work = PageWork(database_url=sqlite_database)
    hurried = PageWork(database_url=sqlite_database, time_limit=0.2)  # too short for big_page
    url = "https://news.example.com/2026/"
    image = FetchedPage(url + "logo.png", url + "logo.png", 200, {"Content-Type": "image/png"},
                        b"\x89PNG\r\n\x1a\n", "2026-11-29T00:00:00+00:00", "test")  # fmt: skip
    short = FetchedPage(url + "brief", url + "brief", 200, {"Content-Type": "text/html"},
                        b"<html><body><p>Two words.</p></body></html>",
                        "2026-11-29T00:00:00+00:00", "test")  # fmt: skip
    outcomes = [process_page(page.to_dict(), work) for page in (image, short)]
    outcomes.append(process_page(big_page().to_dict(), hurried))
    assert [o["reason"] for o in outcomes] == ["not_html", "not_article", "extract_timeout"]
    assert "extract_seconds" not in outcomes[0]  # refused before extraction
    assert outcomes[1]["extract_seconds"] > 0
    assert outcomes[2]["extract_seconds"] > 0  # until EXTRACT_TIME_LIMIT stopped it

    histogram = "newsdesk_extraction_seconds_count"
    before = parse(generate_latest(registry()).decode())
    for outcome in outcomes:
        metrics.count_outcome(outcome, "test")
    after = parse(generate_latest(registry()).decode())
    assert after.value(histogram) - before.value(histogram) == 2
    skipped = "newsdesk_pages_skipped_total"
    # The registry is the test process's own: other tests may have counted before this one.
    assert after.moved_from(before, skipped, "reason", source="test") == {
        "not_html": 1, "not_article": 1, "extract_timeout": 1,
    }  # fmt: skip
    assert after.moved_from(before, skipped, "kind", source="test") == {"skipped": 2, "failed": 1}


@pytest.mark.redis
def test_queue_depth_counts_every_priority_of_a_queue(broker_url: str) -> None:
    sender = Celery(broker=broker_url)
    try:
        for priority in (None, None, 9):
            sender.send_task("newsdesk.process_page", args=[big_page().to_dict()],
                             queue="pages", priority=priority)  # fmt: skip
    finally:
        sender.close()
    assert redis.Redis.from_url(broker_url).llen("pages") == 2  # the third waits in another list
    collector = ScrapeCollector(broker_url=broker_url, queues=["pages", "crawls"])
    found = parse(_exposition(collector))
    assert found.by("newsdesk_queue_depth", "queue") == {"pages": 3, "crawls": 0}
    assert found.value("newsdesk_broker_up") == 1


def test_a_scrape_goes_on_while_the_broker_is_down() -> None:
    gone = f"redis://127.0.0.1:{services.free_port()}/0"  # nothing listens there
    found = parse(_exposition(ScrapeCollector(broker_url=gone, queues=["pages"])))
    assert found.value("newsdesk_broker_up") == 0
    assert not found.has("newsdesk_queue_depth")


def test_source_freshness_counts_enabled_sources_and_finished_crawls(database: Database) -> None:
    for name, enabled in (("daily", True), ("paused", False)):
        database.save_source(Source(name, feeds=[f"https://{name}.example/feed"], enabled=enabled))
    finished = database.start_crawl("daily")
    database.finish_crawl(finished, "finished", {})
    database.finish_crawl(database.start_crawl("daily"), "failed", {}, "broker down")
    database.start_crawl("daily")  # still running
    for number, source in enumerate(["daily", "paused", "ad hoc"]):
        database.store(_article(f"https://{number}.example/story", source))

    found = parse(generate_latest(registry(database.engine)).decode())
    last_crawl = found.by("newsdesk_source_last_crawl_timestamp_seconds", "source")
    assert last_crawl == {"daily": pytest.approx(last_crawl_time(database, "daily"), abs=1e-3)}
    newest = found.by("newsdesk_source_last_article_timestamp_seconds", "source")
    assert newest == {"daily": pytest.approx(newest_article_time(database, "daily"), abs=1e-3)}

    # The newest articles are looked up again only once freshness_interval has passed.
    kept = ScrapeCollector(engine=database.engine, freshness_interval=3600)
    looked_up = ScrapeCollector(engine=database.engine, freshness_interval=0)
    first = parse(_exposition(kept))
    database.store(_article("https://3.example/later-story", "daily"))
    name = "newsdesk_source_last_article_timestamp_seconds"
    assert parse(_exposition(kept)).value(name) == first.value(name)
    assert parse(_exposition(looked_up)).value(name) == pytest.approx(
        newest_article_time(database, "daily"), abs=1e-3
    )
    assert parse(_exposition(looked_up)).value(name) > first.value(name)


# A process that counts one fetched page of source "a", then waits for a line on stdin.
_COUNT_AND_WAIT = (
    "from workers import metrics\n"
    "metrics.count_fetched('a')\n"
    "print('counted', flush=True)\n"
    "input()\n"
)
_COUNT = "from workers import metrics\nmetrics.count_fetched('a')\n"
# A process that counts, forks, and counts again in itself and in the child.
_COUNT_AND_FORK = (
    "import os\n"
    "from workers import metrics\n"
    "metrics.count_fetched('a')\n"
    "child = os.fork()\n"
    "metrics.count_fetched('a')\n"
    "os._exit(0) if child == 0 else os.waitpid(child, 0)\n"
)


def test_processes_keep_one_file_each_for_as_many_as_run_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSDESK_METRICS_DIR": str(tmp_path)}
    waiting = subprocess.Popen([sys.executable, "-c", _COUNT_AND_WAIT], env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert waiting.stdout is not None and waiting.stdout.readline() == "counted\n"
        for _ in range(3):  # one after the other, beside the waiting one
            subprocess.run([sys.executable, "-c", _COUNT], env=env, check=True)
        assert len(list(tmp_path.glob("counter_*.db"))) == 2
    finally:
        waiting.communicate("\n", timeout=60)
    subprocess.run([sys.executable, "-c", _COUNT_AND_FORK], env=env, check=True)
    assert sorted(path.name for path in tmp_path.glob("counter_*.db")) == [
        "counter_slot0.db", "counter_slot1.db",
    ]  # fmt: skip
    counted = parse(_exposition(MultiProcessCollector(None, path=str(tmp_path))))
    # The waiting one, three one after the other, the forking one twice and its child once.
    assert counted.value("newsdesk_pages_fetched_total", source="a") == 1 + 3 + 2 + 1


def _exposition(collector: Collector) -> str:
    exposed = CollectorRegistry()
    exposed.register(collector)
    return generate_latest(exposed).decode()


def _article(url: str, source: str) -> Article:
    return Article(url=url, fetched_url=url, title="A story", body=f"The story of {url}.",
                   content_hash=url, source=source)  # fmt: skip

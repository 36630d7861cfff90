"""The shared frontier, for real: a real Redis, and two crawler processes over the local site.

``python -m tests.spiders.test_frontier --redis URL --frontier NAME ...`` is one of the crawler
processes the tests start: it crawls with the frontier and prints its own stats as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from scrapy import Request
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import DontCloseSpider
from scrapy.http import FormRequest
from scrapy.utils.request import RequestFingerprinter

from spiders.crawl import crawl_settings
from spiders.feeds import FeedSpider
from spiders.frontier import (
    FrontierDupeFilter,
    FrontierScheduler,
    frontier_key,
    frontier_settings,
    request_from_json,
    request_to_json,
)
from spiders.sample_site import SampleSite
from spiders.urls import UrlListSpider
from storage.sql import Database
from tests import services
from tests.conftest import NEWS_SITE
from workers.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_SECONDS = 300
TTL_SECONDS = 600


class FrontierFeedSpider(FeedSpider):
    """The feed spider with its feed requests filtered like any other, as a frontier needs."""

    async def start(self) -> AsyncIterator[Request]:
        """The feed requests, without ``dont_filter``: one process of the frontier fetches each."""
        async for request in super().start():
            yield request.replace(dont_filter=False)


def unique_frontier() -> str:
    return f"test-{secrets.token_hex(6)}"


def frontier_keys(client: redis.Redis, frontier: str) -> set[str]:
    return {key.decode() for key in client.scan_iter(match=frontier_key(frontier, "*"))}


def forget_frontier(client: redis.Redis, frontier: str) -> None:
    for key in frontier_keys(client, frontier) | {ready_key(frontier)}:
        client.delete(key)


def ready_key(frontier: str) -> str:
    """Where the crawler processes of a test say they are ready (not a key of the frontier)."""
    return f"newsdesk:test:{frontier}:ready"


@pytest.fixture(scope="module")
def redis_server() -> str:
    return services.redis_url()


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server)
    yield connection
    connection.close()


# --- Requests as JSON ------------------------------------------------------------------------


def test_a_request_survives_the_json_round_trip() -> None:
    spider = UrlListSpider(urls=[])
    request = Request(
        "https://example.com/ümlaut?b=2&a=1",
        callback=spider.parse_article,
        errback=spider.request_failed,
        method="POST",
        headers={"X-Title": "Caf\xe9".encode("latin-1"), "Accept": ["a", "b"]},
        body=b"\x00\xff binary",
        meta={"newsdesk_hints": {"title": "Ünïcode", "tags": ["a", "b"]}, "depth": 2},
        priority=3,
        dont_filter=True,
        cb_kwargs={"n": 1},
    )
    again = request_from_json(request_to_json(request, spider).encode(), spider)
    assert again.url == request.url
    assert again.callback == spider.parse_article
    assert again.errback == spider.request_failed
    assert again.method == "POST"
    assert again.headers.getlist("X-Title") == [b"Caf\xe9"]
    assert again.headers.getlist("Accept") == [b"a", b"b"]
    assert again.body == b"\x00\xff binary"
    assert again.meta == request.meta
    assert (again.priority, again.dont_filter, again.cb_kwargs) == (3, True, {"n": 1})


def test_what_json_cannot_carry_is_refused() -> None:
    spider = UrlListSpider(urls=[])
    with pytest.raises(ValueError, match="cannot cross the frontier"):
        request_to_json(Request("https://example.com/", meta={"when": object()}), spider)
    with pytest.raises(ValueError, match=r"only scrapy\.Request"):
        request_to_json(FormRequest("https://example.com/", formdata={"q": "x"}), spider)


@pytest.mark.parametrize("name", ["", "a b", "run:1", "x*", "ü"])
def test_frontier_names_are_checked(name: str) -> None:
    with pytest.raises(ConfigurationError, match="frontier name"):
        frontier_settings("redis://127.0.0.1:6379", name)


def test_frontier_settings_name_the_components_and_keys() -> None:
    settings = frontier_settings("redis://h:6379/2", "run-1.a_b", ttl_seconds=60, idle_seconds=3)
    assert settings == {
        "SCHEDULER": "spiders.frontier.FrontierScheduler",
        "DUPEFILTER_CLASS": "spiders.frontier.FrontierDupeFilter",
        "CRAWL_FRONTIER_REDIS_URL": "redis://h:6379/2",
        "CRAWL_FRONTIER_NAME": "run-1.a_b",
        "CRAWL_FRONTIER_TTL_SECONDS": 60,
        "CRAWL_FRONTIER_IDLE_SECONDS": 3,
    }
    assert frontier_key("run-1.a_b", "seen") == "newsdesk:frontier:run-1.a_b:seen"


# --- The components on a real Redis ------------------------------------------------------------


@pytest.fixture
def scheduler(redis_server: str, client: redis.Redis) -> Iterator[Any]:
    """Make schedulers with their own connections, as in other processes, opened for a spider."""
    made: list[FrontierScheduler] = []

    def make(frontier: str, idle_seconds: float = 0.0) -> FrontierScheduler:
        own = redis.Redis.from_url(redis_server)
        seen = FrontierDupeFilter(own, frontier_key(frontier, "seen"), 60, RequestFingerprinter())
        opened = FrontierScheduler(own, frontier, seen, ttl_seconds=60, idle_seconds=idle_seconds)
        opened.open(UrlListSpider(urls=[]))
        made.append(opened)
        return opened

    yield make
    for opened in made:
        forget_frontier(client, opened.frontier)
        opened.client.close()


@pytest.mark.redis
def test_schedulers_of_one_frontier_share_the_queue_and_seen_set(
    scheduler: Any, client: redis.Redis
) -> None:
    frontier = unique_frontier()
    first, second = scheduler(frontier), scheduler(frontier)
    spider = first.spider
    urls = [f"https://example.com/{n}" for n in range(4)]
    assert first.enqueue_request(Request(urls[0], callback=spider.parse_article))
    assert first.enqueue_request(Request(urls[1], priority=5))
    assert second.enqueue_request(Request(urls[2]))
    # Seen by the other process: dropped, unless the request says not to filter it.
    assert not second.enqueue_request(Request(urls[0]))
    assert not second.enqueue_request(Request(urls[0] + "#fragment"))
    assert second.enqueue_request(Request(urls[0], dont_filter=True))
    assert first.has_pending_requests() and len(second) == 4

    taken = [second.next_request(), first.next_request(), second.next_request()]
    assert [request.url for request in taken if request] == [urls[1], urls[0], urls[2]]
    assert taken[1] is not None and taken[1].callback == spider.parse_article
    assert [request.url for request in [first.next_request()] if request] == [urls[0]]
    assert first.next_request() is None and not second.has_pending_requests()

    first.close("finished")
    # The first to finish leaves the seen set to the others, with an expiry.
    assert client.scard(frontier_key(frontier, "seen")) == 3
    assert 0 < client.ttl(frontier_key(frontier, "seen")) <= 60
    assert not second.enqueue_request(Request(urls[2]))
    assert second.enqueue_request(Request(urls[3]))
    assert 0 < client.ttl(second.queue_key) <= 60


@pytest.mark.redis
def test_an_idle_scheduler_waits_for_work_before_it_lets_the_spider_close(
    scheduler: Any,
) -> None:
    frontier = unique_frontier()
    waiting, other = scheduler(frontier, 0.3), scheduler(frontier)
    with pytest.raises(DontCloseSpider):
        waiting.wait_while_idle()
    other.enqueue_request(Request("https://example.com/late"))
    assert waiting.has_pending_requests()
    request = waiting.next_request()
    assert request is not None and request.url == "https://example.com/late"
    # Work starts the wait afresh.
    with pytest.raises(DontCloseSpider):
        waiting.wait_while_idle()
    time.sleep(0.35)
    waiting.wait_while_idle()  # idle long enough: the spider may close


# --- Two crawler processes, one frontier ---------------------------------------------------


@dataclass
class SharedCrawl:
    """What two crawler processes sharing one frontier did to the local site."""

    frontier: str
    source: str
    page_paths: list[str]
    hits: Counter[str]
    children: list[dict[str, Any]]
    articles: int


def child_environment() -> dict[str, str]:
    """This environment without the NEWSDESK_* settings a developer's shell may have."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("NEWSDESK_") or name.startswith("NEWSDESK_TEST_")
    }


@pytest.fixture(scope="module", params=["urls", "feed"])
def shared_crawl(
    request: pytest.FixtureRequest, redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedCrawl]:
    """Two crawler processes started together on one frontier over 108 article pages."""
    source: str = request.param
    directory = tmp_path_factory.mktemp(f"frontier-{source}")
    frontier, database = unique_frontier(), f"sqlite:///{directory / 'articles.db'}"
    with SampleSite(NEWS_SITE, copies=3) as site:
        urls_file = directory / "urls.txt"
        urls_file.write_text("\n".join(site.urls_file_lines()) + "\n", encoding="utf-8")
        what = ["--urls-file", str(urls_file)] if source == "urls" else ["--feed", site.feed_url()]
        command = [sys.executable, "-m", "tests.spiders.test_frontier", "--redis", redis_server]
        command += ["--frontier", frontier, "--database", database, "--processes", "2", *what]
        children = []
        for number in range(2):
            with (
                open(directory / f"child{number}.out", "wb") as out,
                open(directory / f"child{number}.err", "wb") as err,
            ):
                children.append(
                    subprocess.Popen(
                        command, cwd=PROJECT_ROOT, env=child_environment(), stdout=out, stderr=err
                    )
                )
        results = []
        for number, child in enumerate(children):
            returncode = child.wait(timeout=CHILD_TIMEOUT_SECONDS)
            stderr = (directory / f"child{number}.err").read_text(errors="replace")
            assert returncode == 0, stderr[-5000:]
            assert "ScrapyDeprecationWarning" not in stderr, stderr[-5000:]
            stdout = (directory / f"child{number}.out").read_text().strip()
            results.append(json.loads(stdout.splitlines()[-1]))
        hits = site.hits
        page_paths = [url.removeprefix(site.base_url) for url in site.urls_file_lines()]
    with Database.open(database) as stored:
        articles = stored.count_articles()
    yield SharedCrawl(frontier, source, page_paths, hits, results, articles)
    client = redis.Redis.from_url(redis_server)
    forget_frontier(client, frontier)
    client.close()


@pytest.mark.slow
@pytest.mark.redis
def test_two_processes_fetch_each_article_page_once_in_total(shared_crawl: SharedCrawl) -> None:
    assert len(shared_crawl.page_paths) == 108
    expected = Counter(dict.fromkeys(shared_crawl.page_paths, 1))
    expected["/robots.txt"] = 2  # robots.txt is each process's own, fetched outside the frontier
    if shared_crawl.source == "feed":
        expected["/feed.xml"] = 1
    assert shared_crawl.hits == expected  # counted at the server

    fetched = [child["pages_fetched"] for child in shared_crawl.children]
    assert sum(fetched) == 108
    assert all(count > 0 for count in fetched), fetched  # the crawl was spread out
    responses = [child["responses"] for child in shared_crawl.children]
    assert sum(responses) == sum(expected.values())
    assert [child["finish_reason"] for child in shared_crawl.children] == ["finished"] * 2
    assert shared_crawl.articles == 108


@pytest.mark.slow
@pytest.mark.redis
def test_the_frontier_is_kept_with_an_expiry_after_the_crawl(
    shared_crawl: SharedCrawl, client: redis.Redis
) -> None:
    seen = frontier_key(shared_crawl.frontier, "seen")
    # The queue is empty, so Redis dropped it; the seen set stays, to expire on its own.
    assert frontier_keys(client, shared_crawl.frontier) == {seen}
    assert client.scard(seen) == 108 + (shared_crawl.source == "feed")
    assert 0 < client.ttl(seen) <= TTL_SECONDS


# --- One crawler process (run by the tests above) --------------------------------------------


def crawl_with_the_frontier(argv: list[str] | None = None) -> dict[str, Any]:
    """Crawl the URL list or feed with the shared frontier; this process's stats."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--frontier", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--processes", type=int, required=True, help="that start together")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--urls-file")
    what.add_argument("--feed")
    args = parser.parse_args(argv)
    overrides = {
        "DATABASE_URL": args.database,
        "ALLOW_PRIVATE": ["127.0.0.1"],
        "AUTOTHROTTLE_ENABLED": False,
        # A polite pace, as on a real site, so that the crawl outlasts the 5 s in which a process
        # waiting for work looks again (Scrapy's engine heartbeat): the feed's second process.
        "DOWNLOAD_DELAY": 0.1,
        "EMBEDDED_PROCESSES": 1,
        **frontier_settings(args.redis, args.frontier, ttl_seconds=TTL_SECONDS, idle_seconds=3),
    }
    process = CrawlerProcess(crawl_settings(overrides))
    if args.feed:
        crawler = process.create_crawler(FrontierFeedSpider)
        process.crawl(crawler, feeds=[args.feed])
    else:
        crawler = process.create_crawler(UrlListSpider)
        process.crawl(crawler, urls_file=args.urls_file)
    wait_for_the_others(args.redis, args.frontier, args.processes)
    process.start()
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    return {
        "responses": stats.get("downloader/response_count", 0),
        "pages_fetched": stats.get("newsdesk/pages_fetched", 0),
        "finish_reason": stats.get("finish_reason"),
    }


def wait_for_the_others(redis_server: str, frontier: str, processes: int) -> None:
    """Start crawling when all processes are ready, so that no one's imports decide the split."""
    client = redis.Redis.from_url(redis_server)
    key = ready_key(frontier)
    client.incr(key)
    client.expire(key, TTL_SECONDS)
    deadline = time.monotonic() + 60
    while int(client.get(key) or 0) < processes and time.monotonic() < deadline:
        time.sleep(0.01)
    client.close()


if __name__ == "__main__":
    print(json.dumps(crawl_with_the_frontier(sys.argv[1:])), flush=True)

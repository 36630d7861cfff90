"""Hostile input: one crawl of a site serving every hostile case, and the limits one by one.

The crawl must complete, record each case with its expected reason, store the good pages,
never reach the trap server, and keep every process under ``MEMORY_BOUND`` (the bound that
docs/reliability.md states).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trafilatura
from scrapy.http import HtmlResponse, Request

from spiders.feeds import dtd_refusal
from spiders.guard import BlockedRequest, RedirectGuard
from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import NEWSDESK, crawl_summary, host_port
from tests.hostile_site import FEEDS, PAGES, SITEMAPS, Case, HostileSite, Trap
from tests.processes import big_page
from workers.embedded import EmbeddedWorkers
from workers.limits import nested_deeper_than, tree_deeper_than
from workers.records import FetchedPage, Skip
from workers.tasks import PageWork, article_from_page

MEMORY_BOUND = 500 * 1024 * 1024  # bytes, per process: docs/reliability.md


@dataclass
class Run:
    """What one hostile crawl left: its exit, output, records and memory peaks."""

    returncode: int
    stdout: str
    stderr: str
    reasons: dict[str, str]  # URL -> recorded reason
    details: dict[str, str]
    stored: set[str]  # fetched URLs of the stored articles
    trap_requests: list[str]
    peaks: dict[str, int] = field(default_factory=dict)  # "pid command" -> peak RSS, bytes


def _peak_rss(pid: int) -> tuple[str, int] | None:
    """A process's name and its peak resident memory so far (Linux: VmHWM), or None."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return f"{pid} {command.decode(errors='replace')[:80]}", int(line.split()[1]) * 1024
    return None


def _watch_memory(root: int, peaks: dict[str, int], done: threading.Event) -> None:
    """Keep the peak of every process under ``root`` (children of the forkserver too)."""
    import psutil

    while not done.is_set():
        try:
            processes = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in processes:
            found = _peak_rss(process.pid)
            if found:
                peaks[found[0]] = max(peaks.get(found[0], 0), found[1])
        time.sleep(0.05)


def _crawl(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``newsdesk crawl ARGS``; its exit status and output. Peak memory goes to ``_PEAKS``.

    The bound is checked on the peaks polled from ``/proc`` (``VmHWM``, each process's own
    high-water mark), not on wait4's ``ru_maxrss``: Linux keeps ``ru_maxrss`` across exec, and
    a child that ``subprocess`` starts with vfork carries the test runner's own peak in it.
    """
    with (cwd / "out.txt").open("w+") as out, (cwd / "err.txt").open("w+") as err:
        process = subprocess.Popen([NEWSDESK, "crawl", *args], cwd=cwd, env=env, stdout=out,
                                   stderr=err)  # fmt: skip
        peaks: dict[str, int] = {}
        done = threading.Event()
        watcher = threading.Thread(target=_watch_memory, args=(process.pid, peaks, done))
        watcher.start()
        try:
            _, status = os.waitpid(process.pid, 0)
        finally:
            done.set()
            watcher.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        _PEAKS.update(peaks)
        return process.returncode, out.read(), err.read()


_PEAKS: dict[str, int] = {}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One crawl of the hostile site: its control feed, the hostile feeds and sitemaps."""
    workdir = tmp_path_factory.mktemp("hostile")
    database = f"sqlite:///{workdir / 'hostile.db'}"
    with Trap() as trap, HostileSite(trap.url, workdir, drip_interval=1.0) as site:
        args = ["--feed", site.url("/feeds/control.xml")]
        for case in FEEDS:
            args += ["--feed", site.url(case.path)]
        for case in SITEMAPS:
            args += ["--sitemap", site.url(case.path)]
        args += ["--sitemap", site.url("/sitemaps/many-urls.xml")]  # 20 URLs, 5 read
        args += ["--allow-private", host_port(site.base_url), "--database", database, "--json"]
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("NEWSDESK_")}  # fmt: skip
        env.update(
            NEWSDESK_DOWNLOAD_TIMEOUT="10",  # the drip sends a byte a second, forever
            NEWSDESK_RETRY_TIMES="0",
            NEWSDESK_CRAWL_MAX_FEED_BYTES="1000000",  # the huge feed is 1.5 MB
            NEWSDESK_CRAWL_SITEMAP_MAX_URLS="5",
            NEWSDESK_EMBEDDED_PROCESSES="2",
            NEWSDESK_AUTOTHROTTLE_ENABLED="false",  # one local site: no need to be polite
            NEWSDESK_DOWNLOAD_DELAY="0.01",
        )
        returncode, stdout, stderr = _crawl(args, workdir, env)
        with Database.open(database) as stored:
            failures = stored.failures()
            articles = list(stored.articles())
        yield Run(
            returncode,
            stdout,
            stderr,
            reasons={row["url"]: row["reason"] for row in failures},
            details={row["url"]: row["detail"] for row in failures},
            stored={article.fetched_url for article in articles},
            trap_requests=list(trap.requests),
            peaks=dict(_PEAKS),
        )


pytestmark = pytest.mark.slow


def test_the_hostile_crawl_completes(hostile_run: Run) -> None:
    assert hostile_run.returncode == 0, hostile_run.stderr[-3000:]
    assert "Traceback" not in hostile_run.stderr


@pytest.mark.parametrize("case", PAGES + FEEDS + SITEMAPS, ids=lambda case: case.path)
def test_each_hostile_case_has_its_reason(hostile_run: Run, case: Case) -> None:
    path, expected = case.path, case.expected
    if expected == "stored":
        assert any(url.endswith(path) for url in hostile_run.stored), hostile_run.reasons
        return
    found = {url: reason for url, reason in hostile_run.reasons.items() if url.endswith(path)}
    assert list(found.values()) == [expected], (found, hostile_run.details)


def test_a_sitemap_is_read_up_to_its_url_limit(hostile_run: Run) -> None:
    listed = [url for url in hostile_run.reasons if "/gone-404.html?n=" in url]
    assert sorted(listed) == sorted(f"{listed[0].split('?')[0]}?n={n}" for n in range(5))
    assert {hostile_run.reasons[url] for url in listed} == {"not_found"}


def test_nothing_reaches_the_trap(hostile_run: Run) -> None:
    """Neither the redirect to its port nor the external entities nor the local feed."""
    assert hostile_run.trap_requests == []


def test_every_process_stays_under_the_memory_bound(hostile_run: Run) -> None:
    assert len(hostile_run.peaks) >= 3  # the crawl, the forkserver, its pool processes
    assert max(hostile_run.peaks.values()) < MEMORY_BOUND, hostile_run.peaks


def test_no_page_is_left_without_an_outcome(hostile_run: Run) -> None:
    cases = PAGES + FEEDS + SITEMAPS
    accounted = set(hostile_run.reasons) | hostile_run.stored
    for case in cases:
        assert any(url.endswith(case.path) for url in accounted), case


# --- The limits one by one -------------------------------------------------------------------


def _page(body: bytes, url: str = "https://news.example.com/a") -> FetchedPage:
    return FetchedPage(url, url, 200, {"Content-Type": "text/html"}, body,
                       "2026-11-29T00:00:00+00:00", "test")  # fmt: skip


@pytest.mark.parametrize(("depth", "deeper"), [(10, False), (198, False), (199, True),
                                               (100_000, True)])  # fmt: skip
def test_nesting_depth_counts_html_and_body(depth: int, deeper: bool) -> None:
    body = b"<html><body>" + b"<div>" * depth + b"x" + b"</div>" * depth + b"</body></html>"
    assert nested_deeper_than(body, 200) is deeper


@pytest.mark.parametrize("depth", [10, 198, 199, 250, 100_000])
@pytest.mark.parametrize("limit", [12, 200, 254])
def test_the_parsed_tree_tells_the_depth_as_the_byte_pass_does(depth: int, limit: int) -> None:
    body = b"<html><body>" + b"<div>" * depth + b"x" + b"</div>" * depth + b"</body></html>"
    tree = trafilatura.load_html(body)
    assert tree_deeper_than(tree, limit) is nested_deeper_than(body, limit)


def test_a_page_nested_too_deep_is_refused_before_extraction(sqlite_database: str) -> None:
    article = big_page().body[:20_000]
    body = b"<div>" * 100_000 + article + b"</div>" * 100_000
    result = article_from_page(_page(body), PageWork(sqlite_database))
    assert isinstance(result, Skip)
    assert (result.reason, result.detail) == ("too_large", "HTML nested deeper than 200 levels")


def test_nesting_is_not_limited_with_max_depth_0(sqlite_database: str) -> None:
    body = b"<div>" * 300 + b"<p>short</p>" + b"</div>" * 300
    result = article_from_page(_page(body), PageWork(sqlite_database, max_depth=0))
    assert isinstance(result, Skip)
    assert result.reason != "too_large"  # extraction ran: libxml2 cut the tree, nothing left


@pytest.mark.parametrize(
    ("head", "refused"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss/>', True),
        (b"<!doctype rss[]><rss/>", True),
        (
            b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss/>',
            False,
        ),
        (b"<rss><channel><title>A [bracket] and <!DOCTYPE x [ ]></title></channel></rss>", False),
        (b"", False),
    ],
)
def test_feeds_declaring_entities_are_refused(head: bytes, refused: bool) -> None:
    assert (dtd_refusal(head) is not None) is refused


def test_the_hard_time_limit_kills_a_page_that_ignores_the_soft_one(tmp_path: Path) -> None:
    """With the soft limit off (as when C code never returns), the pool kills the process,
    records the page as ``extract_timeout`` and goes on with the next page."""
    database_url = f"sqlite:///{tmp_path / 'hard.db'}"
    Database.open(database_url).close()
    # The limit leaves a cold pool process room for its imports on a loaded machine (the first
    # page took over 5 s at load 3); 800,000 empty paragraphs take about 30 s (300,000: 10-14 s).
    work = PageWork(database_url, time_limit=0, hard_time_limit=10.0)
    stuck = _page(b"<html><body>" + b"<p>" * 800_000 + b"</body></html>", "https://a.example/stuck")
    article = big_page().body[:30_000] + b"</p></article></body></html>"
    before, after = (
        _page(article, "https://a.example/before"),
        _page(article, "https://a.example/after"),
    )

    async def run() -> list[dict]:
        workers = EmbeddedWorkers(work, processes=1)
        try:
            return [await workers.process(page) for page in (before, stuck, after)]
        finally:
            workers.close()

    outcomes = asyncio.run(run())
    assert [outcome["outcome"] for outcome in outcomes] == ["new", "failed", "new"], outcomes
    assert outcomes[1]["reason"] == "extract_timeout"
    assert "EXTRACT_HARD_TIME_LIMIT" in outcomes[1]["detail"]
    with Database.open(database_url) as stored:
        [failure] = stored.failures()
    assert (failure["url"], failure["reason"]) == (stuck.url, "extract_timeout")


def test_the_memory_bound_is_the_documented_one() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    assert f"{MEMORY_BOUND // (1024 * 1024)} MB" in text


def test_max_pages_is_one_budget_for_the_whole_crawl(news_site: SampleSite, tmp_path: Path) -> None:
    """A feed and a sitemap crawled together share CRAWL_MAX_PAGES; it is not one per spider."""
    summary = crawl_summary(
        "--feed", news_site.feed_url("rss"), "--sitemap", news_site.sitemap_urls()[0],
        "--max-pages", "5", "--database", f"sqlite:///{tmp_path / 'budget.db'}",
        "--allow-private", host_port(news_site.base_url), cwd=tmp_path,
    )  # fmt: skip
    assert summary["pages_fetched"] == 5
    assert summary["articles_stored"] == 5


def _redirect(url: str, location: str, chain: list[str] | None = None) -> tuple:
    request = Request(url, meta={"redirect_urls": chain} if chain else {})
    return request, HtmlResponse(url, status=302, headers={"Location": location}, request=request)


@pytest.mark.parametrize(
    ("url", "location", "chain", "reason"),
    [
        ("https://a.example/x", "file:///etc/passwd", None, "bad_scheme"),
        ("https://a.example/x", "gopher://a.example/", None, "bad_scheme"),
        ("https://a.example/x", "/x", None, "redirect_loop"),
        ("https://a.example/b", "https://a.example/a?", ["https://a.example/a"], "redirect_loop"),
        ("https://a.example/x", "/y", None, None),
        ("https://a.example/x", "//b.example/x", None, None),
    ],
)
def test_the_redirect_guard_records_what_scrapy_would_drop(
    url: str, location: str, chain: list[str] | None, reason: str | None
) -> None:
    request, response = _redirect(url, location, chain)
    if reason is None:
        assert RedirectGuard().process_response(request, response) is response
        return
    with pytest.raises(BlockedRequest) as refused:
        RedirectGuard().process_response(request, response)
    assert refused.value.reason == reason

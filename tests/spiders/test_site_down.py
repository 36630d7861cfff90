"""An unreachable site is given up within the crawl, and one SIGTERM stops a crawl in back-off.

Real crawls (``newsdesk crawl`` in a child process) of a port where nothing listens, next to a
live local site, and of a site that answers every page with 503 and a long Retry-After.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from OpenSSL.SSL import Error as TLSError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from spiders.politeness import is_unreachable
from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import NEWSDESK, crawl_summary, host_port, newsdesk
from tests.conftest import NEWS_SITE
from tests.local_http import QuietHandler, serving
from tests.processes import wait_for

pytestmark = pytest.mark.slow


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_dead_site_is_given_up_while_a_live_one_is_crawled_and_the_next_crawl_retries(
    tmp_path: Path,
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    database = f"sqlite:///{tmp_path / 'crawl.db'}"
    with SampleSite(NEWS_SITE) as live:
        live_urls = live.urls_file_lines()
        paths = [url.removeprefix(live.base_url) for url in live_urls]
        dead_urls = [f"http://{dead}{path}" for path in paths]
        urls = tmp_path / "urls.txt"
        urls.write_text("\n".join(dead_urls + live_urls) + "\n")
        # The timeout guards against a hang: the old back-off took over an hour on these URLs.
        done = newsdesk("crawl", "--urls", str(urls), "--database", database, "--json",
                        "--allow-private", dead, "--allow-private", host_port(live.base_url),
                        cwd=tmp_path, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert all(live.hits[path] == 1 for path in paths)  # the live site, fully
    summary = json.loads(done.stdout)
    assert summary["articles_stored"] == len(live_urls)
    assert summary["failed"] == {"download_error": len(dead_urls)}
    with Database.open(database, migrate=False) as stored:
        failures = {row["url"]: row for row in stored.failures()}
    assert sorted(failures) == sorted(dead_urls)
    details = [row["detail"] for row in failures.values()]
    given_up = [d for d in details if d.startswith("site unreachable: 5 connection failures")]
    # Robots.txt and the first pages tried (with their retries) made the 5 failures; every
    # other page of the site was recorded unsent.
    assert len(given_up) >= len(dead_urls) - 5
    assert all("Connection refused" in detail for detail in details)
    assert "unreachable (5 connection failures in a row" in done.stderr

    # The next crawl tries the site again: it is up now, on the same port.
    with SampleSite(NEWS_SITE, port=int(dead.rsplit(":", 1)[1])) as revived:
        again = tmp_path / "again.txt"
        again.write_text("\n".join(dead_urls) + "\n")
        second = crawl_summary("--urls", str(again), "--database", database,
                               "--allow-private", dead, cwd=tmp_path)  # fmt: skip
        assert all(revived.hits[path] == 1 for path in paths)
    assert second["articles_stored"] == len(dead_urls)


def test_sigterm_stops_a_crawl_waiting_in_back_off_and_retry_after(tmp_path: Path) -> None:
    hits: list[str] = []

    class Overloaded(QuietHandler):
        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self.reply(404)
                return
            hits.append(self.path)
            self.reply(503, headers={"Retry-After": "600"})

    database = f"sqlite:///{tmp_path / 'stopped.db'}"
    with serving(Overloaded) as base:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{base}/story-{n}.html\n" for n in range(30)))
        crawl = subprocess.Popen(
            [NEWSDESK, "crawl", "--urls", str(urls), "--database", database, "--json",
             "--allow-private", host_port(base)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        )  # fmt: skip
        try:
            # Past CRAWL_BACKOFF_AFTER (3) failures: the site is backed off, and each page
            # answered waits out its Retry-After.
            wait_for(lambda: len(hits) >= 5, 60)
            time.sleep(1)
            crawl.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            out, err = crawl.communicate(timeout=10)
            stopped_after = time.monotonic() - signalled
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait()
    assert crawl.returncode == 0, err
    assert stopped_after < 10
    assert json.loads(out)["articles_stored"] == 0
    with Database.open(database, migrate=False) as stored:
        assert stored.crawls(limit=1)[0]["status"] == "finished"
        assert stored.failures() == []  # pages left unsent are fetched by the next crawl


def failed_download(cause: Exception) -> DownloadFailedError:
    """A ``DownloadFailedError`` as Scrapy raises it, from a Twisted failure."""
    error = DownloadFailedError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (DownloadConnectionRefusedError("refused"), True),
        (CannotResolveHostError("no such host"), True),
        (DownloadTimeoutError("took longer than 30 seconds"), True),
        (failed_download(ResponseNeverReceived([Failure(TLSError("handshake"))])), True),
        (failed_download(ResponseFailed([Failure(ConnectionLost())])), False),  # answered
        (ResponseDataLossError("cut"), False),
    ],
)
def test_which_failures_say_the_site_is_unreachable(error: Exception, unreachable: bool) -> None:
    assert is_unreachable(error) is unreachable

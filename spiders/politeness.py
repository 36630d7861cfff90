"""Be polite to sites that push back, and give up on sites that do not answer at all.

A 429 or 503 answer is retried no sooner than its ``Retry-After`` says (seconds or an HTTP
date; ``CRAWL_RETRY_AFTER_DEFAULT`` when absent, at most ``CRAWL_RETRY_AFTER_MAX``), up to
``RETRY_TIMES`` times; Scrapy's own retry middleware is told to leave those two codes alone.
When a site fails several times in a row (5xx, 429, timeouts, refused connections), the delay
between its requests doubles, up to ``CRAWL_BACKOFF_MAX_DELAY``; a success ends the back-off.
When it fails ``CRAWL_SITE_DOWN_AFTER`` times in a row at the connection level (refused, DNS,
timeout, TLS) with no answer in between, the rest of its requests in this crawl are not
sent: each is recorded as ``download_error`` ("site unreachable: …"), retryable, and the next
crawl tries the site again. A site is a host and port.

Both waits happen here, not in the delay of Scrapy's download slot: Scrapy's graceful shutdown
waits for every request that reached its downloader, and the slot would let them go one per
delay (up to a minute each). Here a wait ends as soon as the crawl is stopping (one SIGTERM
or Ctrl-C); its request is dropped unsent and unrecorded (``CrawlStopping``), like the
requests still in the scheduler, so the next crawl fetches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from weakref import WeakSet

from OpenSSL.SSL import Error as TLSError
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.web.client import ResponseNeverReceived

from spiders.guard import BlockedRequest
from workers.records import Reason

log = logging.getLogger(__name__)

THROTTLED = (429, 503)
_NOT_BEFORE = "newsdesk_not_before"
_THROTTLE_COUNT = "newsdesk_throttled"
# Seconds between two looks, during a wait, at whether the crawl is stopping (Scrapy sends no
# signal when a graceful shutdown begins, it only sets ``Crawler.crawling`` to False) and
# whether the site was found unreachable meanwhile.
_STOP_CHECK_INTERVAL = 0.2
# Failures that mean no answer came from the site at all. Scrapy cannot tell a connect
# timeout from a slow answer; a site that lets that many requests in a row time out is not
# going to answer this crawl either.
_UNREACHABLE = (
    DownloadConnectionRefusedError, CannotResolveHostError, DownloadTimeoutError,
    ConnectError, DNSLookupError, TwistedTimeoutError, TLSError, ResponseNeverReceived,
)  # fmt: skip


class CrawlStopping(IgnoreRequest):
    """A request dropped unsent because the crawl is stopping; nothing is recorded for it."""


def retry_after_seconds(value: bytes | str | None, default: float, limit: float) -> float:
    """Seconds a ``Retry-After`` header asks to wait: a number or an HTTP date; capped."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not value:
        return min(default, limit)
    value = value.strip()
    if value.isdigit():
        return min(float(value), limit)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return min(default, limit)
    return max(0.0, min(moment.timestamp() - time.time(), limit))


def is_unreachable(error: BaseException) -> bool:
    """True when a download failed before the site answered: refused, DNS, timeout, TLS.

    Scrapy wraps a TLS failure in ``DownloadFailedError`` (as it does a connection lost
    mid-answer), so the cause it wraps decides.
    """
    if isinstance(error, DownloadFailedError):
        cause = error.__cause__
        reasons = getattr(cause, "reasons", [])  # ResponseNeverReceived: Failures
        return isinstance(cause, ResponseNeverReceived) or any(
            isinstance(getattr(reason, "value", None), TLSError) for reason in reasons
        )
    return isinstance(error, _UNREACHABLE)


def site_of(request: Request) -> str:
    """``host:port`` of a request: what its back-off and unreachability are counted by."""
    parts = urlparse_cached(request)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or ''}:{port}"


class PolitenessMiddleware:
    """Downloader middleware: Retry-After on 429/503, per-site back-off, unreachable sites."""

    def __init__(
        self,
        crawler: Any,
        *,
        retries: int,
        default_wait: float,
        max_wait: float,
        backoff_after: int,
        max_delay: float,
        down_after: int = 5,
        per_site: int = 4,
    ) -> None:
        self.crawler = crawler
        self.retries = retries
        self.default_wait = default_wait
        self.max_wait = max_wait
        self.backoff_after = backoff_after
        self.max_delay = max_delay
        self.down_after = down_after
        self.failures_in_a_row: dict[str, int] = {}
        self.delays: dict[str, float] = {}  # site: seconds between its requests, backing off
        # site: time.monotonic() of its next request's turn. A request's own "not before" is
        # wall-clock time instead: it travels with the request, which a shared frontier may
        # hand to another crawl process.
        self.next_turn: dict[str, float] = {}
        self.unreachable_in_a_row: dict[str, tuple[int, str]] = {}  # site: (count, last error)
        self.per_site = per_site
        # Requests passed on to the downloader and not answered yet.
        self.sent: dict[str, WeakSet[Request]] = {}
        self._change = asyncio.Event()  # set when a request is answered

    @classmethod
    def from_crawler(cls, crawler: Any) -> PolitenessMiddleware:
        """Built from RETRY_TIMES and the CRAWL_RETRY_AFTER_*, CRAWL_BACKOFF_* and
        CRAWL_SITE_DOWN_AFTER settings."""
        settings = crawler.settings
        middleware = cls(
            crawler,
            retries=settings.getint("RETRY_TIMES"),
            default_wait=settings.getfloat("CRAWL_RETRY_AFTER_DEFAULT"),
            max_wait=settings.getfloat("CRAWL_RETRY_AFTER_MAX"),
            backoff_after=settings.getint("CRAWL_BACKOFF_AFTER"),
            max_delay=settings.getfloat("CRAWL_BACKOFF_MAX_DELAY"),
            down_after=settings.getint("CRAWL_SITE_DOWN_AFTER"),
            per_site=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
        )
        # A request can leave without its answer coming back here (a later middleware
        # turns it into an error, a redirect replaces it): the downloader says so.
        crawler.signals.connect(middleware._left, signal=signals.request_left_downloader)
        return middleware

    async def process_request(self, request: Request) -> None:
        """Refuse a request to an unreachable site; hold one until its site's turn comes.

        Its turn comes once the time a 429 or 503 asked for has passed, the site's back-off
        delay after the request before it too, and the site has room: fewer requests on their
        way than CONCURRENT_REQUESTS_PER_DOMAIN, or none while it is failing. So no more
        than that wait in Scrapy's download slot, which a graceful shutdown must let go.
        """
        site = site_of(request)
        not_before = request.meta.get(_NOT_BEFORE, 0)
        while True:
            self._refuse_if_down(request, site)
            wait = max(not_before - time.time(), self.next_turn.get(site, 0.0) - time.monotonic())
            if wait <= 0 and len(self.sent.get(site, ())) < self._room(site):
                break
            if self._stopping():
                raise CrawlStopping("the crawl is stopping")
            await self._pause(wait)
        if site in self.delays:
            self.next_turn[site] = time.monotonic() + self.delays[site]
        self.sent.setdefault(site, WeakSet()).add(request)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Schedule a throttled request again later; keep count of the site's failures."""
        site = site_of(request)
        self._answered(site, request)
        self.unreachable_in_a_row.pop(site, None)  # it answered
        failed = response.status in THROTTLED or response.status >= 500
        self._count(site, failed)
        if response.status not in THROTTLED:
            return response
        tries = request.meta.get(_THROTTLE_COUNT, 0)
        if tries >= self.retries:
            return response  # recorded as an HTTP error with its status
        wait = retry_after_seconds(
            response.headers.get("Retry-After"), self.default_wait, self.max_wait
        )
        log.info("%s answered %s; asking again in %.1f s", request.url, response.status, wait)
        self.crawler.stats.inc_value(f"newsdesk/throttled/{response.status}")
        meta = {**request.meta, _NOT_BEFORE: time.time() + wait, _THROTTLE_COUNT: tries + 1}
        return request.replace(meta=meta, dont_filter=True)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A download that failed outright (timeout, refused, cut off) counts against its site.

        Requests dropped on purpose (robots.txt, the private-network guard, a size limit, an
        unreachable site) say nothing about the site's health.
        """
        site = site_of(request)
        self._answered(site, request)
        if isinstance(exception, (IgnoreRequest, DownloadCancelledError)):
            return
        self._count(site, failed=True)
        if not is_unreachable(exception):
            self.unreachable_in_a_row.pop(site, None)  # it answered, if badly
            return
        count = self.unreachable_in_a_row.get(site, (0, ""))[0] + 1
        last = str(exception).strip().rstrip(".") or type(exception).__name__
        self.unreachable_in_a_row[site] = (count, last[:200])
        if count == self.down_after:
            log.warning(
                "%s unreachable (%d connection failures in a row, last: %s): "
                "its other requests in this crawl are not sent", site, count, last,
            )  # fmt: skip
            self.crawler.stats.inc_value("newsdesk/sites_unreachable")

    def _refuse_if_down(self, request: Request, site: str) -> None:
        count, last = self.unreachable_in_a_row.get(site, (0, ""))
        if self.down_after and count >= self.down_after:
            raise BlockedRequest(
                Reason.DOWNLOAD_ERROR,
                f"site unreachable: {count} connection failures in a row, last: {last}",
            )

    def _room(self, site: str) -> int:
        failing = site in self.failures_in_a_row or site in self.unreachable_in_a_row
        return 1 if failing else self.per_site

    async def _pause(self, wait: float) -> None:
        """Sleep until ``wait`` seconds passed, a request was answered, or it is time to look
        whether the crawl is stopping."""
        timeout = min(wait, _STOP_CHECK_INTERVAL) if wait > 0 else _STOP_CHECK_INTERVAL
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._change.wait(), timeout)

    def _left(self, request: Request) -> None:
        self._answered(site_of(request), request)

    def _answered(self, site: str, request: Request) -> None:
        """One request less on its way to ``site``: wake the requests waiting for room."""
        self.sent.get(site, WeakSet()).discard(request)
        self._change.set()
        self._change = asyncio.Event()

    def _stopping(self) -> bool:
        """True once the crawl was told to stop (a signal, ``Crawler.stop``)."""
        engine = self.crawler.engine
        return not self.crawler.crawling or engine is None or not engine.running

    def _count(self, site: str, failed: bool) -> None:
        if not failed:
            self.failures_in_a_row.pop(site, None)
            self.delays.pop(site, None)
            self.next_turn.pop(site, None)
            return
        count = self.failures_in_a_row[site] = self.failures_in_a_row.get(site, 0) + 1
        if count >= self.backoff_after:
            delay = self.delays[site] = min(max(self.delays.get(site, 0.0) * 2, 1.0),
                                            self.max_delay)  # fmt: skip
            self.next_turn[site] = time.monotonic() + delay
            log.warning("%s keeps failing (%d in a row): %.1f s between requests", site, count,
                        delay)  # fmt: skip

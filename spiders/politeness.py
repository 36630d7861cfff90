"""Be polite to sites that push back: honour ``Retry-After``, and back off from failing sites.

A 429 or 503 answer is retried no sooner than its ``Retry-After`` says (seconds or an HTTP
date; ``CRAWL_RETRY_AFTER_DEFAULT`` when absent, at most ``CRAWL_RETRY_AFTER_MAX``), up to
``RETRY_TIMES`` times; Scrapy's own retry middleware is told to leave those two codes alone.
When a site fails several times in a row (5xx, 429, timeouts, refused connections), the delay
between its requests doubles, up to ``CRAWL_BACKOFF_MAX_DELAY``; a success ends the back-off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Request, Response

log = logging.getLogger(__name__)

THROTTLED = (429, 503)
_NOT_BEFORE = "newsdesk_not_before"
_THROTTLE_COUNT = "newsdesk_throttled"


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


class PolitenessMiddleware:
    """Downloader middleware: Retry-After on 429/503, and per-site back-off."""

    def __init__(
        self,
        crawler: Any,
        *,
        retries: int,
        default_wait: float,
        max_wait: float,
        backoff_after: int,
        max_delay: float,
    ) -> None:
        self.crawler = crawler
        self.retries = retries
        self.default_wait = default_wait
        self.max_wait = max_wait
        self.backoff_after = backoff_after
        self.max_delay = max_delay
        self.failures_in_a_row: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> PolitenessMiddleware:
        """Built from RETRY_TIMES and the CRAWL_RETRY_AFTER_* and CRAWL_BACKOFF_* settings."""
        settings = crawler.settings
        return cls(
            crawler,
            retries=settings.getint("RETRY_TIMES"),
            default_wait=settings.getfloat("CRAWL_RETRY_AFTER_DEFAULT"),
            max_wait=settings.getfloat("CRAWL_RETRY_AFTER_MAX"),
            backoff_after=settings.getint("CRAWL_BACKOFF_AFTER"),
            max_delay=settings.getfloat("CRAWL_BACKOFF_MAX_DELAY"),
        )

    async def process_request(self, request: Request) -> None:
        """Hold a retried request until the time its site asked for."""
        wait = request.meta.get(_NOT_BEFORE, 0) - time.time()
        if wait > 0:
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Schedule a throttled request again later; keep count of the site's failures."""
        failed = response.status in THROTTLED or response.status >= 500
        self._count(request, failed)
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

        Requests dropped on purpose (robots.txt, the private-network guard, a size limit)
        say nothing about the site's health.
        """
        if not isinstance(exception, (IgnoreRequest, DownloadCancelledError)):
            self._count(request, failed=True)

    def _count(self, request: Request, failed: bool) -> None:
        key = request.meta.get("download_slot")
        if key is None:
            return
        slot = self.crawler.engine.downloader.slots.get(key)
        if not failed:
            self.failures_in_a_row.pop(key, None)
            return
        count = self.failures_in_a_row[key] = self.failures_in_a_row.get(key, 0) + 1
        if slot is not None and count >= self.backoff_after:
            slot.delay = min(max(slot.delay * 2, 1.0), self.max_delay)
            log.warning("%s keeps failing (%d in a row): %.1f s between requests", key, count,
                        slot.delay)  # fmt: skip

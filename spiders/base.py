"""What every newsdesk spider shares: article requests, fetched pages, and failed requests.

A spider's article pages end as ``FetchedPage`` items; every request that fails (refused,
forbidden by robots.txt, timed out, too large, 404…) ends as a ``Skip`` item with its reason.
Both go to the hand-off pipeline, so no page goes unaccounted for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from spiders.guard import BlockedRequest
from workers.records import FetchedPage, Reason, Skip


class NewsSpider(scrapy.Spider):
    """Base of the spiders: turns responses into pages and failures into recorded skips."""

    def __init__(self, source: str = "", max_pages: int | str = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.max_pages = int(max_pages or 0)
        self.pages_requested = 0

    def article_request(
        self, url: str, hints: dict[str, Any] | None = None, source: str = ""
    ) -> Request | None:
        """A request for an article page, or None once ``max_pages`` have been requested.

        ``source`` is recorded with the page; the spider's own source name by default.
        """
        if self.max_pages and self.pages_requested >= self.max_pages:
            return None
        self.pages_requested += 1
        return Request(
            url,
            callback=self.parse_article,
            errback=self.request_failed,
            meta={
                "newsdesk_hints": hints or {},
                "newsdesk_stage": "fetch",
                "newsdesk_source": source or self.source,
            },
        )

    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        """The response as a ``FetchedPage`` for the workers."""
        yield FetchedPage(
            url=first_url(response.request or Request(response.url)),
            final_url=response.url,
            status=response.status,
            headers={
                key.decode("latin-1"): b", ".join(values).decode("latin-1")
                for key, values in response.headers.items()
            },
            body=response.body,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            source=response.meta.get("newsdesk_source", self.source),
            hints=response.meta.get("newsdesk_hints", {}),
        )

    def request_failed(self, failure: Failure) -> Iterator[Skip]:
        """A ``Skip`` with the reason the request failed."""
        request = failure.request  # type: ignore[attr-defined]
        reason, detail = failure_reason(failure)
        yield Skip(
            url=first_url(request),
            reason=reason,
            detail=detail,
            stage=request.meta.get("newsdesk_stage", "fetch"),
            source=request.meta.get("newsdesk_source", self.source),
        )


def first_url(request: Request) -> str:
    """The URL first asked for, before any redirect."""
    redirects = request.meta.get("redirect_urls")
    return str(redirects[0]) if redirects else request.url


def failure_reason(failure: Failure) -> tuple[Reason, str]:
    """The recorded reason and a one-line detail for a failed request."""
    error = failure.value
    detail = f"{type(error).__name__}: {error}".strip()[:500]
    if isinstance(error, BlockedRequest):
        return error.reason, error.detail
    if isinstance(error, HttpError):
        status = error.response.status
        reason = Reason.NOT_FOUND if status in (404, 410) else Reason.HTTP_ERROR
        return reason, f"HTTP {status}"
    if isinstance(error, (DownloadTimeoutError, TwistedTimeoutError)):
        return Reason.TIMEOUT, detail
    message = str(error)
    if "max size" in message or "DOWNLOAD_MAXSIZE" in message:
        return Reason.TOO_LARGE, message[:500]
    if isinstance(error, IgnoreRequest):
        if "robots.txt" in message:
            return Reason.ROBOTS_TXT, "forbidden by robots.txt"
        if "redirections" in message:
            return Reason.REDIRECT_LOOP, "too many redirects"
    return Reason.DOWNLOAD_ERROR, detail

"""What every newsdesk spider shares: article requests, fetched pages, and failed requests.

A spider's article pages end as ``FetchedPage`` items; every request that fails (refused,
forbidden by robots.txt, timed out, too large, 404…) ends as a ``Skip`` item with its reason.
Both go to the hand-off pipeline, so no page goes unaccounted for. The one exception is a
request dropped unsent by a stopping crawl, which the next crawl fetches.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

import scrapy
from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from spiders.guard import BlockedRequest
from spiders.incremental import Refetch, conditional_headers, should_fetch
from spiders.politeness import CrawlStopping
from storage.sql import Database
from workers.records import FetchedPage, Reason, Skip


class PageBudget:
    """Article pages a crawl may still request, shared by all its spiders; 0: no limit."""

    def __init__(self, limit: int = 0) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> bool:
        """Count one more page; False, counting nothing, once the limit is reached."""
        if self.limit and self.used >= self.limit:
            return False
        self.used += 1
        return True


class NewsSpider(scrapy.Spider):
    """Base of the spiders: incremental article requests, pages out, failures as skips."""

    def __init__(
        self,
        source: str = "",
        max_pages: int | str = 0,
        database_url: str = "",
        refetch: Refetch | None = None,
        page_budget: PageBudget | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.max_pages = int(max_pages or 0)
        # A crawl of several spiders (feeds and sitemaps) hands them one budget.
        self.page_budget = page_budget or PageBudget(self.max_pages)
        self.database_url = database_url
        self.refetch = refetch or Refetch()
        self._database: Database | None = None
        self._discovered: set[str] = set()
        self._max_download = 0
        self._received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        # Listings whose validators wait for their pages: (URL, outcome, validators, page URLs).
        self._pending_listings: list[tuple[str, str, dict[str, Any], list[str]]] = []

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        """The spider, with its limits and database from the crawl's settings."""
        settings = crawler.settings
        kwargs.setdefault("max_pages", settings.getint("CRAWL_MAX_PAGES"))
        kwargs.setdefault("database_url", settings.get("DATABASE_URL"))
        kwargs.setdefault(
            "refetch",
            Refetch(
                interval=timedelta(seconds=settings.getfloat("CRAWL_REFETCH_INTERVAL")),
                window=timedelta(seconds=settings.getfloat("CRAWL_REFETCH_WINDOW")),
            ),
        )
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._close_database, signal=signals.spider_closed)
        spider._max_download = settings.getint("DOWNLOAD_MAXSIZE")
        crawler.signals.connect(spider._count_bytes, signal=signals.bytes_received)
        return spider

    def _count_bytes(self, data: bytes, request: Request) -> None:
        """Mark a request whose body passed its size limit: Scrapy then cancels the download
        without saying why when the response did not declare its size.

        Counted by request object, not in its meta, which a retry or redirect copies.
        """
        received = self._received.get(request, 0) + len(data)
        self._received[request] = received
        limit = request.meta.get("download_maxsize", self._max_download)
        if limit and received > limit:
            request.meta["newsdesk_too_large"] = f"more than {limit} bytes received"

    @property
    def database(self) -> Database | None:
        """The crawl's database, for crawl state; None when the spider has none."""
        if self._database is None and self.database_url:
            self._database = Database.open(self.database_url, migrate=False)
        return self._database

    def _close_database(self) -> None:
        self._remember_finished_listings()
        if self._database is not None:
            self._database.close()

    def _remember_finished_listings(self) -> None:
        """Save the validators of the listings whose every page is now stored or recorded.

        Called when the crawl ends, after its pipelines closed: with embedded workers the
        crawl's own pages are stored by then; with a queue they are not yet, and the listing
        is fetched in full by the next crawl, which saves it once the workers are done.
        """
        if self.database is None:
            return
        for url, outcome, validators, pages in self._pending_listings:
            if len(self.database.page_states(pages)) == len(set(pages)):
                self.database.save_page_state(url, outcome, validators)
        self._pending_listings.clear()

    def now(self) -> datetime:
        """The time decisions about re-fetching are made against."""
        return datetime.now(UTC)

    async def states(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        """The stored crawl state of those of ``urls`` that have one."""
        if not urls or self.database is None:
            return {}
        return await asyncio.to_thread(self.database.page_states, urls)

    async def article_requests(
        self,
        candidates: list[tuple[str, dict[str, Any]]],
        source: str = "",
        listing: tuple[Response, str] | None = None,
    ) -> list[Request]:
        """Requests for the listed article URLs that are new or changed (see ``incremental``).

        ``listing`` (the listing's response and its outcome, ``feed``…) has its validators
        saved only once nothing it names is left to fetch: every page on it was stored or
        recorded. A page queued and then lost (a broker that lost its queue) is thus not
        hidden behind a ``304 Not Modified`` of its listing at the next crawl.
        """
        fresh = [(url, hints) for url, hints in candidates if url not in self._discovered]
        self._discovered.update(url for url, _ in fresh)
        stats = self.crawler.stats
        stats.inc_value("newsdesk/pages_discovered", len(fresh))
        known = await self.states([url for url, _ in candidates])
        now = self.now()
        requests = []
        for url, hints in fresh:
            state = known.get(url)
            if not should_fetch(state, hints.get("listed_at"), now, self.refetch):
                stats.inc_value("newsdesk/pages_known")
                continue
            request = self.article_request(url, hints, source, conditional_headers(state))
            if request is None:
                break
            requests.append(request)
        if listing:
            pages = [url for url, _ in candidates]
            if not requests and all(url in known for url in pages):
                await self.remember(*listing)
            else:
                response, outcome = listing
                url = first_url(response.request or Request(response.url))
                self._pending_listings.append((url, outcome, listing_validators(response), pages))
        return requests

    def article_request(
        self,
        url: str,
        hints: dict[str, Any] | None = None,
        source: str = "",
        headers: dict[str, str] | None = None,
    ) -> Request | None:
        """A request for an article page, or None once the crawl's page budget is spent.

        ``source`` is recorded with the page; the spider's own source name by default.
        ``headers`` make it conditional: a 304 answer then costs no extraction.
        """
        if not self.page_budget.take():
            return None
        return Request(
            url,
            headers=headers or None,
            callback=self.parse_article,
            errback=self.request_failed,
            meta={
                "newsdesk_hints": hints or {},
                "newsdesk_stage": "fetch",
                "newsdesk_source": source or self.source,
                "handle_httpstatus_list": [304],
            },
        )

    async def parse_article(self, response: Response) -> AsyncIterator[FetchedPage]:
        """The response as a ``FetchedPage`` for the workers; nothing for a 304."""
        url = first_url(response.request or Request(response.url))
        if response.status == 304:
            self.crawler.stats.inc_value("newsdesk/pages_not_modified")
            if self.database is not None:
                await asyncio.to_thread(self.database.touch_page_state, url)
            return
        yield FetchedPage(
            url=url,
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

    async def conditional_request(
        self, url: str, callback: Any, stage: str, **meta: Any
    ) -> Request:
        """A request for a feed, sitemap or listing page, conditional when it was seen before."""
        state = (await self.states([url])).get(url)
        return Request(
            url,
            headers=conditional_headers(state) or None,
            callback=callback,
            errback=self.request_failed,
            meta={"newsdesk_stage": stage, "handle_httpstatus_list": [304], **meta},
        )

    async def remember(self, response: Response, outcome: str) -> None:
        """Save a feed's, sitemap's or listing page's validators for the next crawl."""
        if self.database is None:
            return
        url = first_url(response.request or Request(response.url))
        validators = listing_validators(response)
        await asyncio.to_thread(self.database.save_page_state, url, outcome, validators)

    def request_failed(self, failure: Failure) -> Iterator[Skip]:
        """A ``Skip`` with the reason the request failed; none for a request left unsent
        because the crawl is stopping, which the next crawl fetches as if never listed."""
        if isinstance(failure.value, CrawlStopping):
            return
        request = failure.request  # type: ignore[attr-defined]
        reason, detail = failure_reason(failure)
        yield Skip(
            url=first_url(request),
            reason=reason,
            detail=detail,
            stage=request.meta.get("newsdesk_stage", "fetch"),
            source=request.meta.get("newsdesk_source", self.source),
        )


def listing_validators(response: Response) -> dict[str, Any]:
    """What a listing's next request can be made conditional on, and when it was listed."""
    return {
        "etag": _header(response, b"ETag"),
        "last_modified": _header(response, b"Last-Modified"),
        "listed_at": response.meta.get("newsdesk_listed_at"),
    }


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


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
    request = getattr(failure, "request", None)
    too_large = request.meta.get("newsdesk_too_large") if request is not None else None
    if isinstance(error, DownloadCancelledError) and too_large:
        return Reason.TOO_LARGE, too_large
    message = str(error)
    if "max size" in message or "DOWNLOAD_MAXSIZE" in message:
        return Reason.TOO_LARGE, message[:500]
    if isinstance(error, IgnoreRequest):
        if "robots.txt" in message:
            return Reason.ROBOTS_TXT, "forbidden by robots.txt"
        if "redirections" in message:
            return Reason.REDIRECT_LOOP, "too many redirects"
    return Reason.DOWNLOAD_ERROR, detail

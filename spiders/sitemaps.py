"""The sitemap spider: read sitemaps and sitemap indexes, and fetch the articles they list.

Sitemaps are parsed as a stream in a thread (``spiders.sitemap_parsing``), so a 50,000-URL
sitemap neither fills memory nor stalls the crawl. A URL's ``lastmod`` (or Google News
publication date) tells a re-crawl whether its article changed; Google News titles, dates
and keywords go with the request as hints the extraction falls back on. A child sitemap
whose index ``lastmod`` has not moved since the last crawl is not fetched again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from spiders.base import NewsSpider
from spiders.incremental import should_fetch
from spiders.sitemap_parsing import SitemapEntry, parse_sitemap
from workers.records import Reason, Skip

log = logging.getLogger(__name__)


def entry_hints(entry: SitemapEntry) -> dict[str, Any]:
    """An article request's hints from its sitemap entry; ``listed_at`` for re-crawls."""
    hints = entry.to_hints()
    lastmod = hints.pop("lastmod", None)
    listed_at = lastmod or hints.get("published_at")
    if listed_at:
        hints["listed_at"] = listed_at
    return hints


class SitemapParsing:
    """What reads a sitemap; mixed into the spiders that meet sitemaps (sitemap, site)."""

    max_sitemap_urls: int = 50_000
    max_sitemap_bytes: int = 50 * 1024 * 1024
    max_sitemap_depth: int = 3

    def configure_sitemaps(self, settings: Any) -> None:
        """Take the sitemap limits from the crawl's settings."""
        self.max_sitemap_urls = settings.getint("CRAWL_SITEMAP_MAX_URLS")
        self.max_sitemap_bytes = settings.getint("CRAWL_SITEMAP_MAX_BYTES")
        self.max_sitemap_depth = settings.getint("CRAWL_SITEMAP_MAX_DEPTH")

    async def sitemap_request(
        self, url: str, depth: int = 0, source: str = "", listed_at: str | None = None
    ) -> Request:
        """A (conditional) request for a sitemap, allowed up to the sitemap size limit.

        ``listed_at`` is the ``lastmod`` its index gave it, kept for the next crawl.
        """
        spider: Any = self
        return await spider.conditional_request(
            url,
            self.parse_sitemap,
            "sitemap",
            newsdesk_sitemap_depth=depth,
            newsdesk_listed_at=listed_at,
            newsdesk_source=source or spider.source or url,
            # Compressed, a sitemap may come near the limit; decompressed it is checked again.
            download_maxsize=self.max_sitemap_bytes,
        )

    async def parse_sitemap(self, response: Response) -> AsyncIterator[Request | Skip]:
        """Requests for the child sitemaps and for the new or changed articles listed."""
        spider: Any = self
        stats = spider.crawler.stats
        source = response.meta.get("newsdesk_source") or spider.source or response.url
        if response.status == 304:
            stats.inc_value("newsdesk/listings_not_modified")
            return
        parsed = await asyncio.to_thread(
            parse_sitemap,
            response.body,
            max_urls=self.max_sitemap_urls,
            max_bytes=self.max_sitemap_bytes,
        )
        if parsed.error and not parsed.entries:
            if response.meta.get("newsdesk_guessed"):
                return  # a guessed path that holds no sitemap: nothing is wrong
            yield Skip(response.url, Reason.BAD_SITEMAP, parsed.error, "sitemap", source)
            return
        if parsed.truncated or parsed.error:
            log.warning(
                "sitemap %s read in part: %s", response.url, parsed.truncated or parsed.error
            )
            stats.inc_value("newsdesk/sitemaps_cut")
        depth = response.meta.get("newsdesk_sitemap_depth", 0)
        children = [entry for entry in parsed.entries if entry.is_sitemap]
        followed = 0
        async for request in self._child_sitemaps(children, depth, source):
            followed += 1
            yield request
        candidates = [(e.loc, entry_hints(e)) for e in parsed.entries if not e.is_sitemap]
        # Remembered only once it leads to nothing left to fetch (see ``article_requests``).
        listing = None if followed else (response, "sitemap")
        for request in await spider.article_requests(candidates, source, listing):
            yield request

    async def _child_sitemaps(
        self, children: list[SitemapEntry], depth: int, source: str
    ) -> AsyncIterator[Request]:
        spider: Any = self
        if children and depth >= self.max_sitemap_depth:
            log.warning("sitemap index nested deeper than %d: not followed", self.max_sitemap_depth)
            return
        known = await spider.states([child.loc for child in children])
        now = spider.now()
        for child in children:
            state = known.get(child.loc)
            if child.lastmod and not should_fetch(state, child.lastmod, now, spider.refetch):
                spider.crawler.stats.inc_value("newsdesk/listings_known")
                continue
            yield await self.sitemap_request(child.loc, depth + 1, source, child.lastmod)


class SitemapSpider(SitemapParsing, NewsSpider):
    """Fetch the sitemaps, their children, and the articles they list."""

    name = "sitemap"

    def __init__(self, sitemaps: list[str] | str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.sitemaps = (
            [u for u in sitemaps.split(",") if u] if isinstance(sitemaps, str) else list(sitemaps)
        )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SitemapSpider:
        """The spider, with the sitemap limits from the crawl's settings."""
        spider: SitemapSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure_sitemaps(crawler.settings)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """One request a sitemap."""
        for url in self.sitemaps:
            yield await self.sitemap_request(url, source=self.source or url)

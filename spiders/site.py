"""The site spider: find every article a news site lists, from its home page alone.

From each site URL it reads robots.txt for the sitemaps it names (else tries the well-known
sitemap paths), the home page for the feeds it advertises and for article and section links
(``spiders.discovery``), and the section pages for more article links, up to
``CRAWL_SITE_MAX_DEPTH`` links deep and ``CRAWL_SITE_MAX_LISTING_PAGES`` pages. Feeds and
sitemaps are read as the feed and sitemap spiders read them; every article is fetched once,
and on a re-crawl only when new or changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import NewsSpider
from spiders.discovery import find_feeds, find_links, sitemap_urls
from spiders.feeds import FeedParsing
from spiders.sitemaps import SitemapParsing
from workers.records import Skip


class SiteSpider(FeedParsing, SitemapParsing, NewsSpider):
    """Discover a site's feeds, sitemaps and section pages, and fetch the articles they list."""

    name = "site"

    def __init__(
        self,
        sites: list[str] | str = "",
        max_depth: int = 2,
        max_listing_pages: int = 50,
        max_feed_bytes: int = 0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.sites = [u for u in sites.split(",") if u] if isinstance(sites, str) else list(sites)
        self.max_depth = int(max_depth)
        self.max_listing_pages = int(max_listing_pages)
        self.max_feed_bytes = int(max_feed_bytes)
        self.listing_pages = 0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        """The spider, with its discovery, feed and sitemap limits from the crawl's settings."""
        settings = crawler.settings
        kwargs.setdefault("max_depth", settings.getint("CRAWL_SITE_MAX_DEPTH"))
        kwargs.setdefault("max_listing_pages", settings.getint("CRAWL_SITE_MAX_LISTING_PAGES"))
        kwargs.setdefault("max_feed_bytes", settings.getint("CRAWL_MAX_FEED_BYTES"))
        spider: SiteSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure_sitemaps(settings)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """Per site: its robots.txt (for sitemaps) and its home page."""
        for site in self.sites:
            source = self.source or site
            yield Request(
                urljoin(site, "/robots.txt"),
                callback=self.parse_robots,
                errback=self.robots_failed,
                meta={"newsdesk_stage": "discovery", "newsdesk_source": source,
                      "newsdesk_site": site},
            )  # fmt: skip
            listing = await self.listing_request(site, site, 0, source)
            if listing is not None:
                yield listing

    async def listing_request(self, url: str, site: str, depth: int, source: str) -> Request | None:
        """A request for a home or section page, or None past the listing page limit."""
        if self.listing_pages >= self.max_listing_pages:
            return None
        self.listing_pages += 1
        return await self.conditional_request(
            url,
            self.parse_listing,
            "listing",
            newsdesk_site=site,
            newsdesk_depth=depth,
            newsdesk_source=source,
        )

    async def parse_robots(self, response: Response) -> AsyncIterator[Request]:
        """A request for each sitemap robots.txt names, or for the well-known sitemap paths."""
        site, source = response.meta["newsdesk_site"], response.meta["newsdesk_source"]
        named = (response.status == 200 and response.text) or None
        for url in sitemap_urls(named, site):
            request = await self.sitemap_request(url, source=source)
            # A guessed sitemap that is not there is no failure of the site.
            request.meta["newsdesk_guessed"] = named is None
            yield request

    async def robots_failed(self, failure: Failure) -> AsyncIterator[Request]:
        """No robots.txt: try the well-known sitemap paths."""
        request = failure.request  # type: ignore[attr-defined]
        site, source = request.meta["newsdesk_site"], request.meta["newsdesk_source"]
        for url in sitemap_urls(None, site):
            sitemap = await self.sitemap_request(url, source=source)
            sitemap.meta["newsdesk_guessed"] = True
            yield sitemap

    async def parse_listing(self, response: Response) -> AsyncIterator[Request | Skip]:
        """Feeds (from the home page), article links, and section pages to read next."""
        if response.status == 304:
            self.crawler.stats.inc_value("newsdesk/listings_not_modified")
            return
        site, depth = response.meta["newsdesk_site"], response.meta["newsdesk_depth"]
        source = response.meta["newsdesk_source"]
        if depth == 0:
            for feed in find_feeds(response.body, response.url):
                yield await self.conditional_request(
                    feed, self.parse_feed, "feed", newsdesk_source=source
                )
        links = find_links(response.body, response.url, site)
        articles: list[tuple[str, dict[str, Any]]] = [
            (url, {}) for url, kind in links if kind == "article"
        ]
        for request in await self.article_requests(articles, source, (response, "listing")):
            yield request
        if depth < self.max_depth:
            for url, kind in links:
                if kind == "listing":
                    listing = await self.listing_request(url, site, depth + 1, source)
                    if listing is None:
                        return
                    yield listing

    def request_failed(self, failure: Failure) -> Any:
        """As for every spider, but a guessed sitemap that is not there is only logged."""
        request = failure.request  # type: ignore[attr-defined]
        if request.meta.get("newsdesk_guessed"):
            self.logger.debug("no sitemap at %s", request.url)
            return iter(())
        return super().request_failed(failure)

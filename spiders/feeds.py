"""The feed spider: read RSS 2.0, RSS 1.0 and Atom feeds and fetch every entry's article."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
from scrapy import Request
from scrapy.http import Response

from spiders.base import NewsSpider
from workers.records import Reason, Skip


class FeedSpider(NewsSpider):
    """Fetch the feeds, then each entry's page; the entry's title and date go along as hints."""

    name = "feed"

    def __init__(self, feeds: list[str] | str = "", max_feed_bytes: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        self.feeds = [u for u in feeds.split(",") if u] if isinstance(feeds, str) else list(feeds)
        self.max_feed_bytes = int(max_feed_bytes)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FeedSpider:
        """The spider, with the feed size limit from the ``CRAWL_MAX_FEED_BYTES`` setting."""
        kwargs.setdefault("max_feed_bytes", crawler.settings.getint("CRAWL_MAX_FEED_BYTES"))
        kwargs.setdefault("max_pages", crawler.settings.getint("CRAWL_MAX_PAGES"))
        spider: FeedSpider = super().from_crawler(crawler, *args, **kwargs)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """One request a feed."""
        for url in self.feeds:
            yield Request(
                url,
                callback=self.parse_feed,
                errback=self.request_failed,
                # Not dont_filter: with a shared frontier, one crawler fetches each feed.
                meta={"newsdesk_stage": "feed", "newsdesk_source": self.source or url},
            )

    def parse_feed(self, response: Response) -> Iterator[Request | Skip]:
        """A request for each entry's page, in the feed's order."""
        source = response.meta.get("newsdesk_source") or self.source or response.url
        if self.max_feed_bytes and len(response.body) > self.max_feed_bytes:
            detail = f"feed of {len(response.body)} bytes > {self.max_feed_bytes}"
            yield Skip(response.url, Reason.TOO_LARGE, detail, "feed", source)
            return
        parsed = feedparser.parse(
            response.body,
            response_headers={k.decode(): v[0].decode() for k, v in response.headers.items()},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        if not parsed.entries:
            problem = parsed.get("bozo_exception") or "no entries"
            detail = f"{type(problem).__name__}: {problem}" if parsed.bozo else str(problem)
            reason = Reason.BAD_FEED if parsed.bozo else Reason.EMPTY
            yield Skip(response.url, reason, detail[:500], "feed", source)
            return
        for entry in parsed.entries:
            link = entry.get("link")
            if not link:
                continue
            request = self.article_request(response.urljoin(link), entry_hints(entry), source)
            if request is None:
                return
            yield request


def entry_hints(entry: Any) -> dict[str, Any]:
    """What a feed entry says of its article: title, dates, authors, tags, summary."""
    hints: dict[str, Any] = {}
    if entry.get("title"):
        hints["title"] = entry["title"]
    for field, name in (("published_parsed", "published_at"), ("updated_parsed", "updated_at")):
        if entry.get(field):
            moment = datetime.fromtimestamp(calendar.timegm(entry[field]), UTC)
            hints[name] = moment.isoformat()
    authors = [author.get("name") for author in entry.get("authors", []) if author.get("name")]
    if authors:
        hints["authors"] = authors
    tags = [tag.get("term") for tag in entry.get("tags", []) if tag.get("term")]
    if tags:
        hints["tags"] = tags
    if entry.get("summary"):
        hints["summary"] = entry["summary"]
    return hints

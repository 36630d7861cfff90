"""The feed spider: read RSS 2.0, RSS 1.0 and Atom feeds and fetch every entry's article.

Feeds are asked for conditionally; a feed that has not changed costs a 304. Entries whose
pages are stored and unchanged (by the entry's date) are not fetched again.

A feed is hostile input. One larger than ``CRAWL_MAX_FEED_BYTES`` is not parsed, and one whose
DOCTYPE has an internal subset (where entities are declared: billion laughs, external
entities) is refused before feedparser sees it; feedparser would not expand them either, but
would read the entries around them. Only the Content-Type header is passed on: feedparser
would otherwise decompress a body that still claims a Content-Encoding, with no size limit.
The body goes to feedparser as a stream: given bytes, feedparser first tries them as the name
of a local file, so a feed whose body is ``/dev/zero`` would be read from the disk, forever.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import feedparser
from scrapy import Request
from scrapy.http import Response

from spiders.base import NewsSpider
from workers.records import Reason, Skip

_ELEMENT_START = re.compile(rb"<[^?!]")  # not a declaration, comment or instruction
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)


def dtd_refusal(body: bytes) -> str | None:
    """Why a feed is refused for declaring entities, or None.

    A DOCTYPE that only names an external DTD (RSS 0.91's) is harmless: nothing loads it.
    """
    root = _ELEMENT_START.search(body)
    if _INTERNAL_SUBSET.search(body, 0, root.start() if root else len(body)):
        return "DTD/entities not allowed in feeds"
    return None


class FeedParsing:
    """What reads a feed; mixed into the spiders that meet feeds (feed and site spiders)."""

    max_feed_bytes: int = 0

    async def parse_feed(self, response: Response) -> AsyncIterator[Request | Skip]:
        """A request for each new or changed entry's page, in the feed's order."""
        spider: Any = self
        source = response.meta.get("newsdesk_source") or spider.source or response.url
        if response.status == 304:
            spider.crawler.stats.inc_value("newsdesk/listings_not_modified")
            return
        if self.max_feed_bytes and len(response.body) > self.max_feed_bytes:
            detail = f"feed of {len(response.body)} bytes > {self.max_feed_bytes}"
            yield Skip(response.url, Reason.TOO_LARGE, detail, "feed", source)
            return
        refusal = dtd_refusal(response.body)
        if refusal:
            yield Skip(response.url, Reason.BAD_FEED, refusal, "feed", source)
            return
        content_type = response.headers.get(b"Content-Type")
        parsed = feedparser.parse(
            io.BytesIO(response.body),
            response_headers={"content-type": content_type.decode("latin-1")}
            if content_type
            else {},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        if not parsed.entries:
            problem = parsed.get("bozo_exception") or "no entries"
            detail = f"{type(problem).__name__}: {problem}" if parsed.bozo else str(problem)
            reason = Reason.BAD_FEED if parsed.bozo else Reason.EMPTY
            yield Skip(response.url, reason, detail[:500], "feed", source)
            return
        candidates = [
            (response.urljoin(entry["link"]), entry_hints(entry))
            for entry in parsed.entries
            if entry.get("link")
        ]
        for request in await spider.article_requests(candidates, source, (response, "feed")):
            yield request


class FeedSpider(FeedParsing, NewsSpider):
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
        spider: FeedSpider = super().from_crawler(crawler, *args, **kwargs)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """One request a feed, conditional when the feed was read before."""
        for url in self.feeds:
            # Not dont_filter: with a shared frontier, one crawler fetches each feed.
            yield await self.conditional_request(
                url, self.parse_feed, "feed", newsdesk_source=self.source or url
            )


def entry_hints(entry: Any) -> dict[str, Any]:
    """What a feed entry says of its article: title, dates, authors, tags, summary.

    ``listed_at`` (the entry's update or publication date) tells a re-crawl whether the
    article changed since it was stored.
    """
    hints: dict[str, Any] = {}
    if entry.get("title"):
        hints["title"] = entry["title"]
    for field, name in (("published_parsed", "published_at"), ("updated_parsed", "updated_at")):
        if entry.get(field):
            moment = datetime.fromtimestamp(calendar.timegm(entry[field]), UTC)
            hints[name] = moment.isoformat()
    if hints.get("updated_at") or hints.get("published_at"):
        hints["listed_at"] = hints.get("updated_at") or hints["published_at"]
    authors = [author.get("name") for author in entry.get("authors", []) if author.get("name")]
    if authors:
        hints["authors"] = authors
    tags = [tag.get("term") for tag in entry.get("tags", []) if tag.get("term")]
    if tags:
        hints["tags"] = tags
    if entry.get("summary"):
        hints["summary"] = entry["summary"]
    return hints

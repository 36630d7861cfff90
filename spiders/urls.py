"""The URL-list spider: fetch the article at each URL of a list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Request

from spiders.base import NewsSpider


def read_url_list(path: str | Path) -> list[str]:
    """The URLs in a text file: one a line; blank lines and ``#`` comments are ignored."""
    urls = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            urls.append(line)
    return urls


class UrlListSpider(NewsSpider):
    """Fetch each listed URL as an article page."""

    name = "urls"

    def __init__(self, urls: list[str] | str = "", urls_file: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.urls = [u for u in urls.split(",") if u] if isinstance(urls, str) else list(urls)
        if urls_file:
            self.urls += read_url_list(urls_file)

    async def start(self) -> AsyncIterator[Request]:
        """One request a URL that is new (or due again), up to the page limit."""
        for request in await self.article_requests([(url, {}) for url in self.urls]):
            yield request

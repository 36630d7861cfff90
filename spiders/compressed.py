"""Compressed responses reach Scrapy's decompression as plain responses, with no text to guess.

A response sent gzip-compressed as ``text/html`` without a ``charset`` arrives as an
``HtmlResponse`` over the compressed bytes. Scrapy's ``HttpCompressionMiddleware`` then
builds the decompressed response with ``Response.replace``, which reads every attribute of the
old response first, ``encoding`` among them: the old response guesses the encoding of its
compressed bytes (w3lib's sniffing, charset-normalizer over binary data), only for the new one
to be told ``encoding=None`` and to guess again from its own text when asked. On the corpus
pages that wasted guess cost as much as the decompression itself (0.8 ms a page, about a tenth
of the crawl process's CPU time). ``PlainCompressedResponse`` runs just before the
decompression and hands it such a response as a plain ``Response``; the decompressed one is
typed from its headers and body as before.
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response, TextResponse


class PlainCompressedResponse:
    """Downloader middleware (before ``HttpCompressionMiddleware``, 590, in the response
    order): a compressed text response as a plain ``Response`` of the same URL, status,
    headers, body, request and connection details."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Off where Scrapy's decompression is off (``COMPRESSION_ENABLED``): the spider
        would then get the plain response."""
        if not crawler.settings.getbool("COMPRESSION_ENABLED"):
            raise NotConfigured("COMPRESSION_ENABLED is off")
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        """``response`` unchanged unless it is a text response with a ``Content-Encoding``."""
        if not isinstance(response, TextResponse) or b"Content-Encoding" not in response.headers:
            return response
        # ``Response.attributes`` are the base class's, without ``encoding``.
        values = {name: getattr(response, name) for name in Response.attributes}
        return Response(**values)

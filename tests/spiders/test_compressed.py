"""A compressed page reaches Scrapy's decompression as a plain response, and comes out of it as
the same typed response it did before (``spiders.compressed``)."""

from __future__ import annotations

import gzip

import pytest
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler

from spiders.compressed import PlainCompressedResponse

URL = "https://news.example/2024/storm"
# Windows-1252 declared only in the page: the encoding must still be found after decompression.
PAGE = (
    '<html><head><meta charset="windows-1252"><title>Sturm</title></head>'
    "<body><p>Der Sturm zog über Zürich; Bäume fielen.</p></body></html>"
).encode("cp1252")


def compressed(content_type: str = "text/html") -> HtmlResponse:
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    return HtmlResponse(
        URL, status=200, headers=headers, body=gzip.compress(PAGE), request=Request(URL)
    )


def decompress(response: Response) -> Response:
    crawler = get_crawler()
    return HttpCompressionMiddleware.from_crawler(crawler).process_response(Request(URL), response)


def test_a_compressed_html_response_goes_on_as_a_plain_response() -> None:
    response = compressed()
    plain = PlainCompressedResponse().process_response(Request(URL), response)
    assert type(plain) is Response
    assert (plain.url, plain.status, plain.body) == (URL, 200, response.body)
    assert plain.headers == response.headers
    assert plain.request is response.request


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=windows-1252"])
def test_decompressed_it_is_the_response_scrapy_alone_gives(content_type: str) -> None:
    plain = PlainCompressedResponse().process_response(Request(URL), compressed(content_type))
    ours, scrapys = decompress(plain), decompress(compressed(content_type))
    assert isinstance(ours, HtmlResponse)
    assert type(ours) is type(scrapys)
    assert ours.body == scrapys.body == PAGE
    assert ours.encoding == scrapys.encoding == "cp1252"
    assert "über Zürich; Bäume" in ours.text
    assert b"Content-Encoding" not in ours.headers


def test_uncompressed_and_non_text_responses_pass_unchanged() -> None:
    middleware = PlainCompressedResponse()
    page = HtmlResponse(URL, headers={"Content-Type": "text/html"}, body=PAGE)
    assert middleware.process_response(Request(URL), page) is page
    binary = Response(URL, headers={"Content-Encoding": "gzip"}, body=gzip.compress(b"x"))
    assert middleware.process_response(Request(URL), binary) is binary
    assert not isinstance(binary, TextResponse)


def test_it_is_off_where_scrapys_decompression_is_off() -> None:
    with pytest.raises(NotConfigured):
        PlainCompressedResponse.from_crawler(
            get_crawler(settings_dict={"COMPRESSION_ENABLED": False})
        )
    assert isinstance(PlainCompressedResponse.from_crawler(get_crawler()), PlainCompressedResponse)

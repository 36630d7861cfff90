"""A fetched page crosses the queue as plain JSON and comes back byte for byte."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import zlib

from tests.conftest import NEWS_SITE
from workers.records import FetchedPage

CASE = json.loads((NEWS_SITE / "cases.jsonl").read_text().splitlines()[0])


def page(body: bytes) -> FetchedPage:
    return FetchedPage(
        url=CASE["url"],
        final_url=CASE["url"] + "?amp=0",
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"x1"'},
        body=body,
        fetched_at="2026-11-29T19:00:00+00:00",
        source="fixtures",
        hints={"title": "From the feed", "tags": ["a", "b"]},
    )


def test_a_page_survives_json_and_back() -> None:
    original = page(gzip.decompress((NEWS_SITE / CASE["html"]).read_bytes()))
    message = json.loads(json.dumps(original.to_dict()))
    assert FetchedPage.from_dict(message) == original
    # Compressed: a real page's message is a fraction of its HTML, base64 included.
    assert len(message["body"]) < len(original.body) / 2


def test_an_empty_and_a_binary_body_survive_too() -> None:
    for body in (b"", bytes(range(256)) * 64):
        assert FetchedPage.from_dict(page(body).to_dict()).body == body


def test_a_message_of_the_earlier_deflated_format_is_still_read() -> None:
    """Pages queued by a crawler of the previous version, whose bodies were zlib streams."""
    original = page(b"<html><body><p>Queued before the upgrade.</p></body></html>")
    earlier = dataclasses.asdict(original)
    earlier["body"] = base64.b64encode(zlib.compress(original.body, 1)).decode("ascii")
    assert FetchedPage.from_dict(earlier) == original

"""What a page's message on the Redis queue looks like, read back from a real Redis."""

from __future__ import annotations

import json

import redis
from kombu import Connection

from workers.queue import sending_app
from workers.records import FetchedPage


def _page(body: bytes) -> FetchedPage:
    return FetchedPage(
        url="https://a.example/story",
        final_url="https://a.example/story",
        status=200,
        headers={"Content-Type": "text/html"},
        body=body,
        fetched_at="2026-11-29T12:00:00+00:00",
        source="test",
    )


def test_a_page_is_queued_with_its_body_encoded_once(broker_url: str) -> None:
    body = b"<html><body>" + b"<p>The bridge reopened today.</p>" * 2000 + b"</body></html>"
    app = sending_app(broker_url)
    try:
        app.send_task("newsdesk.process_page", args=[_page(body).to_dict()])
    finally:
        app.close()
    client = redis.Redis.from_url(broker_url)
    try:
        [raw] = client.lrange("pages", 0, -1)
    finally:
        client.close()
    message = json.loads(raw)
    # The body is the task's JSON as it is, not base64-encoded by kombu on top of the
    # page's own compression and encoding.
    assert message["properties"]["body_encoding"] is None
    args, _kwargs, _embed = json.loads(message["body"])
    assert FetchedPage.from_dict(args[0]).body == body
    assert len(raw) < len(body) / 10  # compressed: this body repeats one sentence


def test_messages_queued_either_way_are_read_by_a_consumer_configured_as_the_workers(
    broker_url: str,
) -> None:
    body = b"<html><body><p>The bridge reopened today.</p></body></html>"
    old = sending_app(broker_url)
    old.conf.broker_transport_options = {**old.conf.broker_transport_options}
    old.conf.broker_transport_options["body_encoding"] = "base64"  # as queued before
    new = sending_app(broker_url)
    try:
        old.send_task("newsdesk.process_page", args=[_page(body).to_dict()])
        new.send_task("newsdesk.process_page", args=[_page(body).to_dict()])
        options = new.conf.broker_transport_options
        with Connection(broker_url, transport_options=options) as connection:
            queue = connection.SimpleQueue("pages", no_ack=True)
            messages = [queue.get(timeout=5) for _ in range(2)]
            queue.close()
    finally:
        old.close()
        new.close()
    encodings = sorted(str(m.properties.get("body_encoding")) for m in messages)
    assert encodings == ["None", "base64"]
    for message in messages:
        args, _kwargs, _embed = message.decode()
        assert FetchedPage.from_dict(args[0]).body == body

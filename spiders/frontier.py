"""A crawl frontier shared through Redis: several crawler processes, one queue, one seen set.

With ``frontier_settings(redis_url, "run-42")`` merged into a crawl's settings, every process
crawling with the frontier ``run-42`` (on this machine or another) puts its requests in, and takes
its next request from, the same Redis keys::

    newsdesk:frontier:run-42:seen              set: fingerprints of every request ever queued
    newsdesk:frontier:run-42:requests:<spider> sorted set: queued requests as JSON, by priority,
                                               then by the time they were queued

so a URL that one process has queued is neither queued nor fetched again by another. The queue
is per spider name because a request names its callback by method name, which only that spider
class has; the seen set is shared by all spiders of the frontier.

A frontier is one crawl run: the keys outlive the processes (the first to finish must not take
the seen set away from the others) and expire ``ttl_seconds`` after the last process touched them.
Reusing a frontier name before then skips every URL it has already seen, feeds included.

Why not scrapy-redis (0.9.1, the latest): its scheduler still passes ``spider=`` to the stats
collector, deprecated in Scrapy 2.19 and due to be removed; its ``SCHEDULER_IDLE_BEFORE_CLOSE``
is ignored by its default priority queue and, with its list queues, waits in a blocking Redis
call on the reactor thread, which stops every download meanwhile; its idle wait for spiders
lives in ``RedisSpider``, which relies on ``start_requests()``, which Scrapy 2.19 no longer
calls; its keys have no expiry; and it pickles requests into Redis by default.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import BaseSettings
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.request import RequestFingerprinterProtocol, referer_str, request_from_dict

from workers.errors import ConfigurationError

log = logging.getLogger(__name__)

KEY_PREFIX = "newsdesk:frontier"
DEFAULT_TTL_SECONDS = 86400
DEFAULT_IDLE_SECONDS = 10.0
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ORDER_DIGITS = 20  # a queued member is the enqueue time in ns, zero-padded, a space, the JSON


def frontier_settings(
    redis_url: str,
    frontier: str,
    *,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    idle_seconds: float = DEFAULT_IDLE_SECONDS,
) -> dict[str, Any]:
    """Scrapy settings that make a crawl share the frontier ``frontier`` in Redis at ``redis_url``.

    ``ttl_seconds``: the keys expire this long after the last process touched them.
    ``idle_seconds``: a process with nothing to do waits this long for work from the others
    before it closes (Scrapy looks again every 5 seconds, so the wait is rounded up to that).
    """
    check_frontier_name(frontier)
    if ttl_seconds < 1:
        raise ConfigurationError(f"frontier ttl_seconds must be at least 1, not {ttl_seconds}")
    return {
        "SCHEDULER": "spiders.frontier.FrontierScheduler",
        "DUPEFILTER_CLASS": "spiders.frontier.FrontierDupeFilter",
        "CRAWL_FRONTIER_REDIS_URL": redis_url,
        "CRAWL_FRONTIER_NAME": frontier,
        "CRAWL_FRONTIER_TTL_SECONDS": ttl_seconds,
        "CRAWL_FRONTIER_IDLE_SECONDS": idle_seconds,
    }


def check_frontier_name(frontier: str) -> str:
    """``frontier`` if it is a usable name (letters, digits, ``_.-``), else ConfigurationError."""
    if not _NAME.fullmatch(frontier):
        raise ConfigurationError(f"frontier name {frontier!r}: use letters, digits, '_', '.', '-'")
    return frontier


def frontier_key(frontier: str, part: str) -> str:
    """The Redis key of one part (``seen``, ``requests:<spider>``) of a frontier."""
    return f"{KEY_PREFIX}:{check_frontier_name(frontier)}:{part}"


def _redis_client(settings: BaseSettings) -> redis.Redis:
    url = settings.get("CRAWL_FRONTIER_REDIS_URL")
    if not url:
        raise ConfigurationError("a shared frontier needs CRAWL_FRONTIER_REDIS_URL")
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)


def _frontier_name(settings: BaseSettings) -> str:
    return check_frontier_name(settings.get("CRAWL_FRONTIER_NAME") or "")


def _ttl_seconds(settings: BaseSettings) -> int:
    return settings.getint("CRAWL_FRONTIER_TTL_SECONDS", DEFAULT_TTL_SECONDS)


def request_to_json(request: Request, spider: Spider) -> str:
    """A request as JSON text, for the queue; ValueError if it cannot be one.

    Its callback and errback must be methods of ``spider``, its meta and cb_kwargs plain JSON
    values, and it must be a plain ``scrapy.Request``: no pickles cross the queue.
    """
    fields = request.to_dict(spider=spider)
    if "_class" in fields:
        raise ValueError(f"only scrapy.Request crosses the frontier, not {fields['_class']}")
    # Latin-1 maps each byte to one character and back, so bodies and headers survive exactly.
    fields["body"] = request.body.decode("latin-1")
    fields["headers"] = {
        name.decode("latin-1"): [value.decode("latin-1") for value in values]
        for name, values in request.headers.items()
    }
    try:
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    except TypeError as error:
        raise ValueError(f"{request.url} cannot cross the frontier: {error}") from error


def request_from_json(text: str | bytes, spider: Spider) -> Request:
    """The request that ``request_to_json`` wrote, its callbacks looked up on ``spider``."""
    fields = json.loads(text)
    if "_class" in fields:
        raise ValueError(f"only scrapy.Request crosses the frontier, not {fields['_class']}")
    fields["body"] = fields["body"].encode("latin-1")
    fields["headers"] = {
        name.encode("latin-1"): [value.encode("latin-1") for value in values]
        for name, values in fields["headers"].items()
    }
    return request_from_dict(fields, spider=spider)


class FrontierDupeFilter(BaseDupeFilter):
    """Scrapy's duplicate filter on a Redis set that every process of the frontier shares."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        ttl_seconds: int,
        fingerprinter: RequestFingerprinterProtocol,
        *,
        debug: bool = False,
        stats: Any = None,
    ) -> None:
        self.client = client
        self.key = key
        self.ttl_seconds = ttl_seconds
        self.fingerprinter = fingerprinter
        self.debug = debug
        self.stats = stats
        self.logged_a_duplicate = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierDupeFilter:
        """The filter of the frontier named in the crawl's ``CRAWL_FRONTIER_*`` settings."""
        settings = crawler.settings
        return cls(
            _redis_client(settings),
            frontier_key(_frontier_name(settings), "seen"),
            _ttl_seconds(settings),
            crawler.request_fingerprinter,
            debug=settings.getbool("DUPEFILTER_DEBUG"),
            stats=crawler.stats,
        )

    def request_seen(self, request: Request) -> bool:
        """Whether any process of the frontier has seen the request; marks it seen if not."""
        fingerprint = self.fingerprinter.fingerprint(request).hex()
        with self.client.pipeline(transaction=False) as pipe:
            pipe.sadd(self.key, fingerprint)
            pipe.expire(self.key, self.ttl_seconds)
            added, _ = pipe.execute()
        return int(added) == 0

    def close(self, reason: str) -> None:
        """Leave the set to the other processes; it expires ``ttl_seconds`` from now."""
        self.client.expire(self.key, self.ttl_seconds)

    def log(self, request: Request, spider: Spider) -> None:
        """Count a filtered request; log the first one (every one with ``DUPEFILTER_DEBUG``)."""
        if self.stats is not None:
            self.stats.inc_value("dupefilter/filtered")
        if self.debug or not self.logged_a_duplicate:
            message = "Filtered a request the frontier has seen: %s (referer: %s)"
            log.debug(message, request, referer_str(request), extra={"spider": spider})
            self.logged_a_duplicate = True


class FrontierScheduler(BaseScheduler):
    """Scrapy's scheduler on a Redis queue that every process of the frontier shares.

    Requests come out by priority, then in the order they went in. When the queue is empty and
    nothing is in flight here, the process waits ``idle_seconds`` for work before it closes.
    """

    def __init__(
        self,
        client: redis.Redis,
        frontier: str,
        dupefilter: BaseDupeFilter,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        stats: Any = None,
    ) -> None:
        self.client = client
        self.frontier = check_frontier_name(frontier)
        self.dupefilter = dupefilter
        self.ttl_seconds = ttl_seconds
        self.idle_seconds = idle_seconds
        self.stats = stats
        self.spider: Spider | None = None
        self.queue_key = ""
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        """The scheduler of the frontier named in the crawl's ``CRAWL_FRONTIER_*`` settings."""
        settings = crawler.settings
        scheduler = cls(
            _redis_client(settings),
            _frontier_name(settings),
            build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler),
            ttl_seconds=_ttl_seconds(settings),
            idle_seconds=settings.getfloat("CRAWL_FRONTIER_IDLE_SECONDS", DEFAULT_IDLE_SECONDS),
            stats=crawler.stats,
        )
        crawler.signals.connect(scheduler.wait_while_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider: Spider) -> None:
        """Check that Redis answers, and pick the spider's queue."""
        self.client.ping()
        self.spider = spider
        self.queue_key = frontier_key(self.frontier, f"requests:{spider.name}")
        self.dupefilter.open()

    def close(self, reason: str) -> None:
        """Leave the queue to the other processes; it expires ``ttl_seconds`` from now."""
        self.client.expire(self.queue_key, self.ttl_seconds)
        self.dupefilter.close(reason)

    def __len__(self) -> int:
        return int(self.client.zcard(self.queue_key))

    def has_pending_requests(self) -> bool:
        """Whether the shared queue holds a request, for this process or another."""
        return len(self) > 0

    def enqueue_request(self, request: Request) -> bool:
        """Queue the request unless a process of the frontier has seen it (or it is dont_filter)."""
        assert self.spider is not None, "open() was not called"
        # Encode first: a request that cannot be queued must not be marked seen.
        member = f"{time.time_ns():0{_ORDER_DIGITS}d} {request_to_json(request, self.spider)}"
        if not request.dont_filter and self.dupefilter.request_seen(request):
            self.dupefilter.log(request, self.spider)
            return False
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(self.queue_key, {member: -request.priority})
            pipe.expire(self.queue_key, self.ttl_seconds)
            pipe.execute()
        self._count("enqueued")
        return True

    def next_request(self) -> Request | None:
        """The next request of the shared queue, taken atomically, or None if it is empty."""
        assert self.spider is not None, "open() was not called"
        seen_key = frontier_key(self.frontier, "seen")
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zpopmin(self.queue_key)
            # Taking work keeps the frontier alive too, through a long crawl of a long list.
            pipe.expire(self.queue_key, self.ttl_seconds)
            pipe.expire(seen_key, self.ttl_seconds)
            popped, _, _ = pipe.execute()
        if not popped:
            return None
        member, _score = popped[0]
        self.idle_since = None
        self._count("dequeued")
        return request_from_json(member[_ORDER_DIGITS + 1 :], self.spider)

    def wait_while_idle(self) -> None:
        """On ``spider_idle``: keep the spider open until it has been idle ``idle_seconds``."""
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_seconds:
            raise DontCloseSpider

    def _count(self, event: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"scheduler/{event}")
            self.stats.inc_value(f"scheduler/{event}/redis")

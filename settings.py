"""Every setting of newsdesk, with its default; the only module that reads the environment.

Each setting ``NAME`` below can be overridden with the environment variable ``NEWSDESK_NAME``.
The value is parsed by the type of the default: ``true``/``false`` (also 1/0, yes/no) for
booleans, numbers for numbers, comma-separated values for lists, JSON for mappings.

Scrapy reads this module as its settings module (through ``scrapy.cfg`` or
``SCRAPY_SETTINGS_MODULE=settings``), so Scrapy's own settings keep Scrapy's names. The
settings that are newsdesk's own carry a prefix by component: ``DATABASE_*``, ``BROKER_*``,
``EXTRACT_*``, ``CRAWL_*``, ``EMBEDDED_*``, ``API_*``, ``METRICS_*``, ``DEMO_*``, and
``ALLOW_PRIVATE``.

README.md's settings table and docs/configuration.md list them all (``make docs`` writes both
from this file); the comment above each setting is its documentation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV_PREFIX = "NEWSDESK_"
PROJECT_ROOT = Path(__file__).resolve().parent


def _env(name: str, default: Any) -> Any:
    """The value of ``NEWSDESK_<name>`` parsed by the type of ``default``, else ``default``."""
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None:
        return default
    return parse_value(raw, default, name)


def parse_value(raw: str, default: Any, name: str = "setting") -> Any:
    """Parse ``raw`` into the type of ``default``; raise ValueError when it does not fit."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{ENV_PREFIX}{name}: expected true or false, not {raw!r}")
    if isinstance(default, (int, float)):
        try:
            return type(default)(raw)
        except ValueError:
            kind = "an integer" if isinstance(default, int) else "a number"
            raise ValueError(f"{ENV_PREFIX}{name}: expected {kind}, not {raw!r}") from None
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(default, dict):
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError(f"{ENV_PREFIX}{name}: expected a JSON object, got {raw!r}")
        return value
    return raw


def use_metrics_dir(path: str) -> None:
    """Set METRICS_DIR here and for the processes started from here, and name the folder to
    prometheus_client, which reads ``PROMETHEUS_MULTIPROC_DIR`` (``workers.metrics``)."""
    global METRICS_DIR
    METRICS_DIR = path
    os.environ[ENV_PREFIX + "METRICS_DIR"] = path
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


# --- Storage -------------------------------------------------------------------------------

# Where articles are stored: a SQLAlchemy URL. SQLite (a file in the working directory) needs
# nothing installed; PostgreSQL is for production, e.g.
# ``postgresql+psycopg://user:password@host:5432/newsdesk``.
DATABASE_URL = _env("DATABASE_URL", "sqlite:///newsdesk.db")

# Seconds a SQLite writer waits for another writer's lock before giving up.
DATABASE_SQLITE_BUSY_TIMEOUT = _env("DATABASE_SQLITE_BUSY_TIMEOUT", 60.0)

# --- Queue ---------------------------------------------------------------------------------

# The Celery broker. Empty: pages are processed inside the crawling process (the embedded
# default, nothing to install). ``redis://host:6379/0``: pages go on the queue for workers.
BROKER_URL = _env("BROKER_URL", "")

# Worker processes that extract and store pages in the embedded default (no broker).
# 0 means one per CPU core.
EMBEDDED_PROCESSES = _env("EMBEDDED_PROCESSES", 0)

# Times a crawler tries to put a page on the queue while the broker is unreachable, waiting a
# little longer each time, before it records the page as failed (``queue_error``).
BROKER_SEND_RETRIES = _env("BROKER_SEND_RETRIES", 8)

# Longest wait between two of those tries, in seconds.
BROKER_SEND_MAX_INTERVAL = _env("BROKER_SEND_MAX_INTERVAL", 5.0)

# Seconds a page taken by a worker may stay unacknowledged before Redis hands it to another
# worker (the worker died without saying so). Longer than any page's processing.
BROKER_VISIBILITY_TIMEOUT = _env("BROKER_VISIBILITY_TIMEOUT", 3600)

# Seconds between two looks, by each worker, for pages held past BROKER_VISIBILITY_TIMEOUT by a
# worker that died; those pages go back on the queue.
BROKER_RESTORE_INTERVAL = _env("BROKER_RESTORE_INTERVAL", 10)

# --- Workers (Celery) ------------------------------------------------------------------------

# Processes per ``newsdesk worker``; 0 means one per CPU core.
WORKER_CONCURRENCY = _env("WORKER_CONCURRENCY", 0)

# Pages a worker process reserves beyond the one it works on. Extraction is CPU-bound, so
# 1: a page waits in Redis, where an idle worker can take it, not behind a busy one.
WORKER_PREFETCH_MULTIPLIER = _env("WORKER_PREFETCH_MULTIPLIER", 1)

# Pages a worker process handles before it is replaced by a fresh one (memory stays flat).
WORKER_MAX_TASKS_PER_CHILD = _env("WORKER_MAX_TASKS_PER_CHILD", 1000)

# Resident memory in KiB after which a worker process is replaced once its page is done.
WORKER_MAX_MEMORY_PER_CHILD = _env("WORKER_MAX_MEMORY_PER_CHILD", 512_000)

# Seconds one page task may run before it is interrupted and recorded as ``extract_timeout``.
# Extraction has its own, shorter limit (EXTRACT_TIME_LIMIT).
WORKER_SOFT_TIME_LIMIT = _env("WORKER_SOFT_TIME_LIMIT", 90)

# Seconds after which a page task that ignored the soft limit has its process killed.
WORKER_HARD_TIME_LIMIT = _env("WORKER_HARD_TIME_LIMIT", 120)

# Retries of a page whose storage failed for a passing reason (database unreachable or
# locked), with exponential back-off and jitter (at least half of 1, 2, 4… s: 8 ride out two
# minutes), before it is recorded as ``store_error``. While that cannot be written either,
# the page stays on the queue.
WORKER_STORE_RETRIES = _env("WORKER_STORE_RETRIES", 8)

# Longest back-off between two of those retries, in seconds; also how often a page waits to
# be recorded while the database stays unreachable.
WORKER_RETRY_BACKOFF_MAX = _env("WORKER_RETRY_BACKOFF_MAX", 300)

# Times a page may take its worker process down (a crash, a kill, the out of memory killer)
# and be given to a worker again; the next time it is recorded as ``extract_error``.
WORKER_LOST_LIMIT = _env("WORKER_LOST_LIMIT", 3)

# --- Scheduled crawls (Celery beat) -------------------------------------------------------------

# Seconds between two reads of the sources table by beat, so an imported sources file takes
# effect without a restart.
SOURCES_RELOAD_INTERVAL = _env("SOURCES_RELOAD_INTERVAL", 30.0)

# Seconds a source's crawl holds its lock in Redis without renewing it; a crawl renews it
# while it runs, so the lock outlives a crashed crawl by at most this long.
CRAWL_LOCK_TIMEOUT = _env("CRAWL_LOCK_TIMEOUT", 300)

# Seconds one scheduled crawl may run before it is stopped.
CRAWL_TIME_LIMIT = _env("CRAWL_TIME_LIMIT", 4 * 3600)

# --- Crawling: newsdesk's own ----------------------------------------------------------------

# Hosts that may be requested although they resolve to a loopback, private, link-local or
# reserved address: ``HOST`` or ``HOST:PORT`` entries, ``*`` for all. Empty by default, so
# that a feed cannot turn the crawler against the network it runs in.
ALLOW_PRIVATE: list[str] = _env("ALLOW_PRIVATE", [])

# Article pages requested per crawl at most (feeds and robots.txt not counted); 0: no limit.
CRAWL_MAX_PAGES = _env("CRAWL_MAX_PAGES", 0)

# Largest feed document parsed, in bytes (a feed is downloaded under DOWNLOAD_MAXSIZE too).
CRAWL_MAX_FEED_BYTES = _env("CRAWL_MAX_FEED_BYTES", 20 * 1024 * 1024)

# Largest sitemap read, in bytes, after decompression (sitemaps.org's limit).
CRAWL_SITEMAP_MAX_BYTES = _env("CRAWL_SITEMAP_MAX_BYTES", 50 * 1024 * 1024)

# URLs read from one sitemap at most (sitemaps.org's limit); the rest are ignored and logged.
CRAWL_SITEMAP_MAX_URLS = _env("CRAWL_SITEMAP_MAX_URLS", 50_000)

# How deep sitemap indexes may nest: an index naming an index naming a sitemap is depth 2.
CRAWL_SITEMAP_MAX_DEPTH = _env("CRAWL_SITEMAP_MAX_DEPTH", 3)

# With --site: how many links deep from the home page section pages are followed for links.
CRAWL_SITE_MAX_DEPTH = _env("CRAWL_SITE_MAX_DEPTH", 2)

# With --site: section and front pages read for links per crawl, at most.
CRAWL_SITE_MAX_LISTING_PAGES = _env("CRAWL_SITE_MAX_LISTING_PAGES", 50)

# Seconds after which a recent article is fetched again (conditionally) although its listing
# shows no change, to catch silent updates; 0: only when the listing shows a change.
CRAWL_REFETCH_INTERVAL = _env("CRAWL_REFETCH_INTERVAL", 0)

# Seconds after its first fetch during which an article counts as recent for refetching.
CRAWL_REFETCH_WINDOW = _env("CRAWL_REFETCH_WINDOW", 2 * 86400)

# Seconds to wait before asking again after a 429 or 503 without a Retry-After header.
CRAWL_RETRY_AFTER_DEFAULT = _env("CRAWL_RETRY_AFTER_DEFAULT", 10.0)

# Longest wait a Retry-After header is granted, in seconds.
CRAWL_RETRY_AFTER_MAX = _env("CRAWL_RETRY_AFTER_MAX", 600.0)

# Failures in a row (5xx, 429, timeouts) after which a site's request delay doubles.
CRAWL_BACKOFF_AFTER = _env("CRAWL_BACKOFF_AFTER", 3)

# Longest delay between two requests to a failing site, in seconds.
CRAWL_BACKOFF_MAX_DELAY = _env("CRAWL_BACKOFF_MAX_DELAY", 60.0)

# Connection-level failures in a row (refused, DNS, timeout, TLS; not HTTP error statuses) after
# which a site (host and port) is given up for the rest of the crawl: its other requests are not
# sent, and each is recorded as ``download_error`` ("site unreachable: …"), for ``newsdesk
# failures retry`` or the next crawl, which tries the site again. 0: never give up on a site.
CRAWL_SITE_DOWN_AFTER = _env("CRAWL_SITE_DOWN_AFTER", 5)

# Name of a shared crawl frontier. Crawler processes (on any machines) started with the same
# name share one request queue and one seen-URL set in Redis, so they split the work and no
# URL is fetched twice. Empty: each crawl keeps its frontier to itself. Use a new name for
# each run (``newsdesk crawl --frontier NAME``): URLs seen under a name are not fetched again.
CRAWL_FRONTIER_NAME = _env("CRAWL_FRONTIER_NAME", "")

# Redis that holds shared frontiers; empty: the broker's (BROKER_URL).
CRAWL_FRONTIER_REDIS_URL = _env("CRAWL_FRONTIER_REDIS_URL", "")

# Seconds a shared frontier's keys live in Redis after its last crawler touched them.
CRAWL_FRONTIER_TTL_SECONDS = _env("CRAWL_FRONTIER_TTL_SECONDS", 86400)

# Seconds a crawler with nothing to do waits for work from the others before it ends.
CRAWL_FRONTIER_IDLE_SECONDS = _env("CRAWL_FRONTIER_IDLE_SECONDS", 10.0)

# Media types that are worth extracting; any other page is recorded as ``not_html``.
CRAWL_HTML_TYPES: list[str] = _env("CRAWL_HTML_TYPES", ["text/html", "application/xhtml+xml"])

# --- Extraction --------------------------------------------------------------------------------

# Largest page handed to extraction, in bytes of HTML; a larger page is recorded as
# ``too_large`` (downloads are already cut at DOWNLOAD_MAXSIZE).
EXTRACT_MAX_BYTES = _env("EXTRACT_MAX_BYTES", 5 * 1024 * 1024)

# Seconds extraction may spend on one page before it is given up as ``extract_timeout``.
EXTRACT_TIME_LIMIT = _env("EXTRACT_TIME_LIMIT", 30.0)

# Seconds after which, in the embedded default, the process handling one page is killed and
# replaced, and the page recorded as ``extract_timeout``: for code that EXTRACT_TIME_LIMIT
# cannot interrupt (a C library that does not return). Queue workers have
# WORKER_HARD_TIME_LIMIT. Longer than EXTRACT_TIME_LIMIT plus storing the article.
EXTRACT_HARD_TIME_LIMIT = _env("EXTRACT_HARD_TIME_LIMIT", 120.0)

# Deepest nesting of HTML elements handed to extraction; a page nested deeper is recorded as
# ``too_large``. Under 255, where libxml2 silently drops the rest of the page; real pages
# stay under 50. 0: no limit.
EXTRACT_MAX_DEPTH = _env("EXTRACT_MAX_DEPTH", 200)

# Fewest words a body must have for the page to count as an article; pages with some text
# but fewer words are recorded as ``not_article``.
EXTRACT_MIN_WORDS = _env("EXTRACT_MIN_WORDS", 50)

# Format of an article's ``body``: "text" (plain text, a paragraph a line), "markdown" (headings,
# lists, emphasis, tables) or "html" (trafilatura's clean HTML of the main text).
EXTRACT_BODY_FORMAT = _env("EXTRACT_BODY_FORMAT", "text")

# --- Normalisation and duplicates -------------------------------------------------------------

# Query parameters removed from article URLs as tracking, on top of courlan's own list
# (docs/normalise.md); lower case, ``*`` matches any characters. Setting it replaces this list.
NORMALISE_TRACKING_PARAMETERS: list[str] = _env(
    "NORMALISE_TRACKING_PARAMETERS",
    [
        "utm_*", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src",
        "ref_url", "cmpid", "ocid", "icid", "ico", "smid", "xtor", "maca", "wt_mc", "wt_zmc",
        "dicbo", "at_medium", "at_campaign", "at_custom*", "ns_mchannel", "ns_source",
        "ns_campaign", "ns_linkname", "ns_fee", "sr_share", "share", "spm",
        "__twitter_impression", "srsltid",
    ],
)  # fmt: skip

# Sites of one publisher that may name each other's URLs as an article's canonical URL: one
# group a value, its registrable domains separated by spaces (``faz.net faz.de``). Elsewhere a
# canonical URL on another registrable domain is not trusted, and the fetched URL is kept.
NORMALISE_SITE_GROUPS: list[str] = _env("NORMALISE_SITE_GROUPS", [])

# Estimated Jaccard similarity of two bodies' word shingles from which they are one story
# (0 to 1). Unrelated articles score under 0.05; a copy with a paragraph added, over 0.7.
DEDUPE_THRESHOLD = _env("DEDUPE_THRESHOLD", 0.5)

# Words in a shingle, the unit two bodies are compared by. Changing it starts a new
# near-duplicate index: the fingerprints stored before then match no new article.
DEDUPE_SHINGLE_WORDS = _env("DEDUPE_SHINGLE_WORDS", 3)

# Fewest shingles a body needs to be compared for near-duplicates; shorter bodies are linked
# only by their exact content hash, as two short texts share stock phrases too easily.
DEDUPE_MIN_SHINGLES = _env("DEDUPE_MIN_SHINGLES", 40)

# --- HTTP API and web view (``newsdesk serve``) -----------------------------------------------

# The address ``newsdesk serve`` listens on. Only this machine by default: give ``0.0.0.0`` (and
# put a TLS proxy in front) to serve others.
API_HOST = _env("API_HOST", "127.0.0.1")

# The port ``newsdesk serve`` listens on.
API_PORT = _env("API_PORT", 8000)

# The bearer token every write endpoint (triggering a crawl) requires, sent as
# ``Authorization: Bearer TOKEN``. Empty: writes are refused, reading stays open.
API_TOKEN = _env("API_TOKEN", "")

# --- Demo ------------------------------------------------------------------------------------

# The sample site that ``newsdesk demo`` serves: real news pages with their licence note.
DEMO_SITE_DIR = _env("DEMO_SITE_DIR", str(PROJECT_ROOT / "tests" / "fixtures" / "news-site"))

# The SQLite file that ``newsdesk demo`` crawls into (recreated on every run).
DEMO_DATABASE_URL = _env("DEMO_DATABASE_URL", "sqlite:///newsdesk-demo.db")

# --- Metrics (Prometheus, ``/metrics``) ---------------------------------------------------------

# Folder where the crawls and workers of this machine keep their Prometheus counts
# (prometheus_client's multiprocess mode), so that one endpoint adds them all up: the
# ``/metrics`` of ``newsdesk serve`` shows the counts of every crawl and worker that shares it.
# A local folder, kept across restarts: counts go on from where they were. Empty: each process
# counts for itself, and a worker with a METRICS_PORT counts in a folder of its own.
METRICS_DIR = _env("METRICS_DIR", "")

# Port on which each ``newsdesk worker`` serves its own ``/metrics`` (its processes' counts,
# queue depths, source freshness), to be scraped from another machine; 0: none. The
# ``--metrics-port`` of ``newsdesk worker`` sets it for one worker.
METRICS_PORT = _env("METRICS_PORT", 0)

# The address a worker's metrics port listens on: this machine only, unless told otherwise;
# set 0.0.0.0 (as docker-compose.yml does) for a Prometheus on another machine to scrape it.
# It opens only with a METRICS_PORT, and tells counts, queue depths and source names.
METRICS_HOST = _env("METRICS_HOST", "127.0.0.1")

# Seconds an endpoint keeps the time of each source's newest article before it looks again:
# that takes a pass over the articles table (about 0.25 s a million articles on PostgreSQL).
METRICS_FRESHNESS_INTERVAL = _env("METRICS_FRESHNESS_INTERVAL", 60.0)

# --- Scrapy's settings, with newsdesk's defaults ------------------------------------------------

# Wiring, not meant to be changed.
BOT_NAME = "newsdesk"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Where a site's operator can learn about your crawler and reach you; part of USER_AGENT.
CRAWL_CONTACT_URL = _env("CRAWL_CONTACT_URL", "https://github.com/newsdesk/newsdesk")

# Sent with every request. Sites block anonymous crawlers; say who you are and how to reach you.
USER_AGENT = _env("USER_AGENT", f"newsdesk/0.1 (news article ingestion; +{CRAWL_CONTACT_URL})")

# Obey each site's robots.txt; a page it forbids is recorded as ``robots_txt``.
ROBOTSTXT_OBEY = _env("ROBOTSTXT_OBEY", True)

# Seconds one download may take before it is given up as ``timeout``.
DOWNLOAD_TIMEOUT = _env("DOWNLOAD_TIMEOUT", 30)

# Largest download in bytes, also after decompression; larger ones are cut and recorded as
# ``too_large``.
DOWNLOAD_MAXSIZE = _env("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024)

# Downloads larger than this, in bytes, are logged as a warning.
DOWNLOAD_WARNSIZE = _env("DOWNLOAD_WARNSIZE", 5 * 1024 * 1024)

# Redirects followed for one request before it is recorded as ``redirect_loop``.
REDIRECT_MAX_TIMES = _env("REDIRECT_MAX_TIMES", 10)

# Requests in flight at once, over all sites.
CONCURRENT_REQUESTS = _env("CONCURRENT_REQUESTS", 16)

# Requests in flight at once to one site.
CONCURRENT_REQUESTS_PER_DOMAIN = _env("CONCURRENT_REQUESTS_PER_DOMAIN", 4)

# What one response gives (an article page one item, a listing its requests) is handled by
# this many tasks at once, all of them started for every response. Pages are fetched and
# processed side by side as CONCURRENT_REQUESTS says, whatever this is; Scrapy's 100 only
# cost the crawl process about a tenth of its CPU in starting tasks.
CONCURRENT_ITEMS = _env("CONCURRENT_ITEMS", 4)

# Least seconds between two requests to one site (Scrapy varies each by up to half). Keep it
# above 0: with a delay of 0, Scrapy 2.19 on the asyncio reactor starts every queued request
# of a site at once, whatever CONCURRENT_REQUESTS_PER_DOMAIN says.
DOWNLOAD_DELAY = _env("DOWNLOAD_DELAY", 0.25)

# AutoThrottle adapts each site's delay to its response times, so a slow site is not pushed.
AUTOTHROTTLE_ENABLED = _env("AUTOTHROTTLE_ENABLED", True)

# AutoThrottle's first delay for a site, in seconds, before it has measured the site.
AUTOTHROTTLE_START_DELAY = _env("AUTOTHROTTLE_START_DELAY", 1.0)

# The longest delay AutoThrottle sets for a slow site, in seconds.
AUTOTHROTTLE_MAX_DELAY = _env("AUTOTHROTTLE_MAX_DELAY", 30.0)

# Requests AutoThrottle aims to have in flight to one site at once, on average.
AUTOTHROTTLE_TARGET_CONCURRENCY = _env("AUTOTHROTTLE_TARGET_CONCURRENCY", 2.0)

# Retries of a download that failed for a transient reason (timeouts, 5xx, 429, 503).
RETRY_TIMES = _env("RETRY_TIMES", 2)

# Statuses Scrapy retries at once; 429 and 503 are left to the Retry-After handling.
RETRY_HTTP_CODES: list[int] = _env("RETRY_HTTP_CODES", [500, 502, 504, 522, 524, 408])

# Log level of the newsdesk command, and of Scrapy while crawling (the crawl summary is
# printed whatever it is). ``-v`` makes it INFO, ``-vv`` DEBUG, ``-q`` ERROR. Workers and beat
# take theirs from ``--loglevel`` (INFO).
LOG_LEVEL = _env("LOG_LEVEL", "WARNING")

# Write log records to stderr as JSON, one object a line (time in UTC, level, logger,
# message, exception, extra fields), for every command: crawl, worker, beat, serve.
# ``--log-format json`` or ``text`` chooses for one run. (Scrapy's LOG_FORMAT is another thing.)
LOG_JSON = _env("LOG_JSON", False)

# Keep cookies between requests; off, since news pages read the same without them.
COOKIES_ENABLED = _env("COOKIES_ENABLED", False)

# Scrapy's telnet console for debugging a running crawl; off, as it opens a port.
TELNETCONSOLE_ENABLED = _env("TELNETCONSOLE_ENABLED", False)

# Scrapy's remote control: an HTTP server on localhost that runs the Python code it is sent
# (for Scrapy's MCP server); off, as it opens a port. While off it is not even loaded
# (``spiders.addons``), which spares every crawl ~0.1 s of CPU.
REMOTE_CONTROL_ENABLED = _env("REMOTE_CONTROL_ENABLED", False)

# --- Celery's settings, from the ones above ------------------------------------------------------

# Wiring, not meant to be changed: Celery reads these (``config_from_object(namespace="CELERY")``).
CELERY_BROKER_URL = BROKER_URL or None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker waits for Redis as long as it is away
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": BROKER_RESTORE_INTERVAL,
    "unacked_restore_throttle": 1,
    # kombu base64-encodes every message body for Redis by default; a page's body is already
    # compressed and base64-encoded in its message (``FetchedPage.to_dict``), so a second pass
    # only made each message a third larger (105 against 79 KB on news-fixtures) and cost
    # both ends the encoding. Messages queued the old way say so and are still read.
    "body_encoding": None,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = "pages"
CELERY_TASK_ROUTES = {"newsdesk.crawl_source": {"queue": "crawls"}}
CELERY_WORKER_CONCURRENCY = WORKER_CONCURRENCY or None
CELERY_WORKER_PREFETCH_MULTIPLIER = WORKER_PREFETCH_MULTIPLIER
CELERY_WORKER_MAX_TASKS_PER_CHILD = WORKER_MAX_TASKS_PER_CHILD
CELERY_WORKER_MAX_MEMORY_PER_CHILD = WORKER_MAX_MEMORY_PER_CHILD
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SOFT_TIME_LIMIT = WORKER_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = WORKER_HARD_TIME_LIMIT
CELERY_BEAT_SCHEDULER = "workers.schedule:SourceScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = SOURCES_RELOAD_INTERVAL

# Wiring, not meant to be changed: the reactor, the spiders, the middleware and the pipeline.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100), so not even robots.txt is asked of a forbidden address.
    "spiders.guard.PrivateNetworkGuard": 50,
    "spiders.politeness.PolitenessMiddleware": 560,
    # Just before Scrapy's HttpCompressionMiddleware (590) in the response order.
    "spiders.compressed.PlainCompressedResponse": 595,
    # Scrapy's meta refresh redirects, in its place, without decoding the pages that cannot
    # declare one.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "spiders.refresh.HeadCheckedMetaRefresh": 580,
    # After Scrapy's RedirectMiddleware (600), so it sees each redirect before it is followed.
    "spiders.guard.RedirectGuard": 650,
}
ITEM_PIPELINES = {
    "spiders.pipelines.HandOffPipeline": 300,
}

# Wiring, not meant to be changed: adjusts Scrapy's own settings (``spiders.addons``).
ADDONS = {
    "spiders.addons.LeanExtensions": 0,
}

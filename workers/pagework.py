"""How pages are to be processed (``PageWork``), and the entry points a local pool process runs.

The crawl's own process needs these to hand pages over, but never extracts a page itself: so
this module imports none of the extraction libraries (trafilatura, extruct, lxml's cleaners,
the language model). ``process_fetched`` and ``record_skip`` load ``workers.tasks``, which does
the work, in the process that calls them: a pool process, never the crawl's. A re-crawl that
finds nothing new thus never loads the extraction code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workers.canonical import UrlRules
from workers.dedupe import DedupeRules
from workers.records import FetchedPage


@dataclass(frozen=True)
class PageWork:
    """How pages are processed: limits and where to store. Plain values, built from settings."""

    database_url: str
    html_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    max_bytes: int = 5 * 1024 * 1024
    min_words: int = 50
    body_format: str = "text"  # text, markdown or html (EXTRACT_BODY_FORMAT)
    max_depth: int = 200
    time_limit: float = 30.0
    hard_time_limit: float = 120.0
    sqlite_busy_timeout: float = 60.0
    url_rules: UrlRules = field(default_factory=UrlRules)
    dedupe: DedupeRules = field(default_factory=DedupeRules)

    @classmethod
    def from_settings(cls, settings: Any, database_url: str | None = None) -> PageWork:
        """The values of the settings module (or a Scrapy ``Settings``) that matter here."""
        get = settings.get if hasattr(settings, "get") else lambda name: getattr(settings, name)
        return cls(
            database_url=database_url or get("DATABASE_URL"),
            html_types=tuple(get("CRAWL_HTML_TYPES")),
            max_bytes=int(get("EXTRACT_MAX_BYTES")),
            min_words=int(get("EXTRACT_MIN_WORDS")),
            body_format=str(get("EXTRACT_BODY_FORMAT")),
            max_depth=int(get("EXTRACT_MAX_DEPTH")),
            time_limit=float(get("EXTRACT_TIME_LIMIT")),
            hard_time_limit=float(get("EXTRACT_HARD_TIME_LIMIT")),
            sqlite_busy_timeout=float(get("DATABASE_SQLITE_BUSY_TIMEOUT")),
            url_rules=UrlRules.from_settings(settings),
            dedupe=DedupeRules.from_settings(settings),
        )


def process_fetched(page: FetchedPage, work: PageWork) -> dict[str, Any]:
    """``workers.tasks.process_fetched``, with the extraction code loaded by the calling process."""
    from workers import tasks

    return tasks.process_fetched(page, work)


def ready() -> None:
    """Nothing: the task that has a pool start its processes."""


def record_skip(message: dict[str, Any], work: PageWork) -> dict[str, Any]:
    """``workers.tasks.record_skip``, loaded by the calling process."""
    from workers import tasks

    return tasks.record_skip(message, work)

"""Re-crawl only what changed: decide, from a URL's stored state, whether to fetch it again.

A URL seen before is fetched again only when its listing says it changed (a sitemap
``lastmod`` or a feed entry date newer than the one stored, or than the last fetch when none
was stored), or when it is a recent article
whose refetch is due (``CRAWL_REFETCH_INTERVAL`` within ``CRAWL_REFETCH_WINDOW`` of its first
fetch). A known page is asked for conditionally, so an unchanged one costs a 304 and no
extraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Refetch:
    """When recent articles are fetched again although their listing shows no change."""

    interval: timedelta = timedelta(0)  # zero: never
    window: timedelta = timedelta(days=2)


def parse_moment(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time as an aware datetime (a bare date is midnight UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def conditional_headers(state: dict[str, Any] | None) -> dict[str, str]:
    """``If-None-Match``/``If-Modified-Since`` from a stored state's validators."""
    if not state:
        return {}
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    return headers


def should_fetch(
    state: dict[str, Any] | None, listed_at: str | None, now: datetime, refetch: Refetch
) -> bool:
    """Whether a URL the listing names (with its date, if any) is worth fetching now."""
    if state is None:
        return True
    listed = parse_moment(listed_at)
    if listed is not None:
        # Changed since: since the date the listing gave before, or, when the page was found
        # without a date (a link on a front page), since it was fetched.
        known = parse_moment(state.get("listed_at")) or _aware(state["fetched_at"])
        if listed > known:
            return True
    if refetch.interval and state.get("outcome") == "article":
        first, last = _aware(state["first_fetched_at"]), _aware(state["fetched_at"])
        return now - first <= refetch.window and now - last >= refetch.interval
    return False


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

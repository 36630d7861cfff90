"""Crawl state: what each URL was when last fetched; part of ``Database``.

The crawler asks for the state of the URLs a listing names (one query for many) to fetch only
what is new or changed, and to ask conditionally (``If-None-Match``/``If-Modified-Since``)
when it does fetch a known page. Workers write the state when they store or skip a page.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from storage.models import PageState

_BATCH = 500  # URLs per IN (...) query


class PageStateTables:
    """The ``page_states`` table (mixed into ``storage.sql.Database``)."""

    engine: Engine
    _insert: Any

    def page_states(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        """The stored state of each of ``urls`` that has one, by URL."""
        found: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(urls), _BATCH):
                batch = urls[start : start + _BATCH]
                query = select(PageState).where(PageState.url.in_(batch))
                for row in connection.execute(query).mappings():
                    found[row["url"]] = dict(row)
        return found

    def save_page_state(
        self,
        url: str,
        outcome: str,
        validators: dict[str, Any] | None = None,
        *,
        article_url: str | None = None,
        connection: Connection | None = None,
    ) -> None:
        """Record that ``url`` was fetched now, with its outcome and validators.

        ``validators`` may hold ``etag``, ``last_modified`` (the response's headers) and
        ``listed_at`` (the date the listing gave the URL).
        """
        now = datetime.now(UTC)
        given = validators or {}
        values = {
            "outcome": outcome,
            "article_url": article_url,
            "etag": (given.get("etag") or None),
            "last_modified": (given.get("last_modified") or None),
            "listed_at": (given.get("listed_at") or None),
            "fetched_at": now,
        }
        parameters = {"url": url, "first_fetched_at": now, **values}
        if connection is not None:
            connection.execute(self._page_state_upsert, parameters)
            return
        with self.engine.begin() as own:
            own.execute(self._page_state_upsert, parameters)

    @functools.cached_property
    def _page_state_upsert(self) -> Any:
        """The page-state upsert, built once: its values come with each execution, and a
        known URL takes the new values of all but ``first_fetched_at``."""
        statement = self._insert(PageState)
        updated = ("outcome", "article_url", "etag", "last_modified", "listed_at", "fetched_at")
        return statement.on_conflict_do_update(
            index_elements=["url"], set_={name: statement.excluded[name] for name in updated}
        )

    def touch_page_state(self, url: str) -> None:
        """Record that ``url`` was asked for again and had not changed (a 304)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(PageState).where(PageState.url == url).values(fetched_at=datetime.now(UTC))
            )

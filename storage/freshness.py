"""How fresh each enabled source is: when its newest article was stored, when its last crawl
ended. Read by the metrics endpoints (``workers.metrics``) when they are scraped.

Both are asked of the whole table and filtered here, not per source: per source, PostgreSQL
reaches each source's articles through the ``source`` index, one row at a time (8 s for a
million articles), where one pass over the table takes 0.25 s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, select

from storage.models import CrawlRecord, StoredArticle, StoredSource
from storage.queries import as_utc


def newest_articles(engine: Engine) -> dict[str, datetime]:
    """When the newest article of each enabled source was first stored, by source name.

    One pass over the articles: callers look it up less often than the rest.
    """
    query = select(StoredArticle.source, func.max(StoredArticle.first_stored_at)).group_by(
        StoredArticle.source
    )
    with engine.connect() as connection:
        return _of_enabled_sources(connection, query)


def last_finished_crawls(engine: Engine) -> dict[str, datetime]:
    """When the last finished crawl of each enabled source ended, by source name."""
    query = (
        select(CrawlRecord.source, func.max(CrawlRecord.finished_at))
        .where(CrawlRecord.status == "finished")
        .group_by(CrawlRecord.source)
    )
    with engine.connect() as connection:
        return _of_enabled_sources(connection, query)


def _of_enabled_sources(connection: Connection, query: Select[Any, Any]) -> dict[str, datetime]:
    """The (source, time) rows of ``query`` whose source is stored and enabled, in UTC."""
    enabled = set(
        connection.execute(select(StoredSource.name).where(StoredSource.enabled.is_(True)))
        .scalars()
        .all()
    )
    rows = connection.execute(query)
    return {source: as_utc(moment) for source, moment in rows if source in enabled and moment}

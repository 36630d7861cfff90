"""Sources to crawl on a schedule, and the record of every crawl: part of ``Database``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from storage.models import CrawlRecord, StoredSource
from workers.records import Source

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


class SourceTables:
    """The ``sources`` and ``crawls`` tables (mixed into ``storage.sql.Database``)."""

    engine: Engine
    _insert: Any

    def save_source(self, source: Source) -> str:
        """Insert or replace the source of that name; return NEW, UPDATED or UNCHANGED."""
        now = datetime.now(UTC)
        values = source.to_dict()
        with self.engine.begin() as connection:
            row = connection.execute(
                select(StoredSource).where(StoredSource.name == source.name)
            ).first()
            if row is None:
                connection.execute(
                    self._insert(StoredSource).values(**values, created_at=now, updated_at=now)
                )
                return NEW
            if Source.from_dict(dict(row._mapping)) == source:
                return UNCHANGED
            connection.execute(
                update(StoredSource)
                .where(StoredSource.name == source.name)
                .values(**values, updated_at=now)
            )
            return UPDATED

    def sources(self, *, enabled_only: bool = False) -> list[Source]:
        """The stored sources by name."""
        query = select(StoredSource).order_by(StoredSource.name)
        if enabled_only:
            query = query.where(StoredSource.enabled.is_(True))
        with self.engine.connect() as connection:
            return [Source.from_dict(dict(row)) for row in connection.execute(query).mappings()]

    def source(self, name: str) -> Source | None:
        """The stored source of that name, or None."""
        query = select(StoredSource).where(StoredSource.name == name)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return Source.from_dict(dict(row)) if row else None

    def start_crawl(self, source: str, status: str = "running", detail: str = "") -> int:
        """Record a crawl that starts now (or was skipped, with ``detail``); return its id."""
        now = datetime.now(UTC)
        finished = now if status != "running" else None
        with self.engine.begin() as connection:
            inserted = connection.execute(
                self._insert(CrawlRecord)
                .values(
                    source=source,
                    status=status,
                    started_at=now,
                    finished_at=finished,
                    detail=detail,
                    summary={},
                )
                .returning(CrawlRecord.id)
            ).scalar_one()
        return int(inserted)

    def finish_crawl(
        self, crawl_id: int, status: str, summary: dict[str, Any], detail: str = ""
    ) -> None:
        """Record how a crawl ended: ``finished`` or ``failed``, with its summary."""
        with self.engine.begin() as connection:
            connection.execute(
                update(CrawlRecord)
                .where(CrawlRecord.id == crawl_id)
                .values(
                    status=status,
                    finished_at=datetime.now(UTC),
                    summary=summary,
                    detail=detail,
                )
            )

    def crawls(self, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The latest crawls, newest first; of one source when named."""
        query = select(CrawlRecord).order_by(CrawlRecord.id.desc()).limit(limit)
        if source is not None:
            query = query.where(CrawlRecord.source == source)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

"""The tables: stored articles, and every page that did not become one, with its reason.

The schema is created and changed only by the Alembic migrations in ``migrations/``; these
models must match the latest migration (a test compares them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


# The full-text search index of migration 0007 is the database's own, not a model: an FTS5
# table with its shadow tables and triggers on SQLite, an expression index on PostgreSQL.
SEARCH_INDEX_PREFIXES = ("articles_fts", "ix_articles_fts")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """False for the search index's tables and index: what schema comparisons leave out."""
    return not (name or "").startswith(SEARCH_INDEX_PREFIXES)


class Base(DeclarativeBase):
    """Base of the tables."""

    metadata = MetaData(naming_convention=NAMING)


class StoredArticle(Base):
    """One article, keyed by its canonical URL; the row holds its latest version."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    fetched_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON)
    authors: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    # ISO 8601 as the page gives it: a bare date, or a date-time with its offset.
    published_at: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    paywalled: Mapped[bool | None] = mapped_column(Boolean)
    word_count: Mapped[int] = mapped_column(Integer)
    reading_time: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(2048), index=True)
    story_id: Mapped[str | None] = mapped_column(String(64), index=True)
    fetched_at: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(255), index=True)
    # The UTC instants of the two dates (a bare date: its midnight in UTC), for sorting.
    published_at_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    updated_at_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[list[str]] = mapped_column(JSON, server_default=text("'[]'"))
    first_stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PageFailure(Base):
    """A page that did not become an article: skipped by design or failed, with its reason."""

    __tablename__ = "page_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str | None] = mapped_column(String(255))
    stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoredSource(Base):
    """A source to crawl on a schedule, as last imported from a sources file."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    feeds: Mapped[list[str]] = mapped_column(JSON)
    sitemaps: Mapped[list[str]] = mapped_column(JSON)
    sites: Mapped[list[str]] = mapped_column(JSON)
    urls: Mapped[list[str]] = mapped_column(JSON)
    every: Mapped[str | None] = mapped_column(String(32))
    cron: Mapped[str | None] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CrawlRecord(Base):
    """One crawl: of a source or ad hoc; running, finished, failed, or skipped (and why)."""

    __tablename__ = "crawls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class PageState(Base):
    """A URL as it was when last fetched: its validators and what the listing said of it.

    The crawler reads it to fetch only what is new or changed, and to ask conditionally.
    """

    __tablename__ = "page_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    article_url: Mapped[str | None] = mapped_column(String(2048))
    outcome: Mapped[str] = mapped_column(String(32))  # "article", "listing", or a skip reason
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    listed_at: Mapped[str | None] = mapped_column(String(40))  # lastmod or feed date seen
    first_fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ArticleRevision(Base):
    """One version of an article; a new one whenever its content hash changes."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("url", "revision", name="uq_article_revisions_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048))
    revision: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    article: Mapped[dict[str, Any]] = mapped_column(JSON)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoryFingerprint(Base):
    """An article's MinHash signature and the story it belongs to: the near-duplicate index."""

    __tablename__ = "story_fingerprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    story_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class StoryBand(Base):
    """One LSH band key of an article's signature: articles sharing a key are candidates."""

    __tablename__ = "story_bands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    band: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048), index=True)

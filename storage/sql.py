"""Store articles and skipped pages in SQLite or PostgreSQL, idempotently; read them back.

``Database(url)`` is all the other packages use. Writes are idempotent: storing the same
article twice leaves one row, and two workers storing it at once cannot make two.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from storage.models import ArticleRevision, PageFailure, StoredArticle
from storage.pages import PageStateTables
from storage.sources import NEW, UNCHANGED, UPDATED, SourceTables
from storage.stories import StoryLink, link_story, lock_story_keys
from workers.dedupe import DedupeRules, Fingerprint
from workers.errors import ConfigurationError, StorageUnavailable
from workers.records import Article, Reason, Skip

__all__ = ["NEW", "UNCHANGED", "UPDATED", "Database", "make_engine", "safe_url"]

_ARTICLE_FIELDS = [
    "url", "fetched_url", "title", "body", "tags", "authors", "categories", "published_at",
    "updated_at", "language", "description", "image", "site_name", "paywalled", "word_count",
    "reading_time", "content_hash", "duplicate_of", "story_id", "fetched_at", "source", "notes",
]  # fmt: skip


def _utc_instant(value: str | None) -> datetime | None:
    """The UTC instant of an ISO 8601 date as ``normalise`` leaves it; a bare date's midnight."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def database_url(url: str) -> str:
    """``url`` with the driver newsdesk installs: psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def safe_url(url: str) -> str:
    """``url`` with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"//[^/@]*@", "//***@", url)


def make_engine(url: str, *, sqlite_busy_timeout: float = 60.0) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and a busy timeout for several writers."""
    try:
        parsed = make_url(database_url(url))
    except ArgumentError as error:
        raise ConfigurationError(f"not a database URL: {safe_url(url)}") from error
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": sqlite_busy_timeout})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}: {safe_url(url)}"
            " (use sqlite:///FILE or postgresql://…)"
        )
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (ModuleNotFoundError, NoSuchModuleError) as error:
        raise ConfigurationError(
            f"database driver not installed for {safe_url(url)}: {error}"
            " (newsdesk installs psycopg 3: use postgresql://…)"
        ) from error


_WAL_WAIT = 60.0  # seconds, as DATABASE_SQLITE_BUSY_TIMEOUT's default


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL mode stays with the file. Setting it needs a lock that concurrent writers may hold,
    # and SQLite then fails at once instead of waiting: so set it only while it is not set
    # yet, trying again for as long as the busy timeout would have waited.
    deadline = time.monotonic() + _WAL_WAIT
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Skips for what a page is, not for how fetching it went: the page is not asked for again
# until its listing says it changed.
_REMEMBERED = {
    Reason.NOT_ARTICLE,
    Reason.EMPTY,
    Reason.NOT_HTML,
    Reason.NOT_FOUND,
    Reason.TOO_LARGE,
}


class Database(SourceTables, PageStateTables):
    """Everything newsdesk stores, in one database: articles and their revisions, skipped
    pages, sources and crawls (``storage.sources``), and crawl state (``storage.pages``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, sqlite_busy_timeout: float = 60.0) -> Database:
        """The database at ``url``, its schema brought up to date unless ``migrate`` is False."""
        from storage.migrate import upgrade

        database = cls(make_engine(url, sqlite_busy_timeout=sqlite_busy_timeout))
        if migrate:
            try:
                upgrade(database.engine)
            except OperationalError as error:
                raise StorageUnavailable(
                    f"cannot use database {safe_url(url)}: {error.orig}"
                ) from error
        return database

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def store(
        self,
        article: Article,
        *,
        page_url: str | None = None,
        validators: dict[str, Any] | None = None,
        fingerprint: Fingerprint | None = None,
        similarity_threshold: float = DedupeRules.threshold,
    ) -> str:
        """Insert or update ``article`` by its canonical URL; return NEW, UPDATED or UNCHANGED.

        An update happens only when the content hash differs, and then the new version is
        kept as a new revision. In the same transaction the article joins its story
        (``storage.stories``): the story of the first stored article with the same content
        hash, or with a ``fingerprint`` at least ``similarity_threshold`` similar; else a
        story of its own. Any recorded skip of the page is removed, since the page is now an
        article, and the page's crawl state (``validators``) is saved.
        """
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            lock_story_keys(connection, article, fingerprint)
            outcome, story = self._write_article(connection, article, now)
            # An unchanged article keeps its story and its index entry; a row stored before
            # stories existed gets them now.
            if outcome != UNCHANGED or story is None:
                link = link_story(
                    connection,
                    article,
                    fingerprint,
                    similarity_threshold,
                    story=story,
                    indexed=outcome != NEW,
                )
                if outcome != UNCHANGED:
                    linked = article.replace(story_id=link.story_id, duplicate_of=link.duplicate_of)
                    self._add_revision(connection, linked, now)
            urls = {article.url, article.fetched_url, page_url or article.url}
            connection.execute(delete(PageFailure).where(PageFailure.url.in_(urls)))
            self.save_page_state(
                page_url or article.fetched_url,
                "article",
                validators,
                article_url=article.url,
                connection=connection,
            )
        return outcome

    def _write_article(
        self, connection: Connection, article: Article, now: datetime
    ) -> tuple[str, StoryLink | None]:
        """Insert the article's row, or update it when its content hash changed; return NEW,
        UPDATED or UNCHANGED, and the story the row already had (None for none)."""
        values = {name: getattr(article, name) for name in _ARTICLE_FIELDS}
        values["published_at_utc"] = _utc_instant(article.published_at)
        values["updated_at_utc"] = _utc_instant(article.updated_at)
        # Stories are storage's to give (link_story); once given, one stays with the URL.
        values.update(story_id=None, duplicate_of=None)
        # On SQLite this insert comes first: it takes the write lock before any read.
        # The values go with the execution, not into the statement: the same statement each
        # time is compiled once (building one with its values cost ~1 ms of CPU an article).
        inserted = connection.execute(
            self._insert(StoredArticle)
            .on_conflict_do_nothing(index_elements=["url"])
            .returning(StoredArticle.id),
            {**values, "first_stored_at": now, "last_stored_at": now},
        ).first()
        if inserted is not None:
            return NEW, None
        # Nothing else writes the row meanwhile: its URL's lock (or SQLite's) is held.
        row = connection.execute(
            select(
                StoredArticle.content_hash, StoredArticle.story_id, StoredArticle.duplicate_of
            ).where(StoredArticle.url == article.url)
        ).one()
        story = StoryLink(row.story_id, row.duplicate_of) if row.story_id else None
        if row.content_hash == article.content_hash:
            return UNCHANGED, story
        changes = {k: v for k, v in values.items() if k not in ("story_id", "duplicate_of")}
        connection.execute(
            update(StoredArticle)
            .where(StoredArticle.url == article.url)
            .values(**changes, last_stored_at=now)
        )
        return UPDATED, story

    def _add_revision(self, connection: Connection, article: Article, now: datetime) -> None:
        """Keep ``article`` as its URL's next revision, numbered in the same statement."""
        connection.execute(
            self._revision_insert,
            {
                "revision_of": article.url,
                "url": article.url,
                "content_hash": article.content_hash,
                "article": article.to_dict(),
                "stored_at": now,
            },
        )

    @functools.cached_property
    def _revision_insert(self) -> Any:
        """The revision insert, built once: its values come with each execution."""
        latest = select(func.coalesce(func.max(ArticleRevision.revision), 0)).where(
            ArticleRevision.url == bindparam("revision_of")
        )
        return self._insert(ArticleRevision).values(revision=latest.scalar_subquery() + 1)

    def revisions(self) -> Iterator[dict[str, Any]]:
        """Every version of every article, by article then revision: the article's fields,
        its ``revision`` number and when it was ``stored_at``."""
        query = select(ArticleRevision).order_by(ArticleRevision.url, ArticleRevision.revision)
        with self.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                stored_at = row["stored_at"]
                yield {
                    **row["article"],
                    "revision": row["revision"],
                    "stored_at": stored_at.isoformat() if stored_at else None,
                }

    def record_skip(self, skip: Skip, validators: dict[str, Any] | None = None) -> None:
        """Record (or count again) a page that did not become an article, with its reason.

        A page skipped for what it is (not an article, not HTML, gone) also gets its crawl
        state, so an unchanged listing does not lead to fetching it again; a failure does not,
        so the next crawl tries again.
        """
        now = datetime.now(UTC)
        values = {
            "url": skip.url,
            "source": skip.source,
            "stage": skip.stage,
            "reason": str(skip.reason),
            "detail": skip.detail[:2000],
        }
        statement = self._insert(PageFailure).values(
            **values, attempts=1, first_seen=now, last_seen=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=["url"],
            set_={**values, "attempts": PageFailure.attempts + 1, "last_seen": now},
        )
        with self.engine.begin() as connection:
            connection.execute(statement)
            if skip.reason in _REMEMBERED:
                self.save_page_state(skip.url, str(skip.reason), validators, connection=connection)

    def articles(self, *, unique: bool = False) -> Iterator[Article]:
        """Every stored article, oldest first; with ``unique``, one per story: its first copy."""
        query = select(StoredArticle.__table__).order_by(StoredArticle.id)
        if unique:
            query = query.where(StoredArticle.duplicate_of.is_(None))
        with self.engine.connect() as connection:
            rows = connection.execute(query)
            for row in rows.mappings():
                yield Article.from_dict(dict(row))

    def failures(self, reason: str | None = None) -> list[dict[str, Any]]:
        """Every recorded skip or failure (of one reason, if given), newest first."""
        query = select(PageFailure.__table__).order_by(PageFailure.last_seen.desc())
        if reason is not None:
            query = query.where(PageFailure.reason == reason)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def count_articles(self) -> int:
        """How many articles are stored."""
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(StoredArticle)).scalar_one()

    def count_failures(self) -> dict[str, int]:
        """How many pages did not become articles, by reason."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(PageFailure.reason, func.count())
                .group_by(PageFailure.reason)
                .order_by(func.count().desc())
            )
            return {reason: count for reason, count in rows}

"""Read queries for the HTTP API, the web view and exports: filtered, searched, paginated.

Lists run newest first over a key that never repeats, (time, id), and a page ends with an
opaque cursor: the key of its last row. The next page starts after that key, so rows stored
meanwhile neither shift a page nor repeat in it, as they would with offsets.

An article's time is its ``published_at_utc``, else when it was first stored. Exports
(``Queries.export``) stream every selected article in the order of storage instead; their
``ArticleFilter.stored_since`` selects what was stored new or changed since a time.

Full-text search (``ArticleFilter.text``) finds articles whose title, description or body
holds every word and every "quoted phrase", in any case: FTS5 on SQLite, the ``simple``
text search configuration on PostgreSQL, both set up by migration 0007.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
)

from storage.models import ArticleRevision, CrawlRecord, PageFailure, StoredArticle, StoredSource
from workers.errors import ConfigurationError

__all__ = ["EXPORTED", "ArticleFilter", "BadCursor", "Page", "Queries", "search_terms"]

article_time = func.coalesce(StoredArticle.published_at_utc, StoredArticle.first_stored_at)

# The same expression as the index of migration 0007, so that PostgreSQL uses it.
_DOCUMENT = (
    "to_tsvector('simple'::regconfig, "
    "coalesce(articles.title, '') || ' ' || coalesce(articles.description, '') || ' ' || "
    "articles.body)"
)
_TERMS = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"[^\W_]+")


class BadCursor(ConfigurationError):
    """A cursor that this service did not hand out."""


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles to list; every field that is set must match."""

    source: str | None = None
    since: datetime | None = None  # the article's time, inclusive
    until: datetime | None = None  # exclusive
    tag: str | None = None  # one of its tags, in any case
    language: str | None = None
    text: str | None = None  # full-text search: words and "quoted phrases"
    unique: bool = False  # one article per story: the first-seen copy
    stored_since: datetime | None = None  # stored new or changed at or after, inclusive


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next (None on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def search_terms(query: str) -> list[list[str]]:
    """The terms of a search, each a list of words: a word alone, or a quoted phrase's words.

    Words are runs of letters and digits, as both databases' tokenizers cut them; what is
    not a word (punctuation, operators) is ignored, so no input is a syntax error.
    """
    terms = []
    for phrase, word in _TERMS.findall(query):
        words = _WORD.findall((phrase or word).lower())
        if words:
            terms.append(words)
    return terms


def encode_cursor(moment: datetime, row_id: int) -> str:
    """The opaque cursor of the row keyed (``moment``, ``row_id``)."""
    raw = json.dumps([as_utc(moment).isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The key a cursor holds; BadCursor when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        if not isinstance(row_id, int) or not 0 < row_id < 2**31:
            raise ValueError(row_id)
        return as_utc(datetime.fromisoformat(moment)), row_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor(f"not a cursor: {cursor[:80]!r}") from error


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive time (SQLite gives those back) is taken as UTC."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _clean(value: str | None) -> str | None:
    """``value`` without NUL characters, which PostgreSQL refuses in any string."""
    return value.replace("\x00", "") if value is not None else None


class Queries:
    """The read queries of the API on one database (``Database.engine``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def articles(self, where: ArticleFilter, limit: int, cursor: str | None = None) -> Page:
        """A page of the articles ``where`` selects, newest first (the summary columns)."""
        query = (
            select(*_SUMMARY, article_time.label("time"))
            .where(*self._conditions(where))
            .order_by(article_time.desc(), StoredArticle.id.desc())
        )
        return self._page(query, article_time, StoredArticle.id, limit, cursor)

    def export(self, where: ArticleFilter, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every article ``where`` selects, in the order they were first stored: all its
        fields and its storage times (``EXPORTED``), as the database gives them.

        Rows are fetched ``batch`` at a time (a server-side cursor on PostgreSQL), so an
        export of any size holds one batch in memory.
        """
        query = (
            select(*(StoredArticle.__table__.c[name] for name in EXPORTED))
            .where(*self._conditions(where))
            .order_by(StoredArticle.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execution_options(yield_per=batch).execute(query)
            for row in rows.mappings():
                yield dict(row)

    def _conditions(self, where: ArticleFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if where.source is not None:
            conditions.append(StoredArticle.source == _clean(where.source))
        if where.language is not None:
            conditions.append(StoredArticle.language == _clean(where.language))
        if where.since is not None:
            conditions.append(article_time >= as_utc(where.since))
        if where.until is not None:
            conditions.append(article_time < as_utc(where.until))
        if where.stored_since is not None:
            conditions.append(StoredArticle.last_stored_at >= as_utc(where.stored_since))
        if where.unique:
            conditions.append(StoredArticle.duplicate_of.is_(None))
        if where.tag is not None:
            conditions.append(self._has_tag(_clean(where.tag) or ""))
        if where.text is not None:
            conditions.append(self._matches(search_terms(_clean(where.text) or "")))
        return conditions

    def _has_tag(self, tag: str) -> ColumnElement[bool]:
        if self.dialect == "postgresql":
            sql = "EXISTS (SELECT 1 FROM json_array_elements_text(articles.tags) AS tag(value)"
        else:
            sql = "EXISTS (SELECT 1 FROM json_each(articles.tags) AS tag"
        clause = text(f"{sql} WHERE lower(tag.value) = lower(:tag))")
        return and_(clause.bindparams(bindparam("tag", tag)))

    def _matches(self, terms: list[list[str]]) -> ColumnElement[bool]:
        if not terms:
            return literal_column("1") == 0  # a search without words finds nothing
        if self.dialect == "postgresql":
            params = {f"term{n}": " ".join(words) for n, words in enumerate(terms)}
            query = " && ".join(
                f"phraseto_tsquery('simple'::regconfig, :{name})" for name in params
            )
            return and_(text(f"{_DOCUMENT} @@ ({query})").bindparams(**params))
        # FTS5: each term a quoted string (words only, so no quote inside); juxtaposed is AND.
        match = " ".join('"' + " ".join(words) + '"' for words in terms)
        clause = text("articles.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :m)")
        return and_(clause.bindparams(m=match))

    def _page(
        self, query: Select[Any] | Any, key: Any, row_id: Any, limit: int, cursor: str | None
    ) -> Page:
        if cursor:
            moment, last_id = decode_cursor(cursor)
            query = query.where(or_(key < moment, and_(key == moment, row_id < last_id)))
        with self.engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(query.limit(limit + 1)).mappings()]
        more = len(rows) > limit
        rows = [_jsonable(row) for row in rows[:limit]]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = encode_cursor(datetime.fromisoformat(last["time"]), last["id"])
        return Page(rows, next_cursor)

    def article(self, article_id: int) -> dict[str, Any] | None:
        """One article, all its fields, with its ``revisions`` and the other copies of its
        story (``duplicates``); None when there is no such article."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(StoredArticle.__table__, article_time.label("time")).where(
                        StoredArticle.id == article_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            article = _jsonable(dict(row))
            revisions = connection.execute(
                select(ArticleRevision.revision, ArticleRevision.content_hash,
                       ArticleRevision.stored_at, ArticleRevision.article)
                .where(ArticleRevision.url == article["url"])
                .order_by(ArticleRevision.revision)
            ).mappings()  # fmt: skip
            article["revisions"] = [
                {**_jsonable(dict(r)), "title": r["article"].get("title")} for r in revisions
            ]
            for revision in article["revisions"]:
                del revision["article"]
            duplicates: list[Any] = []
            if article["story_id"]:
                duplicates = [
                    *connection.execute(
                        select(*_SUMMARY, article_time.label("time"))
                        .where(StoredArticle.story_id == article["story_id"])
                        .where(StoredArticle.id != article_id)
                        .order_by(StoredArticle.id)
                    ).mappings()
                ]
            article["duplicates"] = [_jsonable(dict(d)) for d in duplicates]
        return article

    def sources(self) -> list[dict[str, Any]]:
        """Every stored source by name, with its last crawl and how many pages of it failed."""
        last = select(func.max(CrawlRecord.id)).group_by(CrawlRecord.source).scalar_subquery()
        failures = (
            select(PageFailure.source, func.count().label("failures"))
            .group_by(PageFailure.source)
            .subquery()
        )
        query = (
            select(StoredSource.__table__, func.coalesce(failures.c.failures, 0).label("failures"))
            .outerjoin(failures, failures.c.source == StoredSource.name)
            .order_by(StoredSource.name)
        )
        with self.engine.connect() as connection:
            sources = [_jsonable(dict(row)) for row in connection.execute(query).mappings()]
            crawls = connection.execute(
                select(CrawlRecord.__table__).where(CrawlRecord.id.in_(last))
            ).mappings()
            by_source = {crawl["source"]: _jsonable(dict(crawl)) for crawl in crawls}
        for source in sources:
            source["last_crawl"] = by_source.get(source["name"])
        return sources

    def source(self, name: str) -> dict[str, Any] | None:
        """One source as ``sources`` gives it, or None."""
        return next((s for s in self.sources() if s["name"] == _clean(name)), None)

    def crawls(self, source: str, limit: int) -> list[dict[str, Any]]:
        """The latest crawls of a source, newest first."""
        query = (
            select(CrawlRecord.__table__)
            .where(CrawlRecord.source == _clean(source))
            .order_by(CrawlRecord.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_jsonable(dict(row)) for row in connection.execute(query).mappings()]

    def failures(
        self, limit: int, cursor: str | None = None, reason: str | None = None,
        source: str | None = None,
    ) -> Page:  # fmt: skip
        """A page of the pages that did not become articles, last seen first."""
        query = select(PageFailure.__table__, PageFailure.last_seen.label("time")).order_by(
            PageFailure.last_seen.desc(), PageFailure.id.desc()
        )
        if reason is not None:
            query = query.where(PageFailure.reason == _clean(reason))
        if source is not None:
            query = query.where(PageFailure.source == _clean(source))
        return self._page(query, PageFailure.last_seen, PageFailure.id, limit, cursor)


# The columns of an export: an article's fields (``Article``), then the UTC instants of its
# dates and when it was first stored and last stored new or changed.
EXPORTED = [
    "url", "fetched_url", "title", "body", "tags", "authors", "published_at", "updated_at",
    "language", "description", "image", "site_name", "categories", "paywalled", "word_count",
    "reading_time", "content_hash", "duplicate_of", "story_id", "notes", "fetched_at", "source",
    "published_at_utc", "updated_at_utc", "first_stored_at", "last_stored_at",
]  # fmt: skip

_SUMMARY = [
    StoredArticle.id, StoredArticle.url, StoredArticle.title, StoredArticle.source,
    StoredArticle.site_name, StoredArticle.published_at, StoredArticle.language,
    StoredArticle.tags, StoredArticle.authors, StoredArticle.word_count,
    StoredArticle.story_id, StoredArticle.duplicate_of, StoredArticle.first_stored_at,
]  # fmt: skip


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its times as ISO 8601 in UTC."""
    return {k: as_utc(v).isoformat() if isinstance(v, datetime) else v for k, v in row.items()}

"""Stories: which stored articles are copies of one another, in an index every worker shares.

A story is the set of articles that tell one story: the first stored copy, and every later
article with the same content hash or a body similar enough (``workers.dedupe``). Every copy
carries the story's ``story_id`` (derived from the first copy's canonical URL, so the same
pages give the same ids whatever order the workers run in), and every copy but the first has
``duplicate_of``, the first copy's canonical URL.

The index is two tables written in the article's own transaction: ``story_fingerprints``
(each article's MinHash signature and story) and ``story_bands`` (its LSH band keys). Linking
reads the index and writes it under a lock, so that two workers storing two copies at once
end in one story: PostgreSQL takes transaction-scoped advisory locks on the keys by which two
copies could find each other (band keys, content hash, URL), in sorted order and in one
statement; on SQLite the article's insert, which comes first, already holds the database's
one write lock.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import StoredArticle, StoryBand, StoryFingerprint
from workers.dedupe import Fingerprint
from workers.records import Article

# Keeps these advisory locks apart from other users of pg_advisory_xact_lock (migrations).
_LOCK_NAMESPACE = b"newsdesk-story:"


@dataclass(frozen=True)
class StoryLink:
    """Where an article belongs: its story, and the first copy's URL (None for the first)."""

    story_id: str
    duplicate_of: str | None


def story_id_for(first_url: str) -> str:
    """The id of the story whose first copy has canonical URL ``first_url``."""
    return hashlib.sha256(first_url.encode("utf-8")).hexdigest()[:32]


def lock_story_keys(
    connection: Connection, article: Article, fingerprint: Fingerprint | None
) -> None:
    """Serialise the linking of articles that could be copies of one another (PostgreSQL).

    All the keys are locked in one statement, in ascending order: PostgreSQL evaluates a
    volatile select list after ``ORDER BY``, so two stores sharing keys take them in the same
    order and cannot deadlock. SQLite needs nothing here: its first write in the transaction
    takes the lock for all.
    """
    if connection.dialect.name != "postgresql":
        return
    keys = [f"url:{article.url}", f"hash:{article.content_hash}"]
    keys += list(fingerprint.bands) if fingerprint else []
    connection.exec_driver_sql(
        "SELECT pg_advisory_xact_lock(key) FROM unnest(%(keys)s::bigint[]) AS key ORDER BY key",
        {"keys": sorted({_lock_number(key) for key in keys})},
    )


# The statements ``link_story`` runs for every stored article, built once: their values come
# with each execution (building a statement around its values cost more CPU than running it).
_STORY_UPDATE = update(StoredArticle).where(StoredArticle.url == bindparam("linked_url"))


@functools.cache
def _fingerprint_upsert(dialect: str) -> Any:
    """The fingerprint upsert for the database ``dialect``: a known URL takes the new story
    and signature."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StoryFingerprint)
    return statement.on_conflict_do_update(
        index_elements=["url"],
        set_={"story_id": statement.excluded.story_id, "signature": statement.excluded.signature},
    )


def _lock_number(key: str) -> int:
    digest = hashlib.blake2b(_LOCK_NAMESPACE + key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def link_story(
    connection: Connection,
    article: Article,
    fingerprint: Fingerprint | None,
    threshold: float,
    *,
    story: StoryLink | None,
    indexed: bool,
) -> StoryLink:
    """Give the article its story and make the index hold its fingerprint. Call under
    ``lock_story_keys``, after the article's row is written.

    ``story`` is the story the row already has, which it keeps; with None, the story is
    found and recorded on the row. ``indexed`` says the index may hold an older fingerprint
    of the article's URL, which this one replaces (False for a row just inserted).
    """
    link = story
    if link is None:
        link = (
            _same_content(connection, article)
            or _similar_content(connection, article, fingerprint, threshold)
            or StoryLink(story_id_for(article.url), None)
        )
        connection.execute(
            _STORY_UPDATE,
            {
                "linked_url": article.url,
                "story_id": link.story_id,
                "duplicate_of": link.duplicate_of,
            },
        )
    _index(connection, article.url, link.story_id, fingerprint, replace=indexed)
    return link


def _same_content(connection: Connection, article: Article) -> StoryLink | None:
    """The story of the first stored article with the same content hash under another URL."""
    first = connection.execute(
        select(StoredArticle.url, StoredArticle.story_id, StoredArticle.duplicate_of)
        .where(StoredArticle.content_hash == article.content_hash)
        .where(StoredArticle.url != article.url)
        .order_by(StoredArticle.id)
        .limit(1)
    ).first()
    return _story_of(first.url, first.story_id, first.duplicate_of) if first else None


def _similar_content(
    connection: Connection, article: Article, fingerprint: Fingerprint | None, threshold: float
) -> StoryLink | None:
    """The story of the first stored article whose body is similar enough to this one."""
    if fingerprint is None:
        return None
    sharing_a_band = select(StoryBand.url).where(StoryBand.band.in_(fingerprint.bands))
    candidates = connection.execute(
        select(
            StoredArticle.id,
            StoredArticle.url,
            StoredArticle.story_id,
            StoredArticle.duplicate_of,
            StoryFingerprint.signature,
        )
        .join(StoryFingerprint, StoryFingerprint.url == StoredArticle.url)
        .where(StoryFingerprint.url.in_(sharing_a_band))
        .where(StoryFingerprint.url != article.url)
    ).all()
    similar = [
        row
        for row in candidates
        if fingerprint.similarity(Fingerprint(Fingerprint.signature_from_bytes(row.signature), ()))
        >= threshold
    ]
    if not similar:
        return None
    first = min(similar, key=lambda row: row.id)
    return _story_of(first.url, first.story_id, first.duplicate_of)


def _story_of(url: str, story_id: str | None, duplicate_of: str | None) -> StoryLink:
    """The story that a copy of the stored article at ``url`` joins."""
    root = duplicate_of or url
    return StoryLink(story_id or story_id_for(root), root)


def _index(
    connection: Connection,
    url: str,
    story_id: str,
    fingerprint: Fingerprint | None,
    *,
    replace: bool,
) -> None:
    """Make the index hold ``url``'s current fingerprint (or none) and story."""
    if replace:
        connection.execute(delete(StoryBand).where(StoryBand.url == url))
        if fingerprint is None:
            connection.execute(delete(StoryFingerprint).where(StoryFingerprint.url == url))
    if fingerprint is None:
        return
    connection.execute(
        _fingerprint_upsert(connection.dialect.name),
        {"url": url, "story_id": story_id, "signature": fingerprint.signature_bytes()},
    )
    # One compiled statement for all the band rows (executemany; psycopg pipelines them). A
    # multi-row VALUES clause was built and compiled anew for every article: on SQLite that
    # cost 1-2 ms of CPU per stored article, more than the write itself.
    connection.execute(
        insert(StoryBand), [{"band": band, "url": url} for band in fingerprint.bands]
    )

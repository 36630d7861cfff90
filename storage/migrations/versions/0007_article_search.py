"""Full-text search of articles: FTS5 on SQLite, an expression GIN index on PostgreSQL.

Both index the title, description and body as whole words, case folded, without stemming
(articles come in many languages) and without folding accents: FTS5's ``unicode61``
tokenizer and PostgreSQL's ``simple`` configuration, so that a search finds the same articles
on either database (``storage.queries``).

On SQLite ``articles_fts`` is an external-content FTS5 table over ``articles`` (by ``id``),
kept up to date by triggers. A later migration that rebuilds ``articles`` in batch mode drops
those triggers with the old table, and must create them again (``_SQLITE_TRIGGERS``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_TABLE = """
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, description, body,
    content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 0'
)
"""
_NEW = "VALUES (new.id, new.title, new.description, new.body)"
_OLD = "VALUES ('delete', old.id, old.title, old.description, old.body)"
_COLUMNS = "articles_fts(rowid, title, description, body)"
_DELETE = "articles_fts(articles_fts, rowid, title, description, body)"
_SQLITE_TRIGGERS = {
    "articles_fts_insert": f"AFTER INSERT ON articles BEGIN INSERT INTO {_COLUMNS} {_NEW}; END",
    "articles_fts_delete": f"AFTER DELETE ON articles BEGIN INSERT INTO {_DELETE} {_OLD}; END",
    "articles_fts_update": (
        "AFTER UPDATE OF title, description, body ON articles BEGIN "
        f"INSERT INTO {_DELETE} {_OLD}; INSERT INTO {_COLUMNS} {_NEW}; END"
    ),
}

# storage.queries.search_document() must stay the same expression, or the index goes unused.
_POSTGRESQL_INDEX = """
CREATE INDEX ix_articles_fts ON articles USING gin (to_tsvector('simple'::regconfig,
    coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || body))
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_INDEX)
        return
    op.execute(_SQLITE_TABLE)
    for name, body in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")  # existing articles


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_articles_fts")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE articles_fts")

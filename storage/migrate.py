"""Bring a database's schema up to date with the Alembic migrations in ``migrations/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Seconds a process waits for another one's migration of the same SQLite file.
_SQLITE_LOCK_WAIT = 300.0


def alembic_config() -> Config:
    """Alembic's configuration, pointing at this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run every migration ``engine``'s database lacks, up to ``revision``.

    Several processes may do this at once on a new database: on PostgreSQL ``env.py`` takes
    an advisory lock; on SQLite the whole upgrade runs in one ``BEGIN IMMEDIATE``
    transaction, so the others wait, then find the schema up to date.
    """
    config = alembic_config()
    migrating = _locking_sqlite_engine(engine) if engine.dialect.name == "sqlite" else engine
    try:
        with migrating.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if migrating is not engine:
            migrating.dispose()


def _locking_sqlite_engine(engine: Engine) -> Engine:
    """An engine on the same SQLite file whose transactions take the write lock at once.

    pysqlite's own transaction handling starts transactions late and never around DDL;
    SQLAlchemy's documented recipe hands that job to SQLAlchemy instead.
    """
    locking = create_engine(
        engine.url, connect_args={"isolation_level": None, "timeout": _SQLITE_LOCK_WAIT}
    )

    @event.listens_for(locking, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return locking


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()

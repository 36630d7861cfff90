"""The Alembic migrations, run for real on SQLite and PostgreSQL; the models must match them."""

from __future__ import annotations

import logging
import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from storage.migrate import alembic_config, current_revision
from storage.models import Base, include_name
from storage.sql import NEW, Database
from storage.stories import story_id_for
from workers.records import Article

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
TABLES = {
    "alembic_version",
    "articles",
    "page_failures",
    "sources",
    "crawls",
    "page_states",
    "article_revisions",
    "story_fingerprints",
    "story_bands",
}


def table_names(engine: Engine) -> set[str]:
    """The tables, without the search index's (``tests/test_api.py`` tests search)."""
    return {name for name in inspect(engine).get_table_names() if include_name(name, "table", {})}


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would write to make the database match the models; empty when equal."""
    with engine.connect() as connection:
        options = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, Base.metadata))


def downgrade(engine: Engine, revision: str) -> None:
    """Run the migrations down to ``revision``, as ``storage.migrate.upgrade`` runs them up."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def an_article() -> Article:
    return Article(
        url="https://news.example/a",
        fetched_url="https://news.example/a",
        title="Titel",
        body="Text.",
        word_count=1,
        content_hash="a" * 64,
    )


def open_in_process(url: str, start: Barrier, results: Any) -> None:
    """Open (and so migrate) ``url`` in a child process; put "ok" or the error on ``results``."""
    start.wait(timeout=30)
    try:
        Database.open(url).close()
        results.put("ok")
    except Exception as error:  # noqa: BLE001 - the parent asserts on what went wrong
        results.put(f"{type(error).__name__}: {error}")


def open_at_once(url: str, processes: int = 8) -> list[str]:
    """What each of ``processes`` processes got from opening ``url`` at the same moment.

    Processes, not threads, as workers are: Alembic keeps its running context in module globals.
    """
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(processes), context.Queue()
    children = [
        context.Process(target=open_in_process, args=(url, start, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert [child.exitcode for child in children] == [0] * processes
    return outcomes


def test_there_is_one_head_revision() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()

    assert heads == [HEAD]
    assert HEAD is not None


def test_a_fresh_database_is_migrated_to_head(database_url: str) -> None:
    database = Database.open(database_url)
    try:
        assert current_revision(database.engine) == HEAD
        assert table_names(database.engine) == TABLES
        assert database.count_articles() == 0
    finally:
        database.close()


def test_opening_a_migrated_database_again_changes_nothing(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alembic")
    first = Database.open(database_url)
    assert first.store(an_article()) == NEW
    first.close()
    ran_first = [r.getMessage() for r in caplog.records if "Running upgrade" in r.getMessage()]
    caplog.clear()

    again = Database.open(database_url)
    try:
        ran_again = [r.getMessage() for r in caplog.records if "Running upgrade" in r.getMessage()]
        assert ran_first  # the first open did run the migrations, so the log is a fair witness
        assert ran_again == []
        assert current_revision(again.engine) == HEAD
        [article] = again.articles()
        assert article == an_article().replace(story_id=story_id_for(an_article().url))
        with again.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [row[0] for row in versions] == [HEAD]
    finally:
        again.close()


def test_downgrade_to_base_and_upgrade_again(database: Database) -> None:
    database.store(an_article())

    downgrade(database.engine, "base")

    assert current_revision(database.engine) is None
    assert table_names(database.engine) == {"alembic_version"}

    reopened = Database.open(str(database.engine.url.render_as_string(hide_password=False)))
    try:
        assert current_revision(reopened.engine) == HEAD
        assert table_names(reopened.engine) == TABLES
        assert reopened.count_articles() == 0  # the downgrade dropped the data with the tables
        assert reopened.store(an_article()) == NEW
        assert schema_differences(reopened.engine) == []
    finally:
        reopened.close()


def test_the_models_match_the_migrations(database: Database) -> None:
    assert schema_differences(database.engine) == []


def test_the_comparison_sees_a_schema_that_differs_from_the_models(database: Database) -> None:
    # Without this, an empty diff could equally mean that the comparison looks at nothing.
    with database.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_articles_source"))
        connection.execute(text("ALTER TABLE page_failures ADD COLUMN extra INTEGER"))

    differences = schema_differences(database.engine)

    kinds = sorted((difference[0], _subject(difference)) for difference in differences)
    assert kinds == [("add_index", "ix_articles_source"), ("remove_column", "extra")]


def _subject(difference: tuple[Any, ...]) -> str:
    kind = difference[0]
    if kind == "add_index":
        return str(difference[1].name)
    if kind == "remove_column":
        return str(difference[3].name)
    return repr(difference)


@pytest.mark.postgres
def test_processes_opening_a_fresh_postgresql_at_once_all_succeed(postgres_database: str) -> None:
    # storage/migrations/env.py takes an advisory lock so that one migrates and the others wait.
    assert open_at_once(postgres_database) == ["ok"] * 8

    database = Database.open(postgres_database, migrate=False)
    try:
        assert current_revision(database.engine) == HEAD
        assert table_names(database.engine) == TABLES
        assert schema_differences(database.engine) == []
    finally:
        database.close()


def test_processes_opening_a_fresh_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    # The race is lost in most rounds, not all: several fresh files make the outcome certain.
    for round_number in range(6):
        url = f"sqlite:///{tmp_path / f'round-{round_number}.db'}"
        assert open_at_once(url) == ["ok"] * 8

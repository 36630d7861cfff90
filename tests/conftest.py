"""Shared fixtures: a clean environment, the sample news site, SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spiders.sample_site import SampleSite
from storage.sql import Database
from tests import services

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NEWS_SITE = FIXTURES / "news-site"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NEWSDESK_* variable of the developer's shell can change a result."""
    for name in list(os.environ):
        if name.startswith("NEWSDESK_") and not name.startswith("NEWSDESK_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def news_site() -> Iterator[SampleSite]:
    """The sample news site, serving the fixture pages on 127.0.0.1."""
    with SampleSite(NEWS_SITE) as site:
        yield site


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """An admin URL of a real PostgreSQL: the machine's, or a throwaway one."""
    return services.postgres_url()


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = services.fresh_postgres_database(postgres_server)
    yield url
    services.drop_postgres_database(url)


@pytest.fixture
def sqlite_database(tmp_path: Path) -> str:
    """The URL of a new SQLite file."""
    return f"sqlite:///{tmp_path / 'newsdesk.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each kind: the test runs once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_database"))
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An opened, migrated database of each kind."""
    opened = Database.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A real Redis database of its own for one test, emptied before and after."""
    import redis

    base = services.redis_url().rstrip("/")
    client = redis.Redis.from_url(base)
    number = _claim_redis_database(client)
    url = f"{base}/{number}"
    database = redis.Redis.from_url(url)
    database.flushdb()
    yield url
    database.flushdb()
    database.close()
    client.delete(f"{_CLAIM_PREFIX}{number}")
    client.close()


_CLAIM_PREFIX = "newsdesk-test:claimed-database:"


def _claim_redis_database(client: Any) -> int:
    """A Redis database number (1-15) that no other test run holds now.

    Databases 1-15 are the tests'; 0 is left to whoever else uses the server and holds the
    claims, so that test runs side by side on one server never share a database.
    """
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for number in random.sample(range(1, 16), 15):
            if client.set(f"{_CLAIM_PREFIX}{number}", os.getpid(), nx=True, ex=1800):
                return number
        time.sleep(0.5)
    raise RuntimeError("no free Redis test database (1-15) for 300 s")

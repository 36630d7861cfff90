"""Tests of tests/services.py: the throwaway servers it starts are real, usable and cleaned up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from tests import services

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def throwaway_redis() -> Iterator[services.ThrowawayServer]:
    server = services.start_redis()
    yield server
    server.stop()


@pytest.fixture
def throwaway_postgres() -> Iterator[services.ThrowawayServer]:
    server = services.start_postgres()
    yield server
    server.stop()


def _accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.redis
@pytest.mark.slow
def test_throwaway_redis_stores_and_returns_a_value(
    throwaway_redis: services.ThrowawayServer,
) -> None:
    client = redis.Redis.from_url(throwaway_redis.url)
    try:
        client.set("newsdesk:probe", "stored")
        assert client.get("newsdesk:probe") == b"stored"
        # No persistence: a throwaway server must not write dumps that outlive the test.
        assert client.config_get("save") == {"save": ""}
    finally:
        client.close()


@pytest.mark.redis
@pytest.mark.slow
def test_throwaway_redis_is_gone_after_stop() -> None:
    server = services.start_redis()
    port = make_url(server.url).port
    assert port is not None
    assert _accepts_connections(port)

    server.stop()

    assert server.process.returncode is not None
    assert not psutil.pid_exists(server.process.pid)
    assert not server.directory.exists()
    assert not _accepts_connections(port)


@pytest.mark.postgres
@pytest.mark.slow
def test_throwaway_postgres_answers_select_one(
    throwaway_postgres: services.ThrowawayServer,
) -> None:
    url = make_url(throwaway_postgres.url)
    assert (url.drivername, url.username, url.host, url.database) == (
        "postgresql+psycopg",
        "postgres",
        "127.0.0.1",
        "test",
    )
    with psycopg.connect(services._libpq_url(throwaway_postgres.url)) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
        is_superuser = connection.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert is_superuser == (True,)


@pytest.mark.postgres
@pytest.mark.slow
def test_fresh_database_is_empty_then_dropped_with_open_connections(
    throwaway_postgres: services.ThrowawayServer,
) -> None:
    fresh = services.fresh_postgres_database(throwaway_postgres.url)
    name = make_url(fresh).database
    assert name is not None
    assert name.startswith("newsdesk_test_")

    lingering = psycopg.connect(services._libpq_url(fresh), autocommit=True)
    tables = lingering.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    ).fetchone()
    assert tables == (0,)

    services.drop_postgres_database(fresh)

    with psycopg.connect(services._libpq_url(throwaway_postgres.url)) as admin:
        remaining = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    assert remaining == (0,)
    with pytest.raises(psycopg.OperationalError):
        lingering.execute("SELECT 1")
    lingering.close()


def test_drop_refuses_a_database_it_did_not_create() -> None:
    with pytest.raises(ValueError, match="refusing to drop 'test'"):
        services.drop_postgres_database("postgresql+psycopg://postgres@127.0.0.1:1/test")


@pytest.mark.postgres
@pytest.mark.slow
def test_throwaway_postgres_is_gone_after_stop() -> None:
    server = services.start_postgres()
    port = make_url(server.url).port
    assert port is not None
    postmaster = psutil.Process(server.process.pid)
    workers = postmaster.children(recursive=True)
    assert workers, "a running PostgreSQL has background processes"

    server.stop()

    assert server.process.returncode == 0, "fast shutdown exits cleanly"
    assert not any(process.is_running() for process in [postmaster, *workers])
    assert not server.directory.exists()
    assert not _accepts_connections(port)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0, reason="the copy is made only when root hands the server to nobody"
)
def test_postgres_runs_from_a_copy_when_nobody_cannot_reach_the_wheel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "_reachable_by_others", lambda path: False)
    server = services.start_postgres()
    try:
        executable = Path(psutil.Process(server.process.pid).exe())
        assert executable.is_relative_to(server.directory)
        with psycopg.connect(services._libpq_url(server.url)) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()
    assert not server.directory.exists()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_forced_throwaway_servers_are_started_and_stopped_at_exit() -> None:
    environment = {
        **os.environ,
        "NEWSDESK_TEST_FORCE_THROWAWAY": "1",
        "NEWSDESK_TEST_REDIS_URL": "redis://127.0.0.1:1",
        "NEWSDESK_TEST_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "tests.services"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    printed = dict(line.split(": ", 1) for line in finished.stdout.splitlines())
    assert set(printed) == {"redis", "postgres"}
    ports = {service: make_url(url).port for service, url in printed.items()}
    # The force variable wins over both the machine's servers and the configured URLs.
    assert ports["redis"] not in (1, 6379)
    assert ports["postgres"] not in (1, 5432)
    assert printed["postgres"].startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert printed["postgres"].endswith("/test")
    assert not any(_accepts_connections(port) for port in ports.values() if port is not None)


def test_configured_urls_are_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSDESK_TEST_FORCE_THROWAWAY", raising=False)
    monkeypatch.setenv("NEWSDESK_TEST_REDIS_URL", "redis://redis.example:6380/2")
    monkeypatch.setenv("NEWSDESK_TEST_POSTGRES_URL", "postgresql+psycopg://ci@db.example:5433/ci")

    # __wrapped__ skips the per-process cache, so this neither reads nor replaces a cached URL.
    assert services.redis_url.__wrapped__() == "redis://redis.example:6380/2"
    assert services.postgres_url.__wrapped__() == "postgresql+psycopg://ci@db.example:5433/ci"

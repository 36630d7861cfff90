"""A real ``newsdesk serve`` process on a database holding a crawl of the sample site."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import crawl_summary, newsdesk, write_sources
from tests.processes import newsdesk_process

TOKEN = "test-token-8f2c"
SYNDICATED = "https://syndicated.example/copy-of-the-first-article"


@dataclass(frozen=True)
class Server:
    """A running server: where it answers, its database, and what the crawl stored."""

    url: str
    database_url: str
    log: Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def crawl_sample_site(site: SampleSite, database_url: str, directory: Path) -> dict:
    """Import the ``sample`` source, crawl it, and add a syndicated copy of one article."""
    sources = write_sources(directory / "sources.toml", site)
    imported = newsdesk("sources", "import", str(sources), "--database", database_url,
                        cwd=directory)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    summary = crawl_summary("--source", "sample", "--database", database_url, cwd=directory)
    with Database.open(database_url) as database:
        first = next(iter(database.articles()))
        copy = first.replace(url=SYNDICATED, fetched_url=SYNDICATED, source="syndicated")
        database.store(copy)
    return summary


@contextmanager
def clean_environment(**settings: str) -> Iterator[None]:
    """No NEWSDESK_* variable but ``settings`` (by setting name), for module-wide fixtures,
    which start before the autouse fixture of ``conftest`` cleans the environment."""
    with mock.patch.dict(os.environ):
        for name in list(os.environ):
            if name.startswith("NEWSDESK_") and not name.startswith("NEWSDESK_TEST_"):
                del os.environ[name]
        os.environ.update({f"NEWSDESK_{name}": value for name, value in settings.items()})
        yield


@contextmanager
def serve(database_url: str, directory: Path, *args: str, token: str = TOKEN) -> Iterator[Server]:
    """``newsdesk serve`` on ``database_url`` with ``API_TOKEN`` set, until the block ends."""
    port = free_port()
    log = directory / f"serve-{port}.log"
    with (
        clean_environment(API_TOKEN=token),
        newsdesk_process(
            "serve", "--database", database_url, "--port", str(port), *args,
            log=log, ready=lambda text: "Uvicorn running on" in text, timeout=120,
        ) as process,
    ):  # fmt: skip
        assert process.poll() is None
        yield Server(f"http://127.0.0.1:{port}", database_url, log)

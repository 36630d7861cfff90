"""docker-compose.yml: no Docker engine runs here, so check what can be checked without one."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import yaml

from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import NEWSDESK, host_port, newsdesk

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def substitute(command: list[str], env: dict[str, str]) -> list[str]:
    """Compose's ``${NAME:?message}`` and ``${NAME}`` substitution, from ``env``."""
    pattern = re.compile(r"\$\{(\w+)(?::\?[^}]*)?\}")
    return [pattern.sub(lambda m: env[m.group(1)], part) for part in command]


def test_compose_file_names_the_services_and_their_images() -> None:
    services = COMPOSE["services"]
    assert set(services) >= {"postgres", "crawler"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["crawler"]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()
    url = services["crawler"]["environment"]["NEWSDESK_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url


def test_every_built_service_runs_an_installed_command() -> None:
    for name, service in COMPOSE["services"].items():
        if "build" in service:
            program = service["command"][0]
            assert program == "newsdesk", name
            assert Path(NEWSDESK).is_file() or shutil.which(program)


def test_the_crawler_service_command_works_outside_docker(
    news_site: SampleSite, postgres_database: str, tmp_path: Path, monkeypatch
) -> None:
    """The crawler's very command line, pointed at the local site and a real PostgreSQL."""
    service = COMPOSE["services"]["crawler"]
    command = substitute(service["command"], {"NEWSDESK_FEED": news_site.feed_url("rss")})
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", postgres_database)
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE", host_port(news_site.base_url))
    monkeypatch.setenv("NEWSDESK_CRAWL_MAX_PAGES", "6")
    assert os.environ["NEWSDESK_DATABASE_URL"] == postgres_database
    done = newsdesk(*command[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Database.open(postgres_database) as database:
        assert database.count_articles() == 6

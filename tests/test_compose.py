"""docker-compose.yml and the Dockerfile, checked without Docker (no engine runs here).

The compose file must parse and declare the production shape, and every service built from
this repository must run a command of the installed package. Then each such service's command
runs outside Docker, as compose would start it but translated to this machine: the image's
``PATH`` is the virtual environment's, and the compose host names ``redis`` and ``postgres``
become the test's own Redis and PostgreSQL databases. Each must really work (the worker
answers its healthcheck's ping, beat sends a source's crawl, Flower answers HTTP, the crawler's
pages become articles) and stop on SIGTERM, which is what ``docker stop`` sends it.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import yaml

from spiders.sample_site import SampleSite
from storage.migrate import current_revision
from storage.sql import Database
from tests.cli import host_port, write_sources
from tests.processes import stop, wait_for, worker_ready
from workers.cli import build_parser

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
BUILT = sorted(name for name, service in SERVICES.items() if service.get("build") == ".")
# Where the image's console scripts are: the Dockerfile puts its environment first on PATH.
BIN = Path(sys.executable).parent
FLOWER_PORT = "5555"

# --- Compose's interpolation, the part of it the file uses ------------------------------------

_VARIABLE = re.compile(r"\$(?:(?P<dollar>\$)|\{(?P<braced>[^}]*)\}|(?P<plain>\w+))")
_BRACED = re.compile(r"(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>.*))?", re.DOTALL)


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """``value`` with compose's variables replaced, in every string it holds.

    ``$$``, ``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``,
    ``${NAME:?error}`` and ``${NAME?error}``; anything else fails, so that a form compose
    reads differently is not silently misread here.
    """
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        if match["plain"]:
            return variables.get(match["plain"], "")
        braced = _BRACED.fullmatch(match["braced"])
        assert braced and "$" not in (braced["arg"] or ""), f"unsupported: {match[0]}"
        name, op, arg = braced["name"], braced["op"], braced["arg"]
        given = variables.get(name)
        missing = given is None or (op is not None and op.startswith(":") and not given)
        if missing and op and op.endswith("?"):
            raise ValueError(f"required variable {name} is missing: {arg}")
        if missing:
            return arg if op else ""
        return str(given)

    return _VARIABLE.sub(replace, value)


def resolved(name: str, variables: dict[str, str] | None = None) -> dict[str, Any]:
    """Service ``name`` as compose sees it: anchors merged (YAML did that), variables set."""
    return dict(interpolate(SERVICES[name], variables or {}))


def healthcheck_argv(service: dict[str, Any]) -> tuple[list[str], bool]:
    """The healthcheck's command line, and whether it runs through a shell (``CMD-SHELL``)."""
    test = service["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"}, test
    if test[0] == "CMD-SHELL":
        (line,) = test[1:]
        return shlex.split(line), True
    return list(test[1:]), False


def command_argv(service: dict[str, Any]) -> list[str]:
    """What the container runs: its entrypoint, then its command (the Dockerfile sets none)."""
    return [*service.get("entrypoint", []), *service.get("command", [])]


# --- A service, translated to this machine -----------------------------------------------------


@dataclass
class HereService:
    """A compose service's command and environment as they run on this machine."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path  # the container's working directory, here the project folder
    healthcheck: list[str] | None
    grace: float


def on_this_machine(
    name: str,
    *,
    broker_url: str,
    database_url: str,
    project: Path,
    variables: dict[str, str] | None = None,
    args: list[str] | None = None,
) -> HereService:
    """Service ``name`` outside Docker: ``project`` stands for the compose file's folder.

    ``args`` replaces the command, as ``docker compose run SERVICE ARGS`` does.
    """
    service = resolved(name, variables)
    here = {"redis": broker_url, "postgres": database_url}
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOSTNAME"] = socket.gethostname()  # Docker sets it to the container's host name
    for entry in service.get("env_file", []):
        path = project / entry["path"]
        if path.is_file():
            env.update(_env_file(path))
        else:
            assert entry.get("required") is False, entry
    for key, value in service.get("environment", {}).items():
        env[key] = _to_here(str(value), here)
    argv = command_argv({**service, "command": args} if args is not None else service)
    for volume in service.get("volumes", []):
        if isinstance(volume, dict) and volume["type"] == "bind":
            source = str((project / volume["source"]).resolve())
            argv = [source if part == volume["target"] else part for part in argv]
    healthcheck = None
    if "healthcheck" in service:
        test = service["healthcheck"]["test"]
        healthcheck = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
    if name == "flower":  # the published port inside the container; a free one here
        port = str(_free_port())
        argv = [part.replace(FLOWER_PORT, port) for part in argv]
        if healthcheck is not None:
            healthcheck = [part.replace(FLOWER_PORT, port) for part in healthcheck]
    grace = _seconds(service.get("stop_grace_period", "10s"))
    return HereService(argv, env, project, healthcheck, grace)


def _to_here(value: str, here: dict[str, str]) -> str:
    """A URL whose host is a compose service becomes the test's own server of that kind."""
    parts = urlsplit(value)
    if parts.scheme and parts.hostname in here:
        replacement = here[parts.hostname]
        assert urlsplit(replacement).scheme == parts.scheme, (value, replacement)
        return replacement
    return value


def _env_file(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return int(match[1]) * (60 if match[2] == "m" else 1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(service: HereService, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The service's command, running, its output in ``log``; killed after, if still alive."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            service.argv, stdout=out, stderr=subprocess.STDOUT, env=service.env,
            cwd=service.cwd, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop(process, grace=5)


def run_once(service: HereService, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A one-shot service's command, run to its end."""
    return subprocess.run(
        service.argv, env=service.env, cwd=service.cwd, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def run_healthcheck(service: HereService) -> subprocess.CompletedProcess[str]:
    """The service's healthcheck, run once beside it, as Docker runs it in the container."""
    assert service.healthcheck is not None
    return subprocess.run(
        service.healthcheck, env=service.env, cwd=service.cwd, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip


def assert_stops_on_sigterm(process: subprocess.Popen[bytes], grace: float, log: Path) -> None:
    """SIGTERM the main process alone, as ``docker stop`` does; it and its children must end."""
    assert process.poll() is None, log.read_text()[-3000:]
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(grace)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {grace} s after SIGTERM\n{log.read_text()}") from None
    assert code == 0, log.read_text()[-3000:]
    wait_for(lambda: not _group_alive(process.pid), 10, log)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The compose project folder, with a newsdesk.env as an operator would write one."""
    folder = tmp_path / "project"
    folder.mkdir()
    # Two processes per worker, not one per core; checks that newsdesk.env is read, too.
    (folder / "newsdesk.env").write_text("# settings\nNEWSDESK_WORKER_CONCURRENCY=2\n")
    return folder


# --- The file itself ---------------------------------------------------------------------------


def test_the_compose_file_declares_redis_postgres_and_the_newsdesk_services() -> None:
    assert set(SERVICES) == {"redis", "postgres", "worker", "beat", "flower", "crawler", "sources"}
    assert BUILT == ["beat", "crawler", "flower", "sources", "worker"]
    by_default = {name for name, service in SERVICES.items() if "profiles" not in service}
    assert by_default == {"redis", "postgres", "worker", "beat", "flower"}
    assert SERVICES["crawler"]["profiles"] == ["crawl"]
    assert SERVICES["sources"]["profiles"] == ["sources"]
    (mount,) = resolved("sources")["volumes"]
    assert mount["source"] == "./sources.toml" and mount["read_only"] is True
    assert mount["bind"]["create_host_path"] is False  # a missing file is not made a folder

    redis_service = resolved("redis")
    assert redis_service["image"] == "redis:7"
    command = redis_service["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "always"
    assert "redis-data:/data" in redis_service["volumes"]
    assert healthcheck_argv(redis_service) == (["redis-cli", "ping"], False)

    postgres = resolved("postgres")
    assert postgres["image"] == "postgres:16"
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert healthcheck_argv(postgres)[0][0] == "pg_isready"
    assert set(COMPOSE["volumes"]) == {"redis-data", "postgres-data"}

    for name in BUILT:
        service = resolved(name)
        assert service["image"] == "newsdesk" and service["pull_policy"] == "build", name
        assert service["init"] is True, name  # SIGTERM reaches the program; children reaped
        for needed, condition in service["depends_on"].items():
            assert needed in SERVICES and condition == {"condition": "service_healthy"}, name


def test_the_worker_can_be_scaled_and_beat_is_one() -> None:
    worker = resolved("worker")
    for fixed in ("container_name", "hostname", "ports"):
        assert fixed not in worker  # N containers cannot share a name, host name or port
    assert set(worker["depends_on"]) == {"redis", "postgres"}
    assert "celery@$HOSTNAME" in worker["healthcheck"]["test"][1]  # its own node, not any
    # Longer than a page task may run, so a stopped worker finishes its pages.
    assert _seconds(worker["stop_grace_period"]) > 120
    beat = resolved("beat")
    assert "deploy" not in beat and "scale" not in beat
    assert resolved("flower")["ports"] == [f"127.0.0.1:{FLOWER_PORT}:{FLOWER_PORT}"]


def test_the_newsdesk_services_are_configured_by_environment() -> None:
    postgres = resolved("postgres")["environment"]
    expected_database = (
        f"postgresql+psycopg://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert "x-newsdesk-env" in COMPOSE
    for name in BUILT:
        service = resolved(name)
        environment = service["environment"]
        assert environment["NEWSDESK_BROKER_URL"] == "redis://redis:6379/0", name
        assert environment["NEWSDESK_DATABASE_URL"] == expected_database, name
        assert service["env_file"] == [{"path": "newsdesk.env", "required": False}], name
    # On a machine of its own, a worker is pointed at the others by the same two variables.
    elsewhere = {
        "NEWSDESK_BROKER_URL": "redis://10.0.0.5:6379/0",
        "NEWSDESK_DATABASE_URL": "postgresql+psycopg://newsdesk:secret@10.0.0.6:5432/newsdesk",
    }
    worker = resolved("worker", elsewhere)["environment"]
    assert worker == {**elsewhere, "NEWSDESK_METRICS_HOST": "0.0.0.0"}
    # A variable that does not resolve stops compose rather than starting a half-set service.
    with pytest.raises(ValueError, match="required variable X"):
        interpolate("${X:?set X}", {})


def test_every_built_service_runs_a_command_of_the_installed_package() -> None:
    for name in BUILT:
        service = resolved(name, {"NEWSDESK_SOURCE": "sample"})
        assert_installed(command_argv(service))
        if "healthcheck" in service:
            assert_installed(healthcheck_argv(service)[0])
    # `docker compose run --rm crawler ARGS`: the crawler's entrypoint takes crawl's options.
    crawler = resolved("crawler")
    assert_installed([*crawler["entrypoint"], "--feed", "https://example.com/feed.xml"])


def assert_installed(argv: list[str]) -> None:
    """``argv``'s program is in the installed package, and accepts these arguments."""
    program, args = argv[0], argv[1:]
    assert (BIN / program).is_file(), f"{program} is not installed in {BIN}"
    if program == "newsdesk":
        parsed = build_parser().parse_args(args)  # exits (fails the test) on an unknown option
        assert callable(parsed.run)
    elif program == "celery":
        assert args[:2] == ["-A", "workers"], argv
        # The subcommand exists (flower is a plugin: installed or not): its --help works.
        done = subprocess.run(
            [str(BIN / "celery"), "-A", "workers", args[2], "--help"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    elif program == "python":
        assert args[0] == "-c", argv
        compile(args[1], "<healthcheck>", "exec")
    else:
        raise AssertionError(f"{argv}: not a program of the image")


def test_the_dockerfile_installs_the_package_with_flower_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split(None, 1) for line in dockerfile.splitlines() if line[:1].isalpha()]
    bases = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert all(base.startswith("python:3.11-slim") for base in bases) and len(bases) == 2
    assert '-c /src/.ci/constraints.txt "/src[flower]"' in dockerfile  # the tested versions
    users = [rest.strip() for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    command = [rest for keyword, rest in instructions if keyword == "CMD"]
    assert_installed(yaml.safe_load(command[-1]))  # a JSON array


def test_the_flower_extra_that_the_image_installs_exists() -> None:
    # pip only warns about an extra a package lacks, and would build an image without Flower.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    flower = project["optional-dependencies"].get("flower", [])
    assert any(re.match(r"flower\b", requirement) for requirement in flower), project


def test_the_docker_build_context_holds_the_package_and_nothing_else() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"  # everything is left out but what is named: .venv, *.db, tests...
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = pyproject["tool"]["setuptools"]
    needed = {"pyproject.toml", pyproject["project"]["readme"]}
    needed |= {f"{module}.py" for module in setuptools["py-modules"]}
    needed |= {package.split(".")[0] for package in setuptools["packages"]}
    needed.add(".ci/constraints.txt")  # the versions the Dockerfile installs within
    assert allowed == needed


# --- Each service's command, running on this machine ------------------------------------------


def test_the_worker_service_migrates_answers_its_healthcheck_and_stops(
    broker_url: str, postgres_database: str, project: Path, tmp_path: Path
) -> None:
    worker = on_this_machine(
        "worker", broker_url=broker_url, database_url=postgres_database, project=project
    )
    log = tmp_path / "worker.log"
    with running(worker, log) as process:
        wait_for(lambda: worker_ready(log.read_text()), 60, log)
        check = run_healthcheck(worker)
        assert check.returncode == 0, check.stdout + check.stderr
        assert f"celery@{socket.gethostname()}: OK" in check.stdout
        assert "concurrency: 2 (prefork)" in log.read_text()  # from newsdesk.env
        with Database.open(postgres_database, migrate=False) as database:
            assert current_revision(database.engine) is not None  # the worker migrated it
        assert_stops_on_sigterm(process, worker.grace, log)
    assert "Warm shutdown" in log.read_text()


def test_the_sources_service_and_beat_schedule_the_sources_crawls(
    news_site: SampleSite, broker_url: str, postgres_database: str, project: Path, tmp_path: Path
) -> None:
    sources_file = write_sources(project / "sources.toml", news_site, every="2s")
    common = {"broker_url": broker_url, "database_url": postgres_database, "project": project}
    sources = on_this_machine("sources", **common)
    assert str(sources_file) in sources.argv  # the mounted file
    done = run_once(sources)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sample: new"

    beat = on_this_machine("beat", **common)
    log = tmp_path / "beat.log"
    with closing(redis.Redis.from_url(broker_url)) as queue, running(beat, log) as process:
        wait_for(lambda: "beat: Starting..." in log.read_text(), 30, log)
        # No worker runs: the crawl tasks beat sends wait on the `crawls` queue.
        wait_for(lambda: queue.llen("crawls") >= 2, 30, log)
        assert "Sending due task crawl:sample (newsdesk.crawl_source)" in log.read_text()
        assert_stops_on_sigterm(process, beat.grace, log)


def test_the_flower_service_answers_http_and_its_healthcheck(
    broker_url: str, postgres_database: str, project: Path, tmp_path: Path
) -> None:
    flower = on_this_machine(
        "flower", broker_url=broker_url, database_url=postgres_database, project=project
    )
    port = next(part.split("=")[1] for part in flower.argv if part.startswith("--port="))
    log = tmp_path / "flower.log"
    with running(flower, log) as process:
        wait_for(lambda: _http_status(f"http://127.0.0.1:{port}/") == 200, 30, log)
        check = run_healthcheck(flower)
        assert check.returncode == 0, check.stderr
        assert "newsdesk.process_page" in log.read_text()  # it loaded the app's tasks
        assert_stops_on_sigterm(process, flower.grace, log)


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def test_the_crawler_service_crawls_onto_the_queue_and_the_worker_stores_it(
    news_site: SampleSite, broker_url: str, postgres_database: str, project: Path, tmp_path: Path
) -> None:
    write_sources(project / "sources.toml", news_site, max_pages=6)
    common = {"broker_url": broker_url, "database_url": postgres_database, "project": project}
    imported = run_once(on_this_machine("sources", **common))
    assert imported.returncode == 0, imported.stderr
    worker = on_this_machine("worker", **common)
    log = tmp_path / "worker.log"
    with (
        Database.open(postgres_database, migrate=False) as database,
        running(worker, log) as process,
    ):
        wait_for(lambda: worker_ready(log.read_text()), 60, log)
        # `NEWSDESK_SOURCE=sample docker compose run --rm crawler`: the stored source.
        crawler = on_this_machine("crawler", **common, variables={"NEWSDESK_SOURCE": "sample"})
        done = run_once(crawler)
        assert done.returncode == 0, done.stderr
        assert "pages queued     6" in done.stdout
        wait_for(lambda: database.count_articles() == 6, 60, log)
        # `docker compose run --rm crawler --feed URL --allow-private HOST`: a feed, ad hoc.
        crawler = on_this_machine("crawler", **common, args=[
            "--feed", news_site.feed_url("atom"), "--allow-private", host_port(news_site.base_url),
        ])  # fmt: skip
        done = run_once(crawler)
        assert done.returncode == 0, done.stderr
        queued = re.search(r"pages queued +(\d+)", done.stdout)
        assert queued, done.stdout
        assert 30 <= int(queued[1]) <= 36  # the six stored pages may be skipped as unchanged
        wait_for(lambda: database.count_articles() == 36, 90, log)
        assert_stops_on_sigterm(process, worker.grace, log)
        crawls = database.crawls(limit=10)
    assert sorted(c["source"] for c in crawls) == ["ad hoc", "sample"]
    assert {c["status"] for c in crawls} == {"finished"}

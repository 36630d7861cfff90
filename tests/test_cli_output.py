"""What the ``newsdesk`` command prints: progress on a terminal only, --json documents,
-q and -v, and JSON logs from crawl, worker, beat and serve."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from spiders.sample_site import SampleSite
from tests.cli import NEWSDESK, crawl_summary, host_port, newsdesk, write_sources
from tests.processes import stop, wait_for
from tests.serving import free_port

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def crawl_args(site: SampleSite, folder: Path, pages: int = 3) -> list[str]:
    """``crawl`` of the first ``pages`` pages of the sample site into a new SQLite file."""
    urls = folder / "urls.txt"
    urls.write_text("\n".join(site.urls_file_lines()[:pages]))
    return ["crawl", "--urls", str(urls), "--database", f"sqlite:///{folder / 'news.db'}",
            "--allow-private", host_port(site.base_url)]  # fmt: skip


def on_terminal(args: list[str], cwd: Path) -> tuple[bytes, bytes, int]:
    """Run ``newsdesk ARGS`` with stderr on a pseudo-terminal and stdout on a pipe; return
    what the terminal showed, what went to stdout, and the exit status."""
    terminal, child_side = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="160")
    with open(cwd / "stdout.txt", "wb") as stdout:
        process = subprocess.Popen([NEWSDESK, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=stdout, stderr=child_side)  # fmt: skip
    os.close(child_side)
    shown = bytearray()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # EIO: the child side is closed, the process has ended
                chunk = b""
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(terminal)
    status = process.wait(timeout=60)
    return bytes(shown), (cwd / "stdout.txt").read_bytes(), status


@pytest.mark.slow
def test_a_crawl_shows_its_progress_on_a_terminal(news_site: SampleSite, tmp_path: Path) -> None:
    shown, stdout, status = on_terminal(crawl_args(news_site, tmp_path), tmp_path)
    assert status == 0, shown
    text = ANSI.sub(b"", shown).decode()
    frames = re.findall(r"crawling found (\d+) · fetched (\d+) · stored (\d+) \(\d+ new\) · "
                        r"skipped 0 · failed 0 · [\d.]+ pages/s", text)  # fmt: skip
    assert len(frames) >= 2  # redrawn as the crawl goes
    assert ("3", "3", "3") in frames  # the final counts
    assert re.search(r"\d+:\d\d:\d\d", text)  # elapsed time
    assert b"newsdesk crawl finished" in stdout and b"crawling" not in stdout


@pytest.mark.slow
@pytest.mark.parametrize("option", ["--json", "-q"])
def test_no_progress_on_a_terminal_with_json_or_quiet(
    option: str, news_site: SampleSite, tmp_path: Path
) -> None:
    shown, stdout, status = on_terminal([*crawl_args(news_site, tmp_path, 2), option], tmp_path)
    assert status == 0, shown
    assert shown == b""
    if option == "--json":
        assert json.loads(stdout)["articles_stored"] == 2
    else:
        assert stdout == b""


@pytest.mark.slow
def test_no_progress_in_piped_output(news_site: SampleSite, tmp_path: Path) -> None:
    done = newsdesk(*crawl_args(news_site, tmp_path, 2), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "articles stored  2" in done.stdout
    assert "crawling" not in done.stdout and "\x1b[" not in done.stdout


@pytest.mark.slow
def test_verbose_raises_the_log_level_of_scrapy_too(news_site: SampleSite, tmp_path: Path) -> None:
    (tmp_path / "info").mkdir()
    info = newsdesk(*crawl_args(news_site, tmp_path / "info", 1), "-v", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "[scrapy.core.engine] INFO: Spider opened" in info.stderr
    assert " DEBUG: " not in info.stderr
    (tmp_path / "debug").mkdir()
    debug = newsdesk("-vv", *crawl_args(news_site, tmp_path / "debug", 1), cwd=tmp_path)
    assert debug.returncode == 0, debug.stderr
    assert "[scrapy.core.engine] DEBUG: Crawled (200)" in debug.stderr


@pytest.mark.slow
def test_a_crawl_logs_json_lines(news_site: SampleSite, tmp_path: Path) -> None:
    done = newsdesk(*crawl_args(news_site, tmp_path, 1), "-v", "--log-format", "json",
                    cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert len(records) > 10
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert record["time"].endswith("Z") and datetime.fromisoformat(record["time"])
        assert record["level"] in {"INFO", "WARNING", "ERROR"}
    opened = next(r for r in records if r["message"] == "Spider opened")
    assert opened["logger"] == "scrapy.core.engine" and opened["level"] == "INFO"
    assert "UrlListSpider" in opened["spider"]  # an extra field, as text
    assert "newsdesk crawl finished" in done.stdout


def test_json_logs_carry_the_exception(tmp_path: Path) -> None:
    done = newsdesk("stats", "-vv", "--log-format", "json", "--database",
                    "postgresql://postgres@127.0.0.1:1/none", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    records = [json.loads(line) for line in done.stderr.splitlines()]
    traceback = next(r for r in records if "exception" in r)
    assert "Traceback (most recent call last)" in traceback["exception"]
    assert "StorageUnavailable" in traceback["exception"]
    error = records[-1]
    assert error["level"] == "ERROR" and error["logger"] == "newsdesk"
    assert error["message"].startswith("cannot use database postgresql://postgres@127.0.0.1:1/")


def run_until(args: list[str], cwd: Path, ready: str) -> tuple[list[str], str]:
    """Start ``newsdesk ARGS``, wait until its stderr holds ``ready``, stop it with SIGTERM;
    return its stderr lines and its stdout."""
    err, out = cwd / "stderr.txt", cwd / "stdout.txt"
    with err.open("wb") as stderr, out.open("wb") as stdout:
        process = subprocess.Popen([NEWSDESK, *args], cwd=cwd, stdout=stdout, stderr=stderr,
                                   start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: ready in err.read_text(errors="replace"), 120, err)
        if "--port" in args:  # a request, for the access log
            port = args[args.index("--port") + 1]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sources", timeout=30):
                pass
            wait_for(lambda: "uvicorn.access" in err.read_text(), 30, err)
    finally:
        stop(process)
    return err.read_text().splitlines(), out.read_text()


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_log_json_lines(command: str, broker_url: str, tmp_path: Path) -> None:
    args = [command, "--log-format", "json", "--broker", broker_url,
            "--database", f"sqlite:///{tmp_path / 'news.db'}"]  # fmt: skip
    if command == "worker":
        args += ["-c", "1"]
    ready = "ready." if command == "worker" else "beat: Starting"
    lines, stdout = run_until(args, tmp_path, ready)
    records = [json.loads(line) for line in lines]
    assert any(r["logger"].startswith("celery") and ready in r["message"] for r in records)
    assert all(r["time"].endswith("Z") and r["level"] for r in records)
    assert "celery" in stdout  # Celery's banner stays on stdout, where it always was


@pytest.mark.slow
def test_serve_logs_json_lines(tmp_path: Path) -> None:
    port = str(free_port())
    args = ["serve", "--log-format", "json", "--port", port,
            "--database", f"sqlite:///{tmp_path / 'news.db'}"]  # fmt: skip
    lines, _ = run_until(args, tmp_path, "Uvicorn running on")
    records = [json.loads(line) for line in lines]
    access = next(r for r in records if r["logger"] == "uvicorn.access")
    assert '"GET /api/sources HTTP/1.1" 200' in access["message"]
    assert "color_message" not in access
    assert any(r["message"].startswith("Uvicorn running on") for r in records)


@pytest.mark.slow
def test_json_documents_of_sources_and_failures(news_site: SampleSite, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'news.db'}"
    sources = write_sources(tmp_path / "sources.toml", news_site, max_pages=2)
    imported = newsdesk("sources", "import", str(sources), "--json", "--database", database,
                        cwd=tmp_path)  # fmt: skip
    assert json.loads(imported.stdout) == {
        "file": str(sources), "sources": [{"name": "sample", "change": "new"}],
    }  # fmt: skip
    again = newsdesk("sources", "import", str(sources), "-q", "--database", database, cwd=tmp_path)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    crawl_summary("--source", "sample", "--database", database, cwd=tmp_path)
    listed = json.loads(newsdesk("sources", "list", "--json", "--database", database,
                                 cwd=tmp_path).stdout)  # fmt: skip
    assert [s["name"] for s in listed] == ["sample"]
    assert listed[0]["last_crawl"]["status"] == "finished"
    retried = newsdesk("failures", "retry", "--json", "--database", database, cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    report = json.loads(retried.stdout)
    assert report["pages_retried"] == 0 and report["articles_stored"] == 0
    assert set(report) >= {"pages_fetched", "articles", "skipped", "failed", "elapsed_seconds"}


@pytest.mark.redis
def test_sources_crawl_prints_the_queued_task_as_json(
    news_site: SampleSite, broker_url: str, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'news.db'}"
    sources = write_sources(tmp_path / "sources.toml", news_site)
    newsdesk("sources", "import", str(sources), "--database", database, cwd=tmp_path)
    done = newsdesk("sources", "crawl", "sample", "--json", "--broker", broker_url,
                    "--database", database, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    queued = json.loads(done.stdout)
    assert queued["source"] == "sample" and queued["queued"] is True
    import redis

    waiting = redis.Redis.from_url(broker_url).lrange("crawls", 0, -1)
    assert any(queued["task_id"].encode() in message for message in waiting)


@pytest.mark.slow
def test_demo_prints_one_json_document(tmp_path: Path) -> None:
    done = newsdesk("demo", "--json", "--database", f"sqlite:///{tmp_path / 'demo.db'}",
                    cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["articles_stored"] == 36 and report["database"].endswith("demo.db")

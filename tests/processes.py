"""Real newsdesk processes for the tests: Celery workers and beat, started and stopped here."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery

from tests.cli import NEWSDESK
from workers.records import FetchedPage


@contextmanager
def newsdesk_process(
    *args: str, log: Path, ready: Callable[[str], bool] | None = None, timeout: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """A running ``newsdesk ARGS`` process, its output in ``log``; stopped with SIGTERM after.

    With ``ready``, waits until the log text satisfies it (or fails after ``timeout``).
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            [NEWSDESK, *args], stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ),
            start_new_session=True,
        )  # fmt: skip
    try:
        if ready is not None:
            wait_for(lambda: ready(log.read_text(errors="replace")), timeout, log)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(condition: Callable[[], object], timeout: float, log: Path | None = None) -> None:
    """Poll ``condition`` until it is true; fail with the log's tail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"not true after {timeout} s\n{tail}")


def worker_ready(text: str) -> bool:
    """True once a Celery worker's log says it is ready."""
    return " ready." in text


def big_page() -> FetchedPage:
    """A real-looking article large enough to keep a worker busy for a second or two."""
    sentence = "Der Bundestag hat am Donnerstag über das neue Gesetz beraten und abgestimmt. "
    paragraphs = "".join(f"<p>{n}. {sentence * 6}</p>" for n in range(8000))
    html = "<html><head><title>A long report</title></head><body><article><h1>A long report"
    html += f"</h1>{paragraphs}</article></body></html>"
    url = "https://news.example.com/2026/long-report"
    return FetchedPage(url, url, 200, {"Content-Type": "text/html; charset=utf-8"},
                       html.encode(), "2026-11-29T00:00:00+00:00", "test")  # fmt: skip


@contextmanager
def worker_busy_with_a_big_page(
    broker_url: str, database_url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A one-process ``newsdesk worker`` that has just started extracting ``big_page()``."""
    sender = Celery(broker=broker_url)
    try:
        with newsdesk_process("worker", "-c", "1", "--broker", broker_url, "--database",
                              database_url, log=log, ready=worker_ready) as worker:  # fmt: skip
            sender.send_task("newsdesk.process_page", args=[big_page().to_dict()], queue="pages")
            wait_for(lambda: "newsdesk.process_page[" in log.read_text(), 30, log)
            time.sleep(0.5)  # the pool process is now extracting the page
            yield worker
    finally:
        sender.close()


_TASK_EVENT = re.compile(
    r"Task newsdesk\.process_page\[([0-9a-f-]+)\] (received|succeeded|retry|raised)"
)


def unfinished_pages(log: Path) -> set[str]:
    """Ids of the page tasks a worker's log shows received but not yet ended (in progress)."""
    received, ended = set(), set()
    for task_id, event in _TASK_EVENT.findall(log.read_text(errors="replace")):
        (received if event == "received" else ended).add(task_id)
    return received - ended


def kill_while_busy(worker: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> set[str]:
    """SIGKILL a worker's whole process group while it processes a page; return its page ids.

    The group is frozen (SIGSTOP) to look at its log, so it cannot finish the page in between.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        os.killpg(worker.pid, signal.SIGSTOP)
        busy = unfinished_pages(log)
        if busy:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            return busy
        os.killpg(worker.pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"worker never busy in {timeout} s\n{log.read_text()[-3000:]}")

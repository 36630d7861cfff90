"""Run the installed ``newsdesk`` command in a child process, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from spiders.sample_site import SampleSite

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))


def newsdesk(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The finished ``newsdesk ARGS`` process, its output captured as text."""
    return subprocess.run(
        [NEWSDESK, *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def crawl_summary(*args: str, cwd: Path) -> dict:
    """The JSON summary of ``newsdesk crawl ARGS --json``; fails on a non-zero exit."""
    done = newsdesk("crawl", *args, "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def crawl_urls(urls: list[str], database: str, *allowed: str, cwd: Path) -> dict:
    """The summary of crawling ``urls`` (as a URL list in ``cwd``) into ``database``, the
    private addresses ``allowed`` (``host:port``) allowed."""
    listed = cwd / "urls.txt"
    listed.write_text("".join(f"{url}\n" for url in urls))
    allow = [argument for address in allowed for argument in ("--allow-private", address)]
    return crawl_summary("--urls", str(listed), "--database", database, *allow, cwd=cwd)


def host_port(url: str) -> str:
    """``host:port`` of a URL, as ``--allow-private`` takes it."""
    return urlsplit(url).netloc


def write_sources(path: Path, site: SampleSite, **options: object) -> Path:
    """A sources file with one source, ``sample``: the local site's feed."""
    lines = [
        "[[source]]",
        'name = "sample"',
        f'feeds = ["{site.feed_url("rss")}"]',
        f'allow_private = ["{host_port(site.base_url)}"]',
        *(f"{key} = {json.dumps(value)}" for key, value in options.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path

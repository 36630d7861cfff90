"""What a second crawl of an unchanged site costs, against the first.

    .venv/bin/python -m benchmarks.recrawl [--pages 2000] [--via urls|sitemap|feed]
        [--processes N] [--json FILE] [--corpus ../shared/corpus/news-fixtures]

Serves the corpus site (``benchmarks.site``), crawls it into a new SQLite database with
``newsdesk crawl`` (embedded, the benchmark settings of ``benchmarks.services``), then crawls
the unchanged site again into the same database, and prints each crawl's wall time and CPU time
(all the crawl's processes, ``benchmarks.usage``) and the second's share of the first. The
issue's target: the re-crawl costs at most 5% of the first crawl's CPU time.

``--via``: ``urls`` crawls the URL list (a known URL is not asked for again), ``sitemap`` the
site's ``/sitemap.xml`` and ``feed`` its RSS feed (asked for conditionally; a page whose lastmod
or date did not move is not asked for). A sitemap or feed names every copy of every page, so
``--pages`` is rounded up to whole copies of the corpus for them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.runs import timed
from benchmarks.services import NEWSDESK, benchmark_environment
from benchmarks.site import CORPUS, CorpusSite

TARGET = 0.05


def crawl_twice(site: CorpusSite, work: Path, via: str, processes: int) -> list[dict[str, Any]]:
    """Crawl the site twice into one database; each crawl's figures and summary."""
    database = f"sqlite:///{work / 'recrawl.db'}"
    if via == "urls":
        target = ["--urls", str(site.write_urls(work / "urls.txt"))]
    else:
        target = [f"--{via}", site.base_url + ("/sitemap.xml" if via == "sitemap" else "/feed.xml")]
    command = [
        NEWSDESK,
        "crawl",
        *target,
        "--database",
        database,
        "--allow-private",
        site.host_port,
        "--json",
    ]
    env = benchmark_environment(NEWSDESK_EMBEDDED_PROCESSES=str(processes))
    crawls = []
    for number in (1, 2):
        wall, use, out = timed(command, log=work / f"crawl-{number}.log", env=env)
        crawls.append(
            {
                "crawl": number,
                "wall_seconds": wall,
                "cpu_seconds": use.cpu_seconds,
                "peak_rss_mb": use.peak_rss / 2**20,
                "summary": json.loads(out),
                "processes": use.to_dict()["processes"],
            }
        )
    return crawls


def print_crawls(crawls: list[dict[str, Any]]) -> None:
    """The two crawls side by side, and the second's share of the first."""
    print("crawl   wall s    CPU s  fetched  not modified  known  stored")
    for crawl in crawls:
        summary = crawl["summary"]
        print(
            f"{crawl['crawl']:<5} {crawl['wall_seconds']:8.1f} {crawl['cpu_seconds']:8.1f} "
            f"{summary['pages_fetched']:8} {summary['pages_not_modified']:13} "
            f"{summary['pages_known']:6} {summary['articles_stored']:7}"
        )
    first, second = crawls
    cpu_share = second["cpu_seconds"] / first["cpu_seconds"] if first["cpu_seconds"] else 0.0
    wall_share = second["wall_seconds"] / first["wall_seconds"] if first["wall_seconds"] else 0.0
    met = "yes" if round(cpu_share, 3) <= TARGET else "no"
    print(
        f"re-crawl / first crawl: wall {wall_share:.1%}, CPU {cpu_share:.1%} "
        f"(goal CPU <= {TARGET:.0%}: {met})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Crawl the corpus site twice and print what each crawl cost."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.recrawl",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pages", type=int, default=2000, help="article URLs served")
    parser.add_argument("--via", choices=["urls", "sitemap", "feed"], default="urls")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="a folder with cases.jsonl")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    options = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="newsdesk-recrawl-") as folder,
        CorpusSite(options.corpus, options.pages) as site,
    ):
        listed = len(site.urls) if options.via == "urls" else site.copies * len(site.cases)
        print(f"{listed} pages via {options.via}, {options.processes} processes", file=sys.stderr)
        crawls = crawl_twice(site, Path(folder), options.via, options.processes)
    print_crawls(crawls)
    if options.json:
        options.json.write_text(json.dumps({"via": options.via, "crawls": crawls}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

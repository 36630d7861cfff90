"""The ceiling: bare trafilatura over the corpus pages' HTML, in a pool of processes.

    .venv/bin/python -m benchmarks.bare --folder F --pages N --out FILE.jsonl [--processes N]

No fetching, queueing or storing: each pool process reads a page's gzip file, decompresses it
and runs ``trafilatura.bare_extraction(html, url=..., with_metadata=True)``, the pages repeated
copy by copy like the site's URLs (``benchmarks.site``). One JSON line per page:
``{"url", "body"}``, with the local URL the site serves the page at.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.settings import Document

from benchmarks.site import CORPUS, CorpusSite


def extract_one(job: tuple[str, str, str]) -> dict[str, Any]:
    """Bare trafilatura on one stored page: its text as the body (None when rejected)."""
    url, original_url, html_file = job
    html = gzip.decompress(Path(html_file).read_bytes())
    document = trafilatura.bare_extraction(html, url=original_url, with_metadata=True)
    if document is None:
        return {"url": url, "body": None}
    found = document.as_dict() if isinstance(document, Document) else document
    return {"url": url, "body": found.get("text")}


def main(argv: list[str] | None = None) -> int:
    """Extract every page in a pool and write one JSON line per page."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare", description=__doc__)
    parser.add_argument("--folder", type=Path, default=CORPUS, help="holds cases.jsonl")
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args(argv)
    site = CorpusSite(options.folder, options.pages)  # for the URLs only; not served
    jobs = []
    for url in site.urls:
        case = site.case_of(url)
        if case is not None:
            jobs.append((url, case.url, str(case.html_file)))
    with (
        multiprocessing.get_context("fork").Pool(options.processes) as pool,
        options.out.open("w", encoding="utf-8") as out,
    ):
        for result in pool.imap_unordered(extract_one, jobs, chunksize=4):
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

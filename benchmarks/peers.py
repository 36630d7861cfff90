"""Run a peer article extractor over a URL list, with its own fetching and parsing.

    PYTHON benchmarks/peers.py {newspaper4k,news-please} --urls FILE --out FILE.jsonl
        [--processes N]

A script on its own (standard library and the peer only), so that it runs in whichever virtual
environment holds the peer: newspaper4k is in the project's ``.venv`` (the ``bench`` extra);
news-please pins packages the project cannot take, so it lives in ``benchmarks/.peers-venv``
(``python -m benchmarks.throughput --setup-peers`` makes it). Each URL is downloaded and
parsed by the peer's own code, in a pool of ``--processes`` processes (the same cores the
other pipelines get); one JSON line per URL: ``{"url", "title", "body", "error"}``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

TIMEOUT = 30


def newspaper4k_article(url: str) -> dict[str, Any]:
    """newspaper4k: ``Article(url).download().parse()``, without fetching images."""
    from newspaper import Article

    article = Article(url, fetch_images=False, request_timeout=TIMEOUT)
    article.download()
    article.parse()
    return {"title": article.title, "body": article.text}


def news_please_article(url: str) -> dict[str, Any]:
    """news-please: ``NewsPlease.from_url(url)``, its download and its extractors, no images."""
    from newsplease import NewsPlease

    article = NewsPlease.from_url(url, request_args={"timeout": TIMEOUT}, fetch_images=False)
    if article is None or isinstance(article, dict):
        return {"title": None, "body": None}
    return {"title": article.title, "body": article.maintext}


PEERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "newspaper4k": newspaper4k_article,
    "news-please": news_please_article,
}


def run_one(job: tuple[str, str]) -> dict[str, Any]:
    """One URL through one peer; an exception is recorded, not raised."""
    peer, url = job
    try:
        found = PEERS[peer](url)
    except Exception as error:  # noqa: BLE001 - a peer failing on one page is a result
        failure = f"{type(error).__name__}: {error}"
        return {"url": url, "title": None, "body": None, "error": failure}
    return {"url": url, **found, "error": None}


def main(argv: list[str] | None = None) -> int:
    """Run the peer over every URL and write one JSON line per URL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("--urls", required=True, help="one URL a line")
    parser.add_argument("--out", required=True, help="JSON lines written here")
    parser.add_argument("--processes", type=int, default=multiprocessing.cpu_count())
    options = parser.parse_args(argv)
    with open(options.urls, encoding="utf-8") as listed:
        urls = [line.strip() for line in listed if line.strip()]
    jobs = [(options.peer, url) for url in urls]
    with multiprocessing.Pool(options.processes) as pool, open(options.out, "w") as out:
        for result in pool.imap_unordered(run_one, jobs, chunksize=4):
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

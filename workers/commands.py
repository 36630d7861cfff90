"""What each ``newsdesk`` subcommand does; ``workers.cli`` parses the options and calls these."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import settings
from storage.sql import Database
from workers.errors import ConfigurationError
from workers.manifest import extract_file, extract_manifest
from workers.records import Reason
from workers.reports import (
    print_article,
    print_crawls,
    print_sources,
    print_summary,
    write_articles,
)
from workers.sources import crawl_overrides, load_sources_file


def crawl(args: argparse.Namespace) -> int:
    """Crawl, store (or queue), record the crawl, and print the summary."""
    from spiders.crawl import run_crawl

    targets = {"feeds": args.feed, "sitemaps": args.sitemap, "sites": args.site, "urls": []}
    label = args.source
    overrides: dict[str, Any] = {}
    with Database.open(args.database) as database:  # a bad URL fails here, in one line
        if args.source and not any(targets.values()) and not args.urls:
            source = database.source(args.source)
            if source is None:
                raise ConfigurationError(f"no source named {args.source!r} is stored")
            targets = {key: getattr(source, key) for key in targets}
            overrides = crawl_overrides(source)
        if not any(targets.values()) and not args.urls:
            print(
                "newsdesk: error: give at least one --feed, --sitemap or --site URL, "
                "or --urls FILE",
                file=sys.stderr,
            )
            return 2
        for path in args.urls:
            if not Path(path).is_file():
                raise FileNotFoundError(2, "no such file", path)
        crawl_id = database.start_crawl(label or "ad hoc")
    overrides["DATABASE_URL"] = args.database
    overrides["BROKER_URL"] = args.broker
    overrides["ALLOW_PRIVATE"] = (
        list(settings.ALLOW_PRIVATE) + overrides.get("ALLOW_PRIVATE", []) + args.allow_private
    )
    if args.max_pages is not None:
        overrides["CRAWL_MAX_PAGES"] = args.max_pages
    if args.frontier:
        overrides["CRAWL_FRONTIER_NAME"] = args.frontier
    try:
        summary = run_crawl(**targets, url_lists=args.urls, source=label, overrides=overrides)
    except BaseException as error:
        with Database.open(args.database, migrate=False) as database:
            database.finish_crawl(crawl_id, "failed", {}, f"{type(error).__name__}: {error}")
        raise
    with Database.open(args.database, migrate=False) as database:
        database.finish_crawl(crawl_id, "finished", summary.to_dict())
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print_summary(summary, args.database)
    return 0


def _use_broker(args: argparse.Namespace) -> Any:
    """The Celery app pointed at the options' broker and database."""
    if not args.broker:
        raise ConfigurationError(
            "give a broker: --broker redis://HOST:6379/0, or NEWSDESK_BROKER_URL"
        )
    settings.DATABASE_URL = args.database  # read by the tasks in this process and its children
    settings.BROKER_URL = args.broker
    from workers.celery import app

    app.conf.broker_url = args.broker
    return app


def worker(args: argparse.Namespace) -> int:
    """Run a Celery worker: the same as ``celery -A workers worker``."""
    app = _use_broker(args)
    Database.open(args.database).close()
    argv = ["worker", "--queues", args.queues, "--loglevel", args.loglevel]
    if args.concurrency:
        argv += ["--concurrency", str(args.concurrency)]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(argv)
    return 0


def beat(args: argparse.Namespace) -> int:
    """Run Celery beat with the sources' schedule: the same as ``celery -A workers beat``."""
    app = _use_broker(args)
    Database.open(args.database).close()
    app.start(["beat", "--loglevel", args.loglevel])
    return 0


def sources_import(args: argparse.Namespace) -> int:
    """Store the sources of a file; say what changed."""
    sources = load_sources_file(Path(args.file))
    with Database.open(args.database) as database:
        for source in sources:
            print(f"{source.name}: {database.save_source(source)}")
    return 0


def sources_list(args: argparse.Namespace) -> int:
    """Show the stored sources with their schedules and last crawls."""
    with Database.open(args.database) as database:
        sources = database.sources()
        last = {}
        for source in sources:
            crawls = database.crawls(source.name, limit=1)
            if crawls:
                last[source.name] = crawls[0]
    if args.json:
        rows = [{**s.to_dict(), "last_crawl": _jsonable(last.get(s.name))} for s in sources]
        print(json.dumps(rows, indent=2))
    else:
        print_sources(sources, last)
    return 0


def _jsonable(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def sources_crawl(args: argparse.Namespace) -> int:
    """Queue a crawl of one stored source for the workers."""
    with Database.open(args.database) as database:
        if database.source(args.name) is None:
            raise ConfigurationError(f"no source named {args.name!r} is stored")
    app = _use_broker(args)
    app.send_task("newsdesk.crawl_source", args=[args.name])
    print(f"queued a crawl of {args.name}")
    return 0


def failures(args: argparse.Namespace) -> int:
    """List the pages that did not become articles; with ``retry``, crawl the retryable ones."""
    if args.reason and args.reason not in {str(reason) for reason in Reason}:
        known = ", ".join(sorted(str(reason) for reason in Reason))
        raise ConfigurationError(f"no reason {args.reason!r}; reasons are: {known}")
    with Database.open(args.database) as database:
        rows = database.failures(args.reason)
    if args.action == "retry":
        return _retry(args, rows)
    for row in rows:
        if args.json:
            print(json.dumps(_jsonable(row), ensure_ascii=False))
        else:
            print(f"{row['reason']:<16} {row['url']}  ({row['stage']}, {row['attempts']}x: "
                  f"{row['detail'][:80]})")  # fmt: skip
    if not args.json:
        print(f"{len(rows)} pages", file=sys.stderr)
    return 0


def _retry(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    """Crawl again the article pages whose failure may pass (timeouts, 5xx, broker…)."""
    from spiders.crawl import run_crawl

    urls = [
        row["url"] for row in rows
        if Reason(row["reason"]).is_failure and row["stage"] not in ("feed", "sitemap")
    ]  # fmt: skip
    if not urls:
        print("nothing to retry")
        return 0
    overrides = {
        "DATABASE_URL": args.database,
        "BROKER_URL": args.broker,
        "ALLOW_PRIVATE": list(settings.ALLOW_PRIVATE) + args.allow_private,
    }
    summary = run_crawl(urls=urls, source="retry", overrides=overrides)
    print_summary(summary, args.database)
    return 0


def extract(args: argparse.Namespace) -> int:
    """Print one page's article, or one line a manifest entry."""
    if args.manifest:
        for line in extract_manifest(Path(args.manifest), processes=args.processes):
            print(json.dumps(line, ensure_ascii=False))
        return 0
    if not args.file:
        print("newsdesk: error: give a FILE or --manifest M.jsonl", file=sys.stderr)
        return 2
    result = extract_file(Path(args.file), args.url)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if "skipped" not in result else 1


def export(args: argparse.Namespace) -> int:
    """Write every stored article (one per story with ``--unique``) as JSON lines or CSV."""
    if args.revisions and args.unique:
        raise ConfigurationError("give --revisions or --unique, not both")
    with Database.open(args.database) as database:
        rows = database.revisions() if args.revisions else database.articles(unique=args.unique)
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                write_articles(rows, args.format, out)
        else:
            write_articles(rows, args.format, sys.stdout)
    return 0


def stats(args: argparse.Namespace) -> int:
    """Print how many articles are stored and how many pages were skipped, by reason."""
    from workers.reports import by_reason

    with Database.open(args.database) as database:
        articles, not_articles = database.count_articles(), database.count_failures()
        crawls = [_jsonable(c) for c in database.crawls(limit=args.crawls)] if args.crawls else []
    if args.json:
        report: dict[str, Any] = {"articles": articles, "not_articles": not_articles}
        if args.crawls:
            report["crawls"] = crawls
        print(json.dumps(report, indent=2))
        return 0
    print(f"articles      {articles}")
    print(f"not articles  {by_reason(not_articles)}")
    if args.crawls:
        print_crawls([c for c in crawls if c is not None])
    return 0


def serve(args: argparse.Namespace) -> int:
    """Serve the HTTP API and the web view (``workers.api``) until interrupted."""
    import uvicorn

    from workers.api import create_app

    app = create_app(args.database, broker_url=args.broker, token=settings.API_TOKEN)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def demo(args: argparse.Namespace) -> int:
    """Serve the sample site on 127.0.0.1, crawl its feed into a fresh SQLite file, show it."""
    from spiders.crawl import run_crawl
    from spiders.sample_site import SampleSite

    site_dir = Path(args.site)
    if not (site_dir / "cases.jsonl").is_file():
        print(f"newsdesk: error: no sample site in {site_dir} (set --site)", file=sys.stderr)
        return 2
    _remove_sqlite_file(args.database)
    with SampleSite(site_dir) as site:
        print(f"serving {len(site.cases)} real news pages at {site.base_url}")
        host = site.base_url.split("://", 1)[1]
        summary = run_crawl(
            feeds=[site.feed_url("rss")],
            source="demo",
            overrides={"DATABASE_URL": args.database, "ALLOW_PRIVATE": [host], "BROKER_URL": ""},
        )
    print_summary(summary, args.database)
    with Database.open(args.database) as database:
        for article in list(database.articles())[:3]:
            print_article(article)
    return 0 if summary.articles_stored else 1


def _remove_sqlite_file(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

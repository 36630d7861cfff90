"""What each ``newsdesk`` subcommand does; ``workers.cli`` parses the options and calls these.

Every command knows ``args.quiet`` (print only errors and the data asked for) and
``args.log_level``; the commands that report take ``--json`` for one JSON document a run
(``failures`` lists one JSON object a line).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import settings
from workers import exports, logs, progress
from workers.checks import check_broker_url, open_database, reach_redis
from workers.errors import BrokerUnavailable, ConfigurationError
from workers.manifest import extract_file, extract_manifest
from workers.records import Article, Reason
from workers.reports import print_article, print_crawls, print_sources, print_summary
from workers.sources import crawl_overrides, load_sources_file

if TYPE_CHECKING:  # Scrapy under it takes ~1 s to import, which other commands need not pay
    from spiders.crawl import CrawlSummary

log = logging.getLogger(__name__)


def crawl(args: argparse.Namespace) -> int:
    """Crawl, store (or queue), record the crawl, and print the summary."""
    targets = {"feeds": args.feed, "sitemaps": args.sitemap, "sites": args.site, "urls": []}
    label = args.source
    overrides: dict[str, Any] = {}
    check_broker_url(args.broker)
    if args.frontier:  # the shared frontier lives in Redis from the first request on
        redis_url = settings.CRAWL_FRONTIER_REDIS_URL or args.broker
        if not redis_url:
            raise ConfigurationError("a shared frontier (--frontier) needs a broker (--broker)")
        reach_redis(redis_url, "the Redis of the shared frontier")
    with open_database(args.database) as database:  # a bad URL fails here, in one line
        if args.source and not any(targets.values()) and not args.urls:
            source = database.source(args.source)
            if source is None:
                raise ConfigurationError(f"no source named {args.source!r} is stored")
            targets = {key: getattr(source, key) for key in targets}
            overrides = crawl_overrides(source)
        if not any(targets.values()) and not args.urls:
            raise ConfigurationError(
                "give at least one --feed, --sitemap or --site URL, or --urls FILE"
            )
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
        summary = _run_crawl(args, **targets, url_lists=args.urls, source=label,
                             overrides=overrides)  # fmt: skip
    except BaseException as error:
        with open_database(args.database, migrate=False) as database:
            database.finish_crawl(crawl_id, "failed", {}, f"{type(error).__name__}: {error}")
        raise
    with open_database(args.database, migrate=False) as database:
        database.finish_crawl(crawl_id, "finished", summary.to_dict())
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    elif not args.quiet:
        print_summary(summary, args.database)
    return 0


def _run_crawl(args: argparse.Namespace, **crawl: Any) -> CrawlSummary:
    """``run_crawl`` logging through this command's handler, with a progress display when
    a person watches (``workers.progress``)."""
    from spiders.crawl import run_crawl

    crawl["overrides"] = {
        **crawl.get("overrides", {}),
        "LOG_INSTALL_ROOT_HANDLER": False,  # Scrapy's records go to ours (workers.logs)
        "LOG_LEVEL": args.log_level,
    }
    if not progress.wanted(quiet=args.quiet, json_output=getattr(args, "json", False),
                           json_logs=settings.LOG_JSON):  # fmt: skip
        return run_crawl(**crawl)
    with progress.CrawlProgress() as display:
        return run_crawl(**crawl, on_progress=display.update)


def _use_broker(args: argparse.Namespace) -> Any:
    """The Celery app pointed at the options' broker and database."""
    if not args.broker:
        raise ConfigurationError(
            "give a broker: --broker redis://HOST:6379/0, or NEWSDESK_BROKER_URL"
        )
    check_broker_url(args.broker)
    settings.DATABASE_URL = args.database  # read by the tasks in this process and its children
    settings.BROKER_URL = args.broker
    from workers.celery import app

    app.conf.broker_url = args.broker
    return app


def _celery_log_level(args: argparse.Namespace) -> str:
    """The level for Celery's own logging setup (``--loglevel``, or -q, -vv), which replaces
    this command's handler."""
    logs.release()
    if args.quiet:
        return "ERROR"
    return "DEBUG" if args.verbose >= 2 else str(args.loglevel)


def worker(args: argparse.Namespace) -> int:
    """Run a Celery worker: the same as ``celery -A workers worker``."""
    app = _use_broker(args)
    open_database(args.database).close()
    from workers.metrics import serve_worker_metrics

    serve_worker_metrics(args.metrics_port, database_url=args.database, broker_url=args.broker)
    argv = ["worker", "--queues", args.queues, "--loglevel", _celery_log_level(args)]
    if args.concurrency:
        argv += ["--concurrency", str(args.concurrency)]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(["--quiet", *argv] if args.quiet else argv)  # no banner either
    return 0


def beat(args: argparse.Namespace) -> int:
    """Run Celery beat with the sources' schedule: the same as ``celery -A workers beat``."""
    app = _use_broker(args)
    open_database(args.database).close()
    argv = ["beat", "--loglevel", _celery_log_level(args)]
    app.start(["--quiet", *argv] if args.quiet else argv)  # no banner either
    return 0


def sources_import(args: argparse.Namespace) -> int:
    """Store the sources of a file; say what changed."""
    sources = load_sources_file(Path(args.file))
    with open_database(args.database) as database:
        changes = [{"name": source.name, "change": database.save_source(source)}
                   for source in sources]  # fmt: skip
    if args.json:
        print(json.dumps({"file": args.file, "sources": changes}, indent=2))
    elif not args.quiet:
        for change in changes:
            print(f"{change['name']}: {change['change']}")
    return 0


def sources_list(args: argparse.Namespace) -> int:
    """Show the stored sources with their schedules and last crawls."""
    with open_database(args.database) as database:
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
    from kombu.exceptions import OperationalError as BrokerError

    with open_database(args.database) as database:
        if database.source(args.name) is None:
            raise ConfigurationError(f"no source named {args.name!r} is stored")
    app = _use_broker(args)
    reach_redis(args.broker)
    try:
        task = app.send_task("newsdesk.crawl_source", args=[args.name])
    except BrokerError as error:
        raise BrokerUnavailable(f"cannot queue the crawl of {args.name}: {error}") from error
    if args.json:
        print(json.dumps({"source": args.name, "queued": True, "task_id": task.id}, indent=2))
    elif not args.quiet:
        print(f"queued a crawl of {args.name}")
    return 0


def failures(args: argparse.Namespace) -> int:
    """List the pages that did not become articles; with ``retry``, crawl the retryable ones."""
    if args.reason and args.reason not in {str(reason) for reason in Reason}:
        known = ", ".join(sorted(str(reason) for reason in Reason))
        raise ConfigurationError(f"no reason {args.reason!r}; reasons are: {known}")
    with open_database(args.database) as database:
        rows = database.failures(args.reason)
    if args.action == "retry":
        return _retry(args, rows)
    for row in rows:
        if args.json:
            print(json.dumps(_jsonable(row), ensure_ascii=False))
        else:
            print(f"{row['reason']:<16} {row['url']}  ({row['stage']}, {row['attempts']}x: "
                  f"{row['detail'][:80]})")  # fmt: skip
    if not args.json and not args.quiet:
        print(f"{len(rows)} pages", file=sys.stderr)
    return 0


def _retry(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    """Crawl again the article pages whose failure may pass (timeouts, 5xx, broker…)."""
    from spiders.crawl import CrawlSummary

    check_broker_url(args.broker)
    urls = [
        row["url"] for row in rows
        if Reason(row["reason"]).is_failure and row["stage"] not in ("feed", "sitemap")
    ]  # fmt: skip
    if urls:
        overrides = {
            "DATABASE_URL": args.database,
            "BROKER_URL": args.broker,
            "ALLOW_PRIVATE": list(settings.ALLOW_PRIVATE) + args.allow_private,
        }
        summary = _run_crawl(args, urls=urls, source="retry", overrides=overrides)
    else:
        summary = CrawlSummary()
    if args.json:
        print(json.dumps({"pages_retried": len(urls), **summary.to_dict()}, indent=2))
    elif args.quiet:
        pass
    elif not urls:
        print("nothing to retry")
    else:
        print_summary(summary, args.database)
    return 0


def extract(args: argparse.Namespace) -> int:
    """Print one page's article, or one line a manifest entry."""
    if args.manifest:
        for line in extract_manifest(Path(args.manifest), processes=args.processes):
            print(json.dumps(line, ensure_ascii=False))
        return 0
    if not args.file:
        raise ConfigurationError("give a FILE or --manifest M.jsonl")
    result = extract_file(Path(args.file), args.url)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if "skipped" not in result else 1


def export(args: argparse.Namespace) -> int:
    """Write the stored articles (one per story with ``--unique``; those stored new or changed
    since a time with ``--since``; of one source with ``--source``), or every revision, as
    JSON lines, CSV or Parquet; with ``-o``, say how many."""
    from storage.queries import EXPORTED, ArticleFilter, Queries

    since = _instant("--since", args.since) if args.since else None
    if args.revisions and (args.unique or since or args.source):
        raise ConfigurationError("--revisions exports every version of every article: "
                                 "give it no --unique, --since or --source")  # fmt: skip
    if args.json and not args.output:
        raise ConfigurationError("--json prints a summary of the export: give -o FILE")
    if args.format == "parquet":
        exports.require_parquet()
    with open_database(args.database) as database:
        if args.revisions:
            columns = [*Article.__dataclass_fields__, "revision", "stored_at"]
            rows = database.revisions()
        else:
            where = ArticleFilter(source=args.source, stored_since=since, unique=args.unique)
            columns, rows = EXPORTED, Queries(database.engine).export(where)
        count = exports.write(rows, columns, args.format, args.output)
    if args.source and not count:
        log.warning("no article stored%s has the source %r",
                    f" since {since.isoformat()}" if since else "", args.source)  # fmt: skip
    report = {"format": args.format, "output": args.output, "rows": count,
              "since": since.isoformat() if since else None, "source": args.source,
              "unique": args.unique, "revisions": args.revisions}  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.output and not args.quiet:
        print(f"wrote {count} rows to {args.output} ({args.format})", file=sys.stderr)
    return 0


def _instant(option: str, value: str) -> datetime:
    """The UTC instant of an ISO 8601 date or time; a bare date is its midnight in UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(
            f"{option} {value!r} is not an ISO 8601 date or time, e.g. 2026-05-01 or "
            "2026-05-01T06:00:00Z"
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def stats(args: argparse.Namespace) -> int:
    """Print how many articles are stored and how many pages were skipped, by reason."""
    from workers.reports import by_reason

    with open_database(args.database) as database:
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
    from uvicorn.config import LOGGING_CONFIG

    from workers.api import create_app

    check_broker_url(args.broker)
    app = create_app(args.database, broker_url=args.broker, token=settings.API_TOKEN)
    level = "error" if args.quiet else "debug" if args.verbose >= 2 else "info"
    # With JSON logs uvicorn's loggers go to this command's handler (workers.logs), at the
    # server's level; else uvicorn sets up its own, as it always did.
    config = None if settings.LOG_JSON else LOGGING_CONFIG
    if settings.LOG_JSON:
        logs.configure(level, json_lines=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=level, log_config=config)
    return 0


def demo(args: argparse.Namespace) -> int:
    """Serve the sample site on 127.0.0.1, crawl its feed into a fresh SQLite file, show it."""
    from spiders.sample_site import SampleSite

    site_dir = Path(args.site)
    if not (site_dir / "cases.jsonl").is_file():
        raise ConfigurationError(f"no sample site in {site_dir} (set --site)")
    _remove_sqlite_file(args.database)
    talk = not (args.quiet or args.json)
    with SampleSite(site_dir) as site:
        if talk:
            print(f"serving {len(site.cases)} real news pages at {site.base_url}")
        host = site.base_url.split("://", 1)[1]
        summary = _run_crawl(
            args,
            feeds=[site.feed_url("rss")],
            source="demo",
            overrides={"DATABASE_URL": args.database, "ALLOW_PRIVATE": [host], "BROKER_URL": ""},
        )
    if args.json:
        print(json.dumps({"database": args.database, **summary.to_dict()}, indent=2))
    elif talk:
        print_summary(summary, args.database)
        with open_database(args.database) as database:
            for article in list(database.articles())[:3]:
                print_article(article)
    return 0 if summary.articles_stored else 1


def _remove_sqlite_file(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

"""The newsdesk command: crawl, worker, beat, sources, extract, export, stats, serve, demo.

Every command reads its defaults from ``settings.py``; options given here win. Errors a user
can fix (a bad database URL, an unreachable database or broker, a missing file, a bad sources
file) end in one line on stderr and exit status 2; ``-vv`` logs the traceback too.

``-q``, ``-v``/``-vv`` and ``--log-format`` go before or after the command's name.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

try:
    import settings
except ValueError as error:  # a NEWSDESK_* variable that does not parse: say which, in one line
    print(f"newsdesk: error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

from workers import commands, exports, logs
from workers.errors import BrokerUnavailable, NewsdeskError, StorageUnavailable

log = logging.getLogger("newsdesk")

# What to check when a server cannot be reached, after the error itself.
_HINTS = {
    StorageUnavailable: "check --database or NEWSDESK_DATABASE_URL",
    BrokerUnavailable: "check --broker or NEWSDESK_BROKER_URL",
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings.LOG_JSON = args.log_format == "json"  # read by Celery's logging (workers.celery)
        args.log_level = logs.level_name(args.verbose, args.quiet, settings.LOG_LEVEL)
        logs.configure(args.log_level, json_lines=settings.LOG_JSON)
        return int(args.run(args) or 0)
    except NewsdeskError as error:
        hint = next((h for kind, h in _HINTS.items() if isinstance(error, kind)), "")
        return _error(f"{error} ({hint})" if hint else str(error))
    except FileNotFoundError as error:
        return _error(f"no such file: {error.filename}")
    except BrokenPipeError:  # the reader went away (`newsdesk export | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a file or folder that cannot be read or written
        return _error(f"{error.strerror or error}: {error.filename}")
    except KeyboardInterrupt:
        return 130


def _error(message: str) -> int:
    """Say what went wrong in one line (the traceback only at -vv); exit status 2."""
    log.debug("the error's traceback", exc_info=True)
    message = " ".join(message.split())
    if settings.LOG_JSON:  # stderr holds JSON lines only
        log.error(message)
    else:
        print(f"newsdesk: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="newsdesk", description=__doc__.splitlines()[0])
    _output_options(parser, top=True)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    crawl = sub.add_parser("crawl", help="crawl feeds, URL lists or a stored source")
    crawl.add_argument(
        "--feed", action="append", default=[], metavar="URL", help="a feed (RSS, Atom)"
    )
    crawl.add_argument("--sitemap", action="append", default=[], metavar="URL",
                       help="a sitemap or sitemap index")  # fmt: skip
    crawl.add_argument("--site", action="append", default=[], metavar="URL",
                       help="a site's home page: find its feeds, sitemaps, sections")  # fmt: skip
    crawl.add_argument("--urls", action="append", default=[], metavar="FILE", help="one URL a line")
    crawl.add_argument(
        "--source", default="", metavar="NAME",
        help="crawl this stored source (alone), or label an ad hoc crawl's articles",
    )  # fmt: skip
    crawl.add_argument("--max-pages", type=int, default=None, metavar="N", help="article pages")
    crawl.add_argument(
        "--frontier", default=settings.CRAWL_FRONTIER_NAME, metavar="NAME",
        help="share this run's frontier in Redis with other crawlers given the same NAME",
    )  # fmt: skip
    _allow_private_option(crawl)
    _database_option(crawl)
    _broker_option(crawl, "queue pages for `newsdesk worker` instead of processing them here")
    crawl.add_argument("--json", action="store_true", help="print the summary as JSON")
    crawl.set_defaults(run=commands.crawl)

    worker = sub.add_parser("worker", help="process queued pages (a Celery worker)")
    worker.add_argument("--concurrency", "-c", type=int, default=settings.WORKER_CONCURRENCY,
                        metavar="N", help="processes (default: one per core)")  # fmt: skip
    worker.add_argument("--queues", "-Q", default="pages,crawls", help="queues to take from")
    worker.add_argument("--hostname", "-n", default="", help="worker name, e.g. one@%%h")
    worker.add_argument("--loglevel", "-l", default="INFO")
    worker.add_argument("--metrics-port", type=int, default=settings.METRICS_PORT, metavar="PORT",
                        help="serve Prometheus metrics at :PORT/metrics (0: none)")  # fmt: skip
    _database_option(worker)
    _broker_option(worker, "the Redis broker")
    worker.set_defaults(run=commands.worker)

    beat = sub.add_parser("beat", help="trigger each source's crawl on its schedule")
    beat.add_argument("--loglevel", "-l", default="INFO")
    _database_option(beat)
    _broker_option(beat, "the Redis broker")
    beat.set_defaults(run=commands.beat)

    sources = sub.add_parser("sources", help="import, list or crawl the scheduled sources")
    sources_sub = sources.add_subparsers(required=True, metavar="ACTION")
    imports = sources_sub.add_parser("import", help="store the sources of a TOML file")
    imports.add_argument("file")
    _database_option(imports)
    imports.add_argument("--json", action="store_true", help="print what changed as JSON")
    imports.set_defaults(run=commands.sources_import)
    listing = sources_sub.add_parser("list", help="show the sources and their last crawls")
    _database_option(listing)
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(run=commands.sources_list)
    trigger = sources_sub.add_parser("crawl", help="queue a crawl of a source now")
    trigger.add_argument("name")
    _database_option(trigger)
    _broker_option(trigger, "the Redis broker")
    trigger.add_argument("--json", action="store_true", help="print the queued task as JSON")
    trigger.set_defaults(run=commands.sources_crawl)

    extract = sub.add_parser("extract", help="print the article of a saved page as JSON")
    extract.add_argument("file", nargs="?", help="a saved page, .html or .html.gz")
    extract.add_argument("--url", default="", help="the URL the page was fetched from")
    extract.add_argument("--manifest", metavar="M.jsonl", help='lines of {"path": …, "url": …}')
    extract.add_argument("--processes", type=int, default=1, help="parallel processes")
    extract.set_defaults(run=commands.extract)

    export = sub.add_parser("export", help="write the stored articles: JSON lines, CSV, Parquet")
    export.add_argument("--format", choices=exports.FORMATS, default="jsonl",
                        help="parquet needs the parquet extra (pyarrow)")  # fmt: skip
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    export.add_argument(
        "--since", metavar="DATE",
        help="only articles stored new or changed at or after DATE (their last_stored_at; "
        "ISO 8601, UTC unless it says: 2026-05-01, 2026-05-01T06:00:00+02:00): give the "
        "time of the previous export to get what is new or updated since",
    )  # fmt: skip
    export.add_argument("--source", metavar="NAME",
                        help="only the articles of this source (a stored source, or the "
                        "--source label of a crawl)")  # fmt: skip
    export.add_argument("--revisions", action="store_true",
                        help="every version of every article, numbered")  # fmt: skip
    export.add_argument("--unique", action="store_true",
                        help="one article per story: the first-seen copy")  # fmt: skip
    _database_option(export)
    export.add_argument("--json", action="store_true", help="with -o: print a summary as JSON")
    export.set_defaults(run=commands.export)

    stats = sub.add_parser("stats", help="count articles, and skipped pages by reason")
    _database_option(stats)
    stats.add_argument("--json", action="store_true", help="print as JSON")
    stats.add_argument("--crawls", type=int, nargs="?", const=10, default=0, metavar="N",
                       help="show the latest N crawls (10) and what each did")  # fmt: skip
    stats.set_defaults(run=commands.stats)

    failures = sub.add_parser("failures", help="pages that did not become articles, and why")
    failures.add_argument("action", nargs="?", choices=["retry"],
                          help="retry: crawl the pages whose failure may pass again")  # fmt: skip
    failures.add_argument("--reason", metavar="R", help="only this reason (e.g. timeout)")
    failures.add_argument("--json", action="store_true",
                          help="one JSON object a line; with retry, the summary")  # fmt: skip
    _allow_private_option(failures)
    _database_option(failures)
    _broker_option(failures, "with retry: queue the pages for `newsdesk worker`")
    failures.set_defaults(run=commands.failures)

    serve = sub.add_parser("serve", help="serve the HTTP API and the web view")
    serve.add_argument("--host", default=settings.API_HOST,
                       help="address to listen on (default: this machine only)")  # fmt: skip
    serve.add_argument("--port", type=int, default=settings.API_PORT, help="port to listen on")
    _database_option(serve)
    _broker_option(serve, "queue triggered crawls for the workers (else crawl here)")
    serve.set_defaults(run=commands.serve)

    demo = sub.add_parser("demo", help="crawl a bundled offline news site into SQLite")
    demo.add_argument("--database", default=settings.DEMO_DATABASE_URL, help="where to store")
    demo.add_argument("--site", default=settings.DEMO_SITE_DIR, help="the sample site's folder")
    demo.add_argument("--json", action="store_true", help="print the crawl's summary as JSON")
    demo.set_defaults(run=commands.demo)
    for command in [crawl, worker, beat, imports, listing, trigger, extract, export, stats,
                    failures, serve, demo]:  # fmt: skip
        _output_options(command, top=False)
    return parser


def _output_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """-q, -v and --log-format. A command's own copies default to nothing, so that these
    options work before the command's name (``top``) as well as after it."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument("-q", "--quiet", action="store_true", default=default(False),
                        help="print only errors, and the data asked for")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="count", default=default(0),
                        help="log more: -v info, -vv debug (Scrapy's, Celery's too)")  # fmt: skip
    parser.add_argument(
        "--log-format", choices=["text", "json"],
        default=default("json" if settings.LOG_JSON else "text"),
        help="log records on stderr as text, or as one JSON object a line (LOG_JSON)",
    )  # fmt: skip


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database", default=settings.DATABASE_URL, metavar="URL", help="SQLAlchemy URL"
    )


def _broker_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--broker", default=settings.BROKER_URL, metavar="URL", help=help_text)


def _allow_private_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-private",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="let requests reach this private or loopback host (* for all); repeatable",
    )


if __name__ == "__main__":
    sys.exit(main())

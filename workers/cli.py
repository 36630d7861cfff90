"""The newsdesk command: crawl, worker, beat, sources, extract, export, stats, serve, demo.

Every command reads its defaults from ``settings.py``; options given here win. Errors a user
can fix (a bad database URL, a missing file, a bad sources file) end in one line on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

import settings
from workers import commands
from workers.errors import NewsdeskError


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except NewsdeskError as error:
        print(f"newsdesk: error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"newsdesk: error: no such file: {error.filename}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`newsdesk export | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="newsdesk", description=__doc__.splitlines()[0])
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
    imports.set_defaults(run=commands.sources_import)
    listing = sources_sub.add_parser("list", help="show the sources and their last crawls")
    _database_option(listing)
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(run=commands.sources_list)
    trigger = sources_sub.add_parser("crawl", help="queue a crawl of a source now")
    trigger.add_argument("name")
    _database_option(trigger)
    _broker_option(trigger, "the Redis broker")
    trigger.set_defaults(run=commands.sources_crawl)

    extract = sub.add_parser("extract", help="print the article of a saved page as JSON")
    extract.add_argument("file", nargs="?", help="a saved page, .html or .html.gz")
    extract.add_argument("--url", default="", help="the URL the page was fetched from")
    extract.add_argument("--manifest", metavar="M.jsonl", help='lines of {"path": …, "url": …}')
    extract.add_argument("--processes", type=int, default=1, help="parallel processes")
    extract.set_defaults(run=commands.extract)

    export = sub.add_parser("export", help="write every stored article")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    export.add_argument("--revisions", action="store_true",
                        help="every version of every article, numbered")  # fmt: skip
    export.add_argument("--unique", action="store_true",
                        help="one article per story: the first-seen copy")  # fmt: skip
    _database_option(export)
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
    failures.add_argument("--json", action="store_true", help="one JSON object a line")
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
    demo.set_defaults(run=commands.demo)
    return parser


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

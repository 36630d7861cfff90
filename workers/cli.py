"""The ``newsdesk`` command: crawl, extract, export, stats, demo.

Every command reads its defaults from ``settings.py``; options given here win. Errors a user
can fix (a bad database URL, a missing file) end in one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import settings
from spiders.crawl import CrawlSummary
from storage.sql import Database
from workers.errors import NewsdeskError
from workers.manifest import extract_file, extract_manifest
from workers.records import Article


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


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="newsdesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    crawl = commands.add_parser("crawl", help="crawl feeds or URL lists and store the articles")
    crawl.add_argument(
        "--feed", action="append", default=[], metavar="URL", help="RSS or Atom feed"
    )
    crawl.add_argument("--urls", action="append", default=[], metavar="FILE", help="one URL a line")
    crawl.add_argument("--source", default="", help="source name stored with the articles")
    crawl.add_argument("--max-pages", type=int, default=None, metavar="N", help="article pages")
    _allow_private_option(crawl)
    _database_option(crawl)
    crawl.add_argument("--json", action="store_true", help="print the summary as JSON")
    crawl.set_defaults(run=command_crawl)

    extract = commands.add_parser("extract", help="print the article of a saved page as JSON")
    extract.add_argument("file", nargs="?", help="a saved page, .html or .html.gz")
    extract.add_argument("--url", default="", help="the URL the page was fetched from")
    extract.add_argument("--manifest", metavar="M.jsonl", help='lines of {"path": …, "url": …}')
    extract.add_argument("--processes", type=int, default=1, help="parallel processes")
    extract.set_defaults(run=command_extract)

    export = commands.add_parser("export", help="write every stored article")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    _database_option(export)
    export.set_defaults(run=command_export)

    stats = commands.add_parser("stats", help="count articles, and skipped pages by reason")
    _database_option(stats)
    stats.add_argument("--json", action="store_true", help="print as JSON")
    stats.set_defaults(run=command_stats)

    demo = commands.add_parser("demo", help="crawl a bundled offline news site into SQLite")
    demo.add_argument("--database", default=settings.DEMO_DATABASE_URL, help="where to store")
    demo.add_argument("--site", default=settings.DEMO_SITE_DIR, help="the sample site's folder")
    demo.set_defaults(run=command_demo)
    return parser


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database", default=settings.DATABASE_URL, metavar="URL", help="SQLAlchemy URL"
    )


def _allow_private_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-private",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="let requests reach this private or loopback host (* for all); repeatable",
    )


def command_crawl(args: argparse.Namespace) -> int:
    """Crawl, store, and print the summary."""
    from spiders.crawl import run_crawl

    if not args.feed and not args.urls:
        print("newsdesk: error: give at least one --feed URL or --urls FILE", file=sys.stderr)
        return 2
    for path in args.urls:
        if not Path(path).is_file():
            raise FileNotFoundError(2, "no such file", path)
    Database.open(args.database).close()  # a bad URL fails here, in one line
    overrides: dict[str, Any] = {
        "DATABASE_URL": args.database,
        "ALLOW_PRIVATE": list(settings.ALLOW_PRIVATE) + args.allow_private,
    }
    if args.max_pages is not None:
        overrides["CRAWL_MAX_PAGES"] = args.max_pages
    summary = run_crawl(
        feeds=args.feed, url_lists=args.urls, source=args.source, overrides=overrides
    )
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print_summary(summary, args.database)
    return 0


def print_summary(summary: CrawlSummary, database: str, out: TextIO = sys.stdout) -> None:
    """The crawl summary, one screen."""
    articles = summary.articles
    lines = [
        f"newsdesk crawl finished in {summary.elapsed:.1f} s",
        f"  pages fetched    {summary.pages_fetched}",
        f"  articles stored  {summary.articles_stored}  ("
        f"{articles.get('new', 0)} new, {articles.get('updated', 0)} updated, "
        f"{articles.get('unchanged', 0)} unchanged)",
        f"  skipped          {_by_reason(summary.skipped)}",
        f"  failed           {_by_reason(summary.failed)}",
        f"  database         {database}",
    ]
    print("\n".join(lines), file=out)


def _by_reason(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    parts = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda i: -i[1]))
    return f"{total}  ({parts})"


def command_extract(args: argparse.Namespace) -> int:
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


def command_export(args: argparse.Namespace) -> int:
    """Write every stored article as JSON lines or CSV."""
    database = Database.open(args.database)
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                write_articles(database.articles(), args.format, out)
        else:
            write_articles(database.articles(), args.format, sys.stdout)
    finally:
        database.close()
    return 0


def write_articles(articles: Any, fmt: str, out: TextIO) -> int:
    """Write ``articles`` as ``jsonl`` or ``csv`` (list cells as JSON); return the count."""
    count = 0
    writer = None
    for article in articles:
        row = article.to_dict()
        if fmt == "jsonl":
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()}
            )
        count += 1
    if fmt == "csv" and writer is None:
        csv.writer(out).writerow(Article.__dataclass_fields__)
    return count


def command_stats(args: argparse.Namespace) -> int:
    """Print how many articles are stored and how many pages were skipped, by reason."""
    database = Database.open(args.database)
    articles, not_articles = database.count_articles(), database.count_failures()
    database.close()
    if args.json:
        print(json.dumps({"articles": articles, "not_articles": not_articles}, indent=2))
        return 0
    print(f"articles      {articles}")
    print(f"not articles  {_by_reason(not_articles)}")
    return 0


def command_demo(args: argparse.Namespace) -> int:
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
            overrides={"DATABASE_URL": args.database, "ALLOW_PRIVATE": [host]},
        )
    print_summary(summary, args.database)
    database = Database.open(args.database)
    for article in list(database.articles())[:3]:
        print_article(article)
    database.close()
    return 0 if summary.articles_stored else 1


def print_article(article: Article, out: TextIO = sys.stdout) -> None:
    """A few lines about one article."""
    body = " ".join(article.body.split())
    print(
        f"\n{article.title}\n  {article.url}\n"
        f"  published {article.published_at or '?'} · {article.language or '?'} · "
        f"{article.word_count} words · by {', '.join(article.authors) or '?'}\n"
        f"  tags: {', '.join(article.tags) or '-'}\n  {body[:240]}…",
        file=out,
    )


def _remove_sqlite_file(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())

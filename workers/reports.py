"""What the command line prints for people: crawl summaries, articles, sources and crawls.

Exports are ``workers.exports``; ``--json`` documents are made by ``workers.commands``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from workers.records import Article, Source

if TYPE_CHECKING:  # Scrapy under it takes ~1 s to import, which other commands need not pay
    from spiders.crawl import CrawlSummary


def print_summary(summary: CrawlSummary, database: str, out: TextIO = sys.stdout) -> None:
    """The crawl summary, one screen."""
    articles = summary.articles
    lines = [f"newsdesk crawl finished in {summary.elapsed:.1f} s"]
    lines.append(
        f"  pages found      {summary.pages_discovered}  ({summary.pages_known} known and "
        f"unchanged, not fetched)"
    )
    lines.append(
        f"  pages fetched    {summary.pages_fetched}  ({summary.pages_not_modified} more "
        f"answered not modified)"
    )
    if summary.listings_not_modified:
        lines.append(
            f"  listings         {summary.listings_not_modified} not modified since last crawl"
        )
    if summary.pages_queued:
        lines.append(f"  pages queued     {summary.pages_queued}  (the workers store them)")
    lines += [
        f"  articles stored  {summary.articles_stored}  ("
        f"{articles.get('new', 0)} new, {articles.get('updated', 0)} updated, "
        f"{articles.get('unchanged', 0)} unchanged)",
        f"  skipped          {by_reason(summary.skipped)}",
        f"  failed           {by_reason(summary.failed)}",
        f"  database         {database}",
    ]
    print("\n".join(lines), file=out)


def by_reason(counts: dict[str, int]) -> str:
    """``total  (reason n, reason n)``, most frequent first."""
    total = sum(counts.values())
    if not total:
        return "0"
    parts = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda i: -i[1]))
    return f"{total}  ({parts})"


def print_crawls(crawls: list[dict[str, Any]], out: TextIO = sys.stdout) -> None:
    """One line a crawl, newest first: when, what, how it ended, and what it did."""
    print("\nlatest crawls", file=out)
    for crawl in crawls:
        done = crawl.get("summary") or {}
        articles = done.get("articles", {})
        counts = (
            f"found {done.get('pages_discovered', 0)}, known {done.get('pages_known', 0)}, "
            f"fetched {done.get('pages_fetched', 0)}, not modified "
            f"{done.get('pages_not_modified', 0)}, queued {done.get('pages_queued', 0)}; "
            f"articles {articles.get('new', 0)} new, {articles.get('updated', 0)} updated, "
            f"{articles.get('unchanged', 0)} unchanged; skipped "
            f"{by_reason(done.get('skipped', {}))}; failed {by_reason(done.get('failed', {}))}"
            if done
            else crawl.get("detail", "")
        )
        started = str(crawl["started_at"])[:19].replace("T", " ")
        print(f"  #{crawl['id']} {started}  {crawl['source']}  {crawl['status']}  {counts}",
              file=out)  # fmt: skip


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


def print_sources(
    sources: list[Source], last_crawls: dict[str, dict[str, Any]], out: TextIO = sys.stdout
) -> None:
    """One line a source: name, schedule, what it crawls, its last crawl."""
    if not sources:
        print("no sources; add some with: newsdesk sources import FILE", file=out)
        return
    for source in sources:
        schedule = f"every {source.every}" if source.every else source.cron or "on demand"
        crawl = last_crawls.get(source.name)
        last = (
            f"last crawl {crawl['status']} {crawl['started_at']:%Y-%m-%d %H:%M}"
            if crawl
            else "never crawled"
        )
        state = "" if source.enabled else " (disabled)"
        targets = ", ".join(
            f"{len(values)} {kind}"
            for kind in ("feeds", "sitemaps", "sites", "urls")
            if (values := getattr(source, kind))
        )
        print(f"{source.name}{state}  {schedule}  {targets}  {last}", file=out)

"""The live progress line of a crawl on a terminal: pages fetched, articles, skips, rate, time.

Shown only where a person watches: stderr is a terminal, and neither ``--quiet``, ``--json``
nor JSON logs were asked for. Piped or redirected output never carries it.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Scrapy under it takes ~1 s to import; rich only matters on a terminal
    from rich.progress import Progress, TaskID

    from spiders.crawl import CrawlSummary


def wanted(*, quiet: bool, json_output: bool, json_logs: bool) -> bool:
    """True when a progress display helps: a person at a terminal, no machine output."""
    if quiet or json_output or json_logs or not sys.stderr.isatty():
        return False
    from rich.console import Console

    console = Console(stderr=True)  # rich knows the terminals that cannot redraw a line
    return console.is_terminal and not console.is_dumb_terminal


def counts(summary: CrawlSummary) -> str:
    """The counts of a running crawl, on one line."""
    rate = summary.pages_fetched / summary.elapsed if summary.elapsed > 0 else 0.0
    articles = summary.articles
    parts = [
        f"found {summary.pages_discovered}",
        f"fetched {summary.pages_fetched}",
        f"stored {summary.articles_stored} ({articles.get('new', 0)} new)",
        f"skipped {sum(summary.skipped.values())}",
        f"failed {sum(summary.failed.values())}",
    ]
    if summary.pages_queued:
        parts.append(f"queued {summary.pages_queued}")
    parts.append(f"{rate:.1f} pages/s")
    return " · ".join(parts)


class CrawlProgress:
    """A rich progress line on stderr, updated with the running crawl's summary."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("crawling"),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,  # the summary that follows says it all
            refresh_per_second=4,
        )
        self.task: TaskID = self.progress.add_task("crawl", total=None, counts="starting")

    def update(self, summary: CrawlSummary) -> None:
        """Show the counts of ``summary``."""
        self.progress.update(self.task, counts=counts(summary))

    def __enter__(self) -> CrawlProgress:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:  # fmt: skip
        self.progress.stop()

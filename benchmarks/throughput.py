"""How fast newsdesk ingests a site, side by side with bare trafilatura and the peers.

    .venv/bin/python -m benchmarks.throughput [--pages 2000] [--processes N] [--scaling 1,2,4]
        [--peers trafilatura-cli,newspaper4k,news-please] [--plot FILE.png] [--json FILE]
        [--memory-pages 10000] [--corpus ../shared/corpus/news-fixtures]
    .venv/bin/python -m benchmarks.throughput --setup-peers   # news-please's own venv, once

Serves the corpus pages, repeated under distinct URLs to ``--pages``, from a local site
(``benchmarks.site``) and measures, on the same cores, one after the other (``benchmarks.runs``):

(a) bare trafilatura over the same HTML in a process pool: the ceiling;
(b) newsdesk embedded: ``newsdesk crawl --urls`` into SQLite;
(c) newsdesk distributed: ``newsdesk crawl --urls --broker`` → Redis → ``newsdesk worker``
    → PostgreSQL;
(d) the peers: trafilatura's command line, newspaper4k and news-please, each with its own
    fetching, over the same URL list.

and prints pages/s, CPU seconds per page, the peak resident memory of the largest process,
body word F1 and each figure's ratio to (a), then the issue's targets. ``--scaling`` runs (a)
and (c) with 1, 2 and 4 processes for the plot (``--plot``); (a) and (c) in the table are the
runs with ``--processes`` (default: the cores). ``--memory-pages`` feeds that many pages to one
worker process and reports its memory (``benchmarks.worker_memory``). No figure is asserted:
``tests/test_benchmarks_throughput.py`` runs this at a tiny scale so it cannot rot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura

from benchmarks import runs
from benchmarks.runs import Run
from benchmarks.site import CORPUS, CorpusSite
from benchmarks.usage import MB

PEERS = ("trafilatura-cli", "newspaper4k", "news-please")
MEMORY_LIMIT_MB = 500


def measure(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Every run the options ask for, with the site serving; the runs and the skipped peers."""
    site = CorpusSite(options.corpus, options.pages)
    counts = sorted({options.processes, *options.scaling})
    measured: dict[str, Any] = {"bare": {}, "distributed": {}, "peers": {}, "skipped": {}}
    with site:
        for count in counts:
            _progress(f"bare trafilatura, {count} processes")
            measured["bare"][count] = runs.bare(site, work, count)
        _progress(f"newsdesk embedded, {options.processes} processes")
        measured["embedded"] = runs.embedded(site, work, options.processes)
        for count in counts:
            _progress(f"newsdesk distributed, {count} worker processes")
            measured["distributed"][count] = runs.distributed(site, work, count)
        for name in options.peers:
            _progress(name)
            if name == "trafilatura-cli":
                found: Run | str = runs.trafilatura_cli(site, work, options.processes)
            else:
                found = runs.peer(name, site, work, options.processes)
            if isinstance(found, str):
                measured["skipped"][name] = found
            else:
                measured["peers"][name] = found
    return measured


def table_runs(measured: dict[str, Any], processes: int) -> list[Run]:
    """The rows of the table: (a), (b), (c) at ``processes``, the peers, other worker counts."""
    rows = [measured["bare"][processes], measured["embedded"], measured["distributed"][processes]]
    rows += list(measured["peers"].values())
    rows += [run for count, run in measured["distributed"].items() if count != processes]
    return rows


def table(rows: Sequence[Run], ceiling: Run) -> str:
    """The runs as a plain-text table, with each figure's ratio to the ceiling's."""
    header = (
        "pipeline",
        "procs",
        "pages",
        "wall s",
        "pages/s",
        "× (a)",
        "CPU s/page",
        "× (a)",
        "peak RSS MB",
        "body F1",
        "cores got",
    )
    lines: list[tuple[str, ...]] = [header]
    for run in rows:
        lines.append(
            (
                run.name,
                str(run.processes),
                str(run.pages),
                f"{run.wall_seconds:.1f}",
                f"{run.pages_per_second:.1f}",
                f"{_ratio(run.pages_per_second, ceiling.pages_per_second):.2f}",
                f"{run.cpu_per_page:.4f}",
                f"{_ratio(run.cpu_per_page, ceiling.cpu_per_page):.2f}",
                f"{run.use.peak_rss / MB:.0f}",
                "" if run.body_f1 is None else f"{run.body_f1:.3f}",
                f"{run.cores_used:.2f}",
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def targets(measured: dict[str, Any], processes: int) -> list[tuple[str, float, str, bool]]:
    """The issue's targets: (what, figure, goal, met)."""
    ceiling: Run = measured["bare"][processes]
    embedded: Run = measured["embedded"]
    distributed: Run = measured["distributed"][processes]
    found = [
        (
            "distributed pages/s ÷ (a)",
            _ratio(distributed.pages_per_second, ceiling.pages_per_second),
            ">= 0.85",
        ),
        (
            "embedded pages/s ÷ (a)",
            _ratio(embedded.pages_per_second, ceiling.pages_per_second),
            ">= 0.8",
        ),
    ]
    for name in ("news-please", "newspaper4k"):
        peer: Run | None = measured["peers"].get(name)
        if peer is None:
            continue
        for ours in (embedded, distributed):
            mode = ours.name.split()[-1]
            found.append(
                (
                    f"{mode} pages/s ÷ {name}",
                    _ratio(ours.pages_per_second, peer.pages_per_second),
                    ">= 3",
                )
            )
            found.append(
                (f"{mode} body F1 − {name}", (ours.body_f1 or 0.0) - (peer.body_f1 or 0.0), "> 0")
            )
    newsdesk = [embedded, *measured["distributed"].values()]
    largest = max(run.use.peak_rss for run in newsdesk) / MB
    found.append(("largest newsdesk process, MB", largest, f"<= {MEMORY_LIMIT_MB}"))
    return [(what, value, goal, _meets(value, goal)) for what, value, goal in found]


def plot(measured: dict[str, Any], path: Path, counts: Sequence[int]) -> None:
    """Pages/s against the number of processes: bare trafilatura and the distributed pipeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    for key, label in (
        ("bare", "(a) bare trafilatura, process pool"),
        ("distributed", "(c) newsdesk distributed, worker processes"),
    ):
        shown = [count for count in counts if count in measured[key]]
        rates = [measured[key][count].pages_per_second for count in shown]
        axes.plot(shown, rates, marker="o", label=label)
    axes.set_xticks(list(counts))
    axes.set_xlabel("processes")
    axes.set_ylabel("pages per second")
    axes.set_ylim(bottom=0)
    pages = measured["embedded"].pages
    axes.set_title(f"{pages} pages on {os.cpu_count()} cores")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def report(measured: dict[str, Any], options: argparse.Namespace) -> dict[str, Any]:
    """Every figure as JSON."""
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "processes": options.processes,
        "pages": options.pages,
        "trafilatura": trafilatura.__version__,
        "bare": {count: run.to_dict() for count, run in measured["bare"].items()},
        "embedded": measured["embedded"].to_dict(),
        "distributed": {count: run.to_dict() for count, run in measured["distributed"].items()},
        "peers": {name: run.to_dict() for name, run in measured["peers"].items()},
        "skipped": measured["skipped"],
        "targets": [
            {"target": what, "value": round(value, 4), "goal": goal, "met": met}
            for what, value, goal, met in targets(measured, options.processes)
        ],
        "worker_memory": measured.get("worker_memory"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and the targets; optionally plot and write JSON."""
    options = parse_options(argv)
    if options.setup_peers:
        runs.setup_peers()
        return 0
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="newsdesk-throughput-") as folder:
        work = Path(folder)
        measured = measure(options, work)
        if options.memory_pages:
            from benchmarks.worker_memory import measure_worker_memory

            _progress(f"one worker process, {options.memory_pages} pages")
            measured["worker_memory"] = measure_worker_memory(
                options.corpus, options.memory_pages, work
            )
    ceiling = measured["bare"][options.processes]
    print(
        f"{options.pages} pages, {os.cpu_count()} cores, {options.processes} processes each; "
        f"load average {load_before[0]:.1f} before the runs (5 min: {load_before[1]:.1f})"
    )
    print(table(table_runs(measured, options.processes), ceiling))
    for name, reason in measured["skipped"].items():
        print(f"{name}: {reason}")
    distributed = measured["distributed"][options.processes].details
    print(
        f"distributed, per page: {distributed['redis_commands_per_page']:.1f} Redis commands, "
        f"{distributed['postgres_commits_per_page']:.2f} PostgreSQL commits, "
        f"{distributed['postgres_rows_written_per_page']:.1f} rows written"
    )
    print("\ntarget                                   value   goal     met")
    for what, value, goal, met in targets(measured, options.processes):
        print(f"{what:38} {value:8.3f}   {goal:8} {'yes' if met else 'no'}")
    if measured.get("worker_memory"):
        memory = measured["worker_memory"]
        print(
            f"\none worker process over {memory['pages']} pages: pool process RSS "
            f"{memory['early_mb']:.0f} MB early, {memory['late_mb']:.0f} MB late "
            f"(growth {memory['growth']:+.1%}, goal <= +10%), largest {memory['peak_mb']:.0f} MB"
        )
    if options.plot:
        plot(measured, options.plot, options.scaling or [options.processes])
    if options.json:
        options.json.write_text(json.dumps(report(measured, options), indent=2) + "\n")
    return 0


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pages", type=int, default=2000, help="article URLs served and crawled")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="extracting processes each pipeline gets (default: the cores)",
    )
    parser.add_argument(
        "--scaling",
        type=_numbers,
        default=[1, 2, 4],
        help="process counts for the plot, comma-separated; '' for none",
    )
    parser.add_argument(
        "--peers",
        type=_names,
        default=list(PEERS),
        help=f"comma-separated, of {', '.join(PEERS)}; '' for none",
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="a folder with cases.jsonl")
    parser.add_argument("--plot", type=Path, default=None, help="write the scaling plot (PNG)")
    parser.add_argument("--json", type=Path, default=None, help="write every figure as JSON")
    parser.add_argument(
        "--memory-pages",
        type=int,
        default=0,
        help="also feed this many pages to one worker process (10000)",
    )
    parser.add_argument(
        "--setup-peers",
        action="store_true",
        help="create benchmarks/.peers-venv with news-please, then exit",
    )
    return parser.parse_args(argv)


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(names) - set(PEERS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown peers: {', '.join(sorted(unknown))}")
    return names


def _ratio(value: float, base: float) -> float:
    return value / base if base else 0.0


_CHECKS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda value, bound: value >= bound,
    "<=": lambda value, bound: value <= bound,
    ">": lambda value, bound: value > bound,
}


def _meets(value: float, goal: str) -> bool:
    operator, bound = goal.split()
    return _CHECKS[operator](round(value, 3), float(bound))


def _progress(text: str) -> None:
    print(f"… {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

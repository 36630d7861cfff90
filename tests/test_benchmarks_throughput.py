"""The throughput and re-crawl benchmarks, run on a few sample-site pages so they cannot rot.

These check that every pipeline runs and that the figures add up and are plausible; the
speed and memory goals are the benchmarks' to print, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import recrawl, throughput
from benchmarks.site import CorpusSite
from benchmarks.usage import TreeSampler
from benchmarks.worker_memory import memory_figures

NEWS_SITE = Path(__file__).resolve().parent / "fixtures" / "news-site"


def test_the_site_repeats_pages_under_distinct_urls_and_scores_bodies() -> None:
    site = CorpusSite(NEWS_SITE, pages=40)  # 36 cases: two copies, the second cut short
    cases = site.asked_cases()

    assert (len(site.urls), len(set(site.urls)), site.copies) == (40, 40, 2)
    assert site.urls[36].startswith(f"{site.base_url}/c1/")
    assert site.case_of(site.urls[36]) == site.case_of(site.urls[0]) == cases[0]
    assert site.case_of(cases[1].url) == cases[1]  # an article's original URL
    perfect = {case.url: case.expected["body"] for case in cases}
    assert site.body_f1(perfect) == pytest.approx(1.0)
    assert site.body_f1({site.urls[0]: cases[0].expected["body"]}) == pytest.approx(1 / 36)


def test_the_sampler_counts_a_child_process_cpu_time_and_memory() -> None:
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", burn])
    sampler = TreeSampler([child.pid], interval=0.05).start()
    child.wait()
    time.sleep(0.1)
    use = sampler.stop()

    assert 0.3 <= use.cpu_seconds <= 1.0
    assert list(use.processes) == [child.pid]
    assert use.peak_rss > 1024 * 1024


def test_memory_growth_compares_the_late_pages_with_the_early_ones() -> None:
    mb = 1024 * 1024
    samples = [(done, (100 + done // 10) * mb, 50 * mb) for done in range(0, 101, 5)]

    figures = memory_figures(samples, pages=100)

    assert figures["early_mb"] == pytest.approx(101)  # done 10 and 15
    assert figures["late_mb"] == pytest.approx(109)  # done 90, 95 and 100
    assert figures["growth"] == pytest.approx(109 / 101 - 1)
    assert (figures["peak_mb"], figures["main_peak_mb"]) == (110, 50)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_throughput_runs_every_pipeline_on_a_few_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "throughput.json"
    plot = tmp_path / "workers.png"

    code = throughput.main(
        ["--corpus", str(NEWS_SITE), "--pages", "4", "--processes", "1", "--scaling", "1",
         "--peers", "trafilatura-cli,newspaper4k", "--memory-pages", "6",
         "--plot", str(plot), "--json", str(report)]
    )  # fmt: skip

    assert code == 0
    printed = capsys.readouterr().out
    assert "newsdesk distributed" in printed and "embedded pages/s ÷ (a)" in printed
    assert plot.read_bytes().startswith(b"\x89PNG")
    saved = json.loads(report.read_text())
    runs = [saved["bare"]["1"], saved["embedded"], saved["distributed"]["1"]]
    runs += [saved["peers"]["trafilatura-cli"], saved["peers"]["newspaper4k"]]
    for run in runs:
        assert run["pages"] == 4
        assert run["pages_per_second"] > 0 and run["cpu_seconds_per_page"] > 0
        assert 0 < run["use"]["peak_rss_mb"] < 2000
        assert run["body_f1"] > 0.5, run["name"]
    assert saved["embedded"]["details"]["summary"]["articles_stored"] == 4
    distributed = saved["distributed"]["1"]["details"]
    assert distributed["summary"]["pages_queued"] == 4
    assert distributed["redis_commands_per_page"] > 1
    assert distributed["postgres_commits_per_page"] >= 1
    assert {target["target"] for target in saved["targets"]} >= {
        "distributed pages/s ÷ (a)",
        "embedded pages/s ÷ (a)",
        "largest newsdesk process, MB",
    }
    assert saved["worker_memory"]["pages"] == 6
    assert saved["worker_memory"]["peak_mb"] > 0


@pytest.mark.slow
def test_recrawl_of_an_unchanged_site_fetches_nothing_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "recrawl.json"

    code = recrawl.main(
        ["--corpus", str(NEWS_SITE), "--pages", "4", "--processes", "1", "--json", str(report)]
    )

    assert code == 0
    assert "re-crawl / first crawl" in capsys.readouterr().out
    first, second = json.loads(report.read_text())["crawls"]
    assert first["summary"]["pages_fetched"] == 4
    assert first["summary"]["articles_stored"] == 4
    assert second["summary"]["pages_fetched"] == 0
    assert second["summary"]["pages_known"] == 4
    assert 0 < second["cpu_seconds"] < first["cpu_seconds"]

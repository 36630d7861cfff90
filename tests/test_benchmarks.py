"""The quality benchmark's measuring code, on three sample-site pages and a tiny WCXB-shaped corpus.

These tests keep ``benchmarks/quality.py`` from rotting: they check the shape of its figures and
that they are plausible, not the quality goals themselves (those are the benchmark's to report).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from benchmarks import quality
from benchmarks.quality import EXTRACTORS, NEWS, WCXB, Case, Prediction

NEWS_SITE = Path(__file__).resolve().parent / "fixtures" / "news-site"

Scored = list[tuple[Case, dict[str, Prediction]]]

_LISTING = """<html><head><title>Latest news</title></head><body>
<h1>Latest news</h1>
<ul>
  <li><a href="/one">Council approves the new budget</a></li>
  <li><a href="/two">Storm closes the coast road</a></li>
  <li><a href="/three">Local team wins the cup</a></li>
</ul>
</body></html>"""


@pytest.fixture(scope="module")
def news_scored() -> Scored:
    """Both extractors' predictions for the first three sample-site pages, in this process."""
    cases = quality.news_cases(NEWS_SITE, limit=3)
    return list(zip(cases, quality.measure(cases), strict=True))


def wcxb_corpus(folder: Path) -> Path:
    """A WCXB-shaped corpus: one article listed in metadata.json, one listing that is not."""
    case = quality.news_cases(NEWS_SITE, limit=1)[0]
    (folder / "html").mkdir(parents=True)
    (folder / "ground-truth").mkdir()
    shutil.copy(case.html, folder / "html" / "0001.html.gz")
    (folder / "html" / "0002.html.gz").write_bytes(gzip.compress(_LISTING.encode()))
    truths = {
        "0001": {
            "url": case.url,
            "ground_truth": {
                "title": case.expected["title"],
                "main_content": case.expected["body"],
            },
        },
        # Left out of metadata.json, like 139 corpus files: its type is stored here only.
        "0002": {
            "url": "https://news.example.org/latest",
            "ground_truth": {"title": "Latest news", "main_content": "Latest news"},
            "_internal": {"page_type": {"primary": "listing"}},
        },
    }
    for page_id, truth in truths.items():
        (folder / "ground-truth" / f"{page_id}.json").write_text(json.dumps(truth))
    listed = {"0001": {"page_type": "article", "domain": "example.org"}}
    (folder / "metadata.json").write_text(json.dumps({"files": listed}))
    return folder


def test_news_cases_are_read_from_cases_jsonl() -> None:
    cases = quality.news_cases(NEWS_SITE, limit=3)

    assert len(cases) == 3
    assert {case.corpus for case in cases} == {NEWS}
    assert all(case.html.is_file() and case.url.startswith("http") for case in cases)
    assert all(case.expected["title"] and case.expected["body"] for case in cases)


def test_news_figures_are_plausible(news_scored: Scored) -> None:
    figures = {figure.measure: figure for figure in quality.news_figures(news_scored)}

    assert list(figures) == [
        "title exact",
        "authors set-F1",
        "date same day",
        "tags set-F1",
        "body word-F1",
        "body shingle P",
        "body shingle R",
        "body shingle F1",
        "articles rejected",
    ]
    for figure in figures.values():
        assert set(figure.values) == set(EXTRACTORS)
        assert all(0.0 <= value <= 1.0 for value in figure.values.values()), figure
    expecting_authors = sum(1 for case, _ in news_scored if case.expected["authors"])
    assert figures["authors set-F1"].pages == expecting_authors
    assert figures["body word-F1"].pages == 3
    for name in EXTRACTORS:
        assert figures["body word-F1"].values[name] > 0.6, name
        assert figures["articles rejected"].values[name] == 0.0
    for name in ("trafilatura", "newsdesk"):
        assert figures["body word-F1"].values[name] > 0.8
        assert figures["body shingle F1"].values[name] > 0.7
        assert figures["date same day"].values[name] >= 2 / 3
    # readability-lxml reads no dates, authors or tags: it scores 0 on them, not an error.
    assert figures["date same day"].values["readability"] == 0.0
    assert figures["title exact"].values["newspaper4k"] > 0.0


def test_time_figures_add_up(news_scored: Scored) -> None:
    figures = quality.time_figures(news_scored)

    assert [(figure.corpus, figure.measure) for figure in figures] == [
        (NEWS, "CPU ms per page"),
        ("all", "CPU ms per page"),
        ("all", "time newsdesk/trafilatura"),
    ]
    milliseconds, ratio = figures[1].values, figures[2].values["newsdesk"]
    assert set(milliseconds) == set(EXTRACTORS)
    assert all(value > 0 for value in milliseconds.values())
    assert ratio == pytest.approx(milliseconds["newsdesk"] / milliseconds["trafilatura"])
    assert figures[2].meets_target() == (round(ratio, 3) <= 1.5)


def test_misses_keep_the_worst_page_of_each_publisher(news_scored: Scored) -> None:
    found = quality.misses(news_scored, ("title", "authors", "tags"), top=10)

    assert set(found) == {"title", "authors", "tags"}
    for listed in found.values():
        publishers = [miss["publisher"] for miss in listed]
        assert len(publishers) == len(set(publishers))
        assert [miss["score"] for miss in listed] == sorted(miss["score"] for miss in listed)
        assert all(miss["score"] < 1.0 and miss["expected"] for miss in listed)


def test_wcxb_figures_tell_articles_from_listings(tmp_path: Path) -> None:
    cases = quality.wcxb_cases(wcxb_corpus(tmp_path / WCXB))
    assert [(case.id, case.page_type) for case in cases] == [
        ("0001", "article"),
        ("0002", "listing"),
    ]

    scored = list(zip(cases, quality.measure(cases), strict=True))
    figures = {figure.measure: figure for figure in quality.wcxb_figures(scored)}

    assert {measure: figure.pages for measure, figure in figures.items()} == {
        "article body word-F1": 1,
        "article body shingle F1": 1,
        "article title exact": 1,
        "non-articles recognised": 1,
        "articles rejected": 1,
    }
    for name in EXTRACTORS:
        assert figures["article body word-F1"].values[name] > 0.6, name
        assert figures["articles rejected"].values[name] == 0.0
    assert figures["non-articles recognised"].values["newsdesk"] == 1.0


def test_a_failing_extractor_counts_as_an_empty_prediction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(html: bytes, case: Case) -> Prediction:
        raise RuntimeError("parser exploded")

    monkeypatch.setitem(quality._EXTRACT, "trafilatura", broken)
    case = quality.news_cases(NEWS_SITE, limit=1)[0]
    scored = [(case, quality.measure_case(case, ("trafilatura", "newsdesk")))]

    failed = scored[0][1]["trafilatura"]
    assert (failed.rejected, failed.body, failed.error) == (
        True,
        "",
        "RuntimeError: parser exploded",
    )
    assert quality.errors(scored) == {
        "trafilatura": [f"{NEWS}/{case.id}: RuntimeError: parser exploded"],
        "newsdesk": [],
    }
    body = next(f for f in quality.news_figures(scored) if f.measure == "body word-F1")
    assert body.values["trafilatura"] == 0.0


def test_main_runs_both_corpora_in_a_pool_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    wcxb_corpus(corpus / WCXB)
    (corpus / NEWS).symlink_to(NEWS_SITE)
    report = tmp_path / "quality.json"

    code = quality.main(
        ["--corpus", str(corpus), "--limit", "2", "--processes", "2", "--json", str(report),
         "--extractors", "trafilatura,newsdesk"]
    )  # fmt: skip

    assert code == 0
    printed = capsys.readouterr().out
    assert "article body word-F1" in printed
    assert "pages that raised (scored as empty): trafilatura 0, newsdesk 0" in printed
    saved = json.loads(report.read_text())
    pages = {(row["corpus"], row["measure"]): row["pages"] for row in saved["figures"]}
    assert pages[(NEWS, "body word-F1")] == 2
    assert pages[("all", "time newsdesk/trafilatura")] == 4
    assert saved["errors"] == {"trafilatura": [], "newsdesk": []}


def test_every_extractor_is_in_the_printed_table(news_scored: Scored) -> None:
    printed = quality.table(quality.news_figures(news_scored) + quality.time_figures(news_scored))
    header = printed.splitlines()[0].split()
    assert header == ["corpus", "measure", "pages", *EXTRACTORS, "target", "met"]
    ratio_row = next(line for line in printed.splitlines() if "newsdesk/trafilatura" in line)
    assert ratio_row.split()[4] == "1.000"  # trafilatura's own ratio; the peers have none


def test_extractors_outside_the_list_are_refused() -> None:
    with pytest.raises(SystemExit):
        quality.main(["--extractors", "trafilatura,newsdesk,boilerpipe", "--limit", "1"])
    with pytest.raises(SystemExit):
        quality.main(["--extractors", "readability", "--limit", "1"])


def test_a_peers_nested_or_odd_lists_become_strings() -> None:
    assert quality._texts([["Jane Doe", "John Roe"], "Ann Poe", ""]) == [
        "Jane Doe",
        "John Roe",
        "Ann Poe",
    ]
    assert quality._texts(None) == []
    assert quality._texts("Jane Doe") == ["Jane Doe"]

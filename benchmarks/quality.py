"""Extraction quality and speed of newsdesk beside other extractors, on the shared corpora.

    .venv/bin/python -m benchmarks.quality [--corpus ../shared/corpus] [--limit N]
        [--processes N] [--json FILE] [--misses] [--extractors a,b,...]

Every extractor sees the same gzip-decoded page bytes and the page's URL, with no HTTP headers,
in the same run and the same worker process (the peers are the ``bench`` extra):

- ``trafilatura``: ``trafilatura.bare_extraction(html, url=url, with_metadata=True)``, its fields
  mapped plainly (author split on ";", tags on ",", text as body).
- ``readability``: readability-lxml's ``Document(html, url=url)``: ``short_title()`` as the
  title, the text of ``summary()`` as the body; it finds no authors, date or tags.
- ``newspaper4k``: ``Article(url, fetch_images=False)``, ``download(input_html=html)``,
  ``parse()``: title, authors, publish_date, tags (else meta_keywords), text.
- ``goose3``: ``Goose({"enable_image_fetching": False}).extract(raw_html=html, url=url)``:
  title, authors, publish_date, tags, cleaned_text.
- ``newsdesk``: ``workers.tasks.article_from_page`` with the default ``PageWork`` limits.

A page an extractor rejects (a ``Skip``; for trafilatura ``None`` or an empty text) or fails on
is an empty prediction: it scores 0 wherever something was expected. Scores follow
``../shared/README.md`` ("How quality is scored") through ``benchmarks.metrics``; what each row
means is in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gzip
import json
import multiprocessing
import os
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import fmean
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from trafilatura.settings import Document

from benchmarks.metrics import same_day, set_f1, shingle_prf, title_match, word_f1
from workers.records import FetchedPage, Reason, Skip
from workers.tasks import PageWork, article_from_page

EXTRACTORS = ("trafilatura", "readability", "newspaper4k", "goose3", "newsdesk")
NEWS = "news-fixtures"
WCXB = "wcxb-dev"
_WORK = PageWork(database_url="sqlite://")
_FAILURES = (Reason.EXTRACT_ERROR, Reason.EXTRACT_TIMEOUT)


@dataclass(frozen=True)
class Case:
    """One corpus page and what an extractor should find on it."""

    corpus: str
    id: str
    url: str
    html: Path  # gzip of the page as served
    publisher: str  # news-fixtures: the publisher; wcxb-dev: the domain
    page_type: str  # article, listing, forum...; every news-fixtures page is an article
    expected: dict[str, Any]  # title, body; news-fixtures also authors, published_at, tags
    fetched_at: str = ""


@dataclass(frozen=True)
class Prediction:
    """What one extractor made of one page, and the CPU seconds it took."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    tags: list[str] = field(default_factory=list)
    body: str = ""
    rejected: bool = False  # the extractor judged the page not to be an article (or failed)
    error: str | None = None  # an exception, raised or turned into a Skip by newsdesk
    seconds: float = 0.0


@dataclass(frozen=True)
class Figure:
    """One row of the table: a measure of both extractors over the same pages."""

    corpus: str
    measure: str
    pages: int
    values: dict[str, float]  # extractor name -> figure
    target: str = ""  # as the issue states it: ">= 0.92", "<= 0.02"

    def meets_target(self, extractor: str = "newsdesk") -> bool | None:
        """Whether the extractor's figure reaches the target; None without a target."""
        if not self.target or not self.pages:
            return None
        operator, bound = self.target.split()
        value = round(self.values[extractor], 3)
        return value >= float(bound) if operator == ">=" else value <= float(bound)


# -- the corpora ------------------------------------------------------------------------------


def news_cases(folder: Path, limit: int | None = None) -> list[Case]:
    """The cases of a ``cases.jsonl`` folder (news-fixtures, or tests/fixtures/news-site)."""
    lines = (folder / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()][:limit]
    return [
        Case(
            NEWS,
            record["id"],
            record["url"],
            folder / record["html"],
            record["publisher"],
            "article",
            record["expected"],
            record.get("crawl_date") or "",
        )
        for record in records
    ]


def wcxb_cases(folder: Path, limit: int | None = None) -> list[Case]:
    """The pages of the WCXB dev split, with their page type.

    ``metadata.json`` lacks some files; their page type is the one stored in the ground-truth
    file (``page_type``, or ``_internal.page_type.primary``), else "unknown".
    """
    listed = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["files"]
    cases = []
    for path in sorted((folder / "ground-truth").glob("*.json"))[:limit]:
        truth = json.loads(path.read_text(encoding="utf-8"))
        known = listed.get(path.stem, {})
        expected = truth["ground_truth"]
        title = expected.get("title")
        cases.append(
            Case(
                WCXB,
                path.stem,
                truth.get("url") or "",  # one file has none
                folder / "html" / f"{path.stem}.html.gz",
                known.get("domain") or urlsplit(truth.get("url") or "").hostname or "",
                known.get("page_type") or _stored_page_type(truth),
                {
                    "title": None if title in (None, "", "None") else title,
                    "body": expected.get("main_content") or "",
                },
            )
        )
    return cases


def _stored_page_type(truth: dict[str, Any]) -> str:
    stored = truth.get("page_type") or truth.get("_internal", {}).get("page_type")
    if isinstance(stored, dict):
        stored = stored.get("primary")
    return str(stored or "unknown")


# -- the extractors, in a worker process ------------------------------------------------------


def trafilatura_prediction(html: bytes, case: Case) -> Prediction:
    """Bare trafilatura's reading of the page, its fields mapped plainly."""
    document = trafilatura.bare_extraction(html, url=case.url or None, with_metadata=True)
    if document is None:
        return Prediction(rejected=True)
    found = document.as_dict() if isinstance(document, Document) else document
    body = found.get("text") or ""
    return Prediction(
        title=found.get("title"),
        authors=_split(found.get("author"), ";"),
        published_at=found.get("date"),
        tags=_split(found.get("tags"), ","),
        body=body,
        rejected=not body.strip(),
    )


def newsdesk_prediction(html: bytes, case: Case) -> Prediction:
    """newsdesk's article from the page, as a worker makes it (no headers, no listing hints)."""
    page = FetchedPage(case.url, case.url, 200, {}, html, case.fetched_at, case.publisher)
    result = article_from_page(page, _WORK)
    if isinstance(result, Skip):
        error = result.detail if result.reason in _FAILURES else None
        return Prediction(rejected=True, error=error)
    return Prediction(
        title=result.title,
        authors=list(result.authors),
        published_at=result.published_at,
        tags=list(result.tags),
        body=result.body,
    )


def readability_prediction(html: bytes, case: Case) -> Prediction:
    """readability-lxml's reading: its short title and the text of its summary."""
    from readability import Document as ReadabilityDocument

    document = ReadabilityDocument(html, url=case.url or None)
    body = _html_text(document.summary(html_partial=True))
    return Prediction(title=document.short_title(), body=body, rejected=not body.strip())


def newspaper4k_prediction(html: bytes, case: Case) -> Prediction:
    """newspaper4k's article parsed from the given HTML (it fetches nothing)."""
    with warnings.catch_warnings():  # "nltk is not installed": its NLP is not used here
        warnings.simplefilter("ignore")
        from newspaper import Article as NewspaperArticle

    article = NewspaperArticle(case.url or "http://localhost/", fetch_images=False)
    article.download(input_html=html)
    article.parse()
    published = article.publish_date
    return Prediction(
        title=article.title or None,
        authors=_texts(article.authors),
        published_at=published.isoformat() if published else None,
        tags=_texts(sorted(article.tags or [])) or _texts(article.meta_keywords),
        body=article.text or "",
        rejected=not (article.text or "").strip(),
    )


def goose3_prediction(html: bytes, case: Case) -> Prediction:
    """goose3's article extracted from the given HTML, without fetching images."""
    article = _goose().extract(raw_html=html, url=case.url or None)
    published = article.publish_date
    return Prediction(
        title=article.title or None,
        authors=_texts(article.authors),
        published_at=str(published) if published else None,
        tags=_texts(article.tags),
        body=article.cleaned_text or "",
        rejected=not (article.cleaned_text or "").strip(),
    )


@functools.cache
def _goose() -> Any:
    """One goose3 extractor per process, as its documentation uses it."""
    from goose3 import Goose

    return Goose({"enable_image_fetching": False})


def _texts(value: Any) -> list[str]:
    """A peer's list field as strings: nested lists (goose3 gives some) are opened."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple | set):
        return [text for item in value for text in _texts(item)]
    return [str(value)]


def _html_text(html: str) -> str:
    """The text of an HTML fragment, one line per text node, so no two words run together."""
    if not html.strip():
        return ""
    tree = lxml.html.fromstring(html)
    return "\n".join(text.strip() for text in tree.itertext() if text.strip())


_EXTRACT: dict[str, Callable[[bytes, Case], Prediction]] = {
    "trafilatura": trafilatura_prediction,
    "readability": readability_prediction,
    "newspaper4k": newspaper4k_prediction,
    "goose3": goose3_prediction,
    "newsdesk": newsdesk_prediction,
}


def measure_case(case: Case, extractors: Sequence[str] = EXTRACTORS) -> dict[str, Prediction]:
    """Each extractor's prediction for one page, with its CPU time, in ``extractors`` order."""
    html = gzip.decompress(case.html.read_bytes())
    # Rotate which runs first, so that none always pays for a cold cache.
    shift = zlib.crc32(case.id.encode()) % len(extractors)
    order = [*extractors[shift:], *extractors[:shift]]
    found = {name: _timed(_EXTRACT[name], html, case) for name in order}
    return {name: found[name] for name in extractors}


def _timed(extractor: Callable[[bytes, Case], Prediction], html: bytes, case: Case) -> Prediction:
    start = time.process_time()
    try:
        prediction = extractor(html, case)
    except Exception as error:  # noqa: BLE001 - one bad page is an empty prediction
        prediction = Prediction(rejected=True, error=f"{type(error).__name__}: {error}")
    return dataclasses.replace(prediction, seconds=time.process_time() - start)


def _warm_up(extractors: Sequence[str] = EXTRACTORS) -> None:
    """Run each extractor once, so that lazy imports are not timed on a worker's first page."""
    words = " ".join(["word"] * 80)
    html = f"<html><body><article><h1>T</h1><p>{words}</p></article></body></html>".encode()
    case = Case("", "warm-up", "https://example.org/a", Path(), "", "article", {})
    for name in extractors:
        _timed(_EXTRACT[name], html, case)


def measure(
    cases: Sequence[Case],
    processes: int = 1,
    progress: bool = False,
    extractors: Sequence[str] = EXTRACTORS,
) -> list[dict[str, Prediction]]:
    """Each extractor's predictions for every case, in order, over a pool of processes."""
    extractors = tuple(extractors)
    if processes <= 1:
        _warm_up(extractors)
        return [measure_case(case, extractors) for case in cases]
    results = []
    work = functools.partial(measure_case, extractors=extractors)
    with multiprocessing.Pool(processes, initializer=_warm_up, initargs=(extractors,)) as pool:
        for done, result in enumerate(pool.imap(work, cases, chunksize=4), start=1):
            results.append(result)
            if progress and (done % 100 == 0 or done == len(cases)):
                print(f"  {done}/{len(cases)} pages", file=sys.stderr, flush=True)
    return results


def _split(value: Any, separator: str) -> list[str]:
    parts = [value] if isinstance(value, str) else list(value or [])
    return [
        piece.strip() for part in parts for piece in str(part).split(separator) if piece.strip()
    ]


# -- the scores -------------------------------------------------------------------------------

Scored = list[tuple[Case, dict[str, Prediction]]]

# How one page's field is scored: (expected value, prediction) -> score in [0, 1].
FIELD_SCORES: dict[str, Callable[[Any, Prediction], float]] = {
    "title": lambda expected, got: float(title_match(got.title, expected)),
    "authors": lambda expected, got: set_f1(got.authors, expected),
    "published_at": lambda expected, got: float(same_day(got.published_at, expected)),
    "tags": lambda expected, got: set_f1(got.tags, expected),
    "body": lambda expected, got: word_f1(got.body, expected),
}


def field_figure(scored: Scored, corpus: str, measure: str, name: str, target: str) -> Figure:
    """The mean score of field ``name`` over the pages that expect a value for it."""
    pages = [(case, got) for case, got in scored if case.expected.get(name)]
    values = {
        extractor: _mean(
            FIELD_SCORES[name](case.expected[name], got[extractor]) for case, got in pages
        )
        for extractor in _names(scored)
    }
    return Figure(corpus, measure, len(pages), values, target)


def share_figure(
    scored: Scored, corpus: str, measure: str, condition: Callable[[Prediction], bool], target: str
) -> Figure:
    """The share of pages whose prediction meets ``condition``."""
    values = {
        extractor: _mean(float(condition(got[extractor])) for _, got in scored)
        for extractor in _names(scored)
    }
    return Figure(corpus, measure, len(scored), values, target)


def news_figures(scored: Scored) -> list[Figure]:
    """Title, authors, date, tags and body on news-fixtures pages."""
    figures = [
        field_figure(scored, NEWS, "title exact", "title", ">= 0.92"),
        field_figure(scored, NEWS, "authors set-F1", "authors", ">= 0.92"),
        field_figure(scored, NEWS, "date same day", "published_at", ">= 0.98"),
        field_figure(scored, NEWS, "tags set-F1", "tags", ">= 0.85"),
        field_figure(scored, NEWS, "body word-F1", "body", ">= 0.96"),
    ]
    figures += shingle_figures(scored, NEWS, "body shingle")
    figures.append(share_figure(scored, NEWS, "articles rejected", _rejected, ""))
    return figures


def shingle_figures(scored: Scored, corpus: str, measure: str) -> list[Figure]:
    """The article-extraction-benchmark metric (precision, recall, F1) over ``scored``."""
    shingle = {
        extractor: shingle_prf(
            [(got[extractor].body, case.expected["body"]) for case, got in scored]
        )
        for extractor in _names(scored)
    }
    return [
        Figure(corpus, f"{measure} {part}", len(scored), {n: v[index] for n, v in shingle.items()})
        for index, part in enumerate(("P", "R", "F1"))
    ]


def wcxb_figures(scored: Scored) -> list[Figure]:
    """Body and title on article pages; articles told from other pages."""
    articles = [(case, got) for case, got in scored if case.page_type == "article"]
    others = [(case, got) for case, got in scored if case.page_type not in ("article", "unknown")]
    with_text = [(case, got) for case, got in articles if case.expected.get("body")]
    return [
        field_figure(articles, WCXB, "article body word-F1", "body", ">= 0.96"),
        shingle_figures(with_text, WCXB, "article body shingle")[2],
        field_figure(articles, WCXB, "article title exact", "title", ">= 0.80"),
        share_figure(others, WCXB, "non-articles recognised", _rejected, ">= 0.80"),
        share_figure(articles, WCXB, "articles rejected", _rejected, "<= 0.02"),
    ]


def time_figures(scored: Scored) -> list[Figure]:
    """CPU milliseconds per page on each corpus, and newsdesk's time over trafilatura's."""
    figures = []
    for corpus in (NEWS, WCXB, "all"):
        pages = [got for case, got in scored if corpus in ("all", case.corpus)]
        if not pages:
            continue
        values = {
            extractor: 1000 * _mean(got[extractor].seconds for got in pages)
            for extractor in _names(scored)
        }
        figures.append(Figure(corpus, "CPU ms per page", len(pages), values))
    if not figures:
        return figures
    totals = figures[-1].values
    ratio = totals["newsdesk"] / totals["trafilatura"] if totals["trafilatura"] else 0.0
    figures.append(
        Figure(
            "all",
            "time newsdesk/trafilatura",
            figures[-1].pages,
            {"trafilatura": 1.0, "newsdesk": ratio},
            "<= 1.5",
        )
    )
    return figures


def _names(scored: Scored) -> list[str]:
    """The extractors measured, in ``EXTRACTORS`` order (all of them when nothing was)."""
    return list(scored[0][1]) if scored else list(EXTRACTORS)


def _rejected(prediction: Prediction) -> bool:
    return prediction.rejected


def _mean(values: Iterable[float]) -> float:
    listed = list(values)
    return fmean(listed) if listed else 0.0


def misses(scored: Scored, fields: Sequence[str], top: int = 10) -> dict[str, list[dict[str, Any]]]:
    """For each field, newsdesk's worst page of each publisher, the worst ``top`` of them."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name in fields:
        worst: dict[str, dict[str, Any]] = {}
        for case, got in scored:
            expected = case.expected.get(name)
            if not expected:
                continue
            score = FIELD_SCORES[name](expected, got["newsdesk"])
            if score < 1.0 and score < worst.get(case.publisher, {}).get("score", 2.0):
                worst[case.publisher] = {
                    "publisher": case.publisher,
                    "id": case.id,
                    "score": round(score, 3),
                    "expected": expected,
                    "newsdesk": getattr(got["newsdesk"], name),
                    "trafilatura": getattr(got["trafilatura"], name),
                }
        found[name] = sorted(worst.values(), key=lambda miss: (miss["score"], miss["publisher"]))
        found[name] = found[name][:top]
    return found


def errors(scored: Scored) -> dict[str, list[str]]:
    """Per extractor, the pages it failed on (``corpus/id: error``)."""
    return {
        extractor: [
            f"{case.corpus}/{case.id}: {got[extractor].error}"
            for case, got in scored
            if got[extractor].error
        ]
        for extractor in _names(scored)
    }


# -- the report -------------------------------------------------------------------------------


def table(figures: Sequence[Figure]) -> str:
    """The figures as a plain-text table, one row per measure."""
    names = [name for name in EXTRACTORS if any(name in figure.values for figure in figures)]
    rows: list[tuple[str, ...]] = [("corpus", "measure", "pages", *names, "target", "met")]
    for figure in figures:
        met = figure.meets_target()
        rows.append(
            (
                figure.corpus,
                figure.measure,
                str(figure.pages),
                *(f"{figure.values[name]:.3f}" if name in figure.values else "" for name in names),
                figure.target.replace(">=", "≥").replace("<=", "≤"),
                "" if met is None else ("yes" if met else "no"),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    right = set(range(2, 3 + len(names)))
    return "\n".join(
        "  ".join(
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def print_misses(found: dict[str, list[dict[str, Any]]]) -> None:
    """The worst misses per field, expected against what each extractor got."""
    for name, listed in found.items():
        print(f"\nnewsdesk's worst {name} misses, one per publisher:")
        if not listed:
            print("  (none)")
        for miss in listed:
            print(f"  {miss['publisher']} ({miss['id']}), score {miss['score']:.2f}")
            print(f"    expected:    {miss['expected']!r}")
            print(f"    newsdesk:    {miss['newsdesk']!r}")
            print(f"    trafilatura: {miss['trafilatura']!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the extractors on both corpora and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each corpus")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, default=None, help="write all figures to this file")
    parser.add_argument("--misses", action="store_true", help="print the worst misses")
    parser.add_argument(
        "--extractors",
        default=",".join(EXTRACTORS),
        help="comma-separated subset of " + ", ".join(EXTRACTORS),
    )
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.extractors.split(",") if name.strip()]
    unknown = set(chosen) - set(EXTRACTORS)
    if unknown or not {"trafilatura", "newsdesk"} <= set(chosen):
        parser.error(f"--extractors: unknown {sorted(unknown)}, or trafilatura/newsdesk left out")
    extractors = [name for name in EXTRACTORS if name in chosen]

    cases = news_cases(options.corpus / NEWS, options.limit)
    cases += wcxb_cases(options.corpus / WCXB, options.limit)
    print(f"{len(cases)} pages, {options.processes} processes", file=sys.stderr)
    measured = measure(cases, options.processes, progress=True, extractors=extractors)
    scored = list(zip(cases, measured, strict=True))
    news = [(case, got) for case, got in scored if case.corpus == NEWS]
    wcxb = [(case, got) for case, got in scored if case.corpus == WCXB]
    figures = news_figures(news) + wcxb_figures(wcxb) + time_figures(scored)
    failed = errors(scored)
    found = misses(news, ("title", "authors", "tags", "published_at"))

    print(table(figures))
    print(
        "pages that raised (scored as empty): "
        + ", ".join(f"{name} {len(failed[name])}" for name in extractors)
    )
    if options.misses:
        print_misses(found)
    if options.json:
        report = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "cores": os.cpu_count(),
            "processes": options.processes,
            "trafilatura": trafilatura.__version__,
            "limit": options.limit,
            "figures": [dataclasses.asdict(figure) for figure in figures],
            "errors": failed,
            "misses": found,
        }
        options.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

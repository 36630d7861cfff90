"""Fit the page-type model of ``workers.pagetype`` on the shared corpora, and tell how well it
does on sites it has not seen.

    .venv/bin/python -m benchmarks.pagetype_fit [--corpus ../shared/corpus] [--processes 2]
        [--repeats 5] [--budget 0.02] [--samples FILE] [--write]

1. Every page of news-fixtures (articles) and wcxb-dev (articles, listings, collections,
   products, forums, services, documentation) goes through ``workers.extract.extract`` as a
   worker would run it; the inputs of its call to ``judge`` are caught there, so that the model
   learns from exactly what it will see. Pages that never reach ``judge`` (too short, no text)
   or that a rule decides (paywall teaser, video page) are rejected whatever the model says:
   they count in the figures, not in the fit.
2. A logistic regression (scikit-learn) over ``workers.pagetype.features``, standardised, with
   articles weighed ``ARTICLE_WEIGHT`` times: a wrongly rejected article costs more than a
   listing let through.
3. Grouped cross-validation: 5 folds by site (registrable domain), so that no site is in both
   the pages a model learns from and the pages it is scored on, repeated ``--repeats`` times
   with other splits. For each split, the threshold that rejects at most ``--budget`` of the
   wcxb-dev articles (those rejected before the model included); the model's threshold is the
   median of these. The figures at that threshold, over the splits, are the estimate for pages
   no one here has seen.
4. ``--write`` fits the model on all pages and writes ``workers/pagetype_model.py``: the
   features' means and scales, the weights, the intercept, the threshold and the held-out figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from courlan import extract_domain
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

import workers.extract
from benchmarks.quality import NEWS, WCXB, Case, news_cases, wcxb_cases
from workers.pagetype import PageSignals, features, rule_reason
from workers.pagework import PageWork
from workers.records import FetchedPage

ARTICLE_WEIGHT = 5.0  # an article counts as five pages of another kind in the fit
REGULARISATION = 0.05  # LogisticRegression's C: small, for weights that carry to other sites
FOLDS = 5
KINDS = ("listing", "collection", "product", "forum", "service", "documentation")
MODEL = Path(__file__).resolve().parent.parent / "workers" / "pagetype_model.py"
_WORK = PageWork(database_url="sqlite://")


@dataclass(frozen=True)
class Sample:
    """One corpus page as the page-type model sees it."""

    corpus: str
    id: str
    site: str  # the registrable domain: the unit of the grouped folds
    page_type: str  # "article" or one of KINDS
    outcome: str  # "model": judged by the model; "before": rejected before it; "rule": by a rule
    values: dict[str, float] = field(default_factory=dict)  # the features, for "model"


def sample(case: Case) -> Sample:
    """Extract the page as a worker does and catch what ``judge`` is given."""
    html = gzip.decompress(case.html.read_bytes())
    page = FetchedPage(case.url, case.url, 200, {}, html, case.fetched_at, case.publisher)
    seen: list[tuple[PageSignals, str, bool | None]] = []

    def caught(signals: PageSignals, body: str, *, free: bool | None = None) -> None:
        seen.append((signals, body, free))

    site = extract_domain(case.url) or case.publisher
    rejected_before = Sample(case.corpus, case.id, site, case.page_type, "before")
    with mock.patch.object(workers.extract, "judge", caught):
        try:
            workers.extract.extract(
                page,
                html_types=list(_WORK.html_types),
                max_bytes=_WORK.max_bytes,
                min_words=_WORK.min_words,
            )
        except Exception:  # noqa: BLE001 - a page that fails is a rejected page, as in a worker
            return rejected_before
    if not seen:
        return rejected_before
    signals, body, free = seen[0]
    if rule_reason(signals, body, free=free):
        return Sample(case.corpus, case.id, site, case.page_type, "rule")
    values = {name: value for name, (value, _) in features(signals, body).items()}
    return Sample(case.corpus, case.id, site, case.page_type, "model", values)


def collect(corpus: Path, processes: int) -> list[Sample]:
    """The samples of both corpora, over a pool of processes."""
    cases = news_cases(corpus / NEWS) + wcxb_cases(corpus / WCXB)
    with multiprocessing.Pool(processes) as pool:
        return pool.map(sample, cases, chunksize=8)


def new_model() -> LogisticRegression:
    """An unfitted model: labels 1 for a page that is no article, 0 for an article."""
    return LogisticRegression(
        C=REGULARISATION, class_weight={0: ARTICLE_WEIGHT, 1: 1.0}, max_iter=5000
    )


def held_out_scores(x: np.ndarray, y: np.ndarray, sites: np.ndarray, seed: int) -> np.ndarray:
    """Each page's score from a model fitted on the folds without its site."""
    scores = np.zeros(len(y))
    for train, test in GroupKFold(FOLDS, shuffle=True, random_state=seed).split(x, y, sites):
        scaler = StandardScaler().fit(x[train])
        model = new_model().fit(scaler.transform(x[train]), y[train])
        scores[test] = model.decision_function(scaler.transform(x[test]))
    return scores


def budget_threshold(scores: np.ndarray, samples: list[Sample], budget: float) -> float:
    """The lowest score threshold that rejects at most ``budget`` of the wcxb-dev articles,
    counting those rejected before the model."""
    articles = [s for s in samples if s.corpus == WCXB and s.page_type == "article"]
    already = sum(s.outcome != "model" for s in articles)
    judged = [s for s in samples if s.outcome == "model"]
    article_scores = sorted(
        (score for score, s in zip(scores, judged, strict=True)
         if s.corpus == WCXB and s.page_type == "article"),
        reverse=True,
    )  # fmt: skip
    allowed = int(budget * len(articles)) - already
    return float(article_scores[max(allowed, 0)]) + 1e-9


def rows(s: Sample) -> list[str]:
    """The rows of the figures that a sample counts in."""
    if s.corpus == NEWS:
        return ["news-fixtures articles"]
    if s.page_type == "article":
        return ["wcxb-dev articles"]
    return ["wcxb-dev non-articles", s.page_type]


def figures(scores: np.ndarray, samples: list[Sample], threshold: float) -> dict[str, float]:
    """Per row, the share of pages rejected: before the model, by a rule, or by the model."""
    judged = iter(scores)
    rejected: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    for s in samples:
        out = s.outcome != "model" or bool(next(judged) >= threshold)
        for row in rows(s):
            rejected[row] += out
            pages[row] += 1
    order = ["wcxb-dev non-articles", *KINDS, "wcxb-dev articles", "news-fixtures articles"]
    return {row: rejected[row] / pages[row] for row in order if pages[row]}


def cross_validate(
    samples: list[Sample], names: list[str], repeats: int, budget: float
) -> tuple[float, dict[str, tuple[float, float]]]:
    """The threshold, and each figure's mean and standard deviation over the repeated splits."""
    judged = [s for s in samples if s.outcome == "model"]
    x = np.array([[s.values[name] for name in names] for s in judged])
    y = np.array([s.page_type != "article" for s in judged], dtype=int)
    sites = np.array([s.site for s in judged])
    runs = [held_out_scores(x, y, sites, seed) for seed in range(repeats)]
    threshold = statistics.median(budget_threshold(scores, samples, budget) for scores in runs)
    found = [figures(scores, samples, threshold) for scores in runs]
    return threshold, {
        row: (statistics.fmean(f[row] for f in found), statistics.pstdev(f[row] for f in found))
        for row in found[0]
    }


def fit(samples: list[Sample], names: list[str]) -> tuple[StandardScaler, LogisticRegression]:
    """The scaler and the model fitted on every page the model judges."""
    judged = [s for s in samples if s.outcome == "model"]
    x = np.array([[s.values[name] for name in names] for s in judged])
    y = np.array([s.page_type != "article" for s in judged], dtype=int)
    scaler = StandardScaler().fit(x)
    return scaler, new_model().fit(scaler.transform(x), y)


def model_source(
    names: list[str],
    scaler: StandardScaler,
    model: LogisticRegression,
    threshold: float,
    held_out: dict[str, tuple[float, float]],
    pages: int,
) -> str:
    """The text of ``workers/pagetype_model.py``."""
    day = datetime.now(UTC).date().isoformat()
    rows = "\n".join(
        f"    ({name!r}, {_number(mean)}, {_number(scale)}, {_number(weight)}),".replace("'", '"')
        for name, mean, scale, weight in zip(
            names, scaler.mean_, scaler.scale_, model.coef_[0], strict=True
        )
    )
    figures_text = "\n".join(
        f"    {row!r}: {mean:.3f},  # ± {sd:.3f}".replace("'", '"')
        for row, (mean, sd) in held_out.items()
    )
    return f'''"""The page-type model of ``workers.pagetype``: logistic regression weights.

Written by ``python -m benchmarks.pagetype_fit --write`` on {day} from {pages} pages of
../shared/corpus (news-fixtures and wcxb-dev); refit rather than edit. A page's score is
``INTERCEPT + sum(weight * (value - mean) / scale)`` over ``FEATURES``; at ``THRESHOLD`` or
more it is not an article.
"""

INTERCEPT = {_number(model.intercept_[0])}
THRESHOLD = {_number(threshold)}
# name, mean, scale, weight
FEATURES: tuple[tuple[str, float, float, float], ...] = (
{rows}
)
# Held out by site ({FOLDS} folds, mean over the repeated splits): the share of pages rejected.
HELD_OUT = {{
{figures_text}
}}
'''


def _number(value: Any) -> str:
    return repr(round(float(value), 4))


def report(threshold: float, held_out: dict[str, tuple[float, float]], counts: Counter[str]) -> str:
    """The held-out figures as a table."""
    lines = [f"threshold {threshold:.3f}", f"{'pages':24} {'n':>5}  rejected (held out)"]
    for row, (mean, sd) in held_out.items():
        lines.append(f"{row:24} {counts[row]:5}  {mean:.3f} ± {sd:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=0.02)
    parser.add_argument("--write", action="store_true", help="write workers/pagetype_model.py")
    parser.add_argument(
        "--samples",
        type=Path,
        help="JSON lines of the pages' features: read if there, else written",
    )
    args = parser.parse_args(argv)
    if args.samples and args.samples.exists():
        lines = args.samples.read_text(encoding="utf-8").splitlines()
        samples = [Sample(**json.loads(line)) for line in lines]
    else:
        samples = collect(args.corpus, args.processes)
    if args.samples and not args.samples.exists():
        args.samples.write_text("".join(json.dumps(asdict(s)) + "\n" for s in samples))
    names = list(features(PageSignals(), ""))
    threshold, held_out = cross_validate(samples, names, args.repeats, args.budget)
    counts = Counter(row for s in samples for row in rows(s))
    print(report(threshold, held_out, counts))
    if args.write:
        scaler, model = fit(samples, names)
        pages = sum(s.outcome == "model" for s in samples)
        MODEL.write_text(model_source(names, scaler, model, threshold, held_out, pages))
        print(f"wrote {MODEL}")


if __name__ == "__main__":
    main()

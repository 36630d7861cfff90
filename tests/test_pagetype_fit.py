"""The page-type model's fitting code: what it learns from, and how it sets the threshold.

These tests keep ``benchmarks/pagetype_fit.py`` from rotting on sample-site pages and made-up
scores; the held-out figures themselves are the fit's to report.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import quality
from tests.conftest import NEWS_SITE
from workers.pagetype import PageSignals, features

pagetype_fit = pytest.importorskip("benchmarks.pagetype_fit")  # scikit-learn: the bench extra
Sample = pagetype_fit.Sample


def test_a_page_is_sampled_with_the_features_judge_sees() -> None:
    case = quality.news_cases(NEWS_SITE, limit=1)[0]
    found = pagetype_fit.sample(case)
    assert found.outcome == "model"
    assert found.site == "sn.at"  # the registrable domain of www.sn.at: the unit of the folds
    assert list(found.values) == list(features(PageSignals(), ""))
    assert found.values["story-shaped URL"] == 1.0
    assert found.values["text words"] > np.log1p(100)


def test_the_threshold_keeps_to_the_budget_with_pages_rejected_before() -> None:
    """100 articles, one rejected before the model: a 3% budget leaves the model two."""
    articles = [Sample("wcxb-dev", f"a{n}", f"s{n}.org", "article", "model") for n in range(99)]
    listings = [Sample("wcxb-dev", f"l{n}", f"l{n}.org", "listing", "model") for n in range(10)]
    before = [Sample("wcxb-dev", "short", "x.org", "article", "before")]
    samples = [*articles, *listings, *before]
    scores = np.array([n / 100 for n in range(99)] + [0.975 + n / 1000 for n in range(10)])
    threshold = pagetype_fit.budget_threshold(scores, samples, 0.03)
    assert 0.96 < threshold <= 0.97  # above the third-highest article, at most the second
    found = pagetype_fit.figures(scores, samples, threshold)
    assert found["wcxb-dev articles"] == pytest.approx(3 / 100)
    assert found["wcxb-dev non-articles"] == found["listing"] == 1.0


def test_the_written_model_is_python_that_scores_as_the_fitted_one() -> None:
    rng = np.random.default_rng(0)
    names = ["link density", "teaser blocks"]
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    scaler = pagetype_fit.StandardScaler().fit(x)
    model = pagetype_fit.new_model().fit(scaler.transform(x), y)
    source = pagetype_fit.model_source(names, scaler, model, 0.5, {"listing": (0.7, 0.01)}, 60)
    written: dict = {}
    exec(compile(source, "pagetype_model.py", "exec"), written)  # our own output
    page = x[0]
    by_hand = written["INTERCEPT"] + sum(
        weight * (value - mean) / scale
        for (_, mean, scale, weight), value in zip(written["FEATURES"], page, strict=True)
    )
    fitted = model.decision_function(scaler.transform(page.reshape(1, -1)))[0]
    assert by_hand == pytest.approx(fitted, abs=1e-2)  # four decimals a number
    assert written["THRESHOLD"] == 0.5 and written["HELD_OUT"] == {"listing": 0.7}

"""trafilatura gives the same extraction with its settled readability comparisons skipped."""

from __future__ import annotations

import gzip
import json

import pytest
import trafilatura

import workers.settled
from tests.conftest import NEWS_SITE
from workers.settled import CHECKED, settled_comparison

CASES = [json.loads(line) for line in (NEWS_SITE / "cases.jsonl").read_text().splitlines()]


@pytest.mark.skipif(trafilatura.__version__ not in CHECKED, reason="not checked for this version")
def test_the_same_text_with_and_without_the_comparisons_it_skips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcomes: list[bool] = []
    settled = workers.settled.settled

    def counted(*arguments: object) -> bool:
        outcomes.append(settled(*arguments))
        return outcomes[-1]

    monkeypatch.setattr(workers.settled, "settled", counted)
    for case in CASES:
        html = gzip.decompress((NEWS_SITE / case["html"]).read_bytes())
        for formatting in (False, True):
            plain = trafilatura.bare_extraction(
                html, url=case["url"], include_formatting=formatting
            )
            with settled_comparison():
                fast = trafilatura.bare_extraction(
                    html, url=case["url"], include_formatting=formatting
                )
            assert (fast.text if fast else None) == (plain.text if plain else None), case["id"]
    assert True in outcomes  # some comparisons were skipped...
    assert False in outcomes  # ...and some were run


def test_trafilatura_is_left_as_it_is_outside_the_block_and_for_other_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = trafilatura.core.compare_extraction
    with settled_comparison():
        pass
    assert trafilatura.core.compare_extraction is original
    monkeypatch.setattr(trafilatura, "__version__", "0.0.0")
    with settled_comparison():
        assert trafilatura.core.compare_extraction is original

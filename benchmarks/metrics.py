"""Quality metrics of extracted articles, as ``../shared/README.md`` defines them.

The definitions are those of its section "How quality is scored".

Every quality number the project reports comes from these functions:

- ``word_f1``: body text, bag-of-words F1 of lower-cased ``\\w+`` tokens.
- ``shingle_prf``: body text, the article-extraction-benchmark metric (github.com/scrapinghub/
  article-extraction-benchmark, ``evaluate.py``): bags of 4-token shingles, per-page TP/FP/FN
  normalised by their sum, precision and recall averaged over pages, F1 of the two means.
- ``title_match``: exact match after NFKC, quote folding, whitespace collapsing and case folding.
- ``set_f1``: authors and tags, F1 of two sets of strings normalised like titles.
- ``same_day``: publication day (YYYY-MM-DD, as written in each value's own offset) equality.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from statistics import fmean

_TOKEN = re.compile(r"\w+")
_SHINGLE_SIZE = 4

# Typographic quotes fold to ASCII ones, so that a title typeset with low-high or angle quotes
# matches the same title with straight quotes: single curly, low-9, reversed-9 quotes and single
# guillemets become ', their double forms and double guillemets become ".
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2039\u203a"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb"
_QUOTE_FOLDING = str.maketrans(
    {**dict.fromkeys(_SINGLE_QUOTES, "'"), **dict.fromkeys(_DOUBLE_QUOTES, '"')}
)


def word_f1(predicted: str | None, expected: str) -> float:
    """Bag-of-words F1 of a predicted body against the expected one.

    Tokens are ``\\w+`` runs of the lower-cased text; the overlap counts each token as often as
    it occurs in both bags (multiset intersection). Precision is overlap / predicted tokens,
    recall is overlap / expected tokens. An empty (or ``None``) prediction scores 0, and so does
    any prediction against an expected text without tokens.
    """
    predicted_tokens = Counter(_TOKEN.findall((predicted or "").lower()))
    expected_tokens = Counter(_TOKEN.findall(expected.lower()))
    overlap = sum((predicted_tokens & expected_tokens).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(predicted_tokens.values())
    recall = overlap / sum(expected_tokens.values())
    return 2 * precision * recall / (precision + recall)


def shingles(text: str | None) -> Counter[tuple[str, ...]]:
    """Bag of 4-token shingles of ``text`` (tokens ``\\w+``, case kept).

    A text with 1 to 3 tokens has exactly one, shorter shingle made of all its tokens (as in the
    benchmark's ``_ngrams``), so it can still match an equally short text; a text without tokens has
    no shingles.
    """
    tokens = _TOKEN.findall(text or "")
    if 0 < len(tokens) < _SHINGLE_SIZE:
        return Counter([tuple(tokens)])
    return Counter(
        tuple(tokens[i : i + _SHINGLE_SIZE]) for i in range(len(tokens) - _SHINGLE_SIZE + 1)
    )


def shingle_counts(predicted: str | None, expected: str) -> tuple[float, float, float]:
    """TP, FP and FN shingles of one page divided by their sum (all 0 when both texts are empty)."""
    predicted_bag, expected_bag = shingles(predicted), shingles(expected)
    tp = sum((predicted_bag & expected_bag).values())
    fp = sum((predicted_bag - expected_bag).values())
    fn = sum((expected_bag - predicted_bag).values())
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def shingle_prf(pages: Sequence[tuple[str | None, str]]) -> tuple[float, float, float]:
    """Precision, recall and F1 of 4-token shingles over ``(predicted, expected)`` body pairs.

    Precision is the mean of TP/(TP+FP) over the pages with a non-empty prediction, recall the
    mean of TP/(TP+FN) over the pages with a non-empty expected text, as in the benchmark's
    ``metrics_from_tp_fp_fns``: a page without a prediction lowers recall only. F1 is 2PR/(P+R)
    of those two means. A mean over no pages is 0, and F1 is 0 when P + R is 0.
    """
    counts = [shingle_counts(predicted, expected) for predicted, expected in pages]
    precisions = [tp / (tp + fp) for tp, fp, _ in counts if tp + fp > 0]
    recalls = [tp / (tp + fn) for tp, _, fn in counts if tp + fn > 0]
    precision = fmean(precisions) if precisions else 0.0
    recall = fmean(recalls) if recalls else 0.0
    if precision + recall == 0:
        return precision, recall, 0.0
    return precision, recall, 2 * precision * recall / (precision + recall)


def normalise_text(text: str) -> str:
    """Comparison form of a title, author or tag: NFKC, ASCII quotes, single spaces, casefold."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTE_FOLDING)
    return " ".join(folded.split()).casefold()


def title_match(predicted: str | None, expected: str) -> bool:
    """Whether two titles are equal after ``normalise_text``; a missing title never matches."""
    if predicted is None:
        return False
    return normalise_text(predicted) == normalise_text(expected)


def set_f1(predicted: list[str], expected: list[str]) -> float:
    """F1 of two sets of names (authors or tags), each string compared after ``normalise_text``.

    Duplicates and strings that normalise to nothing are dropped. Two empty sets agree fully (1.0);
    benchmarks average only over pages that expect some names, as the README asks.
    """
    predicted_set = {normalise_text(name) for name in predicted} - {""}
    expected_set = {normalise_text(name) for name in expected} - {""}
    if not predicted_set and not expected_set:
        return 1.0
    overlap = len(predicted_set & expected_set)
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted_set)
    recall = overlap / len(expected_set)
    return 2 * precision * recall / (precision + recall)


def same_day(predicted_iso: str | None, expected: str) -> bool:
    """Whether the predicted publication date falls on the expected calendar day.

    Both values are parsed as ISO 8601 (``datetime.fromisoformat``: a date alone, a ``T`` or
    space separator, an offset or ``Z``) and their dates are compared as written, in each value's
    own offset, without converting to UTC: ``2024-05-03T23:30:00-02:00`` is on 2024-05-03. A
    missing or unparseable prediction is False; an unparseable expected value raises ValueError.
    """
    expected_day = datetime.fromisoformat(expected).date()
    if not predicted_iso:
        return False
    try:
        predicted_day = datetime.fromisoformat(predicted_iso.strip()).date()
    except ValueError:
        return False
    return predicted_day == expected_day

"""The quality metrics on small hand-made inputs whose scores were worked out by hand."""

from __future__ import annotations

import pytest

from benchmarks.metrics import (
    normalise_text,
    same_day,
    set_f1,
    shingle_counts,
    shingle_prf,
    shingles,
    title_match,
    word_f1,
)


class TestWordF1:
    def test_partial_prediction(self) -> None:
        # 3 predicted tokens, 6 expected, 3 shared: P = 1, R = 1/2, F1 = 2/3.
        assert word_f1("The cat sat", "the cat sat on the mat") == pytest.approx(2 / 3)

    def test_overlap_counts_repeated_tokens_once_per_match(self) -> None:
        # bags {a: 3, b: 1} and {a: 1, b: 2} share a once and b once: P = 2/4, R = 2/3, F1 = 4/7.
        assert word_f1("a a a b", "a b b") == pytest.approx(4 / 7)

    def test_repeated_tokens_match_as_often_as_both_have_them(self) -> None:
        # {a: 2, b: 1} and {a: 2, c: 1} share a twice: P = 2/3, R = 2/3, F1 = 2/3.
        assert word_f1("a a b", "a a c") == pytest.approx(2 / 3)

    def test_lower_cases_and_ignores_punctuation(self) -> None:
        assert word_f1("Hello, WORLD!", "hello world") == 1.0

    def test_tokens_are_unicode_words(self) -> None:
        assert word_f1("Привет, мир — Straße", "привет мир straße") == 1.0

    @pytest.mark.parametrize("predicted", [None, "", "  !!! "])
    def test_empty_prediction_scores_zero(self, predicted: str | None) -> None:
        assert word_f1(predicted, "some expected body") == 0.0

    def test_no_shared_token_scores_zero(self) -> None:
        assert word_f1("completely different", "some expected body") == 0.0


class TestShingles:
    def test_four_token_windows_keep_case_and_repeats(self) -> None:
        assert shingles("A b c d A b c d") == {
            ("A", "b", "c", "d"): 2,
            ("b", "c", "d", "A"): 1,
            ("c", "d", "A", "b"): 1,
            ("d", "A", "b", "c"): 1,
        }

    def test_short_text_is_one_shorter_shingle(self) -> None:
        assert shingles("hello, world") == {("hello", "world"): 1}

    def test_text_without_tokens_has_no_shingles(self) -> None:
        assert shingles(" ... ") == {}
        assert shingles(None) == {}

    def test_counts_are_normalised_by_their_sum(self) -> None:
        # predicted abcd bcde cdef, expected abcd bcde: TP 2, FP 1, FN 0 out of 3.
        tp, fp, fn = shingle_counts("a b c d e f", "a b c d e")
        assert (tp, fp, fn) == pytest.approx((2 / 3, 1 / 3, 0.0))


class TestShinglePRF:
    def test_identical_text(self) -> None:
        assert shingle_prf([("a b c d e", "a b c d e")]) == (1.0, 1.0, 1.0)

    def test_extra_predicted_text_lowers_precision(self) -> None:
        # P = 2/3, R = 1, F1 = 2 * 2/3 / (5/3) = 4/5.
        precision, recall, f1 = shingle_prf([("a b c d e f", "a b c d e")])
        assert (precision, recall, f1) == pytest.approx((2 / 3, 1.0, 0.8))

    def test_repeated_shingles_count_as_a_multiset(self) -> None:
        # predicted abcd x2, bcda, cdab, dabc; expected abcd once: TP 1, FP 4: P = 1/5, F1 = 1/3.
        assert shingle_prf([("a b c d a b c d", "a b c d")]) == pytest.approx((0.2, 1.0, 1 / 3))

    def test_missing_prediction_lowers_recall_only(self) -> None:
        # page 1: P = 2/3, R = 1; page 2 (no prediction): no precision, R = 0.
        # P = 2/3, R = 1/2, F1 = 2 * 1/3 / (7/6) = 4/7.
        pages = [("a b c d e f", "a b c d e"), (None, "w x y z")]
        assert shingle_prf(pages) == pytest.approx((2 / 3, 0.5, 4 / 7))

    def test_precision_and_recall_are_means_over_pages_not_pooled_counts(self) -> None:
        # page 1: 1 of 1 predicted shingle right (P = 1); page 2: 1 of 5 right (P = 1/5).
        # mean P = 3/5, while pooled counts would give 2/6; recall is 1 on both pages.
        long_prediction = "k l m n o p q r"
        pages = [("a b c d", "a b c d"), (long_prediction, "k l m n")]
        precision, recall, f1 = shingle_prf(pages)
        assert (precision, recall) == pytest.approx((0.6, 1.0))
        assert f1 == pytest.approx(2 * 0.6 / 1.6)

    def test_tokens_keep_their_case(self) -> None:
        assert shingle_prf([("A b c d", "a b c d")]) == (0.0, 0.0, 0.0)

    def test_short_texts_match_as_a_whole(self) -> None:
        assert shingle_prf([("Hello world", "Hello world")]) == (1.0, 1.0, 1.0)
        assert shingle_prf([("Hello", "Hello world")]) == (0.0, 0.0, 0.0)

    def test_no_pages(self) -> None:
        assert shingle_prf([]) == (0.0, 0.0, 0.0)


class TestTitleMatch:
    @pytest.mark.parametrize(
        ("predicted", "expected"),
        [
            ("\u201eDer Tag\u201c  kommt", '"der tag" kommt'),
            ("\u00abBonjour\u00bb, dit-il", '"Bonjour", dit-il'),
            ("Trump \u2018congratulates\u2019 China", "Trump 'congratulates' China"),
            ("\u2039Oui\u203a", "'oui'"),
            ("\uff34\uff45\uff53\uff54 \ufb01nal", "Test final"),  # fullwidth letters, fi ligature
            ("STRASSE", "Stra\u00dfe"),  # casefold, not lower()
            ("  A\n\tB\u00a0C ", "a b c"),
        ],
    )
    def test_equal_after_normalisation(self, predicted: str, expected: str) -> None:
        assert title_match(predicted, expected)

    @pytest.mark.parametrize(
        ("predicted", "expected"),
        [("Hello!", "Hello"), ("Hello world", "Hello, world"), (None, "Hello"), ("", "Hello")],
    )
    def test_different_titles(self, predicted: str | None, expected: str) -> None:
        assert not title_match(predicted, expected)

    def test_normal_form(self) -> None:
        assert normalise_text(" \u201eGro\u00dfe\u201c   Pl\u00e4ne ") == '"grosse" pläne'


class TestSetF1:
    def test_partial_overlap(self) -> None:
        # predicted 2 names, expected 1, 1 shared: P = 1/2, R = 1, F1 = 2/3.
        assert set_f1(["Anna Müller", "Jan Smith"], ["anna  MÜLLER"]) == pytest.approx(2 / 3)

    def test_duplicates_after_normalisation_count_once(self) -> None:
        # predicted {a, b}, expected {a, b, c}: P = 1, R = 2/3, F1 = 4/5.
        assert set_f1(["A", "a ", "B"], ["a", "b", "c"]) == pytest.approx(0.8)

    def test_names_are_normalised_like_titles(self) -> None:
        assert set_f1(["Bernd \u201eDas Brot\u201c"], ['bernd "das brot"']) == 1.0

    def test_empty_sets(self) -> None:
        assert set_f1([], []) == 1.0
        assert set_f1([], ["Anna"]) == 0.0
        assert set_f1(["Anna"], []) == 0.0
        assert set_f1(["  "], ["Anna"]) == 0.0


class TestSameDay:
    EXPECTED = "2024-05-03 15:47:42.389000+00:00"

    @pytest.mark.parametrize(
        "predicted",
        [
            "2024-05-03T15:47:42+00:00",
            "2024-05-03T10:00:00Z",
            "2024-05-03",
            # 2024-05-04 01:30 in UTC, but the day as written in its own offset is the 3rd.
            "2024-05-03T23:30:00-02:00",
        ],
    )
    def test_same_day(self, predicted: str) -> None:
        assert same_day(predicted, self.EXPECTED)

    @pytest.mark.parametrize(
        "predicted",
        [
            "2024-05-02T23:59:59+00:00",
            # The same instant as 2024-05-03T23:00Z, written on the 4th: not converted to UTC.
            "2024-05-04T01:00:00+02:00",
            None,
            "",
            "yesterday",
        ],
    )
    def test_other_day_or_no_date(self, predicted: str | None) -> None:
        assert not same_day(predicted, self.EXPECTED)

    def test_expected_without_offset(self) -> None:
        assert same_day("2025-02-02T09:00:00+01:00", "2025-02-02 09:00:00")
        assert not same_day("2025-02-03T00:00:00+01:00", "2025-02-02 09:00:00")

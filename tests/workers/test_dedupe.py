"""Near-duplicate fingerprints: pure functions over real article bodies and their rewrites."""

from __future__ import annotations

import json
import re

import pytest

import settings
from tests.conftest import FIXTURES
from workers.dedupe import DedupeRules, Fingerprint, band_keys, fingerprint, shingles
from workers.normalise import clean_body

RULES = DedupeRules()
BODIES = {
    case["id"]: clean_body(case["body"])
    for case in map(
        json.loads,
        (FIXTURES / "stories" / "articles.jsonl").read_text(encoding="utf-8").splitlines(),
    )
}


def body(case_id: str) -> str:
    return BODIES[case_id]


def similarity(first: str, second: str) -> float:
    one, two = fingerprint(first, RULES), fingerprint(second, RULES)
    assert one is not None and two is not None
    return one.similarity(two)


def shares_a_band(first: str, second: str) -> bool:
    one, two = fingerprint(first, RULES), fingerprint(second, RULES)
    assert one is not None and two is not None
    return bool(set(one.bands) & set(two.bands))


def light_rewrite(text: str) -> str:
    """What a second site does to a wire story: a paragraph cut, a few words changed, a note."""
    paragraphs = text.split("\n\n")
    kept = paragraphs[:-1] if len(paragraphs) > 3 else paragraphs
    changed = [re.sub(r"\b(\w+)\b", r"\1s", p, count=1) if i % 2 else p
               for i, p in enumerate(kept)]  # fmt: skip
    return "\n\n".join([*changed, "Reporting by the wire service; edited by our desk."])


def test_a_fingerprint_is_the_same_every_time() -> None:
    text = body("Taz_2023_04_28")
    assert fingerprint(text, RULES) == fingerprint(text, RULES)
    found = fingerprint(text, RULES)
    assert found is not None
    assert len(found.signature) == RULES.permutations
    assert len(found.bands) == RULES.bands == len(set(found.bands))
    assert all(band.startswith("3w128p32b:") and len(band) <= 64 for band in found.bands)


def test_the_signature_survives_storage() -> None:
    found = fingerprint(body("Taz_2023_04_28"), RULES)
    assert found is not None
    stored = Fingerprint.signature_from_bytes(found.signature_bytes())
    assert stored == found.signature
    assert band_keys(stored, RULES) == found.bands


@pytest.mark.parametrize(
    "case_id",
    [
        "Taz_2023_04_28",
        "LeMonde_2023_09_01",
        "Nikkei_2025_01_27",
        "HankookIlbo_2025_05_15",
        "Pravda_2026_01_08",
        "VnExpress_2025_10_22",
    ],
)
def test_a_copy_with_an_extra_paragraph_or_a_light_rewrite_is_similar(case_id: str) -> None:
    text = body(case_id)
    extra = f"{text}\n\nThis article first appeared on the website of our partner."
    assert similarity(text, extra) >= 0.8
    assert shares_a_band(text, extra)
    assert similarity(text, light_rewrite(text)) >= RULES.threshold
    assert shares_a_band(text, light_rewrite(text))


def test_distinct_articles_are_far_apart() -> None:
    # Three Japanese papers on the same days, and two German ones: different stories.
    pairs = [
        ("SankeiShimbun_2025_01_21", "TokyoShimbun_2025_01_13"),
        ("Nikkei_2025_01_27", "TokyoShimbun_2025_01_13"),
        ("Taz_2023_04_28", "LeMonde_2023_09_01"),
    ]
    for first, second in pairs:
        assert similarity(body(first), body(second)) < 0.1


def test_short_bodies_get_no_fingerprint() -> None:
    assert fingerprint("Breaking: the minister has resigned. More soon.", RULES) is None
    assert fingerprint("", RULES) is None


def test_chinese_and_japanese_are_compared_by_characters() -> None:
    assert shingles("東京五輪が開幕", 3) == {
        "東 京 五",
        "京 五 輪",
        "五 輪 が",
        "輪 が 開",
        "が 開 幕",
    }
    assert shingles("Der Golf von Mexiko", 3) == {"der golf von", "golf von mexiko"}


def test_rules_come_from_the_settings_and_are_checked() -> None:
    rules = DedupeRules.from_settings(settings)
    assert (rules.threshold, rules.shingle_words, rules.min_shingles) == (0.5, 3, 40)
    with pytest.raises(ValueError, match="do not divide"):
        DedupeRules(bands=30)
    with pytest.raises(ValueError, match="threshold"):
        DedupeRules(threshold=0)

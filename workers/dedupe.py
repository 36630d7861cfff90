"""Recognise copies of one story: MinHash signatures of a body's word shingles, and LSH bands.

``fingerprint(body, rules)`` is a pure function run by the worker after ``normalise``; storage
keeps each article's fingerprint in a table that every worker shares (``storage.stories``)
and links a new article to the story of the first stored one it resembles. Two bodies are
the same story when the Jaccard similarity of their sets of word shingles, as estimated by
their MinHash signatures, is at least ``rules.threshold``. Candidates are found through
locality-sensitive hashing: the signature is cut into ``rules.bands`` bands, and two bodies
that agree on all the values of any one band share that band's key.

A body with fewer than ``rules.min_shingles`` shingles gets no fingerprint: too short to tell
a copy from two stories that share a stock phrase. Such a body is linked only by its exact
content hash.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

# Chinese and Japanese are written without spaces: each ideograph or kana is a word here, so
# that their shingles are runs of characters (as is usual for these scripts).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
# Any fixed seed works, but every worker must use the same one for signatures to compare.
_SEED = 1


@dataclass(frozen=True)
class DedupeRules:
    """How near-duplicates are found; built from the ``DEDUPE_*`` settings.

    Signatures and band keys made under other rules do not compare: the band keys carry the
    rules' ``name``, so changing a setting starts a new index rather than mixing two.
    """

    threshold: float = 0.5
    shingle_words: int = 3
    min_shingles: int = 40
    permutations: int = 128
    bands: int = 32

    def __post_init__(self) -> None:
        if self.permutations % self.bands:
            raise ValueError(f"{self.bands} bands do not divide {self.permutations} permutations")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"the similarity threshold must be in (0, 1], not {self.threshold}")

    @classmethod
    def from_settings(cls, settings: Any) -> DedupeRules:
        """The rules of the settings module (or a Scrapy ``Settings``)."""
        get = settings.get if hasattr(settings, "get") else lambda name: getattr(settings, name)
        return cls(
            threshold=float(get("DEDUPE_THRESHOLD")),
            shingle_words=int(get("DEDUPE_SHINGLE_WORDS")),
            min_shingles=int(get("DEDUPE_MIN_SHINGLES")),
        )

    @property
    def name(self) -> str:
        """A short name of what makes signatures comparable: shingle size, permutations, bands."""
        return f"{self.shingle_words}w{self.permutations}p{self.bands}b"


@dataclass(frozen=True)
class Fingerprint:
    """A body's MinHash signature and its LSH band keys."""

    signature: tuple[int, ...]
    bands: tuple[str, ...]

    def similarity(self, other: Fingerprint) -> float:
        """The estimated Jaccard similarity of the two bodies' shingle sets (0 to 1)."""
        if len(self.signature) != len(other.signature):
            return 0.0
        mine, theirs = np.array(self.signature), np.array(other.signature)
        return float(np.count_nonzero(mine == theirs)) / len(self.signature)

    def signature_bytes(self) -> bytes:
        """The signature as it is stored: little-endian unsigned 64-bit integers."""
        return np.array(self.signature, dtype="<u8").tobytes()

    @staticmethod
    def signature_from_bytes(data: bytes) -> tuple[int, ...]:
        """The signature that ``signature_bytes`` stored."""
        return tuple(int(value) for value in np.frombuffer(data, dtype="<u8"))


def shingles(body: str, words: int) -> set[str]:
    """The body's runs of ``words`` consecutive words, case-folded (NFKC), as strings.

    A word is a run of letters and digits, or one Chinese or Japanese character.
    """
    tokens = _WORD.findall(unicodedata.normalize("NFKC", body).casefold())
    return {" ".join(tokens[i : i + words]) for i in range(len(tokens) - words + 1)}


def fingerprint(body: str, rules: DedupeRules | None = None) -> Fingerprint | None:
    """The body's fingerprint, or None when it has too few shingles to compare safely."""
    # Imported here: datasketch brings SciPy (~1.5 s), which only the workers need, not the
    # crawl process, which imports this module through storage. A worker loads it before it
    # forks (``workers.celery``).
    from datasketch import MinHash

    rules = rules or DedupeRules()
    found = shingles(body, rules.shingle_words)
    if len(found) < rules.min_shingles:
        return None
    minhash = MinHash(num_perm=rules.permutations, seed=_SEED)
    minhash.update_batch([shingle.encode("utf-8") for shingle in sorted(found)])
    signature = tuple(int(value) for value in minhash.hashvalues)
    return Fingerprint(signature, band_keys(signature, rules))


def band_keys(signature: Iterable[int], rules: DedupeRules) -> tuple[str, ...]:
    """One key per band of the signature: ``<rules>:<band>:<hash of the band's values>``."""
    values = np.array(list(signature), dtype="<u8")
    rows = rules.permutations // rules.bands
    keys = []
    for band in range(rules.bands):
        digest = hashlib.blake2b(values[band * rows : (band + 1) * rows].tobytes(), digest_size=8)
        keys.append(f"{rules.name}:{band}:{digest.hexdigest()}")
    return tuple(keys)

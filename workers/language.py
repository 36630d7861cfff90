"""The article's language: what the page declares, checked against its text.

The page's own word comes first, in this order: JSON-LD ``inLanguage``, ``og:locale``,
``<html lang>``, then what trafilatura read (``content-language`` meta). Templates are shared
between a site's editions and CMSs ship a default ``lang="en"``, so the declared code is then
checked against the body with py3langid (a fast, offline language identifier):

- when the identifier is sure (probability at least ``SURE``) of another language, on a body
  of at least ``CHECK_WORDS`` words, its language is taken: the text is what readers get;
- unless the two are close kin that identifiers confuse (Norwegian Bokmål and Danish,
  Malay and Indonesian, the Serbo-Croatian standards...): then the page's word stands;
- with no declared language, the identifier's guess is taken on the same conditions
  (normalisation guesses for shorter bodies).

The result is an ISO 639-1 code (``"de"``), or the ISO 639-2/3 code when there is no
two-letter one.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from workers.body import count_words

SURE = 0.95
CHECK_WORDS = 50
# Languages that identifiers tell apart badly; a page declaring one of a group is believed
# over an identifier that says another of the same group.
KIN = (
    frozenset({"no", "nb", "nn", "da", "sv"}),
    frozenset({"ms", "id"}),
    frozenset({"hr", "sr", "bs", "sh", "me"}),
    frozenset({"cs", "sk"}),
    frozenset({"gl", "pt", "es"}),
    frozenset({"ca", "es", "oc"}),
    frozenset({"af", "nl"}),
    frozenset({"zh", "ja"}),  # identifiers read kanji-heavy Japanese as Chinese
)
_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")
_TEXT_CHARS = 1500  # the identifier reads this much of the body: enough, and cheap (2 ms)


def declared_code(value: str | None) -> str | None:
    """The language part of a tag such as ``de-CH``, ``pt_BR`` or ``EN``, lower-case."""
    match = _CODE.match((value or "").strip())
    return match.group(1).lower() if match else None


def article_language(declared: list[str | None], body: str) -> str | None:
    """The article's language: the first declared code, checked against ``body``."""
    code = next((found for found in map(declared_code, declared) if found), None)
    if count_words(body) < CHECK_WORDS:
        return code
    guess, probability = identify(body)
    if not guess or probability < SURE or guess == code:
        return code
    if code and any(code in group and guess in group for group in KIN):
        return code
    return guess


def identify(text: str, chars: int | None = _TEXT_CHARS) -> tuple[str | None, float]:
    """py3langid's language of ``text`` (its first ``chars`` characters; all of it for
    None) and its probability (0 to 1)."""
    language, probability = _identifier().classify(text[:chars])
    return str(language), float(probability)


@functools.cache
def _identifier() -> Any:
    """py3langid's identifier with probabilities normalised to 0..1 (loaded once, ~0.8 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

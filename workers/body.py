"""The article's main text: which source, what is cut from it, and in which format.

trafilatura's main text is the body; the page's JSON-LD ``articleBody`` stands in when
trafilatura finds (next to) nothing, as on pages that render their text with scripts.
Measured on news-fixtures, ``articleBody`` as a whole is better than trafilatura's text on
some pages and much worse on others (a teaser, the text run together with captions), with
nothing in the page telling which: it does not replace trafilatura's text otherwise. Where
the two agree, it tells which of trafilatura's blocks are the story's (``keep_declared``).

From the text go the lines that only repeat what other fields hold: the headline at its top
and the byline ("By Jane Doe", "Von Nina Magoley") of the authors found. ``EXTRACT_BODY_FORMAT``
chooses plain text (the default), Markdown or HTML, all three rendered by trafilatura from the
same extraction.
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from typing import Any

from lxml import etree
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.xml import xmltotxt

BODY_FORMATS = ("text", "markdown", "html")
# A word: a run of letters and digits, or one character of a script written without spaces
# (Chinese, Japanese kana, Thai...), so that a Japanese article is not "42 words" long. The
# run is a class of word characters outside those scripts ("[^\W...]"), which the regex engine
# tests in one step a character (a lookahead before each ``\w`` took 1.6 times as long).
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_WORD = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")
# The word that introduces a byline, as a line of its own before the names.
_BYLINE_WORD = re.compile(r"^(?:by|von|par|por|di|door|av|af|de|da|text|texte)\s+", re.I)
# ``keep_declared``: a block stays when this share of its words is in the ``articleBody``; the
# filter applies when the blocks kept hold this share of the ``articleBody``'s words and this
# share of the extraction's, and the ``articleBody`` has this many words. Measured over
# news-fixtures' 54 pages with an ``articleBody`` (body word F1 0.958 -> 0.970 on them).
_DECLARED_SHARE = 0.7
_DECLARED_COVER = 0.8
_DECLARED_KEPT = 0.5
_DECLARED_MIN_WORDS = 50
# A cut paragraph: it ends in an ellipsis instead of a full stop.
_CUT = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])\s*$")


@functools.lru_cache(maxsize=16)
def count_words(text: str) -> int:
    """Words in ``text``; each character of a script written without spaces counts as one.

    Remembered for the last few texts: a page's main text is counted by the extraction, the
    page-type judgement and the language check, each on its own (a string keeps its hash, so
    asking again costs nothing).
    """
    return len(_WORD.findall(text))


def main_text(document: dict[str, Any], article_body: str | None, min_words: int) -> str:
    """trafilatura's main text, or the declared ``articleBody`` when trafilatura's is too short."""
    text = document.get("text") or ""
    if count_words(text) < min_words and article_body and count_words(article_body) >= min_words:
        return article_body
    return text


def keep_declared(tree: Any, article_body: str | None) -> bool:
    """Drop the blocks of trafilatura's extraction that the page's own ``articleBody`` lacks,
    where the two agree on the rest; return whether any block went.

    A publisher's ``articleBody`` holds the story's paragraphs without the captions, "read
    more" links, newsletter boxes and teasers around them that trafilatura sometimes keeps.
    Run together in one string, it is a poor body itself, but it tells which of trafilatura's
    blocks (paragraphs, headings, lists, children of the extraction's ``<body>``) are the
    story's: a block goes when under ``_DECLARED_SHARE`` of its words are in it. Nothing goes
    unless the blocks kept hold at least ``_DECLARED_COVER`` of the ``articleBody``'s words and
    ``_DECLARED_KEPT`` of the extraction's: where the two disagree (a teaser or a truncated
    ``articleBody``, one that is another text) neither is trusted over the other.
    """
    if tree is None or not article_body:
        return False
    declared = Counter(_words(article_body))
    total = sum(declared.values())
    if total < _DECLARED_MIN_WORDS:
        return False
    blocks = [(block, _words("".join(block.itertext()))) for block in tree]
    dropped = [
        block
        for block, words in blocks
        if words and sum(word in declared for word in words) < _DECLARED_SHARE * len(words)
    ]
    if not dropped:
        return False
    going = set(map(id, dropped))
    kept = Counter(word for block, words in blocks if id(block) not in going for word in words)
    cover = sum(min(kept[word], count) for word, count in declared.items()) / total
    extracted = sum(len(words) for _, words in blocks)
    if cover < _DECLARED_COVER or sum(kept.values()) < _DECLARED_KEPT * extracted:
        return False
    for block in dropped:
        _remove(block)
    return True


def _remove(element: Any) -> None:
    """Remove ``element`` from its tree, keeping the text that follows it."""
    parent = element.getparent()
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(html.unescape(text))]


def without_repeats(text: str, title: str | None, authors: list[str]) -> str:
    """The text without a first line that repeats the headline and without byline lines."""
    lines = text.split("\n")
    folded_title = _fold(title or "")
    while lines and folded_title and _fold(lines[0].lstrip("#")) == folded_title:
        lines.pop(0)
    names = {_fold(name) for name in authors if name.strip()}
    kept = [line for line in lines if not (names and _is_byline(line, names))]
    return "\n".join(kept)


def _is_byline(line: str, names: set[str]) -> bool:
    """A line that is only a byline: the authors' names, perhaps after "By"."""
    rest = _fold(_BYLINE_WORD.sub("", line.strip()))
    if not rest or len(rest.split()) > 12:
        return False
    parts = {part.strip() for part in re.split(r",|;|\band\b|\bund\b|\bet\b|&", rest)}
    parts.discard("")
    return bool(parts) and parts <= names


def looks_cut(text: str) -> bool:
    """Whether the text visibly stops short: its last paragraph ends in an ellipsis."""
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and bool(_CUT.search(lines[-1]))


def render(document: Any, text: str, body_format: str, title: str | None = None) -> str:
    """The body in ``body_format``: the plain text as is, or trafilatura's tree as Markdown
    or HTML (the tree must come from an extraction made with ``include_formatting``).

    The HTML is the fragment of block elements, without ``<html>``/``<body>``; a leading
    heading that repeats the headline is left out of both Markdown and HTML.
    """
    tree = getattr(document, "body", None)
    if body_format == "text" or tree is None:
        return text
    if body_format == "markdown":
        return without_repeats(str(xmltotxt(tree, include_formatting=True)), title, [])
    html_tree = convert_to_html(tree)
    body = html_tree.find("body")
    blocks = list(body if body is not None else html_tree)
    if blocks and title and _fold("".join(blocks[0].itertext())) == _fold(title):
        blocks = blocks[1:]
    return "\n".join(etree.tostring(block, encoding="unicode", method="html") for block in blocks)


def plain_text(document: Any) -> str:
    """The plain text of a trafilatura document made with ``include_formatting``."""
    tree = getattr(document, "body", None)
    return str(xmltotxt(tree, include_formatting=False)) if tree is not None else ""


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()

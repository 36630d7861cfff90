"""The article's main text: which source, what is cut from it, and in which format.

trafilatura's main text is the body; the page's JSON-LD ``articleBody`` stands in when
trafilatura finds (next to) nothing, as on pages that render their text with scripts.
Measured on news-fixtures, ``articleBody`` is better than trafilatura's text on some pages
and much worse on others (a teaser, the text run together with captions), with nothing in
the page telling which: it is not preferred otherwise.

From the text go the lines that only repeat what other fields hold: the headline at its top
and the byline ("By Jane Doe", "Von Nina Magoley") of the authors found. ``EXTRACT_BODY_FORMAT``
chooses plain text (the default), Markdown or HTML, all three rendered by trafilatura from the
same extraction.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.xml import xmltotxt

BODY_FORMATS = ("text", "markdown", "html")
# A word: a run of letters and digits, or one character of a script written without spaces
# (Chinese, Japanese kana, Thai...), so that a Japanese article is not "42 words" long.
_WORD = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]|"
    r"(?:(?![\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f])\w)+"
)
# The word that introduces a byline, as a line of its own before the names.
_BYLINE_WORD = re.compile(r"^(?:by|von|par|por|di|door|av|af|de|da|text|texte)\s+", re.I)
# A cut paragraph: it ends in an ellipsis instead of a full stop.
_CUT = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])\s*$")


def count_words(text: str) -> int:
    """Words in ``text``; each character of a script written without spaces counts as one."""
    return len(_WORD.findall(text))


def main_text(document: dict[str, Any], article_body: str | None, min_words: int) -> str:
    """trafilatura's main text, or the declared ``articleBody`` when trafilatura's is too short."""
    text = document.get("text") or ""
    if count_words(text) < min_words and article_body and count_words(article_body) >= min_words:
        return article_body
    return text


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

"""The article's HTML where a page carries it only in the data of its scripts.

Script-rendered pages (Next.js, Nuxt and other frameworks that hydrate in the browser) may
send an article's text not as HTML but as a string in an inline script: in the framework's
state (``<script id="__NEXT_DATA__" type="application/json">``) or its streamed payload
(``self.__next_f.push([1, "..."])``). trafilatura reads the page's HTML and finds nothing
there. ``script_html`` finds the string literal in the page's inline scripts that holds the
most HTML paragraphs, and ``extract`` runs trafilatura over that HTML when the page's own
text is too short. It reads only what the page itself sent: no script is run.
"""

from __future__ import annotations

import json
import re

from lxml.html import HtmlElement

# A string literal of a script (JavaScript or JSON), long enough to hold paragraphs.
_LITERAL = re.compile(r'"(?:[^"\\]|\\.){200,}"', re.DOTALL)
# An HTML paragraph, and its opening as a literal escapes it (\u003cp) or does not.
_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
_ESCAPED = ("\\u003cp", "\\u003Cp", "<p")
# Fewer paragraphs than this is a teaser or a caption, not an article.
MIN_PARAGRAPHS = 3


def script_html(tree: HtmlElement) -> str | None:
    """The HTML string in the page's inline scripts with the most paragraphs (at least
    ``MIN_PARAGRAPHS``), decoded; None when there is none. JSON-LD is not read here
    (``metadata`` reads its ``articleBody``), nor scripts loaded from elsewhere."""
    best, most = None, MIN_PARAGRAPHS - 1
    for script in tree.iter("script"):
        kind = (script.get("type") or "").strip().lower()
        code = script.text or ""
        if script.get("src") or kind == "application/ld+json" or not _has_paragraph(code):
            continue
        for match in _LITERAL.finditer(code):
            literal = match.group(0)
            if not _has_paragraph(literal):
                continue
            try:
                text = json.loads(literal)
            except ValueError:  # a JavaScript escape that JSON does not know (\x41, \')
                continue
            paragraphs = len(_PARAGRAPH.findall(text))
            if paragraphs > most:
                best, most = text, paragraphs
    return best


def _has_paragraph(code: str) -> bool:
    return any(mark in code for mark in _ESCAPED)

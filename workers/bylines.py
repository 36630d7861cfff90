"""The byline a page shows its readers: who wrote the article, when the markup does not say.

A source of authors after the page's declared metadata (see ``workers.metadata``): many
pages name their writer only in the visible page, or name the publisher in their JSON-LD and
the person in the byline. Four places are read, the most explicit first:

1. Links marked ``rel="author"`` (the HTML standard's author link).
2. The "Written by" label that Yoast SEO and its kin put in ``twitter:label1``/``twitter:data1``.
3. The byline element near the headline: an element whose class or id says ``byline`` or
   ``author`` ("article-author", "author-name", "c-byline"), inside the article that holds the
   ``<h1>`` (or next to the ``<h1>``), with a short text. Its links are the names when it has
   some; otherwise its text is, without the "By"/"Von"/"Par" that leads it.
4. A labelled field: a label ("Author", "Autorin/Autor", "Auteur", "Written by"…) in its own
   element (``<strong>``, ``<b>``, ``<dt>``, ``<th>``, ``<span>``), the name after it, as
   pages list an article's date, author and topics in a box beside the text.

Names are kept raw ("David Straub, MDR THÜRINGEN"): ``normalise.clean_authors`` splits and
cleans them like every other source.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

_BYLINE_MARK = re.compile(r"(?<![a-z])(?:by-?line|author|autor|verfasser)(?:s|en)?(?![a-z])", re.I)
# Parts of a byline element that are not the names: a picture, a date, a role, a bio.
_NOT_NAME_MARK = re.compile(r"date|time|bio|desc|role|title|job|avatar|image|img|photo", re.I)
# The word that introduces a byline, in the languages of the corpus and beyond.
_LEADING_WORD = re.compile(
    r"^\s*(?:by|von|par|por|di|door|av|af|de|da|przez|от|автор|autor(?:in)?|text|texte)\s*:?\s+",
    re.I,
)
# The label of an author field, in the languages of the corpus and beyond (one or two,
# "Autorin/Autor"), without its colon.
_AUTHOR_LABEL = re.compile(
    r"^(?:(?:authors?|autor|autorin|autoren|auteurs?|autrice|autore|autora|verfasser|"
    r"verfasserin|written by|автор|forfatter|författare|tekst)(?:\s*/\s*|$))+$",
    re.I,
)
_LABEL_TAGS = ("strong", "b", "dt", "th", "span")
# A credit of the story's source ("Quelle: sid/dpa", "Source: Reuters"), not of its writer.
_SOURCE_CREDIT = re.compile(r"^\s*(?:quelle|quellen|source|sources|fuente|fonte|bron)\s*:", re.I)
# A byline is a few names: longer texts are a bio, a teaser or a whole article block.
_MAX_WORDS = 12
_MAX_CHARS = 120
_NEAR_H1 = 3  # ancestors of the <h1> searched when the page has no <article>


def visible_bylines(tree: HtmlElement) -> list[str]:
    """The writers' names as the page shows them (raw), or [] when no byline is found."""
    linked = [_words(link.text_content()) for link in tree.xpath("//a[@rel='author']")]
    linked = [name for name in linked if _short(name)]
    if linked:
        return list(dict.fromkeys(linked))
    written = _written_by(tree)
    if written:
        return written
    return _byline_element(tree) or _labelled(tree)


def _written_by(tree: HtmlElement) -> list[str]:
    """The value that a ``twitter:labelN`` of "Written by" labels, in ``twitter:dataN``."""
    for meta in tree.xpath("//meta[starts-with(@name, 'twitter:label')][@content]"):
        if meta.get("content", "").strip().lower() != "written by":
            continue
        number = meta.get("name", "").removeprefix("twitter:label")
        data = tree.xpath(f"//meta[@name='twitter:data{number}']/@content")
        names = [_words(str(value)) for value in data]
        return [name for name in names if _short(name)]
    return []


def _byline_element(tree: HtmlElement) -> list[str]:
    """The names in the first byline element of the article that holds the ``<h1>``."""
    for scope in _scopes(tree):
        marked = [element for element in scope.iter() if _is_byline(element)]
        # The innermost marked elements: a wrapper also holds the date, the picture, the bio.
        wrappers = {ancestor for element in marked for ancestor in element.iterancestors()}
        for element in marked:
            names = [] if element in wrappers else _names_in(element)
            if names:
                return names
    return []


def _labelled(tree: HtmlElement) -> list[str]:
    """The name after the first author label of the page: in the label's own element's tail,
    or in the element after it (a ``<dd>`` after its ``<dt>``, a ``<td>`` after its ``<th>``)."""
    for label in tree.iter(*_LABEL_TAGS):
        if not _AUTHOR_LABEL.match(_words(label.text_content()).rstrip(":").strip()):
            continue
        value = _words(label.tail or "").lstrip(":").strip()
        following = label.getnext()
        if not value and following is not None:
            value = _words(following.text_content())
        if _short(value) and not _is_contact(value) and not _SOURCE_CREDIT.match(value):
            return [value]
        return []
    return []


def _is_byline(element: HtmlElement) -> bool:
    if not isinstance(element.tag, str) or element.tag in {"meta", "link", "script", "style"}:
        return False
    marks = f"{element.get('class', '')} {element.get('id', '')}"
    return bool(_BYLINE_MARK.search(marks)) and not _NOT_NAME_MARK.search(marks)


def _scopes(tree: HtmlElement) -> list[HtmlElement]:
    """Where a byline is looked for: the article holding the ``<h1>``, else the ``<h1>``'s
    near ancestors; never the whole page, whose author boxes may belong to other stories."""
    h1 = next(iter(tree.xpath("//h1")), None)
    if h1 is None:
        return []
    article = next((a for a in h1.iterancestors() if a.tag == "article"), None)
    if article is not None:
        return [article]
    ancestors = list(h1.iterancestors())
    return ancestors[_NEAR_H1 - 1 : _NEAR_H1] or ancestors[-1:]


def _names_in(element: HtmlElement) -> list[str]:
    if _SOURCE_CREDIT.match(element.text_content()):
        return []  # "Quelle: dpa" credits where the story came from, not who wrote it
    links = [_words(link.text_content()) for link in element.iter("a")]
    links = [name for name in links if name and not _is_contact(name)]
    if links and all(_short(name) for name in links):
        return list(dict.fromkeys(links))
    text = _LEADING_WORD.sub("", _words(element.text_content()))
    if _LEADING_WORD.match(f"{text} x"):  # only the word that would lead a name
        return []
    return [text] if _short(text) and not _is_contact(text) else []


def _words(text: str) -> str:
    return " ".join(text.split())


def _short(text: str) -> bool:
    return 0 < len(text) <= _MAX_CHARS and len(text.split()) <= _MAX_WORDS


def _is_contact(text: str) -> bool:
    return "@" in text or text.lower().startswith(("http", "www."))


def is_publisher(name: str, publishers: list[str], url: str) -> bool:
    """Whether an author's ``name`` is the publisher's: its site name, organisation or host.

    Many sites put their own name where a writer's should be ("n-tv NACHRICHTEN",
    "Deutsche Welle (www.dw.com)", "mdr.de"), in JSON-LD typed as a Person or untyped; such a
    name is the publisher, to be used only when no person is named anywhere.
    """
    squeezed = _squeeze(name)
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    label = _squeeze(host.split(".")[0])
    if len(squeezed) < 3:  # "BR" on br.de: a short name is the publisher's only when it is equal
        return bool(squeezed) and squeezed in {label, *map(_squeeze, publishers)}
    for publisher in publishers:
        known = _squeeze(publisher)
        if len(known) >= 3 and (known in squeezed or squeezed in known):
            return True
    if not host:
        return False
    return host in name.casefold() or (len(label) >= 3 and squeezed.startswith(label))


def _squeeze(text: str) -> str:
    return "".join(char for char in text.casefold() if char.isalnum())

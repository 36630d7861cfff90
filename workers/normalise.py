"""Make an extracted article clean and comparable: text, lists, dates, canonical URL, hash.

``normalise(article)`` is a pure function: the same article in gives the same article out,
whichever worker runs it and however often.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import courlan

from workers.records import Article

# Control characters (but newline and tab), zero-width characters and soft hyphens.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")
_WORD = re.compile(r"\w+")
_BYLINE = re.compile(r"^(?:by|von|par|por|di|door|av|af)\s+", re.IGNORECASE)
# Between a headline and a site name: "|", "-", "–", "—", "·", "•", "»", "::" set off by spaces.
_TITLE_SEPARATORS = re.compile(r"(\s+(?:[|\-–—·•»]|::)\s+)")
_LIST_SEPARATORS = re.compile(r"\s*[,;|]\s*")
# "y" and "e" are left out: they join parts of one Spanish or Portuguese name.
_AUTHOR_SEPARATORS = re.compile(r"\s*[;/]\s*|\s+(?:and|und|et|og|och|&)\s+", re.IGNORECASE)
# What a byline adds to a name: "(obe)" initials, an e-mail address, a @handle.
_AUTHOR_EXTRAS = re.compile(r"\([^)]*\)|\S+@\S+\.\w+|(?<!\w)@\w+")
# Words that name a role, not a person, when they stand alone in a byline part.
_ROLES = frozenset(
    {
        "reporter", "redakteur", "redakteurin", "korrespondent", "korrespondentin", "autor",
        "autorin", "editor", "staff", "staff writer", "correspondent", "writer", "columnist",
        "contributor", "redaktion", "journalist", "journalistin", "photographer", "fotograf",
    }
)  # fmt: skip
# "Last, First" as library catalogues and Dublin Core write a name: one capitalised word a side.
_INVERTED_NAME = re.compile(r"^\s*([^\W\d_][\w'-]*),\s*([^\W\d_][\w'-]*)\s*$")
# A name has at most this many words; a longer part is a job title or a sentence.
_NAME_WORDS = 5
# Machine tags that CMSs put among the keywords: "Category: News", an id, a UUID.
_MACHINE_TAG = re.compile(r"^[\w ]{1,30}:\s|^[\d\W]+$|^[0-9a-f]{8}-[0-9a-f]{4}-", re.IGNORECASE)

# Dates before this year are taken for extraction mistakes (a copyright line, a birth date).
EARLIEST_YEAR = 1990
# A publication date this far ahead of the clock is a mistake, not a time zone.
FUTURE_MARGIN = timedelta(days=1)


def normalise(article: Article, *, now: datetime | None = None) -> Article:
    """The article with clean text fields, lists, ISO 8601 dates, canonical URL and hash."""
    body = clean_body(article.body)
    return article.replace(
        url=canonical_url(article.url, article.fetched_url),
        title=clean_title(article.title, article.site_name, article.fetched_url),
        body=body,
        tags=clean_tags(article.tags),
        authors=clean_authors(article.authors),
        categories=clean_list(article.categories),
        published_at=clean_date(article.published_at, now=now),
        updated_at=clean_date(article.updated_at, now=now),
        language=(article.language or "").lower()[:2] or None,
        description=clean_line(article.description),
        site_name=clean_line(article.site_name),
        word_count=len(_WORD.findall(body)),
        content_hash=content_hash(body),
    )


def clean_text(text: str) -> str:
    """Unicode NFC without invisible characters, spaces collapsed; newlines are kept."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text)


def clean_line(text: str | None) -> str | None:
    """One line of clean text, or None when nothing is left."""
    if text is None:
        return None
    return " ".join(clean_text(text).split()) or None


def clean_title(title: str | None, site_name: str | None, url: str = "") -> str | None:
    """The headline without the site name that pages add before or after it.

    ``<title>`` is often "Headline | Site" or "Site - Headline". A segment at either end
    that names the site (its ``site_name`` or host) is dropped; so is a short trailing segment
    (at most four words, or a "by" line) after a headline of six words or more.
    """
    line = clean_line(html.unescape(title) if title else title)  # some escape twice
    if not line:
        return None
    parts = _TITLE_SEPARATORS.split(line)  # segment, separator, segment, ...
    segments = parts[0::2]
    site_words = _site_words(site_name, url)
    first, last = 0, len(segments) - 1
    while first < last and _names_site(segments[first], site_words):
        first += 1
    while first < last and (
        _names_site(segments[last], site_words) or _is_trailer(segments[last], segments[first:last])
    ):
        last -= 1
    return "".join(parts[2 * first : 2 * last + 1])


def _site_words(site_name: str | None, url: str) -> set[str]:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names = {(site_name or "").casefold(), host.split(".")[0] if host else ""}
    return {name for name in names if len(name) > 2}


def _names_site(segment: str, site_words: set[str]) -> bool:
    squeezed = segment.casefold().replace(" ", "")
    return any(word.replace(" ", "") in squeezed or squeezed in word for word in site_words)


def _is_trailer(segment: str, headline: list[str]) -> bool:
    words = len(segment.split())
    headline_words = sum(len(part.split()) for part in headline)
    short = words <= 4 or segment.casefold().startswith("by ")
    return short and headline_words >= 6


def clean_body(text: str) -> str:
    """Clean text with one paragraph a line in, paragraphs separated by a blank line out."""
    paragraphs = (line.strip() for line in clean_text(text).split("\n"))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def clean_list(values: list[str]) -> list[str]:
    """Split joined values, trim them and drop repeats that differ only in case, keeping order."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        for part in _LIST_SEPARATORS.split(clean_text(value)):
            part = part.strip().strip("#").strip()
            key = part.casefold()
            if part and key not in seen:
                seen.add(key)
                result.append(part)
    return result


def clean_tags(values: list[str]) -> list[str]:
    """Topic tags as ``clean_list`` gives them, without a CMS's machine tags.

    Dropped: labelled values ("Category: News", "Page Type: Article"), values without a letter
    (ids) and UUIDs: they describe the page to the CMS, not the story to readers.
    """
    return [tag for tag in clean_list(values) if not _MACHINE_TAG.search(tag)]


def clean_authors(values: list[str]) -> list[str]:
    """Person names as a list: no "By", roles, dates, e-mail addresses, handles or repeats.

    A byline is split at ";", "/", ",", and at "and"/"und"/"et"/"og"/"och"/"&"; parts that are a
    role ("Reporter"), hold a digit (a date), or have more than five words (a job title) go.
    A value that is just "Last, First" (two capitalised words, the second no role) is one
    name, turned round: "Tollefson, Jeff" is Jeff Tollefson, not two people.
    """
    names = []
    for value in values:
        text = _AUTHOR_EXTRAS.sub(" ", clean_text(value))
        inverted = _INVERTED_NAME.match(text)
        if inverted and _is_inverted(*inverted.groups()):
            text = f"{inverted.group(2)} {inverted.group(1)}"
        for part in _AUTHOR_SEPARATORS.split(text):
            for name in part.split(","):
                name = _BYLINE.sub("", name.strip()).strip(" .:-–|")
                if _is_name(name):
                    names.append(name)
    return clean_list(names)


def _is_inverted(last: str, first: str) -> bool:
    return last[0].isupper() and first[0].isupper() and first.casefold() not in _ROLES


def _is_name(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= _NAME_WORDS
        and text.casefold() not in _ROLES
        and not any(char.isdigit() for char in text)
        and ":" not in text
    )


def clean_date(value: str | None, *, now: datetime | None = None) -> str | None:
    """An ISO 8601 date or date-time kept as precise as given, or None when implausible.

    A date-time keeps its offset; one without an offset is taken as UTC. A bare date stays a
    bare date rather than inventing a time of day.
    """
    if not value:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    now = now or datetime.now(UTC)
    date_only = len(text) == 10
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year < EARLIEST_YEAR or parsed > now + FUTURE_MARGIN:
        return None
    return parsed.date().isoformat() if date_only else parsed.isoformat()


def canonical_url(declared: str | None, fetched: str) -> str:
    """The URL the article is known by: the page's own canonical URL when it can be trusted.

    A declared canonical URL (``<link rel=canonical>``, ``og:url``) is trusted only on the
    registrable domain the page was fetched from, so one site cannot claim another's URLs.
    Either way the URL is normalised: lower-case scheme and host, no default port, no
    fragment, no tracking parameters, sorted query.
    """
    chosen = fetched
    if declared and declared.startswith(("http://", "https://")):  # noqa: SIM102 - reads better
        if not courlan.is_external(declared, fetched, ignore_suffix=False):
            chosen = declared
    return normalise_url(chosen)


def normalise_url(url: str) -> str:
    """``url`` in its normal form (see ``canonical_url``); an unparseable URL is returned as is."""
    try:
        normal = courlan.normalize_url(url)
    except ValueError:
        return url
    parts = urlsplit(normal)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def content_hash(body: str) -> str:
    """A SHA-256 of the normalised body: equal bodies, equal hashes."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()

"""Make an extracted article clean and comparable: text, lists, dates, canonical URL, hash.

``normalise(article)`` is a pure function: the same article in gives the same article out,
whichever worker runs it and however often. A field that cannot be trusted (a date before
1990 or in the future) is set to None and the reason is added to the article's ``notes``.
The canonical URL rules are in ``workers.canonical``; docs/normalise.md describes them all.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from workers.canonical import UrlRules, canonical_url, normalise_url
from workers.records import Article

__all__ = ["UrlRules", "canonical_url", "normalise", "normalise_url"]

# Control characters (but newline and tab), zero-width characters and soft hyphens.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_BYLINE = re.compile(r"^(?:by|von|par|por|di|door|av|af)\s+", re.IGNORECASE)
# Between a headline and a site name: "|", "-", "–", "—", "·", "•", "»", "::" set off by spaces.
_TITLE_SEPARATORS = re.compile(r"(\s+(?:[|\-–—·•»]|::)\s+)")
# A title segment of more words than this is not a site name, even when it mentions the site.
_SITE_WORDS = 5
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
        # A newsroom's credit, not a writer: "Red." (Redaktion), "Agenturen" (news agencies).
        "red", "agenturen", "agencies",
    }
)  # fmt: skip
# The role that Korean, Japanese and Chinese bylines put after the name: "신현주 기자" (reporter),
# "특파원" (correspondent), "記者", "记者".
_TRAILING_ROLES = ("선임기자", "객원기자", "인턴기자", "기자", "특파원", "논설위원", "편집위원",
                   "記者", "特派員", "编辑", "记者")  # fmt: skip
_TRAILING_ROLE = re.compile(rf"(?<=\S)\s*(?:{'|'.join(_TRAILING_ROLES)})$")
# "Last, First" as library catalogues and Dublin Core write a name: one capitalised word a side.
_INVERTED_NAME = re.compile(r"^\s*([^\W\d_][\w'-]*),\s*([^\W\d_][\w'-]*)\s*$")
# A name has at most this many words; a longer part is a job title or a sentence.
_NAME_WORDS = 5
# A value with a CMS's label: "Page Type: Article".
_LABELLED = re.compile(r"^[\w ]{1,30}:\s")
# Machine tags that CMSs put among the keywords: "Category: News", an id, a UUID, no letter
# or digit at all. Short numbers are topics ("1&1", "9/11", "2024"); long ones are ids.
_MACHINE_TAG = re.compile(
    rf"{_LABELLED.pattern}|^[\W_]+$|^\d{{6,}}$|^[0-9a-f]{{8}}-[0-9a-f]{{4}}-", re.IGNORECASE
)
# A CMS's label that says the value is a topic of the story: "Subject: Justice".
_TOPIC_LABEL = re.compile(r"^(?:subjects?|topics?|tags?|keywords?|themen?)\s*:\s*(\S.*)$", re.I)

# Dates before this year are taken for extraction mistakes (a copyright line, a birth date).
EARLIEST_YEAR = 1990
# A publication date this far ahead of the clock is a mistake, not a time zone.
FUTURE_MARGIN = timedelta(days=1)
# Reading speed for ``reading_time``: a common figure for adults reading news on a screen.
WORDS_PER_MINUTE = 230
# Fewest words from which the language of a body is guessed when the page does not say it.
_LANGUAGE_MIN_WORDS = 20
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_].*)?$")


def normalise(
    article: Article,
    *,
    now: datetime | None = None,
    url_rules: UrlRules | None = None,
    body_format: str = "text",
) -> Article:
    """The article with clean text fields, lists, ISO 8601 dates, canonical URL and the
    derived fields: word count, reading time, content hash and (when missing) language.

    ``body_format`` is the body's form (``EXTRACT_BODY_FORMAT``): an HTML body keeps its
    markup and entities, and the derived fields are computed from its text alone.
    """
    body = clean_html_body(article.body) if body_format == "html" else clean_body(article.body)
    text = body_text(body, body_format)
    notes = list(article.notes)
    published_at, note = check_date(article.published_at, now=now)
    notes += [f"published_at: {note}"] if note else []
    updated_at, note = check_date(article.updated_at, now=now)
    notes += [f"updated_at: {note}"] if note else []
    words = len(_WORD.findall(text))
    return article.replace(
        url=canonical_url(article.url, article.fetched_url, url_rules),
        title=clean_title(article.title, article.site_name, article.fetched_url),
        body=body,
        tags=clean_tags(article.tags, page_url=article.fetched_url),
        authors=clean_authors(article.authors),
        categories=clean_list(article.categories),
        published_at=published_at,
        updated_at=updated_at,
        language=clean_language(article.language) or detect_language(text),
        description=clean_line(article.description),
        site_name=clean_line(article.site_name),
        word_count=words,
        reading_time=math.ceil(words / WORDS_PER_MINUTE),
        content_hash=content_hash(text),
        notes=list(dict.fromkeys(notes)),
    )


def clean_text(text: str) -> str:
    """Unicode NFC without entities, invisible characters, runs of spaces; newlines are kept.

    Entities are decoded until none is left, as some pages escape twice ("&amp;quot;").
    """
    for _ in range(3):
        if not _ENTITY.search(text):
            break
        text = html.unescape(text)
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
    line = clean_line(title)
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
    """Whether a title segment is the site's name: it contains the name and is short.

    A longer segment that mentions the site ("Docker Hardened Images: ..." on Docker's blog)
    is the headline; site names run to a few words, with a slogan at most.
    """
    squeezed = segment.casefold().replace(" ", "")
    if any(squeezed in word.replace(" ", "") for word in site_words):
        return True
    return len(segment.split()) <= _SITE_WORDS and any(
        word.replace(" ", "") in squeezed for word in site_words
    )


def _is_trailer(segment: str, headline: list[str]) -> bool:
    words = len(segment.split())
    headline_words = sum(len(part.split()) for part in headline)
    short = words <= 4 or segment.casefold().startswith("by ")
    return short and headline_words >= 6


def clean_html_body(markup: str) -> str:
    """An HTML body in Unicode NFC without invisible characters; markup and entities are kept
    (decoding ``&lt;`` in HTML would make markup of text)."""
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", markup)).strip()


def body_text(body: str, body_format: str = "text") -> str:
    """The words of a body in any ``EXTRACT_BODY_FORMAT``, for counting, hashing and matching:
    an HTML body's text content, one block a paragraph; text and Markdown as they are."""
    if body_format != "html" or not body.strip():
        return body
    import lxml.html  # only HTML bodies need a parser here

    fragments = lxml.html.fragments_fromstring(body)
    blocks = [f.text_content() if hasattr(f, "text_content") else str(f) for f in fragments]
    return clean_body("\n".join(blocks))


def clean_body(text: str) -> str:
    """Clean text with one paragraph a line in, paragraphs separated by a blank line out."""
    paragraphs = (line.strip() for line in clean_text(text).split("\n"))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def clean_list(values: list[str]) -> list[str]:
    """Split joined values, trim them and drop repeats, keeping order.

    Values are matched without case (and NFKC-folded: full-width, ligatures); each is shown in
    its display form, the first spelling with a capital letter if the first one seen has none
    ("nato", "NATO" give "NATO").
    """
    shown: dict[str, str] = {}
    for value in values:
        for part in _LIST_SEPARATORS.split(clean_text(value)):
            part = part.strip().strip("#").strip()
            if not part:
                continue
            key = unicodedata.normalize("NFKC", part).casefold()
            if key not in shown or (shown[key].islower() and not part.islower()):
                shown[key] = part
    return list(shown.values())


def clean_tags(values: list[str], page_url: str | None = None) -> list[str]:
    """Topic tags as ``clean_list`` gives them, without a CMS's machine tags.

    Dropped: labelled values ("Category: News", "Page Type: Article"), long numbers (ids),
    UUIDs and values of punctuation alone: they describe the page to the CMS, not the story to
    readers. A value labelled as a topic ("Subject: Justice", "Topic: Climate") is that topic.
    With the page's URL, a tag that is the site's own host name ("nationalpost.com" on
    nationalpost.com) goes too: CMSs add it to every article.
    """
    own = own_hosts(page_url) if page_url else set()
    values = clean_list(values)
    # A list that is mostly labels ("Day: Friday", "WC: 1000-1999", "Subject: Justice") is the
    # CMS's record of the page: its unlabelled values are more of the same ("Medium").
    labelled = sum(1 for tag in values if _LABELLED.match(tag)) * 2 > len(values)
    tags = []
    for tag in values:
        topic = _TOPIC_LABEL.match(tag)
        if topic:
            tags.append(topic.group(1))
        elif not labelled and not _MACHINE_TAG.search(tag) and tag.casefold() not in own:
            tags.append(tag)
    return clean_list(tags)


def own_hosts(url: str) -> set[str]:
    """The page's host name, with and without "www.", lower case."""
    host = (urlsplit(url).hostname or "").lower()
    return {host, host.removeprefix("www.")} - {""}


def clean_authors(values: list[str]) -> list[str]:
    """Person names as a list: no "By", roles, dates, e-mail addresses, handles or repeats.

    A byline is split at ";", "/", ",", and at "and"/"und"/"et"/"og"/"och"/"&"; parts that are a
    role ("Reporter"), have a word that starts with a digit (a date, "3 min"), or have more than
    five words (a job title) go; a newsroom named with digits ("BR24 Redaktion") stays. The
    role after a Korean, Japanese or Chinese name goes ("신현주 기자" is 신현주).
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
                name = _TRAILING_ROLE.sub("", name)
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
        and text not in _TRAILING_ROLES
        and not any(word[0].isdigit() for word in words)
        and ":" not in text
    )


def clean_date(value: str | None, *, now: datetime | None = None) -> str | None:
    """``value`` as ``check_date`` gives it, without the reason for a rejection."""
    return check_date(value, now=now)[0]


def check_date(value: str | None, *, now: datetime | None = None) -> tuple[str | None, str]:
    """An ISO 8601 date or date-time kept as precise as given, and "", or None and why not.

    Read: ISO 8601 (``2024-05-03``, ``2024-05-03T15:47:42.5+0200``, ``Z``, a space for the
    ``T``) and RFC 2822 as feeds and HTTP write it (``Fri, 03 May 2024 15:47:42 +0200``).
    A date-time keeps the offset the page gave (storage adds its UTC instant); one without an
    offset is taken as UTC. A bare date stays a bare date rather than invent a time of day.
    Rejected: a date before 1990, or more than a day ahead of ``now``.
    """
    if not value or not value.strip():
        return None, ""
    text = value.strip()
    parsed, date_only = _parse_date(text)
    if parsed is None:
        return None, f"rejected {text[:40]!r}: not a date"
    now = now or datetime.now(UTC)
    if parsed.year < EARLIEST_YEAR:
        return None, f"rejected {text[:40]!r}: before {EARLIEST_YEAR}"
    if parsed > now + FUTURE_MARGIN:
        return None, f"rejected {text[:40]!r}: in the future"
    return (parsed.date().isoformat() if date_only else parsed.isoformat()), ""


def _parse_date(text: str) -> tuple[datetime | None, bool]:
    """The moment ``text`` names (UTC when it has no offset), and whether it is a bare date."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        date_only = len(text) in (8, 10) and ":" not in text
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None, False
        date_only = False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed, date_only


def clean_language(value: str | None) -> str | None:
    """The primary language subtag, lower case: "de-AT" and "DE_at" give "de"."""
    match = _LANGUAGE_TAG.match((value or "").strip().lower())
    return match.group(1) if match else None


def detect_language(body: str) -> str | None:
    """The body's language guessed by py3langid, for pages that do not declare one."""
    if len(_WORD.findall(body)) < _LANGUAGE_MIN_WORDS:
        return None
    # The extraction's identifier: one model a process, loaded on first use (or by the worker
    # before it forks, ``workers.celery``).
    from workers.language import identify

    language, _probability = identify(body, chars=None)
    return language


def content_hash(body: str) -> str:
    """A SHA-256 of the normalised body: equal bodies, equal hashes."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()

"""Normalisation: pure functions over small real-world inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workers.normalise import (
    canonical_url,
    clean_authors,
    clean_body,
    clean_date,
    clean_list,
    clean_tags,
    clean_title,
    content_hash,
    normalise,
)
from workers.records import Article

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_body_keeps_paragraphs_and_drops_invisible_characters() -> None:
    raw = "  First\u00a0 para\u00adgraph\u200b here. \n\n\nSecond\tone\n  \n"
    assert clean_body(raw) == "First paragraph here.\n\nSecond one"


def test_body_is_nfc() -> None:
    decomposed = "Cafe\u0301 au lait"
    assert clean_body(decomposed) == "Caf\u00e9 au lait"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Putin, NATO, Ukraine"], ["Putin", "NATO", "Ukraine"]),
        (["Politik; Wirtschaft", "politik"], ["Politik", "Wirtschaft"]),
        (["#Klimawandel", " Klima "], ["Klimawandel", "Klima"]),
        (["ung thư ruột non", "Ung thư ruột non"], ["ung thư ruột non"]),
        ([], []),
    ],
)
def test_lists_are_split_trimmed_and_deduplicated_without_case(
    raw: list[str], expected: list[str]
) -> None:
    assert clean_list(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Birgit Baumann; Anna Giulia Fink; Jan Michael Marchart"],
         ["Birgit Baumann", "Anna Giulia Fink", "Jan Michael Marchart"]),
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Von Max Muster und Erika Muster"], ["Max Muster", "Erika Muster"]),
        (["José Ortega y Gasset"], ["José Ortega y Gasset"]),
        (["Jane Doe", "jane doe"], ["Jane Doe"]),
        (["Felix Schröder und Jörg Soldwisch, dpa"], ["Felix Schröder", "Jörg Soldwisch", "dpa"]),
        (["Elena Oberholzer (obe)"], ["Elena Oberholzer"]),
        (["Trine Jørgensen og Tôrtia Reimer"], ["Trine Jørgensen", "Tôrtia Reimer"]),
        (["Jane Doe, Reporter"], ["Jane Doe"]),
        (["Jane Doe @janedoe jane.doe@example.com"], ["Jane Doe"]),
        (["Jane Doe, 03.05.2024"], ["Jane Doe"]),
        (["(\nImage: Getty Images)", "Emma Mackenzie"], ["Emma Mackenzie"]),
        (["Professor at the Faculty of Law in Vilnius"], []),
        (["Tollefson, Jeff", "You, Xiaoying"], ["Jeff Tollefson", "Xiaoying You"]),  # Last, First
        (["Doe, Reporter", "Soldwisch, dpa"], ["Doe", "Soldwisch", "dpa"]),  # not inverted names
    ],
)  # fmt: skip
def test_authors(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Category: Economy", "Bank of Montreal", "98be933f-38cf-4fba-b6c6-ad438e82010a"],
         ["Bank of Montreal"]),
        (["Donald Trump", "100312362", "KI"], ["Donald Trump", "KI"]),
        (["Page Type: Article, Justice"], ["Justice"]),
    ],
)  # fmt: skip
def test_tags_lose_machine_tags(raw: list[str], expected: list[str]) -> None:
    assert clean_tags(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-03T15:47:42+02:00", "2024-05-03T15:47:42+02:00"),
        ("2024-05-03T15:47:42Z", "2024-05-03T15:47:42+00:00"),
        ("2024-05-03T15:47:42", "2024-05-03T15:47:42+00:00"),
        ("2024-05-03", "2024-05-03"),
        ("1970-01-01", None),  # before 1990: a mistake, not a news date
        ("2031-01-01T00:00:00+00:00", None),  # in the future
        ("yesterday", None),
        (None, None),
    ],
)
def test_dates(raw: str | None, expected: str | None) -> None:
    assert clean_date(raw, now=NOW) == expected


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Storm hits the coast | The Daily Planet", "The Daily Planet", "https://dailyplanet.com/a",
         "Storm hits the coast"),
        ("BBC News - Storm hits the coast of England", "BBC News", "https://www.bbc.co.uk/a",
         "Storm hits the coast of England"),
        ("Anti-terror op turns sinister as army raises spectre - Times of India", None,
         "https://timesofindia.indiatimes.com/a",
         "Anti-terror op turns sinister as army raises spectre"),
        ("Biden | Trump debate: what we learned tonight", None, "https://example.com/a",
         "Biden | Trump debate: what we learned tonight"),
        ("Short - Title", None, "https://example.com/a", "Short - Title"),
        ("  The  headline\n", None, "", "The headline"),
        (None, "Site", "", None),
        ("Coach: &quot;Not much to lose&quot;", None, "", 'Coach: "Not much to lose"'),
    ],
)  # fmt: skip
def test_titles_lose_the_site_name(
    title: str | None, site: str | None, url: str, expected: str | None
) -> None:
    assert clean_title(title, site, url) == expected


@pytest.mark.parametrize(
    ("declared", "fetched", "expected"),
    [
        # Trusted on the same site; tracking parameters, fragment and default port go.
        ("https://www.example.com/a?utm_source=rss&b=2&a=1", "https://example.com/a",
         "https://www.example.com/a?a=1&b=2"),
        ("HTTPS://Example.COM:443/story#comments", "https://example.com/story",
         "https://example.com/story"),
        # Another site cannot claim the page.
        ("https://other.org/story", "https://example.com/story?id=7&ref=rss",
         "https://example.com/story?id=7"),
        (None, "http://example.com", "http://example.com/"),
    ],
)  # fmt: skip
def test_canonical_url(declared: str | None, fetched: str, expected: str) -> None:
    assert canonical_url(declared, fetched) == expected


def test_normalise_derives_word_count_and_hash_and_is_idempotent() -> None:
    article = Article(
        url="https://example.com/a?utm_medium=x",
        fetched_url="https://example.com/a",
        title="Title | Example",
        body="One two three.\nFour five.",
        tags=["a, b", "A"],
        authors=["By Jane Doe"],
        published_at="2024-05-03T10:00:00+02:00",
        language="DE-at",
        site_name="Example",
    )
    once = normalise(article, now=NOW)
    assert once.url == "https://example.com/a"
    assert once.title == "Title"
    assert once.body == "One two three.\n\nFour five."
    assert once.word_count == 5
    assert once.content_hash == content_hash("One two three.\n\nFour five.")
    assert once.tags == ["a", "b"]
    assert once.authors == ["Jane Doe"]
    assert once.language == "de"
    assert normalise(once, now=NOW) == once

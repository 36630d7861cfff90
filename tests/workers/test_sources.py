"""Sources files: parsing, validation, schedules and per-source options."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab, schedule

from workers.errors import ConfigurationError
from workers.records import Source
from workers.sources import crawl_overrides, crawl_schedule, load_sources_file

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "sources.example.toml"


def test_the_documented_example_loads() -> None:
    sources = load_sources_file(EXAMPLE)
    assert [s.name for s in sources] == [
        "example-news",
        "example-magazine",
        "example-times",
        "example-wire",
        "paused",
    ]
    news, magazine, times, wire, paused = sources
    assert magazine.sites == ["https://magazine.example.com/"]
    assert times.sitemaps == ["https://www.example-times.com/sitemaps/news.xml"]
    assert times.cron == "5,35 * * * *"
    assert magazine.options == {"refetch_interval": 3600}
    assert news.feeds == [
        "https://www.example.com/rss.xml",
        "https://www.example.com/world/atom.xml",
    ]
    assert news.every == "15m" and news.options == {"max_pages": 200, "download_delay": 1.0}
    assert wire.urls == ["https://wire.example.org/special/elections"]
    assert wire.cron == "0 */2 * * *"
    assert paused.enabled is False


@pytest.mark.parametrize(
    ("every", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1.5m", 90)]
)
def test_intervals(every: str, seconds: int) -> None:
    found = crawl_schedule(Source(name="s", feeds=["https://a.example/f"], every=every))
    assert isinstance(found, schedule)
    assert found.run_every == timedelta(seconds=seconds)


def test_cron_and_no_schedule() -> None:
    found = crawl_schedule(Source(name="s", cron="*/5 6-22 * * 1-5"))
    assert isinstance(found, crontab)
    assert found.minute == set(range(0, 60, 5))
    assert found.hour == set(range(6, 23))
    assert found.day_of_week == {1, 2, 3, 4, 5}
    assert crawl_schedule(Source(name="s")) is None


def test_options_become_crawl_settings() -> None:
    source = Source(
        name="s", options={"max_pages": 5, "download_delay": 0.5, "allow_private": ["h"]}
    )
    assert crawl_overrides(source) == {
        "CRAWL_MAX_PAGES": 5, "DOWNLOAD_DELAY": 0.5, "ALLOW_PRIVATE": ["h"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'", "no [[source]] tables"),
        ("[[source]]\nname = 'a b'\nfeeds = ['https://a.example/f']", "'name' must be"),
        ("[[source]]\nname = 'a'", "give 'feeds', 'sitemaps', 'sites' or 'urls'"),
        ("[[source]]\nname = 'a'\nfeeds = ['ftp://a.example/f']", "not an http(s) URL"),
        ("[[source]]\nname = 'a'\nfeeds = ['https://a.example/f']\nevery = '5 minutes'",
         "bad schedule"),
        ("[[source]]\nname = 'a'\nfeeds = ['https://a.example/f']\ncron = '* * *'", "five fields"),
        ("[[source]]\nname = 'a'\nurls = ['https://a.example/f']\nevery = '1m'\ncron = '* * * * *'",
         "not both"),
        ("[[source]]\nname = 'a'\nfeeds = ['https://a.example/f']\nmax_pages = 'ten'",
         "'max_pages' must be int"),
        ("[[source]]\nname = 'a'\nfeeds = ['https://a.example/f']\nenabled = 'false'",
         "'enabled' must be true or false"),
        ("[[source]]\nname = 'a'\nfeeds = ['https://a.example/f']\nallow_private = [1]",
         "'allow_private' must be a list of strings"),
        ("[[source]]\nname = 'a'\nfeeds = ['https://a.example/f']\nsitemap = 'x'", "unknown keys"),
        ("[[source]]\nname = 'a'\nfeeds = ['https://a.example/f']\n"
         "[[source]]\nname = 'a'\nurls = ['https://a.example/p']", "used twice: a"),
        ("[[source]\nname = ", "not valid TOML"),
    ],
)  # fmt: skip
def test_mistakes_are_reported_with_where_they_are(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as raised:
        load_sources_file(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)

"""Sources files: the sites and feeds to crawl on a schedule, with their own options.

A sources file is TOML, one ``[[source]]`` table a source (see ``docs/sources.example.toml``)::

    [[source]]
    name = "example-news"
    feeds = ["https://example.com/rss.xml"]
    sitemaps = ["https://example.com/news-sitemap.xml"]
    sites = ["https://example.com/"]             # discover feeds, sitemaps, sections
    urls = ["https://example.com/special-report"]
    every = "15m"                 # or: cron = "*/15 * * * *"
    max_pages = 200
    download_delay = 1.0

Every mistake in a file is reported with the source and key it concerns, before anything is
stored.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery.schedules import crontab, schedule

from workers.errors import ConfigurationError
from workers.records import Source

# Per-source options: the name in the sources file, the setting it overrides, its type.
OPTIONS: dict[str, tuple[str, type]] = {
    "max_pages": ("CRAWL_MAX_PAGES", int),
    "download_delay": ("DOWNLOAD_DELAY", float),
    "download_timeout": ("DOWNLOAD_TIMEOUT", int),
    "concurrent_requests_per_domain": ("CONCURRENT_REQUESTS_PER_DOMAIN", int),
    "user_agent": ("USER_AGENT", str),
    "allow_private": ("ALLOW_PRIVATE", list),
    "refetch_interval": ("CRAWL_REFETCH_INTERVAL", int),
}
_KEYS = {"name", "feeds", "sitemaps", "sites", "urls", "every", "cron", "enabled", *OPTIONS}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def load_sources_file(path: Path) -> list[Source]:
    """The sources a TOML file lists; ConfigurationError names the first mistake."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML: {error}") from error
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise ConfigurationError(f"{path}: not UTF-8 text (line {line})") from error
    entries = document.get("source")
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{path}: no [[source]] tables")
    sources = [parse_source(entry, f"{path}: source {number}") for number, entry in
               enumerate(entries, 1)]  # fmt: skip
    names = [source.name for source in sources]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"{path}: source names used twice: {', '.join(duplicates)}")
    return sources


def parse_source(entry: dict[str, Any], where: str) -> Source:
    """One validated source from a table of a sources file."""
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ConfigurationError(f"{where}: {_unknown_keys(unknown)}")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(f"{where}: 'name' must be letters, digits, '.', '_' or '-'")
    where = f"{where} ({name})"
    lists = {key: _url_list(entry, key, where) for key in ("feeds", "sitemaps", "sites", "urls")}
    if not any(lists.values()):
        raise ConfigurationError(f"{where}: give 'feeds', 'sitemaps', 'sites' or 'urls'")
    if "every" in entry and "cron" in entry:
        raise ConfigurationError(f"{where}: give 'every' or 'cron', not both")
    if not isinstance(entry.get("enabled", True), bool):
        raise ConfigurationError(f"{where}: 'enabled' must be true or false, without quotes")
    source = Source(
        name=name,
        **lists,
        every=entry.get("every"),
        cron=entry.get("cron"),
        enabled=entry.get("enabled", True),
        options=_options(entry, where),
    )
    try:
        crawl_schedule(source)
    except (ValueError, TypeError) as error:
        raise ConfigurationError(f"{where}: bad schedule: {error}") from error
    return source


def crawl_schedule(source: Source) -> schedule | crontab | None:
    """The Celery schedule of a source, or None when it has none."""
    if source.every:
        match = _INTERVAL.match(str(source.every))
        if not match:
            raise ValueError(f"'every' must look like 90s, 15m, 2h or 1d, not {source.every!r}")
        seconds = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))}).total_seconds()
        if seconds < 1:
            raise ValueError("'every' must be at least one second")
        return schedule(run_every=timedelta(seconds=seconds))
    if source.cron:
        fields = str(source.cron).split()
        if len(fields) != 5:
            raise ValueError(f"'cron' needs five fields, not {source.cron!r}")
        minute, hour, day_of_month, month_of_year, day_of_week = fields
        return crontab(minute, hour, day_of_week, day_of_month, month_of_year)
    return None


def crawl_overrides(source: Source) -> dict[str, Any]:
    """The crawl settings a source's options override."""
    return {OPTIONS[key][0]: value for key, value in source.options.items() if key in OPTIONS}


def _unknown_keys(unknown: list[str]) -> str:
    """What is wrong with the unknown keys: each one, with the known key it may mean."""
    guesses = {key: difflib.get_close_matches(key, _KEYS, n=1) for key in unknown}
    named = ", ".join(
        f"{key!r} (did you mean {guesses[key][0]!r}?)" if guesses[key] else repr(key)
        for key in unknown
    )
    if all(guesses.values()):
        return f"unknown keys: {named}"
    return f"unknown keys: {named}; known keys: {', '.join(sorted(_KEYS))}"


def _url_list(entry: dict[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
        raise ConfigurationError(f"{where}: '{key}' must be a list of URLs")
    for url in value:
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"{where}: '{key}' has {url!r}, not an http(s) URL")
    return list(value)


def _options(entry: dict[str, Any], where: str) -> dict[str, Any]:
    options = {}
    for key, (_, kind) in OPTIONS.items():
        if key in entry:
            value = entry[key]
            if kind is float and isinstance(value, int):
                value = float(value)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ConfigurationError(f"{where}: '{key}' must be {kind.__name__}")
            if isinstance(value, list) and not all(isinstance(item, str) for item in value):
                raise ConfigurationError(f"{where}: '{key}' must be a list of strings")
            options[key] = value
    return options

"""settings.py: defaults, environment overrides, and the README's table and docs/configuration.md
kept true."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))
from settings_reference import (  # noqa: E402
    configuration_page,
    markdown_table,
    read_settings,
    settings_rows,
)


def settings_in_child(**env: str) -> dict:
    """Some settings as a fresh process sees them with ``env`` added to its environment."""
    code = (
        "import json, settings; print(json.dumps({k: getattr(settings, k) for k in "
        "['DOWNLOAD_TIMEOUT', 'ROBOTSTXT_OBEY', 'ALLOW_PRIVATE', 'DATABASE_URL', "
        "'AUTOTHROTTLE_START_DELAY']}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout)


def test_defaults_are_safe() -> None:
    assert settings.DATABASE_URL == "sqlite:///newsdesk.db"
    assert settings.BROKER_URL == ""
    assert settings.ALLOW_PRIVATE == []
    assert settings.ROBOTSTXT_OBEY is True
    assert settings.AUTOTHROTTLE_ENABLED is True
    assert 0 < settings.DOWNLOAD_TIMEOUT <= 60
    assert 0 < settings.DOWNLOAD_MAXSIZE <= 64 * 1024 * 1024


def test_environment_overrides_parse_by_type() -> None:
    seen = settings_in_child(
        NEWSDESK_DOWNLOAD_TIMEOUT="5",
        NEWSDESK_ROBOTSTXT_OBEY="false",
        NEWSDESK_ALLOW_PRIVATE="127.0.0.1:8000, intranet",
        NEWSDESK_DATABASE_URL="postgresql://db/news",
        NEWSDESK_AUTOTHROTTLE_START_DELAY="0.5",
    )
    assert seen == {
        "DOWNLOAD_TIMEOUT": 5,
        "ROBOTSTXT_OBEY": False,
        "ALLOW_PRIVATE": ["127.0.0.1:8000", "intranet"],
        "DATABASE_URL": "postgresql://db/news",
        "AUTOTHROTTLE_START_DELAY": 0.5,
    }


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [("yes", False, True), ("0", True, False), ("12", 1, 12), ("a,,b", [], ["a", "b"]),
     ('{"x": 1}', {}, {"x": 1}), ("text", "", "text")],
)  # fmt: skip
def test_parse_value(raw: str, default: object, expected: object) -> None:
    assert settings.parse_value(raw, default) == expected


@pytest.mark.parametrize(("raw", "default"), [("maybe", True), ("ten", 1), ("[1]", {})])
def test_parse_value_refuses_what_does_not_fit(raw: str, default: object) -> None:
    with pytest.raises(ValueError):
        settings.parse_value(raw, default)


def test_every_overridable_setting_is_documented() -> None:
    documented = {name for name, _, _ in settings_rows()}
    tree = ast.parse((ROOT / "settings.py").read_text())
    overridable = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "_env"
        and isinstance(node.args[0], ast.Constant)
    }
    assert overridable == documented


def test_readme_settings_table_matches_settings_py() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- settings table: python docs/settings_reference.py -->\n")
    table = readme[start:].split("\n", 1)[1]
    assert table.startswith(markdown_table())


def test_configuration_page_matches_settings_py() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == configuration_page(), "run `make docs` to rewrite docs/configuration.md"


SETTINGS_WITH_A_NEW_SECTION = """
# --- Storage ---------------------------------------------------------

# Where articles are stored.
DATABASE_URL = _env("DATABASE_URL", "sqlite:///newsdesk.db")

# --- Metrics (``/metrics``) -------------------------------------------

# The port metrics are served on; see DATABASE_URL for where
# articles go.
METRICS_PORT = _env("METRICS_PORT", 9100)

# Largest label set, in bytes.
METRICS_MAX_BYTES = _env("METRICS_MAX_BYTES", 64 * 1024)

# Labels added to every series.
METRICS_LABELS: list[str] = _env("METRICS_LABELS", [])

# Wiring, not meant to be changed.
METRICS_REGISTRY = "default"
UNDOCUMENTED = 1
"""


def test_configuration_page_groups_settings_by_any_section() -> None:
    found = read_settings(SETTINGS_WITH_A_NEW_SECTION)
    assert [(s.name, s.section, s.kind) for s in found] == [
        ("DATABASE_URL", "Storage", "string"),
        ("METRICS_PORT", "Metrics (`/metrics`)", "integer"),
        ("METRICS_MAX_BYTES", "Metrics (`/metrics`)", "integer"),
        ("METRICS_LABELS", "Metrics (`/metrics`)", "list of strings"),
    ]
    page = configuration_page(found)
    assert page.count("\n## ") == 3  # Sections, Storage, Metrics
    assert "- [Metrics (`/metrics`)](#metrics-metrics) (3)" in page
    assert "`NEWSDESK_METRICS_MAX_BYTES` · integer · default `64 * 1024` (65,536)" in page
    assert "see [DATABASE_URL](#database_url) for where articles go." in page
    assert "METRICS_REGISTRY" not in page and "UNDOCUMENTED" not in page
    assert page.index("## Storage") < page.index("### `DATABASE_URL`") < page.index("## Metrics")


def test_only_settings_py_reads_the_environment() -> None:
    for package in ("spiders", "workers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            assert "os.environ" not in text and "getenv" not in text, path


def test_scrapy_reads_the_same_settings_through_scrapy_cfg() -> None:
    scrapy = Path(sys.executable).with_name("scrapy")
    env = {**os.environ, "NEWSDESK_USER_AGENT": "probe/1.0"}
    listed = subprocess.run([scrapy, "list"], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert listed.stdout.split() == ["feed", "site", "sitemap", "urls"]
    agent = subprocess.run([scrapy, "settings", "--get", "USER_AGENT"], cwd=ROOT, env=env,
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert agent.stdout.strip() == "probe/1.0"

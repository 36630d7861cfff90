"""``newsdesk export``: JSON lines, CSV and Parquet of the same rows, selected by time, source
and story, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spiders.sample_site import SampleSite
from storage.queries import EXPORTED
from storage.sql import Database
from tests import services
from tests.cli import NEWSDESK, crawl_summary, host_port, newsdesk
from tests.conftest import NEWS_SITE
from workers import exports
from workers.records import Article

SYNDICATED = "https://syndicated.example/a-copy"


@dataclass(frozen=True)
class Stored:
    """A database after two crawls, with what was stored before and after ``marker``."""

    url: str
    folder: Path
    marker: datetime  # between the two crawls
    alpha: set[str]  # the first crawl's articles (source "alpha")
    beta: set[str]  # the second crawl's (source "beta"), after the marker
    updated: str  # an alpha article changed after the marker


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def stored(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stored]:
    """Two crawls of the sample site (sources alpha, then beta), then a syndicated copy of an
    alpha article and a change to another: the last three after ``marker``."""
    folder = tmp_path_factory.mktemp("export")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'news.db'}"
    else:
        url = services.fresh_postgres_database(services.postgres_url())
    with SampleSite(NEWS_SITE) as site:
        lines = site.urls_file_lines()
        (folder / "alpha.txt").write_text("\n".join(lines[:4]))
        (folder / "beta.txt").write_text("\n".join(lines[4:7]))
        common = ["--database", url, "--allow-private", host_port(site.base_url)]
        crawl_summary("--urls", str(folder / "alpha.txt"), "--source", "alpha", *common,
                      cwd=folder)  # fmt: skip
        marker = datetime.now(UTC)
        crawl_summary("--urls", str(folder / "beta.txt"), "--source", "beta", *common,
                      cwd=folder)  # fmt: skip
    with Database.open(url) as database:
        articles = list(database.articles())
        alpha = [article for article in articles if article.source == "alpha"]
        copy = alpha[0].replace(url=SYNDICATED, fetched_url=SYNDICATED, source="syndicated")
        assert database.store(copy) == "new"
        change = alpha[1].replace(body=alpha[1].body + "\n\nCorrection: a date was wrong.",
                                  content_hash="0" * 64)  # fmt: skip
        assert database.store(change) == "updated"
    yield Stored(
        url, folder, marker,
        alpha={a.url for a in articles if a.source == "alpha"},
        beta={a.url for a in articles if a.source == "beta"},
        updated=alpha[1].url,
    )  # fmt: skip
    if request.param == "postgresql":
        services.drop_postgres_database(url)


def export(stored: Stored, *args: str) -> list[dict]:
    """The rows of ``newsdesk export ARGS`` as JSON lines on stdout."""
    done = newsdesk("export", "--database", stored.url, *args, cwd=stored.folder)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_columns_are_the_article_fields_then_the_storage_times() -> None:
    assert EXPORTED[:-4] == [field.name for field in fields(Article)]
    assert EXPORTED[-4:] == ["published_at_utc", "updated_at_utc", "first_stored_at",
                             "last_stored_at"]  # fmt: skip


def test_jsonl_csv_and_parquet_hold_the_same_rows(stored: Stored) -> None:
    rows = export(stored)
    assert len(rows) == len(stored.alpha) + len(stored.beta) + 1 >= 7
    assert [list(row) for row in rows] == [EXPORTED] * len(rows)
    assert {row["url"] for row in rows} == stored.alpha | stored.beta | {SYNDICATED}
    for row in rows:
        assert datetime.fromisoformat(row["last_stored_at"]).utcoffset() == timedelta(0)
        assert row["first_stored_at"] <= row["last_stored_at"]
        assert isinstance(row["tags"], list) and row["body"]

    written = {}
    for fmt in ("csv", "parquet"):
        out = stored.folder / f"articles.{fmt}"
        done = newsdesk("export", "--database", stored.url, "--format", fmt, "-o", str(out),
                        "--json", cwd=stored.folder)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["rows"] == len(rows)
        written[fmt] = out
    assert not list(stored.folder.glob(".*.partial"))

    with written["csv"].open(newline="", encoding="utf-8") as table:
        reader = csv.DictReader(table)
        assert reader.fieldnames == EXPORTED
        lines = list(reader)
    assert [line["url"] for line in lines] == [row["url"] for row in rows]
    assert [json.loads(line["authors"]) for line in lines] == [row["authors"] for row in rows]
    assert [line["last_stored_at"] for line in lines] == [row["last_stored_at"] for row in rows]

    table = pq.read_table(written["parquet"])
    schema = table.schema
    assert schema.names == EXPORTED
    utc = pa.timestamp("us", tz="UTC")
    for name in ("fetched_at", "published_at_utc", "updated_at_utc", "first_stored_at",
                 "last_stored_at"):  # fmt: skip
        assert schema.field(name).type == utc, name
    for name in ("tags", "authors", "categories", "notes"):
        assert schema.field(name).type == pa.list_(pa.string()), name
    assert schema.field("word_count").type == pa.int32()
    assert schema.field("paywalled").type == pa.bool_()
    assert schema.field("published_at").type == pa.string()  # as the page gave it
    parquet = table.to_pylist()
    assert [p["url"] for p in parquet] == [row["url"] for row in rows]
    for p, row in zip(parquet, rows, strict=True):
        assert p["tags"] == row["tags"] and p["body"] == row["body"]
        assert p["last_stored_at"] == datetime.fromisoformat(row["last_stored_at"])
        assert p["fetched_at"] == datetime.fromisoformat(row["fetched_at"])
        if row["published_at_utc"]:
            assert p["published_at_utc"] == datetime.fromisoformat(row["published_at_utc"])


def test_parquet_goes_to_a_pipe_too(stored: Stored) -> None:
    done = subprocess.run(
        [NEWSDESK, "export", "--format", "parquet", "--source", "beta", "--database", stored.url],
        cwd=stored.folder, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pq.read_table(pa.BufferReader(done.stdout))
    assert set(table.column("url").to_pylist()) == stored.beta


def test_since_selects_what_was_stored_new_or_changed(stored: Stored) -> None:
    since = export(stored, "--since", stored.marker.isoformat())
    assert {row["url"] for row in since} == stored.beta | {SYNDICATED, stored.updated}
    assert all(datetime.fromisoformat(row["last_stored_at"]) >= stored.marker for row in since)
    # The same instant written with another offset, or without one (UTC), selects the same.
    plus_two = stored.marker.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert export(stored, "--since", plus_two) == since
    naive = stored.marker.replace(tzinfo=None).isoformat()
    assert export(stored, "--since", naive) == since
    assert len(export(stored, "--since", "2000-01-01")) == len(export(stored))
    assert export(stored, "--since", "2999-01-01") == []


def test_source_and_unique_select(stored: Stored) -> None:
    assert {row["url"] for row in export(stored, "--source", "alpha")} == stored.alpha
    beta_since = export(stored, "--source", "beta", "--since", stored.marker.isoformat())
    assert {row["url"] for row in beta_since} == stored.beta
    unique = export(stored, "--unique")
    assert {row["url"] for row in unique} == stored.alpha | stored.beta  # not the copy
    assert all(row["duplicate_of"] is None for row in unique)
    copy = next(row for row in export(stored, "--source", "syndicated"))
    assert copy["duplicate_of"] in stored.alpha

    done = newsdesk("export", "--source", "nobody", "--database", stored.url, cwd=stored.folder)
    assert done.returncode == 0 and done.stdout == ""
    assert "no article stored has the source 'nobody'" in done.stderr


def test_revisions_in_parquet(stored: Stored) -> None:
    out = stored.folder / "revisions.parquet"
    done = newsdesk("export", "--revisions", "--format", "parquet", "-o", str(out),
                    "--database", stored.url, cwd=stored.folder)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"rows to {out} (parquet)" in done.stderr
    table = pq.read_table(out)
    assert table.schema.field("revision").type == pa.int32()
    assert table.schema.field("stored_at").type == pa.timestamp("us", tz="UTC")
    revisions = [r for r in table.to_pylist() if r["url"] == stored.updated]
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[1]["body"].endswith("Correction: a date was wrong.")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--revisions", "--since", "2026-01-01"], "give it no --unique, --since or --source"),
        (["--since", "last tuesday"], "is not an ISO 8601 date or time"),
        (["--json"], "--json prints a summary of the export: give -o FILE"),
        (["-o", "no-such-folder/x.jsonl"], "cannot write no-such-folder/x.jsonl: no folder"),
    ],
)
def test_export_mistakes_end_in_one_line(
    args: list[str], message: str, stored: Stored, tmp_path: Path
) -> None:
    done = newsdesk("export", "--database", stored.url, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("newsdesk: error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path) -> None:
    # A process where pyarrow cannot be imported, as where the extra is not installed.
    program = (
        "import sys; sys.modules['pyarrow'] = None; from workers.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    out = tmp_path / "articles.parquet"
    done = subprocess.run(
        [sys.executable, "-c", program, "export", "--format", "parquet", "-o", str(out),
         "--database", f"sqlite:///{tmp_path / 'news.db'}"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "newsdesk: error: --format parquet needs pyarrow: pip install 'newsdesk[parquet]'\n"
    )
    assert not out.exists()


def test_jsonl_is_written_as_rows_come() -> None:
    out = io.StringIO()

    def rows() -> Iterator[dict]:
        for number in range(5):
            # Every row before this one is already written: nothing waits for the end.
            assert out.getvalue().count("\n") == number
            yield {"url": f"https://example.com/{number}", "tags": ["a"]}

    assert exports.write_jsonl(rows(), ["url", "tags"], out) == 5


def test_parquet_is_written_a_row_group_at_a_time(tmp_path: Path) -> None:
    size = exports.PARQUET_BATCH_ROWS
    moment = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
    rows = ({"url": f"https://example.com/{n}", "tags": [str(n)], "last_stored_at": moment,
             "fetched_at": "2026-05-01T08:00:00+02:00"} for n in range(2 * size + 1))  # fmt: skip
    out = tmp_path / "rows.parquet"
    with out.open("wb") as file:
        count = exports.write_parquet(rows, ["url", "tags", "last_stored_at", "fetched_at"], file)
    assert count == 2 * size + 1
    parquet = pq.ParquetFile(out)
    assert parquet.metadata.num_row_groups == 3
    last = parquet.read().to_pylist()[-1]
    assert last == {"url": f"https://example.com/{2 * size}", "tags": [str(2 * size)],
                    "last_stored_at": moment, "fetched_at": moment}  # fmt: skip

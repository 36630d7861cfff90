"""Exports of stored articles: JSON lines, CSV, or Parquet (the ``parquet`` extra), streamed.

Rows go from the database to the output as they come (``storage.queries.Queries.export``):
JSON lines and CSV a row at a time, Parquet a row group of ``PARQUET_BATCH_ROWS`` at a time,
so an export of any size needs little memory. An export to a file is written next to it and
renamed at the end: a reader never sees half a file.

Every format has the same columns. In JSON lines and CSV times are ISO 8601 strings in UTC
and CSV holds lists as JSON; Parquet types them: ``timestamp[us, tz=UTC]`` for times (but
``published_at`` and ``updated_at``, kept as the page gave them, a bare date or a time with
its own offset: their instants are ``published_at_utc`` and ``updated_at_utc``),
``list<string>`` for tags, authors, categories and notes.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from workers.errors import ConfigurationError

FORMATS = ("jsonl", "csv", "parquet")

# Rows in one Parquet row group: a few MB of article text, held in memory while written.
PARQUET_BATCH_ROWS = 2000

_LISTS = {"tags", "authors", "categories", "notes"}
_TIMES = {"fetched_at", "published_at_utc", "updated_at_utc", "first_stored_at",
          "last_stored_at", "stored_at"}  # fmt: skip
_INTEGERS = {"word_count", "reading_time", "revision"}
_BOOLEANS = {"paywalled"}


def require_parquet() -> None:
    """ConfigurationError unless pyarrow, which writes Parquet, is installed."""
    try:
        import pyarrow.parquet  # noqa: F401 - imported to see that it is there
    except ImportError as error:
        raise ConfigurationError(
            "--format parquet needs pyarrow: pip install 'newsdesk[parquet]'"
        ) from error


def write(rows: Iterable[dict[str, Any]], columns: list[str], fmt: str, output: str | None) -> int:
    """Write ``rows`` as ``fmt`` to the file ``output`` (stdout when None); return how many."""
    if fmt not in FORMATS:
        raise ConfigurationError(f"no export format {fmt!r}; formats are: {', '.join(FORMATS)}")
    if fmt == "parquet":
        require_parquet()
        if output is None and sys.stdout.isatty():
            raise ConfigurationError("Parquet is binary: give -o FILE, or redirect stdout")
        with _opened(output, binary=True) as out:
            return write_parquet(rows, columns, out)
    with _opened(output, binary=False) as text:
        return (write_jsonl if fmt == "jsonl" else write_csv)(rows, columns, text)


def write_jsonl(rows: Iterable[dict[str, Any]], columns: list[str], out: IO[str]) -> int:
    """One JSON object a row, its keys ``columns``."""
    count = 0
    for row in rows:
        line = {name: _text_value(row.get(name)) for name in columns}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], columns: list[str], out: IO[str]) -> int:
    """A header of ``columns``, then one line a row; lists as JSON."""
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({name: _csv_value(row.get(name)) for name in columns})
        count += 1
    return count


def write_parquet(rows: Iterable[dict[str, Any]], columns: list[str], out: IO[bytes]) -> int:
    """Typed columns, one row group every ``PARQUET_BATCH_ROWS`` rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, _arrow_type(pa, name)) for name in columns])
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in _batches(rows, PARQUET_BATCH_ROWS):
            typed = [{name: _typed_value(name, row.get(name)) for name in columns}
                     for row in batch]  # fmt: skip
            writer.write_batch(pa.RecordBatch.from_pylist(typed, schema=schema))
            count += len(batch)
    return count


def _arrow_type(pa: Any, name: str) -> Any:
    if name in _LISTS:
        return pa.list_(pa.string())
    if name in _TIMES:
        return pa.timestamp("us", tz="UTC")
    if name in _INTEGERS:
        return pa.int32()
    if name in _BOOLEANS:
        return pa.bool_()
    return pa.string()


def _typed_value(name: str, value: Any) -> Any:
    if name in _TIMES:
        return _instant(value)
    return value


def _instant(value: Any) -> datetime | None:
    """The UTC instant of a datetime (naive ones, as SQLite gives them, are UTC) or ISO text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _text_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _instant(value).isoformat()  # type: ignore[union-attr]
    return value


def _csv_value(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return _text_value(value)


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def _opened(output: str | None, *, binary: bool) -> Iterator[Any]:
    """stdout, or a file next to ``output`` that becomes ``output`` once written whole."""
    if output is None:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise ConfigurationError(f"cannot write {output}: no folder {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with _open_file(partial, binary=binary) as out:
            yield out
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _open_file(path: Path, *, binary: bool) -> IO[Any]:
    if binary:
        return path.open("wb")
    return path.open("w", encoding="utf-8", newline="")

"""Extract articles from saved pages on disk, one file or a manifest of many; nothing stored.

A manifest is JSON lines ``{"path": …, "url": …, …}``; each line gives one output line with
the article's fields, every other input key echoed back, and ``"skipped"`` (with ``"detail"``)
or ``"error"`` where there is no article. Paths are relative to the manifest's folder.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import settings
from workers.records import Article, FetchedPage

if TYPE_CHECKING:  # trafilatura under it takes ~1 s to import: paid only by `extract`
    from workers.tasks import PageWork

_ARTICLE_FIELDS = set(Article.__dataclass_fields__)


def read_saved_page(path: Path) -> bytes:
    """The bytes of a saved page, gunzipped when it is gzip (by its magic, not its name)."""
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def extract_file(path: Path, url: str = "", work: PageWork | None = None) -> dict[str, Any]:
    """The article fields of one saved page, or ``{"skipped": reason, "detail": …}``."""
    from workers.tasks import PageWork, article_from_page

    work = work or PageWork.from_settings(settings)
    url = url or path.resolve().as_uri()
    page = FetchedPage(
        url=url,
        final_url=url,
        status=200,
        headers={},
        body=read_saved_page(path),
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source="file",
    )
    result = article_from_page(page, work)
    if isinstance(result, Article):
        return result.to_dict()
    return {"skipped": str(result.reason), "detail": result.detail}


def _manifest_line(entry: dict[str, Any], folder: str, work: PageWork) -> dict[str, Any]:
    echoed = {key: value for key, value in entry.items() if key not in _ARTICLE_FIELDS}
    try:
        path = Path(folder, entry["path"])
        found = extract_file(path, entry.get("url") or "", work)
    except KeyError:
        return {**echoed, "error": 'the line has no "path"'}
    except OSError as error:
        return {**echoed, "error": f"{type(error).__name__}: {error.strerror or error}"}
    return {**found, **echoed}


def extract_manifest(manifest: Path, processes: int = 1) -> Iterator[dict[str, Any]]:
    """One output line per manifest line, in the manifest's order."""
    from workers.tasks import PageWork

    work = PageWork.from_settings(settings)
    folder = str(manifest.resolve().parent)
    entries = []
    with manifest.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError as error:
                    entries.append({"error": f"line {number} is not JSON: {error.msg}"})
    processes = processes or os.cpu_count() or 1
    if processes == 1:
        for entry in entries:
            yield entry if "error" in entry else _manifest_line(entry, folder, work)
        return
    with ProcessPoolExecutor(max_workers=processes) as pool:
        futures = [
            None if "error" in entry else pool.submit(_manifest_line, entry, folder, work)
            for entry in entries
        ]
        for entry, future in zip(entries, futures, strict=True):
            yield entry if future is None else future.result()

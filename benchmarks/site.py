"""The benchmarks' local news site: the corpus pages, repeated under distinct URLs, in a process.

``CorpusSite(folder, pages)`` serves ``spiders.sample_site`` over a ``cases.jsonl`` folder
(``../shared/corpus/news-fixtures`` by default) with enough copies to reach ``pages`` article
URLs, in a child process of its own, so that serving costs the measured pipelines no CPU time
of theirs and no lock of the benchmark's process. Copy k of a page is served under ``/c{k}``
(``SampleSite.page_path``); ``urls`` lists the first ``pages`` of them, copy by copy.

``body_f1`` scores what a pipeline made of the pages: word F1 (``benchmarks.metrics``) of each
distinct corpus page's body against the expected one, the mean over the pages asked for.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from statistics import fmean
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from benchmarks.metrics import word_f1
from spiders.sample_site import SampleCase, load_cases
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "news-fixtures"
_READY = re.compile(rb"(\d+) pages at (http://\S+)/")


class CorpusSite:
    """The sample site over a corpus folder, served by ``python -m spiders.sample_site``."""

    def __init__(self, folder: Path = CORPUS, pages: int = 2000) -> None:
        self.folder = Path(folder)
        self.cases = load_cases(self.folder)
        self.pages = pages
        self.copies = max(1, math.ceil(pages / len(self.cases)))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        paths = [
            (case.path if copy == 0 else f"/c{copy}{case.path}", case)
            for copy in range(self.copies)
            for case in self.cases
        ]
        self.case_by_path: dict[str, SampleCase] = dict(paths[:pages])
        self._case_by_original = {case.url: case for case in self.cases}

    @property
    def urls(self) -> list[str]:
        """The article URLs asked for, copy by copy."""
        return [self.base_url + path for path in self.case_by_path]

    @property
    def host_port(self) -> str:
        """``127.0.0.1:PORT``, as ``--allow-private`` takes it."""
        return f"127.0.0.1:{self.port}"

    def write_urls(self, path: Path) -> Path:
        """Write the URL list, one a line."""
        path.write_text("\n".join(self.urls) + "\n", encoding="utf-8")
        return path

    def __enter__(self) -> Self:
        command = [
            sys.executable,
            "-m",
            "spiders.sample_site",
            "--port",
            str(self.port),
            "--directory",
            str(self.folder),
            "--copies",
            str(self.copies),
        ]
        self._process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE)
        assert self._process.stdout is not None
        first = self._process.stdout.readline()  # blocks until the site serves
        if not _READY.match(first):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the corpus site did not start: {first!r}")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    @property
    def pid(self) -> int | None:
        """The site's process id while it serves."""
        return self._process.pid if self._process else None

    def case_of(self, url: str) -> SampleCase | None:
        """The corpus page a local URL (on any port), or an article's original URL, is."""
        parts = urlsplit(url)
        if parts.hostname == "127.0.0.1":
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            return self.case_by_path.get(path)
        return self._case_by_original.get(url)

    def asked_cases(self) -> list[SampleCase]:
        """The distinct corpus pages among the URLs asked for."""
        return list({case.id: case for case in self.case_by_path.values()}.values())

    def body_f1(self, bodies: Mapping[str, str | None]) -> float:
        """Mean word F1 over the distinct pages asked for, of the bodies found by URL.

        ``bodies`` maps a local URL (or an original URL) to the body found there; the first
        body found for a page counts, and a page with none scores 0.
        """
        found: dict[str, str] = {}
        for url, body in bodies.items():
            case = self.case_of(url)
            if case is not None and body and case.id not in found:
                found[case.id] = body
        cases = self.asked_cases()
        return fmean(word_f1(found.get(case.id), case.expected["body"]) for case in cases)

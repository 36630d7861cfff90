"""The ``newsdesk`` command as a user runs it: extract, export, stats, errors, demo."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import pytest

from benchmarks.metrics import word_f1
from spiders.sample_site import SampleSite
from tests.cli import crawl_summary, host_port, newsdesk
from tests.conftest import NEWS_SITE
from tests.local_http import QuietHandler, serving

CASES = [json.loads(line) for line in (NEWS_SITE / "cases.jsonl").read_text().splitlines()]


def test_extract_one_saved_page(tmp_path: Path) -> None:
    case = CASES[1]
    done = newsdesk("extract", str(NEWS_SITE / case["html"]), "--url", case["url"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    article = json.loads(done.stdout)
    assert word_f1(article["body"], case["expected"]["body"]) >= 0.85
    assert article["fetched_url"] == case["url"]
    assert set(article) >= {"url", "title", "body", "tags", "authors", "published_at", "language"}


def test_extract_a_manifest_echoes_keys_and_reports_pages_without_articles(
    tmp_path: Path,
) -> None:
    (tmp_path / "pages").mkdir()
    good = tmp_path / "pages" / "good.html"
    good.write_bytes(gzip.decompress((NEWS_SITE / CASES[0]["html"]).read_bytes()))
    shutil.copy(NEWS_SITE / CASES[2]["html"], tmp_path / "pages" / "zipped.html.gz")
    (tmp_path / "pages" / "short.html").write_text("<html><body><p>Just a line.</p></body></html>")
    manifest = tmp_path / "manifest.jsonl"
    lines = [
        {"path": "pages/good.html", "url": CASES[0]["url"], "id": "a", "batch": 7},
        {"path": "pages/zipped.html.gz", "url": CASES[2]["url"], "id": "b"},
        {"path": "pages/short.html", "url": "https://example.com/short", "id": "c"},
        {"path": "pages/missing.html", "id": "d"},
    ]
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = newsdesk("extract", "--manifest", str(manifest), "--processes", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in out] == ["a", "b", "c", "d"]
    assert out[0]["batch"] == 7 and out[0]["path"] == "pages/good.html"
    assert word_f1(out[0]["body"], CASES[0]["expected"]["body"]) >= 0.85
    assert word_f1(out[1]["body"], CASES[2]["expected"]["body"]) >= 0.85
    assert out[2]["skipped"] in {"empty", "not_article"} and "body" not in out[2]
    assert "FileNotFoundError" in out[3]["error"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A SQLite database holding one crawl of the sample site."""
    folder = tmp_path_factory.mktemp("crawled")
    database = f"sqlite:///{folder / 'news.db'}"
    with SampleSite(NEWS_SITE) as site:
        urls = folder / "urls.txt"
        urls.write_text("\n".join([*site.urls_file_lines()[:10], site.base_url + "/missing"]))
        crawl_summary(
            "--urls", str(urls), "--database", database,
            "--allow-private", host_port(site.base_url), cwd=folder,
        )  # fmt: skip
    return database, folder


def test_export_jsonl_and_csv(crawled: tuple[str, Path]) -> None:
    database, folder = crawled
    done = newsdesk("export", "--database", database, cwd=folder)
    assert done.returncode == 0, done.stderr
    articles = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(articles) == 10
    assert all(isinstance(a["tags"], list) and a["body"] for a in articles)
    out = folder / "articles.csv"
    done = newsdesk("export", "--database", database, "--format", "csv", "-o", str(out), cwd=folder)
    assert done.returncode == 0, done.stderr
    with out.open(newline="", encoding="utf-8") as rows:
        table = list(csv.DictReader(rows))
    assert len(table) == 10
    assert {row["url"] for row in table} == {a["url"] for a in articles}
    assert json.loads(table[0]["authors"]) == articles[0]["authors"]


def test_stats(crawled: tuple[str, Path]) -> None:
    database, folder = crawled
    done = newsdesk("stats", "--database", database, "--json", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"articles": 10, "not_articles": {"not_found": 1}}
    done = newsdesk("stats", "--database", database, cwd=folder)
    assert "articles      10" in done.stdout
    assert "not_found 1" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stats", "--database", "nosuchdb://x"], "unsupported database"),
        (["stats", "--database", "not a url"], "not a database URL"),
        (["crawl", "--urls", "no-such-file.txt"], "no such file: no-such-file.txt"),
        (["crawl"], "give at least one --feed, --sitemap or --site URL, or --urls FILE"),
    ],
)
def test_mistakes_end_in_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    done = newsdesk(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_demo_crawls_the_sample_site(tmp_path: Path) -> None:
    done = newsdesk("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "serving 36 real news pages" in done.stdout
    assert "articles stored  36  (36 new" in done.stdout
    assert (tmp_path / "newsdesk-demo.db").is_file()
    again = newsdesk("demo", cwd=tmp_path)  # starts over from an empty file
    assert "articles stored  36  (36 new" in again.stdout


def test_failures_are_listed_and_the_retryable_ones_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = gzip.decompress((NEWS_SITE / CASES[0]["html"]).read_bytes())
    broken = {"/story.html": True}

    class Flaky(QuietHandler):
        def do_GET(self) -> None:
            if self.path == "/story.html" and broken["/story.html"]:
                self.reply(500)
                return
            status, body = (200, page) if self.path == "/story.html" else (404, b"")
            self.reply(status, body, {"Content-Type": "text/html; charset=utf-8"})

    with serving(Flaky) as base:
        database = f"sqlite:///{tmp_path / 'flaky.db'}"
        common = ["--database", database, "--allow-private", host_port(base)]
        monkeypatch.setenv("NEWSDESK_RETRY_TIMES", "0")
        urls = tmp_path / "urls.txt"
        urls.write_text(f"{base}/story.html\n{base}/gone.html\n")
        crawl_summary("--urls", str(urls), *common, cwd=tmp_path)
        listed = newsdesk("failures", "--database", database, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        lines = sorted(listed.stdout.splitlines())
        assert len(lines) == 2
        assert lines[0].startswith("http_error") and f"{base}/story.html" in lines[0]
        assert lines[1].startswith("not_found") and f"{base}/gone.html" in lines[1]
        only = newsdesk("failures", "--reason", "not_found", "--json", "--database", database,
                        cwd=tmp_path)  # fmt: skip
        assert [json.loads(line)["url"] for line in only.stdout.splitlines()] == [
            f"{base}/gone.html"
        ]
        broken["/story.html"] = False  # the site is back
        retried = newsdesk("failures", "retry", *common, cwd=tmp_path)
        assert retried.returncode == 0, retried.stderr
        assert "articles stored  1" in retried.stdout
        after = newsdesk("failures", "--json", "--database", database, cwd=tmp_path)
        assert [json.loads(line)["reason"] for line in after.stdout.splitlines()] == ["not_found"]
    bad = newsdesk("failures", "--reason", "nonsense", "--database", database, cwd=tmp_path)
    assert bad.returncode == 2 and "reasons are:" in bad.stderr

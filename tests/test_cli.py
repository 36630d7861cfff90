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
from tests.cli import crawl_summary, host_port, newsdesk, write_sources
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


def _mistaken_files(folder: Path) -> None:
    """Files that are not what a command wants, in ``folder``."""
    (folder / "a-file").write_text("not a folder")
    (folder / "not-a-database.db").write_text("some text")
    (folder / "syntax.toml").write_text('[[source]]\nname = "a"\nevery = 1h\n')
    (folder / "typo.toml").write_text('[[source]]\nname = "a"\nfeedz = ["https://a.example/f"]\n')
    (folder / "latin1.toml").write_bytes('[[source]]\nname = "café"\n'.encode("latin-1"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stats", "--database", "nosuchdb://x"], "unsupported database"),
        (["stats", "--database", "not a url"], "not a database URL"),
        (["stats", "--database", "postgresql://newsdesk:secret@127.0.0.1:1/news"],
         "cannot use database postgresql://newsdesk:***@127.0.0.1:1/news: connection failed"),
        (["stats", "--database", "postgresql://postgres@127.0.0.1:1/x"],
         "Is the server running on that host and accepting TCP/IP connections? "
         "(check --database or NEWSDESK_DATABASE_URL)"),
        (["stats", "--database", "sqlite:///{tmp}/a-file/news.db"],
         "cannot use database sqlite:///{tmp}/a-file/news.db: File exists: {tmp}/a-file"),
        (["stats", "--database", "sqlite:///{tmp}/not-a-database.db"], "file is not a database"),
        (["crawl", "--urls", "no-such-file.txt"], "no such file: no-such-file.txt"),
        (["crawl"], "give at least one --feed, --sitemap or --site URL, or --urls FILE"),
        (["crawl", "--feed", "http://127.0.0.1:9/feed", "--broker", "amqp://localhost//"],
         "the broker amqp://localhost// is not a Redis URL: give redis://HOST:6379/0"),
        (["crawl", "--feed", "http://127.0.0.1:9/feed", "--frontier", "f",
          "--broker", "redis://127.0.0.1:1/0"],
         "cannot reach the Redis of the shared frontier redis://127.0.0.1:1/0"),
        (["sources", "import", "no-such.toml"], "no such file: no-such.toml"),
        (["sources", "import", "syntax.toml"],
         "syntax.toml: not valid TOML: Expected newline or end of document after a statement "
         "(at line 3, column 10)"),
        (["sources", "import", "typo.toml"],
         "typo.toml: source 1: unknown keys: 'feedz' (did you mean 'feeds'?)"),
        (["sources", "import", "latin1.toml"], "latin1.toml: not UTF-8 text (line 2)"),
        (["sources", "import", "{tmp}"], "Is a directory: {tmp}"),
        (["extract"], "give a FILE or --manifest M.jsonl"),
    ],
)  # fmt: skip
def test_mistakes_end_in_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    _mistaken_files(tmp_path)
    args = [arg.format(tmp=tmp_path) for arg in args]
    if "--database" not in args and args[0] != "extract":
        args += ["--database", f"sqlite:///{tmp_path / 'news.db'}"]
    done = newsdesk(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("newsdesk: error: ")
    assert message.format(tmp=tmp_path) in done.stderr
    assert "Traceback" not in done.stderr and "secret" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bad_log_level_ends_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_LOG_LEVEL", "LOUD")
    done = newsdesk("stats", "--database", f"sqlite:///{tmp_path / 'news.db'}", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("newsdesk: error: LOG_LEVEL is 'LOUD', not one of ")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSDESK_API_PORT", "eighty", "NEWSDESK_API_PORT: expected an integer, not 'eighty'"),
        ("NEWSDESK_LOG_JSON", "maybe", "NEWSDESK_LOG_JSON: expected true or false"),
    ],
)
def test_a_variable_that_does_not_parse_ends_in_one_line(
    name: str, value: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    done = newsdesk("stats", "--database", f"sqlite:///{tmp_path / 'news.db'}", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"newsdesk: error: {message}")
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unreachable_broker_ends_in_one_line(news_site: SampleSite, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'news.db'}"
    sources = write_sources(tmp_path / "sources.toml", news_site)
    assert newsdesk("sources", "import", str(sources), "--database", database,
                    cwd=tmp_path).returncode == 0  # fmt: skip
    done = newsdesk("sources", "crawl", "sample", "--broker", "redis://127.0.0.1:1/0",
                    "--database", database, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "newsdesk: error: cannot reach the broker redis://127.0.0.1:1/0: Error 111 connecting "
        "to 127.0.0.1:1. Connection refused. (check --broker or NEWSDESK_BROKER_URL)\n"
    )


def test_quiet_and_verbose_go_before_or_after_the_command(
    crawled: tuple[str, Path],
) -> None:
    database, folder = crawled
    for args in (["-q", "failures"], ["failures", "-q"], ["failures", "--quiet"]):
        done = newsdesk(*args, "--database", database, cwd=folder)
        assert done.returncode == 0 and done.stderr == ""  # no "1 pages"
        assert done.stdout.startswith("not_found")  # the list asked for
    for args in (["-v", "stats"], ["stats", "-v"], ["--verbose", "stats"]):
        done = newsdesk(*args, "--database", database, cwd=folder)
        assert "[alembic.runtime.migration] INFO: Context impl SQLiteImpl." in done.stderr
    done = newsdesk("stats", "--database", database, cwd=folder)
    assert done.stderr == ""


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

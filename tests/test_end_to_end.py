"""The whole flow with real parts: a local news site, ``newsdesk crawl``, SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from benchmarks.metrics import title_match, word_f1
from spiders.sample_site import SampleSite
from storage.sql import Database
from tests.cli import crawl_summary, crawl_urls, host_port, newsdesk
from tests.conftest import NEWS_SITE
from tests.local_http import QuietHandler, serving

pytestmark = pytest.mark.slow


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_feed_crawl_stores_every_article_once(
    news_site: SampleSite, database_url: str, tmp_path: Path
) -> None:
    """Every entry of the feed becomes one article whose title and body match the publisher's."""
    args = ["--feed", news_site.feed_url("rss"), "--database", database_url]
    args += ["--allow-private", host_port(news_site.base_url)]
    first = crawl_summary(*args, cwd=tmp_path)
    assert first["pages_fetched"] == 36
    assert first["articles"] == {"new": 36}
    assert first["skipped"] == {} and first["failed"] == {}

    database = Database.open(database_url)
    articles = list(database.articles())
    database.close()
    assert len(articles) == 36
    expected = {case.path: case.expected for case in news_site.cases}
    f1 = [word_f1(a.body, expected[_path(a.fetched_url)]["body"]) for a in articles]
    titles = [title_match(a.title, expected[_path(a.fetched_url)]["title"]) for a in articles]
    assert sum(f1) / len(f1) >= 0.93
    assert sum(titles) / len(titles) >= 0.8
    assert all(a.source == news_site.feed_url("rss") for a in articles)

    # The feed has not changed: it answers 304, and no article page is asked for again.
    second = crawl_summary(*args, cwd=tmp_path)
    assert second["listings_not_modified"] == 1
    assert second["pages_fetched"] == 0
    assert second["articles"] == {}
    with Database.open(database_url) as database:
        assert database.count_articles() == 36


def test_rss1_and_atom_feeds_lead_to_the_same_pages(news_site: SampleSite, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'feeds.db'}"
    summary = crawl_summary(
        "--feed", news_site.feed_url("rss1"), "--feed", news_site.feed_url("atom"),
        "--database", database, "--allow-private", host_port(news_site.base_url),
        cwd=tmp_path,
    )  # fmt: skip
    assert summary["pages_fetched"] == 36  # each page once, though both feeds list it
    assert summary["articles_stored"] == 36


def test_without_allow_private_nothing_local_is_fetched(
    news_site: SampleSite, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'guarded.db'}"
    done = newsdesk(
        "crawl", "--feed", news_site.feed_url("rss"), "--database", database, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "articles stored  0" in done.stdout
    assert "private_address 1" in done.stdout
    with Database.open(database) as stored:
        assert stored.count_articles() == 0
        [failure] = stored.failures()
    assert failure["url"] == news_site.feed_url("rss")
    assert failure["reason"] == "private_address"
    assert failure["stage"] == "feed"
    assert "127.0.0.1" in failure["detail"]


@pytest.fixture
def redirector(news_site: SampleSite) -> Iterator[str]:
    """A server on another port whose every path redirects to the same path on the news site."""
    target = news_site.base_url

    class Redirect(QuietHandler):
        def do_GET(self) -> None:
            self.reply(302, headers={"Location": target + self.path})

    with serving(Redirect) as base:
        yield base


def test_a_redirect_to_a_port_not_allowed_is_refused(
    news_site: SampleSite, redirector: str, tmp_path: Path
) -> None:
    page = news_site.cases[0].path
    urls = [redirector + page]  # one page behind a redirect
    refused = f"sqlite:///{tmp_path / 'refused.db'}"
    summary = crawl_urls(urls, refused, host_port(redirector), cwd=tmp_path)
    assert summary["articles_stored"] == 0
    assert summary["skipped"] == {"private_address": 1}
    with Database.open(refused) as stored:
        [failure] = stored.failures()
    assert failure["url"] == redirector + page  # recorded under the URL that was listed
    assert host_port(news_site.base_url) in failure["detail"] or "127.0.0.1" in failure["detail"]

    allowed = f"sqlite:///{tmp_path / 'allowed.db'}"
    both = (host_port(redirector), host_port(news_site.base_url))
    summary = crawl_urls(urls, allowed, *both, cwd=tmp_path)
    assert summary["articles_stored"] == 1
    with Database.open(allowed) as stored:
        [article] = stored.articles()
    assert article.fetched_url == news_site.base_url + page


def test_every_page_that_is_not_an_article_is_recorded_with_its_reason(
    news_site: SampleSite, tmp_path: Path
) -> None:
    base = news_site.base_url
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "\n".join(
            [
                news_site.page_url(news_site.cases[0]),
                f"{base}/private/secret.html",  # robots.txt forbids /private/
                f"{base}/no-such-page.html",  # 404
                f"{base}/robots.txt",  # text/plain
                "file:///etc/passwd",
            ]
        )
    )
    database = f"sqlite:///{tmp_path / 'reasons.db'}"
    summary = crawl_summary(
        "--urls", str(urls), "--database", database, "--allow-private", host_port(base),
        cwd=tmp_path,
    )  # fmt: skip
    assert summary["articles_stored"] == 1
    assert summary["skipped"] == {
        "robots_txt": 1, "not_found": 1, "not_html": 1, "bad_scheme": 1,
    }  # fmt: skip
    with Database.open(database) as stored:
        reasons = {row["url"]: row["reason"] for row in stored.failures()}
    assert reasons == {
        f"{base}/private/secret.html": "robots_txt",
        f"{base}/no-such-page.html": "not_found",
        f"{base}/robots.txt": "not_html",
        "file:///etc/passwd": "bad_scheme",
    }


def test_max_pages_limits_the_article_requests(news_site: SampleSite, tmp_path: Path) -> None:
    summary = crawl_summary(
        "--feed", news_site.feed_url("rss"), "--max-pages", "5",
        "--database", f"sqlite:///{tmp_path / 'five.db'}",
        "--allow-private", host_port(news_site.base_url),
        cwd=tmp_path,
    )  # fmt: skip
    assert summary["pages_fetched"] == 5
    assert summary["articles_stored"] == 5


def test_downloads_over_the_size_limit_are_cut_and_recorded(
    news_site: SampleSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_DOWNLOAD_MAXSIZE", "20000")
    sizes = {
        case.path: len(gzip.decompress(case.html_file.read_bytes())) for case in news_site.cases
    }
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(news_site.base_url + path for path in sizes))
    summary = crawl_summary(
        "--urls", str(urls), "--database", f"sqlite:///{tmp_path / 'cut.db'}",
        "--allow-private", host_port(news_site.base_url), cwd=tmp_path,
    )  # fmt: skip
    larger = sum(size > 20000 for size in sizes.values())
    assert larger > 0
    assert summary["skipped"].get("too_large") == larger
    assert summary["articles_stored"] == len(sizes) - larger


@pytest.fixture
def header_recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A server that answers every GET with one real article and records the request headers."""
    page = gzip.decompress((NEWS_SITE / "pages" / "NineNews_2026_07_04.html.gz").read_bytes())
    seen: list[dict[str, str]] = []

    class Recorder(QuietHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, **dict(self.headers)})
            self.reply(200, page, {"Content-Type": "text/html; charset=utf-8"})

    with serving(Recorder) as base:
        yield base, seen


def test_requests_say_who_is_crawling(
    header_recorder: tuple[str, list[dict[str, str]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, seen = header_recorder
    monkeypatch.setenv("NEWSDESK_USER_AGENT", "newsdesk-test/1.0 (+https://example.org/contact)")
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{base}/story.html\n")
    summary = crawl_summary(
        "--urls", str(urls), "--database", f"sqlite:///{tmp_path / 'ua.db'}",
        "--allow-private", host_port(base), cwd=tmp_path,
    )  # fmt: skip
    assert summary["articles_stored"] == 1
    assert [request["path"] for request in seen] == ["/robots.txt", "/story.html"]
    assert {request["User-Agent"] for request in seen} == {
        "newsdesk-test/1.0 (+https://example.org/contact)"
    }

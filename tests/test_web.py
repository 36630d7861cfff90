"""The web view of a real ``newsdesk serve`` after a crawl, in headless Chromium and over HTTP."""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from spiders.sample_site import SampleSite
from tests.serving import Server, clean_environment, crawl_sample_site, serve

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def server(news_site: SampleSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on a SQLite file holding a crawl of the sample site."""
    directory = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{directory / 'newsdesk.db'}"
    with clean_environment():
        crawl_sample_site(news_site, url, directory)
    with serve(url, directory) as running:
        yield running


def chromium(url: str, profile: Path, *options: str) -> str:
    """What headless Chromium prints for ``url`` with ``options`` (``--dump-dom``: the DOM)."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--window-size=1280,1400", *options, url],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@needs_chromium
def test_the_browser_shows_the_crawled_articles_and_saves_a_screenshot(
    server: Server, tmp_path: Path
) -> None:
    articles = httpx.get(f"{server.url}/api/articles", params={"limit": 50}).json()["items"]

    dom = chromium(f"{server.url}/", tmp_path / "profile", "--dump-dom")
    screenshot = tmp_path / "web-view.png"
    chromium(f"{server.url}/", tmp_path / "profile", f"--screenshot={screenshot}")

    assert len(articles) > 20
    assert dom.count('<li class="article">') == len(articles)
    for article in articles[:10]:
        assert html.escape(article["title"], quote=False) in dom
        assert f'href="/articles/{article["id"]}"' in dom
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one


@needs_chromium
def test_the_browser_opens_an_article_and_the_sources(server: Server, tmp_path: Path) -> None:
    first = httpx.get(f"{server.url}/api/articles", params={"limit": 1}).json()["items"][0]
    article = httpx.get(f"{server.url}/api/articles/{first['id']}").json()

    page = chromium(f"{server.url}/articles/{first['id']}", tmp_path / "profile", "--dump-dom")
    sources = chromium(f"{server.url}/sources", tmp_path / "profile", "--dump-dom")

    assert html.escape(article["title"], quote=False) in page
    assert html.escape(article["body"].split("\n\n")[0], quote=False) in page
    assert '<tr class="source">' in sources
    assert "sample" in sources
    assert '<span class="status-finished">finished</span>' in sources


def test_the_pages_are_server_rendered_html(server: Server) -> None:
    home = httpx.get(f"{server.url}/")
    tagged = next(a for a in httpx.get(f"{server.url}/api/articles").json()["items"] if a["tags"])
    by_tag = httpx.get(f"{server.url}/", params={"tag": tagged["tags"][0]})

    assert home.headers["content-type"].startswith("text/html")
    assert "<script" not in home.text
    assert f'href="/articles/{tagged["id"]}"' in by_tag.text
    assert home.text.count('<li class="article">') > by_tag.text.count('<li class="article">')
    assert httpx.get(f"{server.url}/articles/2147483648").status_code == 404

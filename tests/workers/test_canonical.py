"""The URL an article is stored under, through a real crawl: a site that declares its home page
as every page's URL still gets each article stored under its own."""

from __future__ import annotations

import gzip
from pathlib import Path

from lxml import html

from storage.sql import Database
from tests.cli import crawl_urls, host_port
from tests.conftest import FIXTURES
from tests.local_http import html_pages, serving


def _declaring(page: bytes, declarations: str) -> bytes:
    """The page with its own URL declarations replaced by ``declarations``."""
    tree = html.fromstring(page)
    for element in tree.xpath(
        "//link[contains(@rel, 'canonical')] | //meta[@property='og:url' or @name='twitter:url']"
    ):
        element.getparent().remove(element)
    head = tree.find("head")
    for element in reversed(html.fragments_fromstring(declarations)):
        head.insert(0, element)
    return html.tostring(tree, encoding="utf-8")


def test_articles_declaring_the_home_page_keep_their_own_urls(tmp_path: Path) -> None:
    first, second = sorted((FIXTURES / "news-site" / "pages").glob("*.html.gz"))[:2]
    pages: dict[str, bytes] = {}
    database = f"sqlite:///{tmp_path / 'canonical.db'}"
    with serving(html_pages(pages)) as base:
        # As a misconfigured CMS writes it on every page: og:url is the site's home page.
        home = f'<meta property="og:url" content="{base}/">'
        pages["/politik/story-one"] = _declaring(gzip.decompress(first.read_bytes()), home)
        pages["/politik/story-two"] = _declaring(gzip.decompress(second.read_bytes()), home)
        # A third page's canonical link names the second under its tracking parameters.
        pages["/politik/story-two-copy"] = _declaring(
            gzip.decompress(second.read_bytes()),
            f'{home}<link rel="canonical" href="/politik/story-two?utm_source=rss">',
        )
        urls = [f"{base}{path}" for path in pages]
        summary = crawl_urls(urls, database, host_port(base), cwd=tmp_path)
    assert summary["articles"] == {"new": 2, "unchanged": 1}, summary
    with Database.open(database) as stored:
        found = {article.fetched_url: article.url for article in stored.articles()}
    assert found == {
        f"{base}/politik/story-one": f"{base}/politik/story-one",
        f"{base}/politik/story-two": f"{base}/politik/story-two",
    }

"""A local news site on 127.0.0.1 serving the stored fixture pages: for the demo, tests, benchmarks.

Each article page is served at the path (and query) of its original URL, byte for byte as the
publisher sent it, with ``Last-Modified``/``ETag`` validators, ``304 Not Modified`` answers and
gzip on request. Around the articles the site has what a real news site has and a crawler looks
for (all of it built with lxml from the fixtures' expected values):

- ``/``, a front page with a header (sections, service pages, topics, a columnist, the logo),
  teasers of every article by section and a footer; section pages ``/section/<slug>/``
  (``?page=2``… past eight articles), topic pages ``/tag/<slug>/``, an author page
  ``/author/<slug>/``, ``/about``, ``/contact``, ``/privacy``, ``/imprint``, ``/login``,
  ``/search`` and a PNG logo (``/media/logo.png``); none of them is an article;
- ``/robots.txt`` naming ``/sitemap.xml`` (every article) and ``/sitemap_index.xml``, an index of
  a Google News sitemap (the newest half of the articles), a gzipped sitemap of every article
  (``.xml.gz``, served as a gzip file) and a nested index naming a sitemap of the service pages;
- an RSS 2.0 feed (``/feed.xml``), an RSS 1.0 feed (``/feed.rdf``) and an Atom feed (``/atom.xml``).

Every article (copy 0) is also served, under URLs that no listing names, as the same story
reaches crawlers elsewhere: with tracking parameters added (``tracking_url``), as an AMP page
under ``/amp`` (``amp_url``), and as a syndicated copy under ``/wire`` with another headline
and an extra paragraph (``syndicated_url``, which can name another host name of the site,
such as ``localhost``).

With ``copies=n`` every article is served n times, copy k (k >= 1) under the prefix ``/c{k}``;
listings, feeds and sitemaps name every copy. For tests of re-crawling, ``change_page`` changes
a page (new text, validators and lastmod) and ``throttle_once`` answers a path's next request
with 429 and ``Retry-After``. ``hits`` counts the requests per path, ``request_times`` says when.

    python -m spiders.sample_site --port 8000
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from w3lib.url import safe_url_string

from spiders.sample_site_html import (
    FORM_PAGES,
    LOGO_PATH,
    SERVICE_PAGES,
    SitePages,
    insert_paragraph,
    logo_png,
    retitle,
)
from spiders.sample_site_listings import Listing, listing_for
from spiders.sample_site_server import SiteDocument, SiteHandler, SiteServer, Throttle
from spiders.sample_site_xml import (
    FEED_PATHS,
    SERVICE_PAGES_UPDATED,
    SITEMAP_PATHS,
    feed_documents,
    sitemap_documents,
)

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "news-site"
_SITE_PATHS = {"/", "/robots.txt", LOGO_PATH, *SITEMAP_PATHS.values(), *FEED_PATHS.values()}
_SITE_PATHS |= {*SERVICE_PAGES, *FORM_PAGES}
_CHANGE_TEXT = "Update: this story was changed after publication to add new information."
# What the variants of an article add: the parameters of a newsletter link, and the paragraph
# and headline prefix of a wire copy.
TRACKING_QUERY = "utm_source=newsletter&utm_medium=email&utm_campaign=morning&fbclid=IwAR2xYz"
_WIRE_TEXT = (
    "This story was distributed by the newsdesk wire service and republished by a partner "
    "site, which added this note about where it first appeared."
)
_WIRE_HEADLINE = "Wire report: "


@dataclass(frozen=True)
class SampleCase:
    """One stored page: original URL, path it is served at here, file, expected article."""

    id: str
    url: str
    path: str
    html_file: Path
    publisher: str
    expected: dict[str, Any] = field(hash=False, repr=False)
    country: str = ""

    @property
    def published_at(self) -> datetime:
        """The expected publication time; a value without an offset is taken as UTC."""
        moment = datetime.fromisoformat(self.expected["published_at"])
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_cases(directory: Path) -> list[SampleCase]:
    """Read ``cases.jsonl`` in ``directory`` and give each case a distinct local path.

    The local path is the path and query of the original URL (percent-encoded, fragment
    dropped). A path taken by an earlier case or by the site itself is prefixed with ``/<id>``.
    """
    cases: list[SampleCase] = []
    taken = set(_SITE_PATHS)
    for line in (directory / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        parts = urlsplit(safe_url_string(record["url"]))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if path in taken:
            path = f"/{record['id']}{path}"
        taken.add(path)
        html_file, expected = directory / record["html"], record["expected"]
        fields = (record["id"], record["url"], path, html_file, record["publisher"], expected)
        cases.append(SampleCase(*fields, country=record.get("country", "")))
    return cases


class SampleSite:
    """The local news site; a context manager that serves in a background thread while entered.

    ``with SampleSite(DEFAULT_DIRECTORY) as site:`` then ``site.feed_url("atom")`` or
    ``site.page_url(case)``. URLs name the bound address, so ``host`` must be one clients can reach.
    """

    def __init__(
        self, directory: Path, host: str = "127.0.0.1", port: int = 0, copies: int = 1
    ) -> None:
        if copies < 1:
            raise ValueError(f"copies must be at least 1, not {copies}")
        self.directory, self.host, self.port, self.copies = Path(directory), host, port, copies
        self.cases = load_cases(self.directory)
        self._pages: dict[str, SiteDocument] = {}
        self._listings: dict[str, Listing] = {}  # by path, in the order of _entries()
        stored = [(case, case.html_file.read_bytes()) for case in self.cases]
        originals = [
            (case, SiteDocument(gzip.decompress(gz), "text/html", case.published_at, gz))
            for case, gz in stored
        ]
        listings = {case.id: listing_for(case, page.body) for case, page in originals}
        for copy in range(copies):
            for case, page in originals:
                path = self.page_path(case, copy)
                self._pages[path] = page
                self._listings[path] = replace(listings[case.id], path=path)
        if len(self._pages) != len(self.cases) * copies:
            raise ValueError("two pages of the sample site share a URL path")
        html_pages = SitePages(list(self._listings.values())).documents()
        self._html = {
            path: SiteDocument(body, "text/html; charset=utf-8")
            for path, body in html_pages.items()
        }
        if not self._html.keys().isdisjoint(self._pages):
            raise ValueError("an article of the sample site has the URL path of a listing page")
        self._variants = {
            path: page
            for case, page in originals
            for path, page in self._variant_documents(case, page).items()
        }
        self._logo = SiteDocument(logo_png(), "image/png", SERVICE_PAGES_UPDATED)
        self._server: SiteServer | None = None
        self._thread: threading.Thread | None = None
        # One lock for the request records, the throttles and the pages that change.
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._request_times: defaultdict[str, list[float]] = defaultdict(list)
        self._throttles: defaultdict[str, deque[Throttle]] = defaultdict(deque)

    def __enter__(self) -> Self:
        self._server = SiteServer((self.host, self.port), SiteHandler)
        self._server.record_request = self._record_request
        with self._lock:
            self._server.documents = self._documents()
        # A short poll interval: shutdown() waits for the next poll, 0.5 s by default.
        serve = {"poll_interval": 0.05}
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs=serve, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def hits(self) -> Counter[str]:
        """GET and HEAD requests served so far by path (with query), 404s included: a copy."""
        with self._lock:
            return Counter(self._hits)

    def reset_hits(self) -> None:
        """Forget the requests served so far (``hits`` and ``request_times``)."""
        with self._lock:
            self._hits.clear()
            self._request_times.clear()

    def request_times(self, path: str) -> list[float]:
        """When each request for ``path`` (with query) came, by ``time.monotonic()``: a copy."""
        with self._lock:
            return list(self._request_times.get(path, ()))

    def throttle_once(self, path: str, retry_after: int = 2, status: int = 429) -> None:
        """Answer the next request for ``path`` with ``status`` and ``Retry-After: retry_after``.

        The answer has a short text body; later requests are served as usual. Called n times,
        it throttles the next n requests for the path.
        """
        if not 400 <= status < 600 or retry_after < 0:
            raise ValueError(f"cannot throttle with status {status} and Retry-After {retry_after}")
        with self._lock:
            self._throttles[path].append(Throttle(status, retry_after))

    def change_page(self, case: SampleCase, copy: int = 0, text: str = _CHANGE_TEXT) -> None:
        """Change one copy of a page as its publisher would; while serving or before.

        The page gets a new paragraph of ``text`` in its main text (so its ``ETag`` changes),
        its ``Last-Modified`` and its lastmod in every sitemap move to now, and so do its Atom
        ``updated`` and the feeds' dates. Now is rounded up to the second and each change moves
        the page on by a second at least, so the new lastmod is later than any earlier fetch.
        """
        path = self.page_path(case, copy)
        with self._lock:
            listing = self._listings[path]
            modified = max(
                _second_after(datetime.now(UTC)), listing.modified_at + timedelta(seconds=1)
            )
            body = insert_paragraph(self._pages[path].body, text, case.expected.get("body", ""))
            changed = SiteDocument(body, "text/html", modified, gzip.compress(body, mtime=0))
            self._pages[path] = changed
            self._listings[path] = replace(listing, modified_at=modified)
            if self._server is not None:
                self._server.documents = self._documents()

    def _variant_documents(self, case: SampleCase, page: SiteDocument) -> dict[str, SiteDocument]:
        """The tracking-parameter, AMP and wire copies of one article, by request path."""
        separator = "&" if "?" in case.path else "?"
        title = case.expected.get("title") or ""
        headline = _WIRE_HEADLINE + "".join(c for c in title if c not in "\"'&<>\\")
        wire = insert_paragraph(retitle(page.body, title, headline), _WIRE_TEXT,
                                case.expected.get("body", ""))  # fmt: skip
        return {
            case.path + separator + TRACKING_QUERY: page,
            "/amp" + case.path: page,
            "/wire" + case.path: SiteDocument(
                wire, "text/html", page.last_modified, gzip.compress(wire, mtime=0)
            ),
        }

    def tracking_url(self, case: SampleCase) -> str:
        """The URL of the article with a newsletter's tracking parameters added."""
        separator = "&" if "?" in case.path else "?"
        return self.base_url + case.path + separator + TRACKING_QUERY

    def amp_url(self, case: SampleCase) -> str:
        """The URL of the article's AMP page: its path under ``/amp``."""
        return f"{self.base_url}/amp{case.path}"

    def syndicated_url(self, case: SampleCase, host: str | None = None) -> str:
        """The URL of a syndicated copy: headline changed, a paragraph added, under ``/wire``.

        ``host`` is another name of the site's address (``localhost`` for 127.0.0.1), so that
        the copy is on another site as far as URLs tell.
        """
        base = self.base_url
        if host is not None:
            base = f"http://{host}:{urlsplit(base).port}"
        return f"{base}/wire{case.path}"

    def _record_request(self, path: str) -> Throttle | None:
        # One handler thread per connection: without the lock, two increments could become one.
        moment = time.monotonic()
        with self._lock:
            self._hits[path] += 1
            self._request_times[path].append(moment)
            pending = self._throttles.get(path)
            return pending.popleft() if pending else None

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running site (the port is known once it serves)."""
        if self._server is None:
            raise RuntimeError("the sample site is not serving; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def page_path(self, case: SampleCase, copy: int = 0) -> str:
        """The request path of one copy of a page: the case path, under ``/c{copy}`` from copy 1."""
        if not 0 <= copy < self.copies:
            raise ValueError(f"copy {copy} is not in range(0, {self.copies})")
        return case.path if copy == 0 else f"/c{copy}{case.path}"

    def page_url(self, case: SampleCase, copy: int = 0) -> str:
        """The absolute local URL of one copy of a page."""
        return self.base_url + self.page_path(case, copy)

    def feed_url(self, kind: str = "rss") -> str:
        """The URL of the ``rss`` (RSS 2.0), ``rss1`` (RSS 1.0/RDF) or ``atom`` (Atom 1.0) feed."""
        if kind not in FEED_PATHS:
            raise ValueError(f"unknown feed kind {kind!r}; expected one of {sorted(FEED_PATHS)}")
        return self.base_url + FEED_PATHS[kind]

    def urls_file_lines(self) -> list[str]:
        """Every page URL, all copies, one per line of a URL list (without newlines)."""
        return [url for url, _ in self._entries()]

    def article_paths(self) -> list[str]:
        """The request path of every article page, all copies."""
        return list(self._listings)

    def non_article_paths(self) -> list[str]:
        """Every HTML page of the site that is not an article: listings, topics, service pages."""
        return list(self._html)

    def sitemap_urls(self) -> list[str]:
        """Every sitemap and sitemap index of the site, in the order a crawler finds them."""
        return [self.base_url + path for path in SITEMAP_PATHS.values()]

    def _entries(self) -> Iterator[tuple[str, SampleCase]]:
        for copy in range(self.copies):
            for case in self.cases:
                yield self.page_url(case, copy), case

    def _documents(self) -> dict[str, SiteDocument]:
        """Every document the site serves, by path; built under the lock on every change."""
        base, listings = self.base_url, list(self._listings.values())
        robots = (
            f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}{SITEMAP_PATHS['plain']}\n"
            f"Sitemap: {base}{SITEMAP_PATHS['index']}\n"
        )
        return {
            **self._variants,
            **self._pages,
            **self._html,
            LOGO_PATH: self._logo,
            "/robots.txt": SiteDocument(robots.encode(), "text/plain; charset=utf-8"),
            **feed_documents(base, listings),
            **sitemap_documents(base, listings, SERVICE_PAGES),
        }


def _second_after(moment: datetime) -> datetime:
    """``moment`` rounded up to a whole second."""
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if moment.microsecond else whole


def main(argv: list[str] | None = None) -> None:
    """Serve the sample site until Ctrl-C, printing where its feeds and sitemaps are."""
    parser = argparse.ArgumentParser(description="Serve the newsdesk sample news site.")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--directory", type=Path, default=DEFAULT_DIRECTORY, help="has cases.jsonl")
    parser.add_argument("--copies", type=int, default=1, help="serve every page N times")
    args = parser.parse_args(argv)
    with SampleSite(args.directory, port=args.port, copies=args.copies) as site:
        print(f"{len(site.urls_file_lines())} pages at {site.base_url}/", flush=True)
        for kind in FEED_PATHS:
            print(f"{kind:5} feed: {site.feed_url(kind)}", flush=True)
        print(f"sitemaps: {site.base_url}{SITEMAP_PATHS['index']}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()

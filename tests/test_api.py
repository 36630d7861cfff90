"""The HTTP API of a real ``newsdesk serve`` process, on SQLite and PostgreSQL, after a crawl."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from spiders.sample_site import SampleSite
from tests import services
from tests.processes import wait_for
from tests.serving import SYNDICATED, TOKEN, Server, clean_environment, crawl_sample_site, serve

pytestmark = pytest.mark.slow


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, news_site: SampleSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A server on a database of each kind holding a crawl of the sample site (and one copy)."""
    directory = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'newsdesk.db'}"
    else:
        url = services.fresh_postgres_database(request.getfixturevalue("postgres_server"))
    try:
        with clean_environment():
            summary = crawl_sample_site(news_site, url, directory)
        with serve(url, directory) as server:
            yield server, summary
    finally:
        if request.param == "postgresql":
            services.drop_postgres_database(url)


@pytest.fixture
def api(served: tuple[Server, dict[str, Any]]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url, timeout=60) as client:
        yield client


def all_articles(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every article the list gives with ``params``, page by page (7 a page)."""
    articles: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/articles", params=query)
        assert page.status_code == 200, page.text
        articles += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return articles


def test_the_cursor_pages_through_every_article_once_newest_first(
    api: httpx.Client, served: tuple[Server, dict[str, Any]]
) -> None:
    articles = all_articles(api)

    stored = served[1]["articles_stored"]
    assert stored > 20
    assert len(articles) == stored + 1  # and the syndicated copy
    assert len({article["id"] for article in articles}) == len(articles)
    keys = [(article["time"], article["id"]) for article in articles]
    assert keys == sorted(keys, reverse=True)


def test_a_cursor_that_is_not_one_is_a_400(api: httpx.Client) -> None:
    response = api.get("/api/articles", params={"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert "not a cursor" in response.json()["detail"]


def test_filters_by_source_language_tag_and_time(api: httpx.Client) -> None:
    articles = all_articles(api)
    tagged = next(article for article in articles if article["tags"])
    tag = tagged["tags"][0]
    middle = sorted(article["time"] for article in articles)[len(articles) // 2]

    assert [a["url"] for a in all_articles(api, source="syndicated")] == [SYNDICATED]
    assert len(all_articles(api, source="sample")) == len(articles) - 1
    with_tag = all_articles(api, tag=tag.upper())
    assert tagged["id"] in {a["id"] for a in with_tag}
    assert all(tag.lower() in {t.lower() for t in a["tags"]} for a in with_tag)
    language = tagged["language"]
    assert {a["language"] for a in all_articles(api, language=language)} == {language}
    since, until = all_articles(api, since=middle), all_articles(api, until=middle)
    assert len(since) + len(until) == len(articles)
    assert min(a["time"] for a in since) >= middle > max(a["time"] for a in until)


def words(text: str | None) -> set[str]:
    return set(re.findall(r"[^\W_]+", (text or "").lower()))


def test_full_text_search_finds_the_articles_holding_every_word(api: httpx.Client) -> None:
    articles = [api.get(f"/api/articles/{a['id']}").json() for a in all_articles(api)]
    text = {
        a["id"]: words(a["title"]) | words(a["description"]) | words(a["body"]) for a in articles
    }
    target = articles[3]
    rare = sorted(words(target["title"]), key=lambda w: sum(w in t for t in text.values()))
    query = " ".join(rare[:2])

    found = {a["id"] for a in all_articles(api, q=query)}

    assert target["id"] in found
    assert found == {i for i, held in text.items() if set(rare[:2]) <= held}


def test_a_quoted_phrase_must_appear_as_written(api: httpx.Client) -> None:
    article = api.get(f"/api/articles/{all_articles(api)[0]['id']}").json()
    phrase = " ".join(re.findall(r"[^\W_]+", article["body"])[5:8])
    reversed_phrase = " ".join(reversed(phrase.split()))

    assert article["id"] in {a["id"] for a in all_articles(api, q=f'"{phrase}"')}
    found_reversed = {a["id"] for a in all_articles(api, q=f'"{reversed_phrase}"')}
    assert article["id"] not in found_reversed or reversed_phrase == phrase


def test_a_search_without_words_finds_nothing_and_is_no_error(api: httpx.Client) -> None:
    for query in ['"', "***", "( ) -:^", "\x00"]:
        response = api.get("/api/articles", params={"q": query})
        assert response.status_code == 200, (query, response.text)
        assert response.json()["items"] == []
    # FTS5's operators are words like any other here
    assert api.get("/api/articles", params={"q": 'NOT AND "OR" NEAR(x'}).status_code == 200


def test_one_article_with_its_revisions_and_the_copies_of_its_story(api: httpx.Client) -> None:
    copy = all_articles(api, source="syndicated")[0]
    first = next(a for a in all_articles(api, source="sample") if a["story_id"] == copy["story_id"])

    article = api.get(f"/api/articles/{first['id']}").json()

    assert article["url"] == first["url"]
    assert article["body"]
    assert [r["revision"] for r in article["revisions"]] == [1]
    assert article["revisions"][0]["content_hash"] == article["content_hash"]
    assert [d["url"] for d in article["duplicates"]] == [SYNDICATED]
    assert article["duplicates"][0]["duplicate_of"] == first["url"]
    assert api.get("/api/articles/2147483647").status_code == 404


def test_sources_with_their_last_crawl(
    api: httpx.Client, served: tuple[Server, dict[str, Any]]
) -> None:
    sources = api.get("/api/sources").json()

    assert [s["name"] for s in sources] == ["sample"]
    crawl = sources[0]["last_crawl"]
    assert crawl["status"] == "finished"
    assert crawl["summary"]["articles_stored"] == served[1]["articles_stored"]
    failures = api.get("/api/failures", params={"source": "sample", "limit": 200}).json()
    assert sources[0]["failures"] == len(failures["items"])
    assert api.get("/api/sources/sample/crawls").json()[0]["id"] == crawl["id"]
    assert api.get("/api/sources/nope/crawls").status_code == 404


def test_failures_page_by_reason(api: httpx.Client) -> None:
    page = api.get("/api/failures", params={"limit": 200}).json()

    for reason in {failure["reason"] for failure in page["items"]}:
        only = api.get("/api/failures", params={"reason": reason, "limit": 200}).json()
        assert {f["reason"] for f in only["items"]} == {reason}
    assert api.get("/api/failures", params={"reason": "no-such"}).json()["items"] == []


def test_the_openapi_schema_describes_every_endpoint(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()

    assert set(schema["paths"]) == {
        "/api/articles", "/api/articles/{article_id}", "/api/sources",
        "/api/sources/{name}/crawls", "/api/sources/{name}/crawl", "/api/failures",
    }  # fmt: skip
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_schemathesis_finds_no_server_error(
    served: tuple[Server, dict[str, Any]], tmp_path: Path
) -> None:
    st = str(Path(sys.executable).with_name("st"))
    done = subprocess.run(
        [st, "run", f"{served[0].url}/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "25", "--header", "Authorization: Bearer wrong-token",
         "--generation-deterministic", "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert counts is not None, done.stdout[-4000:]
    assert int(counts[1]) == int(counts[2]) > 100


def test_triggering_a_crawl_needs_the_token(api: httpx.Client) -> None:
    assert api.post("/api/sources/sample/crawl").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert api.post("/api/sources/sample/crawl", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert api.post("/api/sources/nope/crawl", headers=right).status_code == 404


def test_a_triggered_crawl_runs_without_a_broker(api: httpx.Client) -> None:
    before = api.get("/api/sources/sample/crawls").json()

    response = api.post("/api/sources/sample/crawl", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 202, response.text
    assert response.json() == {"source": "sample", "status": "started"}

    def finished() -> bool:
        crawls = api.get("/api/sources/sample/crawls").json()
        return len(crawls) > len(before) and crawls[0]["status"] == "finished"

    wait_for(finished, 300)
    latest = api.get("/api/sources/sample/crawls").json()[0]
    assert latest["summary"]["articles_stored"] == 0  # nothing changed since the first crawl


@pytest.mark.redis
def test_a_triggered_crawl_is_queued_with_a_broker(
    broker_url: str, sqlite_database: str, news_site: SampleSite, tmp_path: Path
) -> None:
    import redis

    with clean_environment():
        crawl_sample_site(news_site, sqlite_database, tmp_path)
    with serve(sqlite_database, tmp_path, "--broker", broker_url) as server:
        response = httpx.post(f"{server.url}/api/sources/sample/crawl",
                              headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)  # fmt: skip

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    assert redis.Redis.from_url(broker_url).llen("crawls") == 1


def test_writes_are_refused_without_a_token(sqlite_database: str, tmp_path: Path) -> None:
    with serve(sqlite_database, tmp_path, token="") as server:
        response = httpx.post(f"{server.url}/api/sources/sample/crawl", timeout=60)
        listed = httpx.get(f"{server.url}/api/articles", timeout=60)

    assert response.status_code == 403
    assert "API_TOKEN" in response.json()["detail"]
    assert listed.json() == {"items": [], "next_cursor": None}

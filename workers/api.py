"""The HTTP API (FastAPI) of ``newsdesk serve``: articles, sources, crawls, failures.

Reading is open; every write (triggering a crawl) needs ``Authorization: Bearer API_TOKEN``,
and with no ``API_TOKEN`` set writes are refused. Lists are newest first and paginated by an
opaque cursor (``storage.queries``). The OpenAPI schema is at ``/openapi.json``, its pages at
``/docs``; the web view (``workers.web``) is at ``/``, the Prometheus metrics
(``workers.metrics``) at ``/metrics``.
"""

from __future__ import annotations

import hmac
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from pydantic import BaseModel, Field

from storage.queries import ArticleFilter, BadCursor, Queries
from storage.sql import Database
from workers import metrics
from workers.crawls import crawl_command

MAX_ID = 2**31 - 1  # the integer ids of both databases
ArticleId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=200, description="rows a page")]
Cursor = Annotated[str | None, Query(max_length=200, description="from `next_cursor`")]
Text = Annotated[str | None, Query(max_length=500)]


class ArticleSummary(BaseModel):
    """An article in a list."""

    id: int
    url: str
    title: str | None
    source: str | None
    site_name: str | None
    published_at: str | None = Field(description="ISO 8601 as the page gives it")
    time: datetime = Field(description="published_at in UTC, else when first stored")
    language: str | None
    tags: list[str]
    authors: list[str]
    word_count: int
    story_id: str | None
    duplicate_of: str | None = Field(description="URL of the story's first copy")
    first_stored_at: datetime


class Revision(BaseModel):
    """One stored version of an article."""

    revision: int
    content_hash: str
    title: str | None
    stored_at: datetime


class ArticleDetail(ArticleSummary):
    """One article with all its fields, its revisions and the other copies of its story."""

    fetched_url: str
    body: str
    categories: list[str]
    updated_at: str | None
    description: str | None
    image: str | None
    paywalled: bool | None
    reading_time: int
    content_hash: str
    fetched_at: str | None
    notes: list[str]
    last_stored_at: datetime
    revisions: list[Revision]
    duplicates: list[ArticleSummary]


class ArticlePage(BaseModel):
    """A page of articles; ``next_cursor`` asks for the next (null on the last)."""

    items: list[ArticleSummary]
    next_cursor: str | None


class Crawl(BaseModel):
    """One crawl: running, finished, failed or skipped."""

    id: int
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    detail: str
    summary: dict[str, Any]


class SourceOut(BaseModel):
    """A stored source, its last crawl, and how many of its pages did not become articles."""

    name: str
    feeds: list[str]
    sitemaps: list[str]
    sites: list[str]
    urls: list[str]
    every: str | None
    cron: str | None
    enabled: bool
    failures: int
    last_crawl: Crawl | None


class Failure(BaseModel):
    """A page that did not become an article, and why."""

    id: int
    url: str
    source: str | None
    stage: str
    reason: str
    detail: str
    attempts: int
    first_seen: datetime
    last_seen: datetime


class FailurePage(BaseModel):
    """A page of failures; ``next_cursor`` asks for the next (null on the last)."""

    items: list[Failure]
    next_cursor: str | None


class CrawlStarted(BaseModel):
    """A crawl that was queued for the workers, or started here."""

    source: str
    status: str = Field(description="`queued` (for a worker) or `started` (here)")


class CrawlTrigger:
    """Starts a crawl of a stored source: on the queue with a broker, else in a child process."""

    def __init__(self, database_url: str, broker_url: str) -> None:
        self.database_url = database_url
        self.broker_url = broker_url
        self._children: list[subprocess.Popen[bytes]] = []

    def __call__(self, name: str) -> str:
        """Start the crawl; return ``queued`` or ``started``."""
        if self.broker_url:
            from workers.celery import app

            app.conf.broker_url = self.broker_url  # as `newsdesk sources crawl` does
            app.send_task("newsdesk.crawl_source", args=[name])
            return "queued"
        self._children = [child for child in self._children if child.poll() is None]
        command = crawl_command(name, database_url=self.database_url, broker_url="")
        self._children.append(
            subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        return "started"


def create_app(database_url: str, *, broker_url: str = "", token: str = "") -> FastAPI:
    """The API and the web view on the database at ``database_url`` (migrated on open)."""
    from workers.web import router as web_router

    database = Database.open(database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        database.close()

    app = FastAPI(
        title="newsdesk",
        version="0.1.0",
        summary="Articles, sources, crawls and failures of one newsdesk database.",
        lifespan=lifespan,
    )
    app.state.queries = Queries(database.engine)
    app.state.trigger = CrawlTrigger(database_url, broker_url)
    app.state.token = token
    app.include_router(_api_routes())
    app.include_router(web_router)
    app.state.metrics = metrics.registry(database.engine, broker_url)

    # Read-only and open like the other reads; not in the OpenAPI schema, as it is for
    # Prometheus, not API clients (docs/metrics.md).
    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(app.state.metrics), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    @app.exception_handler(BadCursor)
    async def _bad_cursor(_request: Request, error: BadCursor) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=400)

    return app


_bearer = HTTPBearer(auto_error=False, description="API_TOKEN")


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the request through only with the configured token."""
    expected: str = request.app.state.token
    if not expected:
        raise HTTPException(403, "writes are disabled: set API_TOKEN to allow them")
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})


def _queries(request: Request) -> Queries:
    queries: Queries = request.app.state.queries
    return queries


_TRIGGER_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or a wrong one"},
    403: {"description": "writes are disabled: no API_TOKEN is set"},
    404: {"description": "no such source"},
    409: {"description": "a crawl of the source is running"},
    503: {"description": "the broker cannot be reached"},
}


def _api_routes() -> Any:
    from fastapi import APIRouter

    api = APIRouter(prefix="/api")

    @api.get("/articles", response_model=ArticlePage, tags=["articles"])
    def list_articles(
        request: Request, source: Text = None, tag: Text = None, language: Text = None,
        q: Annotated[str | None, Query(max_length=500, description='words, "phrases"')] = None,
        since: Annotated[datetime | None, Query(description="from this time on")] = None,
        until: Annotated[datetime | None, Query(description="before this time")] = None,
        unique: Annotated[bool, Query(description="one article per story")] = False,
        limit: Limit = 50, cursor: Cursor = None,
    ) -> Any:  # fmt: skip
        """List articles newest first; filter by source, tag, language, time; search text."""
        where = ArticleFilter(
            source=source, since=_checked(since), until=_checked(until), tag=tag,
            language=language, text=q, unique=unique,
        )  # fmt: skip
        return _queries(request).articles(where, limit, cursor)

    @api.get("/articles/{article_id}", response_model=ArticleDetail, tags=["articles"])
    def get_article(request: Request, article_id: ArticleId) -> Any:
        """One article with its revisions and the other copies of its story."""
        article = _queries(request).article(article_id)
        if article is None:
            raise HTTPException(404, f"no article {article_id}")
        return article

    @api.get("/sources", response_model=list[SourceOut], tags=["sources"])
    def list_sources(request: Request) -> Any:
        """Every stored source with its last crawl and its failure count."""
        return _queries(request).sources()

    @api.get("/sources/{name}/crawls", response_model=list[Crawl], tags=["sources"])
    def list_crawls(request: Request, name: Annotated[str, Path(max_length=255)],
                    limit: Limit = 20) -> Any:  # fmt: skip
        """The latest crawls of a source, newest first."""
        if _queries(request).source(name) is None:
            raise HTTPException(404, f"no source named {name!r}")
        return _queries(request).crawls(name, limit)

    @api.post(
        "/sources/{name}/crawl", response_model=CrawlStarted, status_code=202, tags=["sources"],
        dependencies=[Depends(require_token)],
        responses=_TRIGGER_ERRORS,
    )  # fmt: skip
    def trigger_crawl(request: Request, name: Annotated[str, Path(max_length=255)]) -> Any:
        """Crawl a stored source now: queued for the workers with a broker, else started here."""
        queries = _queries(request)
        if queries.source(name) is None:
            raise HTTPException(404, f"no source named {name!r}")
        latest = queries.crawls(name, 1)
        if latest and latest[0]["status"] == "running":
            raise HTTPException(409, f"a crawl of {name!r} is running (crawl {latest[0]['id']})")
        try:
            status = request.app.state.trigger(name)
        except Exception as error:  # whatever the broker says: a 503 for the client, not a 500
            raise HTTPException(503, f"could not queue the crawl: {error}") from error
        return CrawlStarted(source=name, status=status)

    @api.get("/failures", response_model=FailurePage, tags=["failures"])
    def list_failures(request: Request, reason: Text = None, source: Text = None,
                      limit: Limit = 50, cursor: Cursor = None) -> Any:  # fmt: skip
        """Pages that did not become articles, with their reasons, last seen first."""
        return _queries(request).failures(limit, cursor, reason=reason, source=source)

    return api


def _checked(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC (naive: taken as UTC); 422 when it has none (year 1 at -05:00)."""
    if moment is None or moment.tzinfo is None:
        return moment.replace(tzinfo=UTC) if moment else None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise HTTPException(422, f"a time out of range: {moment.isoformat()}") from error

"""The web view of ``newsdesk serve``: recent articles, one article, the sources.

Server-rendered from the Jinja templates beside this module, with the queries the API uses
(``storage.queries``); no JavaScript and no build step.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from storage.queries import ArticleFilter, Queries

MAX_ID = 2**31 - 1
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _when(value: str | None) -> str:
    """An ISO 8601 UTC time as ``2026-11-29 06:17 UTC``."""
    if not value:
        return ""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["when"] = _when


def _queries(request: Request) -> Queries:
    queries: Queries = request.app.state.queries
    return queries


@router.get("/")
def recent_articles(
    request: Request,
    q: Annotated[str | None, Query(max_length=500)] = None,
    source: Annotated[str | None, Query(max_length=500)] = None,
    tag: Annotated[str | None, Query(max_length=500)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    """The latest articles: title, source, time, tags; searchable, 50 a page."""
    where = ArticleFilter(source=source or None, tag=tag or None, text=q or None)
    page = _queries(request).articles(where, 50, cursor)
    filters = {"q": q or "", "source": source or "", "tag": tag or ""}
    return templates.TemplateResponse(request, "articles.html", {"page": page, "filters": filters})


@router.get("/articles/{article_id}")
def article_page(request: Request, article_id: int) -> Any:
    """One article: its fields, body, revisions and the other copies of its story."""
    article = _queries(request).article(article_id) if 0 < article_id <= MAX_ID else None
    if article is None:
        raise HTTPException(404, f"no article {article_id}")
    return templates.TemplateResponse(request, "article.html", {"article": article})


@router.get("/sources")
def sources_page(request: Request) -> Any:
    """The sources with their last crawl's status and their failure counts."""
    sources = _queries(request).sources()
    return templates.TemplateResponse(request, "sources.html", {"sources": sources})

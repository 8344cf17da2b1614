"""create_app: the FastAPI application (pages, JSON API, errors, security headers)."""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from indexer.embedders.base import Embedder
from kb.curation.catalogue import CurationCache
from kb.settings import Settings
from services.runtime import start_services
from webapp import errors, security
from webapp.handouts import PackCache
from webapp.routes import (
    api_reference,
    auth,
    browse,
    collections,
    community,
    contribute,
    dashboard,
    feeds,
    gaps,
    health,
    moderation,
    pairings,
    partnership,
    practices,
    priorities,
    programmes,
    search,
    support,
    transfer,
    triage,
)
from webapp.templating import create_templates

# Every feature's routes. Their order does not decide which route answers (typed path
# parameters keep /moderation/transfers from /moderation/{submission_id:int}, and
# /collections/new from /collections/{slug:collection}); it is the order of /docs.
ROUTES = (search, practices, browse, health, api_reference, community, feeds, gaps,
          collections, programmes, auth, contribute, transfer, dashboard, moderation, support,
          triage, priorities, pairings, partnership)

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings, embedder: Embedder | None = None,
               update_on_start: bool = True) -> FastAPI:
    """Build an app for these settings; the model and index load once, at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = start_services(settings, embedder, update_index=update_on_start)
        app.state.services = services
        app.state.templates = create_templates(services.taxonomy, services.directory,
                                               csrf_token=security.csrf_token)
        app.state.curation = CurationCache(settings)
        app.state.curation.get()  # parse collections once now, not on the first visit
        app.state.packs = PackCache()
        yield
        services.engine.close()

    # /docs is our own page (webapp.api_reference): FastAPI's explorers load code from a CDN.
    app = FastAPI(title="Westmoor practice library", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Search and browse write-ups of effective practice shared by "
                              "families of schools.")

    security.install_middleware(app)  # inside the headers middleware: its responses get them

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        request.state.nonce = secrets.token_urlsafe(16)
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            f"script-src 'self' 'nonce-{request.state.nonce}'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        services = getattr(request.app.state, "services", None)
        if services is not None and services.engine.generation:
            response.headers["X-Index-Generation"] = services.engine.generation
        return response

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in ROUTES:
        app.include_router(module.router)
    errors.install(app)
    return app

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
from kb.settings import Settings, load_settings
from services.runtime import start_services
from webapp import errors, security
from webapp.handouts import PackCache
from webapp.head import HeadAsGet
from webapp.openapi import api_schema
from webapp.routes import (
    account,
    api_reference,
    auth,
    browse,
    collections,
    community,
    contribute,
    dashboard,
    downloads,
    feedback,
    feeds,
    follows,
    gaps,
    health,
    invitations,
    joining,
    materials,
    moderation,
    pairings,
    partnership,
    people,
    practices,
    priorities,
    programme_builder,
    programmes,
    search,
    search_tuning,
    signup,
    signup_lead,
    support,
    transfer,
    triage,
)
from webapp.templating import create_templates

# Every feature's routes. Their order does not decide which route answers (typed path
# parameters keep /moderation/transfers from /moderation/{submission_id:int}, and
# /collections/new from /collections/{slug:collection}); it is the order of /docs.
ROUTES = (search, search_tuning, practices, downloads, browse, health, api_reference, community,
          feeds, gaps, collections, materials, programmes, programme_builder, signup, signup_lead,
          feedback, auth, account, joining, invitations, contribute, transfer, dashboard,
          moderation, support, people, follows, triage, priorities, pairings, partnership)

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
        response: Response = await errors.handle_unexpected(request, call_next)
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

    app.add_middleware(HeadAsGet)  # outermost: HEAD runs every layer as the GET it mirrors

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in ROUTES:
        app.include_router(module.router)
    errors.install(app)
    app.openapi = lambda: api_schema(app)  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """The app factory each `kb serve --workers N` process calls: settings from the KB_*
    environment (set by the parent), index already brought up to date by the parent."""
    return create_app(load_settings(), update_on_start=False)

"""Typed dependencies shared by the page and API routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.templating import Jinja2Templates

from kb.curation.catalogue import Curation
from webapp.handouts import PackCache
from webapp.params import SearchRequest, parse_search
from services.runtime import Services


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates  # type: ignore[no-any-return]


def get_search_request(request: Request,
                       services: Annotated[Services, Depends(get_services)]) -> SearchRequest:
    return parse_search(request.query_params, services.taxonomy, services.directory,
                        services.settings.page_size)


def get_curation(request: Request) -> Curation:
    """Collections and programmes as the files are now (reloaded when a file changes)."""
    return request.app.state.curation.get()  # type: ignore[no-any-return]


def get_packs(request: Request) -> PackCache:
    return request.app.state.packs  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]
CurationDep = Annotated[Curation, Depends(get_curation)]
PacksDep = Annotated[PackCache, Depends(get_packs)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
SearchDep = Annotated[SearchRequest, Depends(get_search_request)]

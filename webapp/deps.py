"""Typed dependencies shared by the page and API routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.templating import Jinja2Templates

from webapp.params import SearchRequest, parse_search
from webapp.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates  # type: ignore[no-any-return]


def get_search_request(request: Request,
                       services: Annotated[Services, Depends(get_services)]) -> SearchRequest:
    return parse_search(request.query_params, services.taxonomy, services.directory,
                        services.settings.page_size)


ServicesDep = Annotated[Services, Depends(get_services)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
SearchDep = Annotated[SearchRequest, Depends(get_search_request)]

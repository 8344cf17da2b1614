"""Typed dependencies every router shares: the runtime, templates, curation and packs, the
parsed search, the posted form, and the role gates that admit signed-in users."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.datastructures import FormData
from starlette.templating import Jinja2Templates

from kb.curation.catalogue import Curation
from kb.errors import PermissionDeniedError
from kb.state.accounts import CHALLENGE_ROLES, CONTRIBUTOR_ROLES, MODERATOR_ROLES, ROLES, User
from services.runtime import Services
from webapp.errors import LoginRequired
from webapp.handouts import PackCache
from webapp.params import SearchRequest, parse_search
from webapp.security import SAFE_METHODS, verify_csrf


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


async def posted_form(request: Request) -> FormData:
    return await request.form()


ServicesDep = Annotated[Services, Depends(get_services)]
CurationDep = Annotated[Curation, Depends(get_curation)]
PacksDep = Annotated[PackCache, Depends(get_packs)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
SearchDep = Annotated[SearchRequest, Depends(get_search_request)]
PostedForm = Annotated[FormData, Depends(posted_form)]
# A repeatable query parameter as the API declares it (webapp.params reads the values).
Repeated = Annotated[list[str] | None, Query()]


class RoleGate:
    """A dependency admitting signed-in users with one of `roles` (admins always), and
    checking the CSRF token on every state-changing request it guards."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles

    async def __call__(self, request: Request) -> User:
        user: User | None = getattr(request.state, "user", None)
        if user is None:
            raise LoginRequired()
        if not user.has_role(*self.roles):
            raise PermissionDeniedError(f"this needs the {' or '.join(self.roles)} role; you "
                                        f"are signed in as a {user.role}")
        if request.method not in SAFE_METHODS:
            await verify_csrf(request)
        return user


def require_role(*roles: str) -> RoleGate:
    """The gate a route takes: `user: User = Depends(require_role("moderator"))`."""
    return RoleGate(tuple(roles))


async def csrf_protect(request: Request) -> None:
    """For forms anyone may post (sign-in): the token is bound to a pre-session cookie."""
    await verify_csrf(request)


SignedIn = Annotated[User, Depends(require_role(*ROLES))]  # every role, family leads too
Contributor = Annotated[User, Depends(require_role(*CONTRIBUTOR_ROLES))]
Moderator = Annotated[User, Depends(require_role(*MODERATOR_ROLES))]
Curator = Annotated[User, Depends(require_role("curator"))]
# Moderators and curators alike (the gap list).
Reviewer = Annotated[User, Depends(require_role("moderator", "curator"))]
# Challenge leads (and admins): every school's data, triage and brokering (issue 19).
ChallengeLead = Annotated[User, Depends(require_role(*CHALLENGE_ROLES))]

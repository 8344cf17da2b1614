"""Web administration for admins, as pages and as their JSON twins under /api: find people,
change their role and school, disable and enable them, and read the audit log, through the
same functions as `kb user` and `kb audit`."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.errors import BadInputError, ConflictError, NotFoundError
from kb.state import accounts
from kb.state.accounts import ROLES, User
from services.administration import change_person, read_log
from webapp.deps import PostedForm, ServicesDep, TemplatesDep, require_role
from webapp.people_schemas import (
    AuditPageOut,
    PersonOut,
    RoleIn,
    SchoolIn,
    audit_page_out,
    person_out,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/admin", tags=["administration"])
Admin = Annotated[User, Depends(require_role("admin"))]


def _people(request: Request, services: Any, templates: TemplatesDep, q: str,
            status: int = 200, **extra: Any) -> Response:
    context = {"people": accounts.find_users(services.state, q), "q": q, "roles": ROLES,
               "schools": sorted(services.directory.schools.values(), key=lambda s: s.name),
               "directory": services.directory, "error": "", "done": ""}
    context.update(extra)
    return templates.TemplateResponse(request, "people.html", context, status_code=status)


@pages.get("/admin/people", response_class=HTMLResponse)
def people_page(request: Request, services: ServicesDep, templates: TemplatesDep, user: Admin,
                q: Annotated[str, Query(max_length=100)] = "",
                done: Annotated[str, Query(max_length=200)] = "") -> Response:
    return _people(request, services, templates, q, done=done)


@pages.post("/admin/people", response_class=HTMLResponse)
def change_person_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                       user: Admin, form: PostedForm) -> Response:
    email = str(form.get("email", ""))[:254]
    action = str(form.get("action", ""))
    q = str(form.get("q", ""))[:100]
    try:
        person = accounts.get_user(services.state, email)
        change_person(services.state, services.directory, user, person, action,
                      str(form.get(action, ""))[:120])
    except (BadInputError, NotFoundError, ConflictError) as exc:
        return _people(request, services, templates, q, status=422,
                       error=f"{email}: {exc}")
    return RedirectResponse(f"/admin/people?q={quote(q)}&done={quote(f'Saved {email}')}",
                            status_code=303)


@pages.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, services: ServicesDep, templates: TemplatesDep, user: Admin,
               actor: Annotated[str, Query(max_length=200)] = "",
               action: Annotated[str, Query(max_length=200)] = "",
               target: Annotated[str, Query(max_length=200)] = "",
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    log = read_log(services.state, actor=actor, action=action, target=target, page=page)
    filters = {"actor": actor, "action": action, "target": target}
    return templates.TemplateResponse(request, "audit.html", {"log": log, "filters": filters})


# -- the JSON twins -----------------------------------------------------------------------

@api.get("/people", response_model=list[PersonOut])
def api_people(services: ServicesDep, user: Admin,
               q: Annotated[str, Query(max_length=100, description="words in the address, "
                                       "name, school or role")] = "",
               limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[PersonOut]:
    """Find people by address, name, school or role, by address."""
    return [person_out(p) for p in accounts.find_users(services.state, q, limit)]


def _change(services: Any, admin: User, user_id: int, action: str, value: str = ""
            ) -> PersonOut:
    person = accounts.get_user_by_id(services.state, user_id)
    return person_out(change_person(services.state, services.directory, admin, person, action,
                                    value))


@api.post("/people/{user_id:int}/role", response_model=PersonOut)
def api_set_role(user_id: int, body: RoleIn, services: ServicesDep, user: Admin) -> PersonOut:
    """Change someone's role (their sessions end; not your own)."""
    return _change(services, user, user_id, "role", body.role)


@api.post("/people/{user_id:int}/school", response_model=PersonOut)
def api_set_school(user_id: int, body: SchoolIn, services: ServicesDep,
                   user: Admin) -> PersonOut:
    """Move someone to another school (and so its family); their sessions end."""
    return _change(services, user, user_id, "school", body.school)


@api.post("/people/{user_id:int}/disable", response_model=PersonOut)
def api_disable(user_id: int, services: ServicesDep, user: Admin) -> PersonOut:
    """Stop someone signing in (every session ends; nothing is deleted; not yourself)."""
    return _change(services, user, user_id, "disable")


@api.post("/people/{user_id:int}/enable", response_model=PersonOut)
def api_enable(user_id: int, services: ServicesDep, user: Admin) -> PersonOut:
    """Let a disabled person sign in again."""
    return _change(services, user, user_id, "enable")


@api.get("/audit", response_model=AuditPageOut)
def api_audit(services: ServicesDep, user: Admin,
              actor: Annotated[str, Query(max_length=200, description="who (exactly)")] = "",
              action: Annotated[str, Query(max_length=200, description="the start of an "
                                           "action, e.g. user.")] = "",
              target: Annotated[str, Query(max_length=200, description="the start of a "
                                           "target, e.g. practice:SLUG")] = "",
              page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> AuditPageOut:
    """The audit log, newest first, filtered and 50 a page."""
    return audit_page_out(read_log(services.state, actor=actor, action=action, target=target,
                                   page=page))


router = APIRouter()
router.include_router(pages)
router.include_router(api)

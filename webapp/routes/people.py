"""Web administration for admins: find people, change their role and school, disable and
enable them, and read the audit log, through the same functions as `kb user` and `kb audit`."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.errors import BadInputError, ConflictError, NotFoundError
from kb.state import accounts
from kb.state.accounts import ROLES, User
from services.administration import read_log
from webapp.deps import PostedForm, ServicesDep, TemplatesDep, require_role

router = APIRouter(include_in_schema=False)
Admin = Annotated[User, Depends(require_role("admin"))]


def _people(request: Request, services: Any, templates: TemplatesDep, q: str,
            status: int = 200, **extra: Any) -> Response:
    context = {"people": accounts.find_users(services.state, q), "q": q, "roles": ROLES,
               "schools": sorted(services.directory.schools.values(), key=lambda s: s.name),
               "directory": services.directory, "error": "", "done": ""}
    context.update(extra)
    return templates.TemplateResponse(request, "people.html", context, status_code=status)


@router.get("/admin/people", response_class=HTMLResponse)
def people_page(request: Request, services: ServicesDep, templates: TemplatesDep, user: Admin,
                q: Annotated[str, Query(max_length=100)] = "",
                done: Annotated[str, Query(max_length=200)] = "") -> Response:
    return _people(request, services, templates, q, done=done)


@router.post("/admin/people", response_class=HTMLResponse)
def change_person(request: Request, services: ServicesDep, templates: TemplatesDep,
                  user: Admin, form: PostedForm) -> Response:
    email = str(form.get("email", ""))[:254]
    action = str(form.get("action", ""))
    q = str(form.get("q", ""))[:100]
    try:
        person = accounts.get_user(services.state, email)
        if person.id == user.id and action in ("role", "disable"):
            raise BadInputError("you cannot change your own role or disable yourself here; "
                                "ask another admin (so nobody locks the site out)")
        if action == "role":
            accounts.set_role(services.state, email, str(form.get("role", "")), user.email)
        elif action == "school":
            accounts.set_school(services.state, services.directory, email,
                                str(form.get("school", ""))[:120], user.email)
        elif action in ("disable", "enable"):
            accounts.set_disabled(services.state, email, action == "disable", user.email)
        else:
            raise BadInputError(f"action: {action[:40]!r} is not role, school, disable or "
                                "enable")
    except (BadInputError, NotFoundError, ConflictError) as exc:
        return _people(request, services, templates, q, status=422,
                       error=f"{email}: {exc}")
    return RedirectResponse(f"/admin/people?q={quote(q)}&done={quote(f'Saved {email}')}",
                            status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, services: ServicesDep, templates: TemplatesDep, user: Admin,
               actor: Annotated[str, Query(max_length=200)] = "",
               action: Annotated[str, Query(max_length=200)] = "",
               target: Annotated[str, Query(max_length=200)] = "",
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    log = read_log(services.state, actor=actor, action=action, target=target, page=page)
    filters = {"actor": actor, "action": action, "target": target}
    return templates.TemplateResponse(request, "audit.html", {"log": log, "filters": filters})

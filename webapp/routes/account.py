"""The account page: name, password change (the current one required), which optional
e-mails to get, and "sign out everywhere"; and its JSON twin under /api (read the account,
change the name and the e-mail choices)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.errors import AuthenticationError, BadInputError
from kb.mail.notices import OPTIONAL
from kb.state import accounts, follows
from kb.state.accounts import User
from services.digest import describe, search_link
from webapp.deps import PostedForm, ServicesDep, SignedIn, TemplatesDep
from webapp.people_schemas import (
    AccountOut,
    FollowOut,
    NameIn,
    NotificationChoice,
    NotificationsIn,
)
from webapp.security import session_cookie

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["accounts"])
DONE = {"name": "Your name is saved.", "password": "Your password is changed; every other "
        "sign-in of your account has ended.", "mail": "Your e-mail choices are saved."}


def _page(request: Request, services: Any, templates: TemplatesDep, user: User,
          status: int = 200, **extra: Any) -> Response:
    followed = [(f, describe(f, services.taxonomy, services.directory),
                 search_link("", f)) for f in follows.follows_of(services.state, user)]
    context = {"account": user, "choices": OPTIONAL, "follows": followed,
               "off": accounts.mail_opt_out(services.state, user),
               "school": services.directory.schools.get(user.school), "errors": {},
               "done": ""}
    context.update(extra)
    return templates.TemplateResponse(request, "account.html", context, status_code=status)


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                 user: SignedIn, done: str = "") -> Response:
    return _page(request, services, templates, user, done=DONE.get(done, ""))


@pages.post("/account/name", response_class=HTMLResponse)
def change_name(request: Request, services: ServicesDep, templates: TemplatesDep,
                user: SignedIn, form: PostedForm) -> Response:
    try:
        accounts.set_name(services.state, user, str(form.get("name", ""))[:500])
    except BadInputError as exc:
        return _page(request, services, templates, user, 422, errors={"name": str(exc)})
    return RedirectResponse("/account?done=name", status_code=303)


@pages.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, services: ServicesDep, templates: TemplatesDep,
                    user: SignedIn, form: PostedForm) -> Response:
    new, confirm = str(form.get("new", ""))[:1100], str(form.get("confirm", ""))[:1100]
    try:
        if new != confirm:
            raise BadInputError("new password: the two new passwords are not the same")
        accounts.change_password(services.state, user, str(form.get("current", ""))[:1100],
                                 new, keep_session=request.state.session_token)
    except (BadInputError, AuthenticationError) as exc:
        return _page(request, services, templates, user, 422, errors={"password": str(exc)})
    return RedirectResponse("/account?done=password", status_code=303)


@pages.post("/account/notifications", response_class=HTMLResponse)
def change_notifications(request: Request, services: ServicesDep, user: SignedIn,
                         form: PostedForm) -> Response:
    wanted = {str(v) for v in form.getlist("on")}
    accounts.set_mail_opt_out(services.state, user, set(OPTIONAL) - wanted, set(OPTIONAL))
    return RedirectResponse("/account?done=mail", status_code=303)


@pages.post("/account/sign-out-everywhere")
def sign_out_everywhere(request: Request, services: ServicesDep, user: SignedIn) -> Response:
    accounts.end_all_sessions(services.state, user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(session_cookie(request), path="/")
    return response


# -- the JSON twin ------------------------------------------------------------------------

def account_out(services: Any, user: User) -> AccountOut:
    off = accounts.mail_opt_out(services.state, user)
    return AccountOut(
        email=user.email, name=user.name, role=user.role, school=user.school,
        family=user.family,
        notifications=[NotificationChoice(kind=kind, label=label, on=kind not in off)
                       for kind, label in OPTIONAL.items()],
        follows=[FollowOut(id=f.id, description=describe(f, services.taxonomy,
                                                         services.directory),
                           search_url=search_link("", f))
                 for f in follows.follows_of(services.state, user)])


@api.get("/account", response_model=AccountOut)
def api_account(services: ServicesDep, user: SignedIn) -> AccountOut:
    """Your account: name, role, school, the optional e-mails you get, the searches you
    follow."""
    return account_out(services, user)


@api.post("/account/name", response_model=AccountOut)
def api_change_name(body: NameIn, services: ServicesDep, user: SignedIn) -> AccountOut:
    """Change the name shown on pages."""
    return account_out(services, accounts.set_name(services.state, user, body.name))


@api.put("/account/notifications", response_model=AccountOut)
def api_change_notifications(body: NotificationsIn, services: ServicesDep,
                             user: SignedIn) -> AccountOut:
    """Choose the optional e-mails to get: those listed are on, the others off."""
    unknown = sorted(set(body.on) - set(OPTIONAL))
    if unknown:
        raise BadInputError(f"on: {unknown[0][:40]!r} is not a kind of e-mail; the kinds are "
                            f"{', '.join(OPTIONAL)}")
    accounts.set_mail_opt_out(services.state, user, set(OPTIONAL) - set(body.on),
                              set(OPTIONAL))
    return account_out(services, user)


router = APIRouter()
router.include_router(pages)
router.include_router(api)

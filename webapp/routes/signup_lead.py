"""The CPD lead's side of sign-up: open, close and set the deadline, see the fill of every
session, move a teacher; and each session's register (page and CSV) for its facilitators."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kb.errors import NotFoundError, PermissionDeniedError
from kb.state.accounts import User, get_user
from kb.workflows import attendance, signup
from webapp.deps import CurationDep, Curator, PostedForm, ServicesDep, SignedIn, TemplatesDep
from webapp.handouts import download, standalone_pdf
from webapp.signup_schemas import (
    ChoiceOut,
    MoveIn,
    PlacesOut,
    WindowIn,
    WindowOut,
    choice_of,
    places_of,
    titles_of,
    window_of,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["sign-up"])


@pages.get("/programmes/{slug}/signups", response_class=HTMLResponse)
def manage_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: Curator, moved: str = "") -> Response:
    programme = curation.programme(slug)
    return templates.TemplateResponse(request, "signup_manage.html", {
        "programme": programme, "window": signup.window(services.state, slug),
        "places": places_of(programme, attendance.fills(services.state, programme),
                            titles_of(curation)),
        "moved": moved[:200]})


@pages.post("/programmes/{slug}/signups/window")
def window_post(slug: str, services: ServicesDep, curation: CurationDep, user: Curator,
                form: PostedForm) -> Response:
    programme = curation.programme(slug)
    signup.set_window(services.state, user, programme, str(form.get("status", ""))[:10],
                      str(form.get("deadline", ""))[:30])
    return RedirectResponse(f"/programmes/{quote(slug)}/signups", status_code=303)


@pages.post("/programmes/{slug}/signups/move")
def move_post(slug: str, services: ServicesDep, curation: CurationDep, user: Curator,
              form: PostedForm) -> Response:
    programme = curation.programme(slug)
    teacher = get_user(services.state, str(form.get("email", ""))[:320])
    slot, _, strand = str(form.get("session", ""))[:100].partition("|")
    choice = signup.choose(services.state, teacher, programme, slot, strand, by=user)
    note = quote(f"{teacher.name} now has a place in {choice.strand} at {choice.slot}")
    return RedirectResponse(f"/programmes/{quote(slug)}/signups?moved={note}", status_code=303)


def _register(services: ServicesDep, curation: CurationDep, user: User, slug: str, slot: str,
              strand: str):  # type: ignore[no-untyped-def]
    programme = curation.programme(slug)
    slot_obj, session = signup.find_session(programme, slot, strand)
    if not (user.has_role("curator") or signup.facilitates(user, session)):
        raise PermissionDeniedError("the register is for the session's facilitators and "
                                    "the CPD lead")
    people = attendance.roster(services.state, slug, slot, strand)
    return programme, slot_obj, session, people


@pages.get("/programmes/{slug}/register", response_class=HTMLResponse)
def register_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                  curation: CurationDep, user: SignedIn, slot: str = "",
                  strand: str = "") -> Response:
    programme, slot_obj, session, people = _register(services, curation, user, slug,
                                                     slot[:10], strand[:80])
    return templates.TemplateResponse(request, "register.html", {
        "programme": programme, "slot": slot_obj, "session": session, "people": people,
        "title": session.title or titles_of(curation).get(session.collection, strand)})


@pages.get("/programmes/{slug}/register.pdf")
def register_pdf(slug: str, services: ServicesDep, templates: TemplatesDep,
                 curation: CurationDep, user: SignedIn, slot: str = "",
                 strand: str = "") -> Response:
    programme, slot_obj, session, people = _register(services, curation, user, slug,
                                                     slot[:10], strand[:80])
    data = standalone_pdf(templates.env, "register_document.html", {
        "programme": programme, "slot": slot_obj, "session": session, "people": people,
        "title": session.title or titles_of(curation).get(session.collection, strand)})
    name = f"{slug}-{slot_obj.start.replace(':', '')}-{session.strand}-register.pdf"
    return download(data, "pdf", name)


@pages.get("/programmes/{slug}/register.csv")
def register_csv(slug: str, services: ServicesDep, curation: CurationDep, user: SignedIn,
                 slot: str = "", strand: str = "") -> Response:
    _, slot_obj, session, people = _register(services, curation, user, slug, slot[:10],
                                             strand[:80])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "school", "status", "queue", "present"])
    for p in people:
        # A leading =, +, - or @ would be read as a formula by spreadsheets.
        writer.writerow([_cell(p.name), p.email, _cell(p.school), p.status,
                         p.position or "", ""])
    name = f"{slug}-{slot_obj.start.replace(':', '')}-{session.strand}-register.csv"
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@api.get("/programmes/{slug}/places", response_model=list[PlacesOut])
def api_places(slug: str, services: ServicesDep, curation: CurationDep) -> list[PlacesOut]:
    """Places taken, left and queueing in every session of the day (no sign-in needed)."""
    programme = curation.programme(slug)
    return places_of(programme, attendance.fills(services.state, programme),
                     titles_of(curation))


@api.post("/programmes/{slug}/signups/window", response_model=WindowOut)
def api_window(slug: str, body: WindowIn, services: ServicesDep, curation: CurationDep,
               user: Curator) -> WindowOut:
    """Open or close sign-up, with an optional deadline for changes (CPD leads)."""
    programme = curation.programme(slug)
    return window_of(signup.set_window(services.state, user, programme, body.status,
                                       body.deadline))


@api.post("/programmes/{slug}/signups/move", response_model=ChoiceOut)
def api_move(slug: str, body: MoveIn, services: ServicesDep, curation: CurationDep,
             user: Curator) -> ChoiceOut:
    """Give a teacher a place in a session, open or closed (CPD leads); 409 if it is full."""
    programme = curation.programme(slug)
    try:
        teacher = get_user(services.state, body.email)
    except NotFoundError:
        raise NotFoundError(f"email: there is no account {body.email[:80]!r}") from None
    return choice_of(signup.choose(services.state, teacher, programme, body.slot, body.strand,
                                   by=user))


router = APIRouter()
router.include_router(pages)
router.include_router(api)

"""Teachers signing up for an inset day: choose one session per slot, join a waiting list,
change or cancel; their own day as a print view and an .ics file; JSON twins under /api."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kb.curation.personal_day import day_calendar, personal_day
from kb.curation.programme import Programme
from kb.state.accounts import User
from kb.workflows import attendance, signup
from kb.workflows.signup_day import Wish, choose_day
from services.runtime import Services
from webapp.context import site_url
from webapp.deps import CurationDep, PostedForm, ServicesDep, SignedIn, TemplatesDep
from webapp.signup_schemas import (
    CancelIn,
    CancelOut,
    ChoiceIn,
    ChoiceOut,
    DayIn,
    SignupOut,
    SlotAnswerOut,
    choice_of,
    mine_of,
    places_of,
    titles_of,
    window_of,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["sign-up"])
NOTICES = {"placed": "You have a place.", "repeat": "You already had that place.",
           "waiting": "You are on the waiting list; you will get the place automatically "
                      "when someone cancels.",
           "cancelled": "Done: that is no longer on your day.", "nothing": "Nothing to cancel."}


def day_items(services: Services, programme: Programme, user: User) -> list:  # type: ignore[type-arg]
    day = attendance.day_of(services.state, user.id, programme.slug)
    return personal_day(programme, {s: e.placed for s, e in day.items() if e.placed},
                        {s: (e.waiting, e.position) for s, e in day.items() if e.waiting})


@pages.get("/programmes/{slug}/signup", response_class=HTMLResponse)
def signup_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: SignedIn, notice: str = "") -> Response:
    programme = curation.programme(slug)
    window = signup.window(services.state, slug)
    return templates.TemplateResponse(request, "signup.html", {
        "programme": programme, "window": window, "accepting": window.accepting(),
        "why_not": "" if window.accepting() else window.why_not(),
        "fills": attendance.fills(services.state, programme),
        "mine": attendance.day_of(services.state, user.id, slug),
        "titles": titles_of(curation), "notice": NOTICES.get(notice, ""),
        "leading": {slot.start: signup.leads_in(user, slot) for slot in programme.slots}})


@pages.post("/programmes/{slug}/signup")
def signup_post(slug: str, services: ServicesDep, curation: CurationDep, user: SignedIn,
                form: PostedForm) -> Response:
    programme = curation.programme(slug)
    choice = signup.choose(services.state, user, programme, str(form.get("slot", ""))[:10],
                           str(form.get("strand", ""))[:80],
                           waitlist=str(form.get("waitlist", "")) == "yes")
    notice = "repeat" if choice.repeat and choice.status == "placed" else choice.status
    return RedirectResponse(f"/programmes/{quote(slug)}/signup?notice={notice}#slot-"
                            f"{choice.slot.replace(':', '')}", status_code=303)


@pages.post("/programmes/{slug}/signup/cancel")
def cancel_post(slug: str, services: ServicesDep, curation: CurationDep, user: SignedIn,
                form: PostedForm) -> Response:
    programme = curation.programme(slug)
    removed = signup.cancel(services.state, user, programme, str(form.get("slot", ""))[:10],
                            str(form.get("status", "placed"))[:10])
    notice = "cancelled" if removed else "nothing"
    return RedirectResponse(f"/programmes/{quote(slug)}/signup?notice={notice}",
                            status_code=303)


@pages.get("/programmes/{slug}/my-day", response_class=HTMLResponse)
def my_day_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: SignedIn) -> Response:
    programme = curation.programme(slug)
    return templates.TemplateResponse(request, "my_day.html", {
        "programme": programme, "items": day_items(services, programme, user),
        "titles": titles_of(curation), "owner": user.name})


@pages.get("/programmes/{slug}/my-day.ics")
def my_day_ics(slug: str, request: Request, services: ServicesDep, curation: CurationDep,
               user: SignedIn) -> Response:
    programme = curation.programme(slug)
    data = day_calendar(programme, day_items(services, programme, user), user.name,
                        site_url(request, services), titles_of(curation))
    return Response(data, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{slug}-my-day.ics"'})


@api.get("/programmes/{slug}/signup", response_model=SignupOut)
def api_signup(slug: str, services: ServicesDep, curation: CurationDep,
               user: SignedIn) -> SignupOut:
    """The sign-up window, places left in every session and your own choices."""
    programme = curation.programme(slug)
    return SignupOut(
        window=window_of(signup.window(services.state, slug)),
        sessions=places_of(programme, attendance.fills(services.state, programme),
                           titles_of(curation)),
        mine=mine_of(attendance.day_of(services.state, user.id, slug)))


@api.post("/programmes/{slug}/signup", response_model=ChoiceOut)
def api_choose(slug: str, body: ChoiceIn, services: ServicesDep, curation: CurationDep,
               user: SignedIn) -> ChoiceOut:
    """Take a place in one session of a slot (giving up your other place in that slot);
    409 if sign-up is closed or the session is full (send waitlist=true to queue)."""
    programme = curation.programme(slug)
    return choice_of(signup.choose(services.state, user, programme, body.slot, body.strand,
                                   waitlist=body.waitlist))


@api.post("/programmes/{slug}/signup/day", response_model=list[SlotAnswerOut])
def api_choose_day(slug: str, body: DayIn, services: ServicesDep, curation: CurationDep,
                   user: SignedIn) -> list[SlotAnswerOut]:
    """Choose several slots at once, each with sessions in order of preference: the first
    with a place is taken, and a full favourite is queued for (unless waitlist is false).
    All in one transaction; 409 if sign-up is closed."""
    programme = curation.programme(slug)
    answers = choose_day(services.state, user, programme, [
        Wish(w.slot[:10], tuple(s[:80] for s in w.strands), w.waitlist) for w in body.wishes])
    return [SlotAnswerOut(slot=a.slot, placed=a.placed, waiting=a.waiting,
                          position=a.position, message=a.message) for a in answers]


@api.post("/programmes/{slug}/signup/cancel", response_model=CancelOut)
def api_cancel(slug: str, body: CancelIn, services: ServicesDep, curation: CurationDep,
               user: SignedIn) -> CancelOut:
    """Give up your place in a slot (the first in line gets it) or leave its waiting list."""
    programme = curation.programme(slug)
    return CancelOut(removed=signup.cancel(services.state, user, programme, body.slot,
                                           body.status))


router = APIRouter()
router.include_router(pages)
router.include_router(api)

"""After the inset day: attendees rate their sessions and say what they will try; the CPD
lead's report of fill and feedback per session and strand (table and SVG chart); JSON twins."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kb.workflows import attendance, feedback
from webapp.deps import CurationDep, Curator, PostedForm, ServicesDep, SignedIn, TemplatesDep
from webapp.signup_schemas import (
    FeedbackIn,
    ReportOut,
    SessionReportOut,
    StrandReportOut,
    titles_of,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["sign-up"])
BAR_W, ROW_H = 360, 22  # the chart: one bar per session, scaled to 100% full


@pages.get("/programmes/{slug}/feedback", response_class=HTMLResponse)
def feedback_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                  curation: CurationDep, user: SignedIn, saved: str = "") -> Response:
    programme = curation.programme(slug)
    day = attendance.day_of(services.state, user.id, slug)
    attended = [(slot, s) for slot, s in programme.sessions()
                if day.get(slot.start, attendance.MyEntry()).placed == s.strand]
    return templates.TemplateResponse(request, "feedback.html", {
        "programme": programme, "attended": attended, "titles": titles_of(curation),
        "given": feedback.mine(services.state, user.id, slug), "saved": bool(saved)})


@pages.post("/programmes/{slug}/feedback")
def feedback_post(slug: str, services: ServicesDep, curation: CurationDep, user: SignedIn,
                  form: PostedForm) -> Response:
    programme = curation.programme(slug)
    feedback.give(services.state, user, programme, str(form.get("slot", ""))[:10],
                  str(form.get("strand", ""))[:80], str(form.get("rating", ""))[:10],
                  str(form.get("will_try", ""))[:feedback.MAX_TRY + 10])
    return RedirectResponse(f"/programmes/{quote(slug)}/feedback?saved=1", status_code=303)


@pages.get("/programmes/{slug}/report", response_class=HTMLResponse)
def report_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: Curator) -> Response:
    programme = curation.programme(slug)
    sessions, strands = feedback.report(services.state, programme, titles_of(curation))
    return templates.TemplateResponse(request, "programme_report.html", {
        "programme": programme, "sessions": sessions, "strands": strands,
        "bar_w": BAR_W, "row_h": ROW_H,
        "bars": [(s, round(BAR_W * min(s.fill_percent or 0, 100) / 100)) for s in sessions]})


@api.post("/programmes/{slug}/feedback", status_code=204)
def api_feedback(slug: str, body: FeedbackIn, services: ServicesDep, curation: CurationDep,
                 user: SignedIn) -> Response:
    """Rate a session you had a place in (from the day itself); sending again changes it."""
    feedback.give(services.state, user, curation.programme(slug), body.slot, body.strand,
                  body.rating, body.will_try)
    return Response(status_code=204)


@api.get("/programmes/{slug}/report", response_model=ReportOut)
def api_report(slug: str, services: ServicesDep, curation: CurationDep,
               user: Curator) -> ReportOut:
    """Fill and feedback per session and per strand (CPD leads)."""
    sessions, strands = feedback.report(services.state, curation.programme(slug),
                                        titles_of(curation))
    return ReportOut(
        sessions=[SessionReportOut(slot=s.slot, strand=s.strand, title=s.title,
                                   capacity=s.capacity, placed=s.placed, waiting=s.waiting,
                                   fill_percent=s.fill_percent, responses=s.responses,
                                   mean_rating=s.mean_rating, will_try=list(s.tries))
                  for s in sessions],
        strands=[StrandReportOut(strand=t.strand, title=t.title, sessions=t.sessions,
                                 placed=t.placed, capacity=t.capacity, responses=t.responses,
                                 mean_rating=t.mean_rating) for t in strands])


router = APIRouter()
router.include_router(pages)
router.include_router(api)

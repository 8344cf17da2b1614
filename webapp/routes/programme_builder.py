"""Building an inset-day programme on the web (curators): a new draft, then one small form
each for the details, a room, a strand, a time slot and a session, remove buttons, publish;
every change checked by the programme validator and saved as a revision of the file."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from kb.content.authoring import slug_from_title
from kb.curation.catalogue import Curation
from kb.curation.programme import Programme
from kb.curation.programme_editing import (
    Operation,
    PreparedEdit,
    ProgrammeEditor,
    ProgrammeRefused,
    put_room,
    put_session,
    put_slot,
    put_strand,
    remove_room,
    remove_session,
    remove_slot,
    remove_strand,
    set_details,
    set_status,
)
from kb.errors import KBError, NotFoundError
from kb.state.accounts import User
from kb.workflows import attendance, signup
from services.programme_building import change_programme, revisions_of
from services.runtime import Services
from webapp.deps import CurationDep, Curator, PostedForm, ServicesDep, TemplatesDep
from webapp.plain_words import plain_message

router = APIRouter(include_in_schema=False)
LINE_NOTE = re.compile(r"\s*\(line \d+\)")
# The validator's wording for an empty or malformed field, said as what to do instead.
HINTS = {
    "title": "Enter a title", "venue": "Enter the venue", "summary": "Enter a short summary",
    "date": "Enter the date of the day, for example 2026-10-16",
    "name": "Enter the room's name", "time": "Enter the time like 09:50-10:50",
    "capacity": "Enter the number of seats as a whole number, or leave it empty",
    "collection": "Choose the collection the session teaches", "strand": "Choose a strand",
    "room": "Choose a room", "rooms": "Add at least one room before publishing",
    "strands": "Add at least one strand before publishing",
    "slots": "Add the day's time slots and place at least one session before publishing",
}
_UNCLEAR = re.compile(r"must be|missing required|got nothing|is not a time|no sessions",
                      re.IGNORECASE)
DONE = {"created": "Programme created as a draft. Add its rooms, strands and time slots, "
                   "then place sessions and publish it.",
        "details": "Details saved.", "room": "Room saved.", "room-removed": "Room removed.",
        "strand": "Strand saved.", "strand-removed": "Strand removed.", "slot": "Slot saved.",
        "slot-removed": "Slot removed.", "session": "Session saved.",
        "session-removed": "Session removed.", "status": "Status changed."}


SECTIONS = {"room-removed": "rooms", "strand-removed": "strands", "slot-removed": "slots",
            "session-removed": "slots", "status": "status"}


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    return str(form.get(name, ""))[:limit]


def field_errors(exc: KBError) -> dict[str, str]:
    """Problems keyed by form field ('capacity', 'room', 'time' ...), in plain words."""
    if not isinstance(exc, ProgrammeRefused):
        return {"form": plain_message("", str(exc))}
    out: dict[str, str] = {}
    for problem in exc.problems:
        name, focus = problem.field, exc.focus
        if not focus:
            rest = name
        elif name.startswith(focus + ".") or name.startswith(focus + "["):
            rest = name[len(focus):].lstrip(".")
            rest = rest.split(".", 1)[1] if rest.startswith("[") and "." in rest else rest
        else:
            rest = "form"
        key = re.split(r"[.\[]", rest)[0] or "form"
        message = LINE_NOTE.sub("", problem.message)
        if key in HINTS and _UNCLEAR.search(message):
            message = HINTS[key]
        out.setdefault(key, plain_message(key, message))
    return out


def _draft_or_published(curation: Curation, slug: str) -> Programme:
    return curation.programme(slug, include_drafts=True)


def _save(services: Services, curation: Curation, user: User, slug: str, action: str,
          detail: str, prepare: Callable[[ProgrammeEditor], PreparedEdit],
          field: str = "form") -> PreparedEdit:
    return change_programme(services, curation, user, slug, action, detail, prepare, field)


# -- a new programme -----------------------------------------------------------------------

@router.get("/programmes/new", response_class=HTMLResponse)
def new_page(request: Request, templates: TemplatesDep, user: Curator) -> Response:
    return templates.TemplateResponse(request, "programme_part.html", {
        "kind": "new", "heading": heading_of("new", False), "programme": None,
        "values": {"organiser": ""}, "errors": {}})


@router.post("/programmes/new", response_class=HTMLResponse)
def new_post(request: Request, services: ServicesDep, templates: TemplatesDep,
             curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    values = {k: _text(form, k, 400) for k in ("title", "date", "venue", "organiser", "slug")}
    values["summary"] = _text(form, "summary")
    slug = values["slug"].strip() or slug_from_title(values["title"])
    errors: dict[str, str] = {}
    if not slug:
        errors["slug"] = ("Enter a web address for the programme, in lower-case letters, "
                          "digits and hyphens, or a title to make it from")
    else:
        try:
            _save(services, curation, user, slug, "create", values["title"][:200],
                  lambda e: e.prepare_new(slug, values["title"], values["date"],
                                          values["venue"], values["organiser"],
                                          values["summary"]))
        except KBError as exc:
            errors = field_errors(exc)
            if "slug" in str(exc) and "form" in errors:
                errors = {"slug": errors["form"]}
    if errors:
        return templates.TemplateResponse(request, "programme_part.html", {
            "kind": "new", "heading": heading_of("new", False), "programme": None,
            "values": values, "errors": errors}, status_code=422)
    return RedirectResponse(f"/programmes/{slug}/edit?done=created", status_code=303)


# -- the builder's overview ----------------------------------------------------------------

def _overview(request: Request, services: Services, templates: Any, curation: Curation,
              slug: str, status: int = 200, **extra: Any) -> Response:
    programme = _draft_or_published(curation, slug)
    window = signup.window(services.state, slug)
    fills = attendance.fills(services.state, programme) if programme.status == "published" \
        else {}
    return templates.TemplateResponse(request, "programme_build.html", {
        "programme": programme, "window": window, "fills": fills,
        "collections": curation.collections,
        "warnings": [p for p in curation.problems if p.path == programme.path],
        "history": revisions_of(services, slug)[:30], "errors": {}, "message": "",
        **extra}, status_code=status)


@router.get("/programmes/{slug}/edit", response_class=HTMLResponse)
def build_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
               curation: CurationDep, user: Curator, done: str = "") -> Response:
    return _overview(request, services, templates, curation, slug, message=DONE.get(done, ""))


def _apply_from_overview(request: Request, services: Services, templates: Any,
                         curation: Curation, user: User, slug: str, action: str, detail: str,
                         operation: Operation) -> Response:
    """Removals and the status: refused changes come back to the overview, explained."""
    _draft_or_published(curation, slug)
    try:
        _save(services, curation, user, slug, action, detail,
              lambda e: e.prepare(slug, operation))
    except NotFoundError:
        raise
    except KBError as exc:
        errors = field_errors(exc)
        # each problem links to the section it is about
        section = SECTIONS.get(action, "status")
        placed: dict[str, str] = {}
        for key, message in errors.items():
            key = key if key in ("rooms", "strands", "slots") else section
            placed[key] = f"{placed[key]} {message}" if key in placed else message
        errors = placed
        return _overview(request, services, templates, curation, slug, status=422,
                         errors=errors)
    return RedirectResponse(f"/programmes/{slug}/edit?done={action}", status_code=303)


@router.post("/programmes/{slug}/edit/status", response_class=HTMLResponse)
def status_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    status = _text(form, "status", 20)
    return _apply_from_overview(request, services, templates, curation, user, slug, "status",
                                status, set_status(status))


# -- one form per part ---------------------------------------------------------------------

def heading_of(kind: str, changing: bool) -> str:
    """The page's heading: 'Add a room', 'Change the room' ..."""
    if kind == "new":
        return "New programme"
    if kind == "details":
        return "Change the details"
    what = {"room": "room", "strand": "strand", "slot": "time slot", "session": "session"}[kind]
    if changing:
        return f"Change the {what}"
    return "Place a session" if kind == "session" else f"Add a {what}"


def _part(request: Request, services: Services, templates: Any, curation: Curation,
          slug: str, kind: str, values: dict[str, Any], status: int = 200,
          errors: dict[str, str] | None = None, **extra: Any) -> Response:
    programme = _draft_or_published(curation, slug)
    parts = {"room": "", "strand": "", "start": "", **extra}
    changing = bool(parts["room"] or parts["strand"] if kind != "slot" else parts["start"])
    return templates.TemplateResponse(request, "programme_part.html", {
        **parts, "heading": heading_of(kind, changing),
        "kind": kind, "programme": programme, "values": values, "errors": errors or {},
        "subject_terms": services.taxonomy.for_field("subjects").terms,
        "collections": curation.published_collections()}, status_code=status)


def _apply_part(request: Request, services: Services, templates: Any, curation: Curation,
                user: User, slug: str, kind: str, action: str, detail: str,
                operation: Operation, values: dict[str, Any], field: str,
                **extra: Any) -> Response:
    """Apply one form's change; on refusal show the same form with the problems beside
    their fields and the values as posted (PRG on success)."""
    _draft_or_published(curation, slug)
    try:
        _save(services, curation, user, slug, action, detail,
              lambda e: e.prepare(slug, operation), field)
    except NotFoundError:
        raise
    except KBError as exc:
        return _part(request, services, templates, curation, slug, kind, values, 422,
                     field_errors(exc), **extra)
    return RedirectResponse(f"/programmes/{slug}/edit?done={action}", status_code=303)


@router.get("/programmes/{slug}/edit/details", response_class=HTMLResponse)
def details_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                 curation: CurationDep, user: Curator) -> Response:
    p = _draft_or_published(curation, slug)
    return _part(request, services, templates, curation, slug, "details", {
        "title": p.title, "date": p.date.isoformat(), "venue": p.venue,
        "organiser": p.organiser, "summary": p.summary})


@router.post("/programmes/{slug}/edit/details", response_class=HTMLResponse)
def details_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                 curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    values = {k: _text(form, k, 400) for k in ("title", "date", "venue", "organiser")}
    values["summary"] = _text(form, "summary")
    return _apply_part(request, services, templates, curation, user, slug, "details",
                       "details", values["title"][:200], set_details(**values), values, "title")


# rooms ---------------------------------------------------------------------------------------

@router.get("/programmes/{slug}/edit/rooms/{room:part}", response_class=HTMLResponse)
@router.get("/programmes/{slug}/edit/rooms/new", response_class=HTMLResponse)
def room_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Curator, room: str = "") -> Response:
    values: dict[str, Any] = {"id": "", "name": "", "capacity": ""}
    if room:
        found = _draft_or_published(curation, slug).rooms.get(room)
        if found is None:
            raise NotFoundError(f"there is no room {room[:40]!r} in this programme")
        values = {"id": room, "name": found.name, "capacity": found.capacity or ""}
    return _part(request, services, templates, curation, slug, "room", values, room=room)


@router.post("/programmes/{slug}/edit/rooms/{room:part}", response_class=HTMLResponse)
@router.post("/programmes/{slug}/edit/rooms/new", response_class=HTMLResponse)
def room_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Curator, form: PostedForm,
              room: str = "") -> Response:
    values = {"id": room or _text(form, "id", 60), "name": _text(form, "name", 200),
              "capacity": _text(form, "capacity", 12)}
    return _apply_part(request, services, templates, curation, user, slug, "room", "room",
                       f"room {values['id'] or values['name']}: {values['capacity'] or 'no'} "
                       "seats", put_room(room or None, values["name"], values["capacity"],
                                         values["id"]), values, "capacity", room=room)


@router.post("/programmes/{slug}/edit/rooms/{room:part}/remove", response_class=HTMLResponse)
def room_remove(slug: str, room: str, request: Request, services: ServicesDep,
                templates: TemplatesDep, curation: CurationDep, user: Curator) -> Response:
    return _apply_from_overview(request, services, templates, curation, user, slug,
                                "room-removed", f"removed room {room}", remove_room(room))


# strands -----------------------------------------------------------------------------------

@router.get("/programmes/{slug}/edit/strands/{strand:part}", response_class=HTMLResponse)
@router.get("/programmes/{slug}/edit/strands/new", response_class=HTMLResponse)
def strand_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: Curator, strand: str = "") -> Response:
    values: dict[str, Any] = {"id": "", "title": "", "subjects": [], "room": "",
                              "description": ""}
    if strand:
        found = next((s for s in _draft_or_published(curation, slug).strands
                      if s.id == strand), None)
        if found is None:
            raise NotFoundError(f"there is no strand {strand[:40]!r} in this programme")
        values = {"id": strand, "title": found.title, "subjects": list(found.subjects),
                  "room": found.room, "description": found.description}
    return _part(request, services, templates, curation, slug, "strand", values,
                 strand=strand)


@router.post("/programmes/{slug}/edit/strands/{strand:part}", response_class=HTMLResponse)
@router.post("/programmes/{slug}/edit/strands/new", response_class=HTMLResponse)
def strand_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: Curator, form: PostedForm,
                strand: str = "") -> Response:
    values: dict[str, Any] = {
        "id": strand or _text(form, "id", 60), "title": _text(form, "title", 200),
        "subjects": [str(v)[:60] for v in form.getlist("subjects")][:20],
        "room": _text(form, "room", 60), "description": _text(form, "description")}
    return _apply_part(request, services, templates, curation, user, slug, "strand", "strand",
                       f"strand {values['id'] or values['title']}",
                       put_strand(strand or None, values["title"], values["subjects"],
                                  values["room"], values["description"], values["id"]),
                       values, "room", strand=strand)


@router.post("/programmes/{slug}/edit/strands/{strand:part}/remove",
             response_class=HTMLResponse)
def strand_remove(slug: str, strand: str, request: Request, services: ServicesDep,
                  templates: TemplatesDep, curation: CurationDep, user: Curator) -> Response:
    return _apply_from_overview(request, services, templates, curation, user, slug,
                                "strand-removed", f"removed strand {strand}",
                                remove_strand(strand))


# slots -------------------------------------------------------------------------------------

@router.get("/programmes/{slug}/edit/slots/{start:part}", response_class=HTMLResponse)
@router.get("/programmes/{slug}/edit/slots/new", response_class=HTMLResponse)
def slot_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Curator, start: str = "") -> Response:
    values: dict[str, Any] = {"time": "", "title": "", "room": ""}
    if start:
        found = next((s for s in _draft_or_published(curation, slug).slots
                      if s.start == start), None)
        if found is None:
            raise NotFoundError(f"there is no slot starting at {start[:10]!r}")
        values = {"time": f"{found.start}-{found.end}", "title": found.title,
                  "room": found.room}
    return _part(request, services, templates, curation, slug, "slot", values, start=start)


@router.post("/programmes/{slug}/edit/slots/{start:part}", response_class=HTMLResponse)
@router.post("/programmes/{slug}/edit/slots/new", response_class=HTMLResponse)
def slot_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Curator, form: PostedForm,
              start: str = "") -> Response:
    values = {"time": _text(form, "time", 40), "title": _text(form, "title", 300),
              "room": _text(form, "room", 60)}
    return _apply_part(request, services, templates, curation, user, slug, "slot", "slot",
                       f"slot {values['time']}" + (f" (was {start})" if start else ""),
                       put_slot(start or None, values["time"], values["title"],
                                values["room"]), values, "time", start=start)


@router.post("/programmes/{slug}/edit/slots/{start:part}/remove", response_class=HTMLResponse)
def slot_remove(slug: str, start: str, request: Request, services: ServicesDep,
                templates: TemplatesDep, curation: CurationDep, user: Curator) -> Response:
    return _apply_from_overview(request, services, templates, curation, user, slug,
                                "slot-removed", f"removed the slot at {start}",
                                remove_slot(start))


# sessions ----------------------------------------------------------------------------------

def _session_values(programme: Programme, start: str, strand: str) -> dict[str, Any]:
    slot = next((s for s in programme.slots if s.start == start), None)
    if slot is None:
        raise NotFoundError(f"there is no slot starting at {start[:10]!r}")
    values: dict[str, Any] = {"strand": "", "collection": "", "room": "", "facilitators": "",
                              "title": ""}
    if strand:
        session = slot.session_for(strand)
        if session is None:
            raise NotFoundError(f"there is no {strand[:40]!r} session at {start}")
        own_room = session.room if session.room != programme.strand(strand).room else ""
        values = {"strand": strand, "collection": session.collection, "room": own_room,
                  "facilitators": "\n".join(session.entries()), "title": session.title}
    return values


@router.get("/programmes/{slug}/edit/slots/{start:part}/sessions/{strand:part}",
            response_class=HTMLResponse)
@router.get("/programmes/{slug}/edit/slots/{start:part}/sessions/new",
            response_class=HTMLResponse)
def session_page(slug: str, start: str, request: Request, services: ServicesDep,
                 templates: TemplatesDep, curation: CurationDep, user: Curator,
                 strand: str = "") -> Response:
    values = _session_values(_draft_or_published(curation, slug), start, strand)
    return _part(request, services, templates, curation, slug, "session", values,
                 start=start, strand=strand)


@router.post("/programmes/{slug}/edit/slots/{start:part}/sessions/{strand:part}",
             response_class=HTMLResponse)
@router.post("/programmes/{slug}/edit/slots/{start:part}/sessions/new",
             response_class=HTMLResponse)
def session_post(slug: str, start: str, request: Request, services: ServicesDep,
                 templates: TemplatesDep, curation: CurationDep, user: Curator,
                 form: PostedForm, strand: str = "") -> Response:
    values = {"strand": strand or _text(form, "strand", 60),
              "collection": _text(form, "collection", 100), "room": _text(form, "room", 60),
              "facilitators": _text(form, "facilitators", 2000),
              "title": _text(form, "title", 300)}
    people = [line for line in values["facilitators"].splitlines() if line.strip()][:12]
    return _apply_part(request, services, templates, curation, user, slug, "session",
                       "session", f"{values['strand']} session at {start}: "
                       f"{values['collection']}",
                       put_session(start, strand or None, values["collection"],
                                   values["room"], people, values["title"],
                                   new_strand=values["strand"]),
                       values, "room", start=start, strand=strand)


@router.post("/programmes/{slug}/edit/slots/{start:part}/sessions/{strand:part}/remove",
             response_class=HTMLResponse)
def session_remove(slug: str, start: str, strand: str, request: Request,
                   services: ServicesDep, templates: TemplatesDep, curation: CurationDep,
                   user: Curator) -> Response:
    return _apply_from_overview(request, services, templates, curation, user, slug,
                                "session-removed", f"removed the {strand} session at {start}",
                                remove_session(start, strand))


"""The shapes of the inset-day sign-up API: a choice in, places, a teacher's day, the
sign-up window, feedback and the CPD lead's report out."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kb.curation.catalogue import Curation
from kb.curation.programme import Programme
from kb.workflows.attendance import Fill, MyEntry
from kb.workflows.feedback import MAX_TRY
from kb.workflows.signup import Choice, Window
from webapp.schemas import BodyIn


class ChoiceIn(BodyIn):
    slot: str = Field(max_length=10, description="the slot's start time, e.g. 09:50")
    strand: str = Field(max_length=80, description="the strand id of the session")
    waitlist: bool = Field(False, description="join the waiting list if the session is full")


class WishIn(BodyIn):
    slot: str = Field(max_length=10, description="the slot's start time, e.g. 09:50")
    strands: list[str] = Field(max_length=10, description="sessions (strand ids), favourite "
                               "first; the first with a place is taken")
    waitlist: bool = Field(True, description="queue for the favourite if it is full")


class DayIn(BodyIn):
    wishes: list[WishIn] = Field(max_length=20)


class SlotAnswerOut(BaseModel):
    slot: str
    placed: str
    waiting: str
    position: int
    message: str


class CancelIn(BodyIn):
    slot: str = Field(max_length=10)
    status: str = Field("placed", max_length=10, description="'placed' or 'waiting'")


class WindowIn(BodyIn):
    status: str = Field(max_length=10, description="'open' or 'closed'")
    deadline: str = Field("", max_length=30, description="YYYY-MM-DDTHH:MM (UTC); '' = none")


class MoveIn(BodyIn):
    email: str = Field(max_length=320)
    slot: str = Field(max_length=10)
    strand: str = Field(max_length=80)


class ChoiceOut(BaseModel):
    slot: str
    strand: str
    status: str
    repeat: bool
    position: int
    left: str
    message: str


class CancelOut(BaseModel):
    removed: bool


class WindowOut(BaseModel):
    programme: str
    status: str
    deadline: str
    accepting: bool


class PlacesOut(BaseModel):
    slot: str
    strand: str
    title: str
    room: str
    capacity: int | None
    placed: int
    waiting: int
    left: int | None


class MineOut(BaseModel):
    slot: str
    placed: str
    waiting: str
    position: int


class SignupOut(BaseModel):
    window: WindowOut
    sessions: list[PlacesOut]
    mine: list[MineOut]


class FeedbackIn(BodyIn):
    slot: str = Field(max_length=10)
    strand: str = Field(max_length=80)
    rating: int = Field(ge=1, le=5, description="1 (not useful) to 5 (very useful)")
    will_try: str = Field("", max_length=MAX_TRY + 10)


class SessionReportOut(BaseModel):
    slot: str
    strand: str
    title: str
    capacity: int | None
    placed: int
    waiting: int
    fill_percent: int | None
    responses: int
    mean_rating: float | None
    will_try: list[str]


class StrandReportOut(BaseModel):
    strand: str
    title: str
    sessions: int
    placed: int
    capacity: int
    responses: int
    mean_rating: float | None


class ReportOut(BaseModel):
    sessions: list[SessionReportOut]
    strands: list[StrandReportOut]


def choice_of(choice: Choice) -> ChoiceOut:
    return ChoiceOut(slot=choice.slot, strand=choice.strand, status=choice.status,
                     repeat=choice.repeat, position=choice.position, left=choice.left,
                     message=choice.message)


def window_of(window: Window) -> WindowOut:
    return WindowOut(programme=window.programme, status=window.status,
                     deadline=window.deadline, accepting=window.accepting())


def places_of(programme: Programme, fills: dict[tuple[str, str], Fill],
              titles: dict[str, str]) -> list[PlacesOut]:
    out = []
    for slot, session in programme.sessions():
        fill = fills[(slot.start, session.strand)]
        out.append(PlacesOut(slot=slot.start, strand=session.strand,
                             title=session.title or titles.get(session.collection,
                                                               session.collection),
                             room=programme.room_name(session.room), capacity=fill.capacity,
                             placed=fill.placed, waiting=fill.waiting, left=fill.left))
    return out


def mine_of(day: dict[str, MyEntry]) -> list[MineOut]:
    return [MineOut(slot=slot, placed=e.placed, waiting=e.waiting, position=e.position)
            for slot, e in sorted(day.items())]


def titles_of(curation: Curation) -> dict[str, str]:
    """Collection slug -> title, for sessions whose programme entry gives no title."""
    return {slug: c.title for slug, c in curation.collections.items()}

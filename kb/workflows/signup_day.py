"""Choosing a whole day at once: for each slot, sessions in order of preference, the first
with a place taken and, if the favourite was full, a place on its waiting list; all slots
in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from kb.curation.programme import Programme
from kb.errors import BadInputError, ConflictError
from kb.state.accounts import User
from kb.state.database import StateStore, now_iso
from kb.workflows.signup import (
    CHOICES_DURABLE,
    SessionFull,
    check_not_leading,
    choose_in,
    window_in,
)

MAX_RANKED = 10


@dataclass(frozen=True)
class Wish:
    """One slot's sessions, favourite first; queue for the favourite if it is full."""

    slot: str
    strands: tuple[str, ...]
    waitlist: bool = True


@dataclass(frozen=True)
class SlotAnswer:
    slot: str
    placed: str = ""  # the strand with a place ('' = none had room)
    waiting: str = ""  # the favourite, if queued for
    position: int = 0
    message: str = ""


def choose_day(store: StateStore, user: User, programme: Programme,
               wishes: list[Wish]) -> list[SlotAnswer]:
    """Answer every wish in one BEGIN IMMEDIATE transaction; a bad slot, strand or a
    session the teacher leads refuses the whole request before anything is written."""
    seen: set[str] = set()
    for wish in wishes:
        if wish.slot in seen:
            raise BadInputError(f"slot: {wish.slot[:20]!r} is listed twice; give each slot "
                                "once, with its sessions in order of preference")
        seen.add(wish.slot)
        if not wish.strands or len(wish.strands) > MAX_RANKED:
            raise BadInputError(f"strands: give 1 to {MAX_RANKED} sessions for {wish.slot}")
        for strand in wish.strands:
            check_not_leading(user, programme, wish.slot, strand)
    stamp = now_iso()
    answers = []
    with store.write(durable=CHOICES_DURABLE) as conn:
        current = window_in(conn, programme.slug)
        if not current.accepting(stamp):
            raise ConflictError(current.why_not())
        for wish in wishes:
            answers.append(_answer(conn, user, programme, wish, stamp))
    return answers


def _answer(conn, user: User, programme: Programme, wish: Wish,  # type: ignore[no-untyped-def]
            stamp: str) -> SlotAnswer:
    waiting, position, notes = "", 0, []
    for rank, strand in enumerate(wish.strands):
        try:
            choice = choose_in(conn, user, programme, wish.slot, strand, stamp,
                               waitlist=rank == 0 and wish.waitlist)
        except SessionFull as full:
            notes.append(str(full))
            continue
        if choice.status == "placed":
            notes.append(f"a place in {strand}")
            return SlotAnswer(wish.slot, strand, waiting, position, "; ".join(notes))
        waiting, position = strand, choice.position
        notes.append(f"number {position} on the waiting list for {strand}")
    notes.append("no session you listed has a place")
    return SlotAnswer(wish.slot, "", waiting, position, "; ".join(notes))

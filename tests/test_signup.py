"""Inset-day sign-up in the database: capacity, waiting lists and promotion, idempotent
repeats, the window and deadline, the lead's moves, and a race between processes."""

from __future__ import annotations

import dataclasses
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest
from signup_workers import sign_up_many

from kb.curation.catalogue import load_curation
from kb.curation.programme import Programme, Room
from kb.errors import BadInputError, ConflictError
from kb.state import audit
from kb.state.accounts import User, get_user
from kb.state.database import StateStore, now_iso, open_state
from kb.workflows import attendance, signup
from kb.workflows.signup import SessionFull
from kb.workflows.signup_day import Wish, choose_day

FIXTURES = Path(__file__).parent / "fixtures"


def load_day(settings) -> Programme:  # type: ignore[no-untyped-def]
    """The fixture programme; Room 1 (maths, 09:30) holds 2 and Room 2 (english) 1."""
    shutil.copytree(FIXTURES / "collections", settings.collections_dir, dirs_exist_ok=True)
    shutil.copytree(FIXTURES / "programmes", settings.programmes_dir, dirs_exist_ok=True)
    day = load_curation(settings).programme("test-day")
    rooms = dict(day.rooms, r1=Room("r1", "Room 1", 2), r2=Room("r2", "Room 2", 1))
    return dataclasses.replace(day, rooms=rooms)


def teachers(store: StateStore, count: int, start: int = 0) -> list[User]:
    """Accounts made straight in the table (no password hashing: these never sign in)."""
    with store.write() as conn:
        for i in range(start, start + count):
            conn.execute("INSERT INTO users (email, name, role, password_hash, created_at) "
                         "VALUES (?,?, 'reader', 'x', ?)", (f"t{i}@example.org",
                                                            f"Teacher {i}", now_iso()))
    return [get_user(store, f"t{i}@example.org") for i in range(start, start + count)]


@pytest.fixture
def day(built, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(built, content_dir=tmp_path / "content",
                                   data_dir=tmp_path / "var")
    shutil.copytree(built.content_dir, settings.content_dir)
    store = open_state(settings.state_path)
    lead = teachers(store, 1, 900)[0]
    programme = load_day(settings)
    signup.set_window(store, lead, programme, "open")
    return store, programme, lead


def test_capacity_waiting_list_and_promotion_in_order(day) -> None:  # type: ignore
    store, programme, _ = day
    a, b, c, d = teachers(store, 4)
    assert signup.choose(store, a, programme, "09:30", "maths").status == "placed"
    assert signup.choose(store, b, programme, "09:30", "maths").status == "placed"
    with pytest.raises(SessionFull, match="full \\(2 places\\); join its waiting list"):
        signup.choose(store, c, programme, "09:30", "maths")
    assert signup.choose(store, c, programme, "09:30", "english").status == "placed"
    queued = signup.choose(store, c, programme, "09:30", "maths", waitlist=True)
    assert (queued.status, queued.position) == ("waiting", 1)
    assert signup.choose(store, d, programme, "09:30", "maths", waitlist=True).position == 2
    # c keeps the English place while waiting for maths
    assert attendance.day_of(store, c.id, "test-day")["09:30"] == \
        attendance.MyEntry("english", "maths", 1)
    assert signup.cancel(store, a, programme, "09:30") is True
    # c is promoted first (arrived first); c's English place goes to nobody (no queue)
    mine = attendance.day_of(store, c.id, "test-day")["09:30"]
    assert (mine.placed, mine.waiting) == ("maths", "")
    fills = attendance.fills(store, programme)
    assert fills[("09:30", "maths")] == attendance.Fill(2, 1, 2)
    assert fills[("09:30", "english")].placed == 0
    assert attendance.day_of(store, d.id, "test-day")["09:30"].position == 1
    assert attendance.inconsistencies(store, programme) == []


def test_promotion_chains_through_a_slot(day) -> None:  # type: ignore
    store, programme, _ = day
    a, b, c, d = teachers(store, 4)
    signup.choose(store, a, programme, "09:30", "maths")
    signup.choose(store, b, programme, "09:30", "maths")
    signup.choose(store, c, programme, "09:30", "english")  # english holds 1
    signup.choose(store, c, programme, "09:30", "maths", waitlist=True)
    signup.choose(store, d, programme, "09:30", "english", waitlist=True)
    signup.choose(store, a, programme, "09:30", "english", waitlist=True)
    # b leaves maths: c moves up to maths, so English frees up for d (first in its queue)
    signup.cancel(store, b, programme, "09:30")
    by_user = {u.id: attendance.day_of(store, u.id, "test-day").get("09:30")
               for u in (a, b, c, d)}
    assert by_user[c.id].placed == "maths" and by_user[d.id].placed == "english"
    assert by_user[a.id].placed == "maths" and by_user[a.id].waiting == "english"
    assert by_user[b.id] is None
    assert attendance.inconsistencies(store, programme) == []


def test_repeats_changes_and_clear_answers(day) -> None:  # type: ignore
    store, programme, lead = day
    a, b = teachers(store, 2)
    first = signup.choose(store, a, programme, "09:30", "maths")
    again = signup.choose(store, a, programme, "09:30", "maths")  # a double click
    assert not first.repeat and again.repeat
    assert attendance.fills(store, programme)[("09:30", "maths")].placed == 1
    changed = signup.choose(store, a, programme, "09:30", "english")
    assert changed.left == "maths"
    assert attendance.fills(store, programme)[("09:30", "maths")].placed == 0
    assert signup.cancel(store, a, programme, "09:30") is True
    assert signup.cancel(store, a, programme, "09:30") is False  # nothing left to cancel
    with pytest.raises(BadInputError, match="slot: '09:00' is not a workshop slot"):
        signup.choose(store, a, programme, "09:00", "maths")
    with pytest.raises(BadInputError, match="strand: there is no 'maths' session at 10:45"):
        signup.choose(store, a, programme, "10:45", "maths")
    ben = teachers(store, 1, 50)[0]
    with store.write() as conn:  # taking Ben Reading's name makes nobody a facilitator
        conn.execute("UPDATE users SET name='Ben Reading' WHERE id=?", (ben.id,))
    assert signup.choose(store, get_user(store, ben.email), programme, "09:30", "maths")
    signup.cancel(store, get_user(store, ben.email), programme, "09:30")
    with store.write() as conn:  # the file gives Ben's address for English at 09:30
        conn.execute("UPDATE users SET email='ben.reading@example.org' WHERE id=?", (ben.id,))
    ben = get_user(store, "ben.reading@example.org")
    with pytest.raises(ConflictError, match="you are leading the english session at 09:30"):
        signup.choose(store, ben, programme, "09:30", "maths")


def test_window_deadline_and_the_leads_moves(day) -> None:  # type: ignore
    store, programme, lead = day
    a, b, c = teachers(store, 3)
    signup.choose(store, a, programme, "09:30", "english")
    signup.set_window(store, lead, programme, "closed")
    with pytest.raises(ConflictError, match="sign-up for this programme is closed"):
        signup.choose(store, b, programme, "09:30", "maths")
    with pytest.raises(ConflictError, match="closed"):
        signup.cancel(store, a, programme, "09:30")
    # the lead moves people while closed; a full session is refused, not overfilled
    signup.choose(store, b, programme, "09:30", "maths", by=lead)
    with pytest.raises(SessionFull, match="nobody was moved"):
        signup.choose(store, c, programme, "09:30", "english", by=lead)
    moved = signup.choose(store, a, programme, "09:30", "maths", by=lead)
    assert moved.left == "english"
    signup.set_window(store, lead, programme, "open", "2020-01-01T09:00")
    with pytest.raises(ConflictError, match="deadline for changes \\(2020-01-01 09:00 UTC"):
        signup.choose(store, c, programme, "09:30", "english")
    with pytest.raises(BadInputError, match="deadline: give a date and time"):
        signup.set_window(store, lead, programme, "open", "next friday")
    with pytest.raises(BadInputError, match="not a real date"):
        signup.set_window(store, lead, programme, "open", "2026-02-30T10:00")
    signup.set_window(store, lead, programme, "open", "2999-01-01T09:00")
    assert signup.choose(store, c, programme, "09:30", "english").status == "placed"
    actions = [e.action for e in audit.entries(store, target="programme:test-day")]
    assert actions.count("signup.move") == 2 and "signup.closed" in actions
    assert attendance.inconsistencies(store, programme) == []


def test_the_check_finds_real_breakage(day) -> None:  # type: ignore
    store, programme, _ = day
    a, b, c, d = teachers(store, 4)
    for user in (a, b, c):
        with store.write() as conn:  # bypassing the rules on purpose
            conn.execute("INSERT INTO signups (programme, slot, strand, user_id, status, "
                         "created_at) VALUES ('test-day', '09:30', 'maths', ?, 'placed', 'x')",
                         (user.id,))
    second = ("INSERT INTO signups (programme, slot, strand, user_id, status, created_at) "
              "VALUES ('test-day', '09:30', 'english', ?, 'placed', 'x')")
    with pytest.raises(sqlite3.IntegrityError):  # the schema itself refuses two places
        with store.write() as conn:
            conn.execute(second, (a.id,))
    with store.write() as conn:
        conn.execute("DROP INDEX signups_one")  # so the check has something to find
        conn.execute(second, (a.id,))
        conn.execute("INSERT INTO signups (programme, slot, strand, user_id, status, "
                     "created_at) VALUES ('test-day', '10:45', 'leaders', ?, 'waiting', 'x')",
                     (d.id,))
    found = attendance.inconsistencies(store, programme)
    assert any("3 places for 2 seats" in p for p in found)
    assert any(f"teacher {a.id} has 2 places" in p for p in found)
    assert any("waiting beside a free place" in p for p in found)


def test_workers_racing_for_the_last_places_never_overfill(day) -> None:  # type: ignore
    store, programme, _ = day
    people = teachers(store, 24)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start = ctx.Event()
    procs = [ctx.Process(target=sign_up_many, args=(str(store.path), programme,
                                                    people[i::4], "09:30", "maths", results,
                                                    start)) for i in range(4)]
    for proc in procs:
        proc.start()
    start.set()
    answers = [results.get(timeout=120) for _ in range(48)]
    for proc in procs:
        proc.join(60)
    assert not [a for a in answers if a[1].startswith("error")]
    fill = attendance.fills(store, programme)[("09:30", "maths")]
    assert (fill.placed, fill.waiting) == (2, 22)
    assert attendance.inconsistencies(store, programme) == []
    placed_users = {uid for uid, status in answers if status == "placed"}
    assert len(placed_users) == 2


def test_a_whole_day_in_one_request_takes_the_first_place_and_queues(day) -> None:  # type: ignore
    store, programme, _ = day
    a, b, c = teachers(store, 3)
    signup.choose(store, a, programme, "09:30", "english")  # english (1 place) is full
    answers = choose_day(store, b, programme, [Wish("09:30", ("english", "maths")),
                                               Wish("10:45", ("leaders",))])
    assert [(x.placed, x.waiting, x.position) for x in answers] == \
        [("maths", "english", 1), ("leaders", "", 0)]
    assert answers[0].message == "number 1 on the waiting list for english; a place in maths"
    no_queue = choose_day(store, c, programme, [Wish("09:30", ("english",), waitlist=False)])
    assert (no_queue[0].placed, no_queue[0].waiting) == ("", "")
    assert "no session you listed has a place" in no_queue[0].message
    again = choose_day(store, b, programme, [Wish("09:30", ("english", "maths"))])
    assert (again[0].placed, again[0].waiting) == ("maths", "english")  # a repeat: no change
    with pytest.raises(BadInputError, match="listed twice"):
        choose_day(store, c, programme, [Wish("09:30", ("maths",)), Wish("09:30", ("maths",))])
    with pytest.raises(BadInputError, match="strand: there is no 'nope'"):
        choose_day(store, c, programme, [Wish("10:45", ("leaders",)), Wish("09:30", ("nope",))])
    assert attendance.day_of(store, c.id, "test-day") == {}  # refused before any write
    signup.cancel(store, a, programme, "09:30")  # b moves up from the queue to english
    assert attendance.day_of(store, b.id, "test-day")["09:30"].placed == "english"
    assert attendance.inconsistencies(store, programme) == []

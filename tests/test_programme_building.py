"""Building a programme file change by change (kb.curation.programme_editing saved through
kb.workflows.programme_edits): real files in a temporary content folder, the real validator,
a real state database for sign-ups, revisions and the audit log."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT, make_library

from kb.curation.catalogue import load_curation
from kb.curation.programme_editing import (
    ProgrammeEditor,
    ProgrammeRefused,
    put_room,
    put_session,
    put_slot,
    put_strand,
    remove_room,
    remove_session,
    remove_slot,
    render_programme,
    set_status,
)
from kb.errors import ConflictError
from kb.settings import Settings
from kb.state import audit
from kb.state.accounts import User, get_user
from kb.state.database import StateStore, now_iso, open_state
from kb.workflows import signup
from kb.workflows.programme_edits import programme_history, save_edit

DAY = "test-day"


@pytest.fixture
def place(tmp_path: Path) -> tuple[Settings, StateStore, User]:
    """The fixture library with its collections and test-day programme, and a curator."""
    settings = make_library(tmp_path)
    shutil.copytree(FIXTURES / "collections", settings.collections_dir)
    shutil.copytree(FIXTURES / "programmes", settings.programmes_dir)
    store = open_state(settings.state_path)
    return settings, store, _account(store, "lead@example.org", "curator")


def _account(store: StateStore, email: str, role: str) -> User:
    with store.write() as conn:
        conn.execute("INSERT INTO users (email, name, role, password_hash, created_at) "
                     "VALUES (?,?,?, 'x', ?)", (email, email.split("@")[0], role, now_iso()))
    return get_user(store, email)


def without_lines(programme):  # type: ignore[no-untyped-def]
    return [(dataclasses.replace(slot, line=0, sessions=()),
             [dataclasses.replace(s, line=0) for s in slot.sessions])
            for slot in programme.slots]


def editor(settings: Settings) -> ProgrammeEditor:
    curation = load_curation(settings)
    return ProgrammeEditor(settings.programmes_dir, curation.library.taxonomy,
                           curation.references)


def change(place, operation, slug: str = DAY, field: str = "form"):  # type: ignore
    settings, store, lead = place
    return save_edit(store, editor(settings), lead, slug, "test", "a test change",
                     lambda e: e.prepare(slug, operation), field)


def test_the_bundled_day_written_back_reads_as_the_same_programme(tmp_path: Path) -> None:
    settings = Settings(content_dir=tmp_path / "content", data_dir=tmp_path / "var")
    shutil.copytree(ROOT / "content", settings.content_dir)
    before = load_curation(settings).programme("common-inset-day-2022")
    path = settings.programmes_dir / "common-inset-day-2022.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(render_programme(data), encoding="utf-8")
    after = load_curation(settings).programme("common-inset-day-2022")
    assert (after.title, after.rooms, after.strands, after.summary) == \
        (before.title, before.rooms, before.strands, before.summary)
    assert without_lines(after) == without_lines(before)  # only the line numbers moved
    assert "  m4: {name: Room M4 (maths block), capacity: 45}\n" in path.read_text()


def test_a_day_built_from_nothing_is_a_draft_until_published(place) -> None:  # type: ignore
    settings, store, lead = place
    save_edit(store, editor(settings), lead, "spring-day", "create", "Spring day",
              lambda e: e.prepare_new("spring-day", "Spring day", "2026-03-02", "Hall", "",
                                      "A short day."))
    curation = load_curation(settings)
    assert "spring-day" in curation.draft_programmes and "spring-day" not in \
        curation.programmes
    with pytest.raises(ProgrammeRefused) as refused:  # nothing to publish yet
        change(place, set_status("published"), "spring-day")
    assert {p.field for p in refused.value.problems} >= {"rooms", "strands", "slots"}
    for operation in (put_room(None, "Main hall", "120"),
                      put_strand(None, "Maths", ["maths"], "main-hall", "Tuition and quizzes"),
                      put_slot(None, "10:00-11:00", "Workshops", ""),
                      put_slot(None, "09:00-09:30", "Welcome", "main-hall"),
                      put_session("10:00", None, "maths-tuition-and-quizzes", "",
                                  ["Ann Maths (Hillside)"], "", new_strand="maths"),
                      set_status("published")):
        change(place, operation, "spring-day")
    day = load_curation(settings).programme("spring-day")
    assert [s.start for s in day.slots] == ["09:00", "10:00"]  # kept in time order
    assert day.slots[1].sessions[0].room == "main-hall"
    assert day.rooms["main-hall"].capacity == 120
    text = (settings.programmes_dir / "spring-day.yaml").read_text()
    assert "status" not in text and "main-hall: {name: Main hall, capacity: 120}" in text
    history = programme_history(store, "spring-day")
    assert len(history) == 7 and history[-1].summary == "Spring day"
    assert history[0].text == text


def test_a_clash_is_refused_beside_its_field_and_nothing_is_written(place) -> None:  # type: ignore
    settings, store, _ = place
    path = settings.programmes_dir / f"{DAY}.yaml"
    before = path.read_bytes()
    with pytest.raises(ProgrammeRefused) as refused:
        change(place, put_session("09:30", None, "reading-and-attendance", "r1",
                                  ["Dee New"], "", new_strand="leaders"))
    fields = {p.field: p.message for p in refused.value.problems}
    assert "already used in this slot" in fields["slots[2].sessions[3].room"]
    assert refused.value.focus == "slots[2].sessions"
    assert path.read_bytes() == before
    assert programme_history(store, DAY) == [] and audit.entries(store) == []


@pytest.mark.parametrize("operation, field, words", [
    (put_strand("maths", "Maths strand", ["maths"], "nowhere", ""), "strands.maths.room",
     "unknown room 'nowhere'"),
    (put_session("09:30", "maths", "no-such-collection", "", ["Ann Maths"], ""),
     "slots[2].sessions[1].collection", "unknown collection"),
    (put_session("09:30", "maths", "coaching-draft", "", ["Ann Maths"], ""),
     "slots[2].sessions[1].collection", "is a draft"),
    (put_room("r1", "Room 1", "lots"), "rooms.r1.capacity", "whole number of seats"),
    (put_slot("10:45", "10:00-11:00", "Round 2", ""), "slots[3].time", "before the slot above"),
    (remove_room("r1"), "rooms.r1.name", "used by strand 'maths'"),
])
def test_bad_changes_are_refused_with_the_validators_words(place, operation, field: str,
                                                           words: str) -> None:  # type: ignore
    with pytest.raises(ProgrammeRefused) as refused:
        change(place, operation)
    fields = {p.field: p.message for p in refused.value.problems}
    assert field in fields and words in fields[field], fields


def test_edits_never_break_the_places_the_database_gave(place) -> None:  # type: ignore
    settings, store, lead = place
    day = load_curation(settings).programme(DAY)
    signup.set_window(store, lead, day, "open")
    teachers = [_account(store, f"t{i}@example.org", "reader") for i in range(3)]
    for teacher in teachers[:2]:
        signup.choose(store, teacher, day, "09:30", "maths")
    with pytest.raises(ProgrammeRefused, match="2 teachers signed up for the maths session"):
        change(place, remove_session("09:30", "maths"))
    with pytest.raises(ProgrammeRefused, match="2 teachers signed up"):
        change(place, remove_slot("09:30"))
    with pytest.raises(ProgrammeRefused, match="Room 1 would seat 1; give it at least 2"):
        change(place, put_room("r1", "Room 1", "1"), field="capacity")
    with pytest.raises(ProgrammeRefused, match="cannot go back to draft"):
        change(place, set_status("draft"))
    # a sign-up worked out on the version just replaced is refused, not over-filled
    change(place, put_room("r1", "Room 1", "2"))
    with pytest.raises(ConflictError, match="changed a moment ago"):
        signup.choose(store, teachers[2], day, "09:30", "maths")
    with pytest.raises(ConflictError, match="changed a moment ago"):
        signup.cancel(store, teachers[0], day, "09:30")  # would promote by the old seats
    fresh = load_curation(settings).programme(DAY)
    with pytest.raises(signup.SessionFull):
        signup.choose(store, teachers[2], fresh, "09:30", "maths")
    change(place, remove_session("09:30", "english"))  # nobody signed up for it
    history = programme_history(store, DAY)
    assert [r.author for r in history] == ["lead@example.org"] * 2 + ["library files"]
    actions = [e.action for e in audit.entries(store, target=f"programme:{DAY}")]
    assert actions.count("programme.test") == 2

"""A programme: one professional development day of slots, strands, rooms and sessions (pure)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from kb.content.documents import read_content_file
from kb.content.fields import FieldReader, Key, describe
from kb.content.taxonomy import Taxonomy, normalise_tag
from kb.curation.collection import Collection
from kb.errors import Problem

REQUIRED = ("title", "date", "venue", "summary", "rooms", "strands", "slots")
OPTIONAL = ("organiser", "status")
# A draft is a programme being built on the web: it may lack rooms, strands, slots and
# sessions, and it is shown only to curators. A file without `status` is published.
STATUSES = ("draft", "published")
DRAFT_REQUIRED = ("title", "date", "venue", "summary")
ROOM_FIELDS = ("name", "capacity")
STRAND_FIELDS = ("title", "subjects", "room", "description")
SLOT_FIELDS = ("time", "title", "room", "sessions")
SESSION_FIELDS = ("strand", "collection", "room", "facilitators", "title")
TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    capacity: int | None = None


@dataclass(frozen=True)
class Strand:
    """A column of the day: sessions for one group of subjects."""

    id: str
    title: str
    subjects: tuple[str, ...]
    room: str
    description: str = ""


@dataclass(frozen=True)
class Session:
    """One session of the day: a collection taught in a room by its facilitators."""

    strand: str
    collection: str
    room: str
    facilitators: tuple[str, ...]  # as shown: "Name (School)", never an e-mail address
    title: str = ""
    line: int = 0
    # Each facilitator's e-mail address ("" when the file gives none), in the same order: the
    # account that may read the session's register. Names are not identities (anyone can
    # change the name on their account), so only an address gives that right.
    contacts: tuple[str, ...] = ()

    def entries(self) -> list[str]:
        """The facilitators as the file writes them: "Name (School) <address>"."""
        return [f"{name} <{mail}>" if mail else name
                for name, mail in zip(self.facilitators, self.contacts or
                                      ("",) * len(self.facilitators))]


@dataclass(frozen=True)
class Slot:
    """A stretch of the day: parallel sessions, or one plenary (arrival, keynote, lunch)."""

    start: str
    end: str
    title: str
    room: str
    sessions: tuple[Session, ...] = ()
    line: int = 0

    @property
    def minutes(self) -> int:
        return _minutes(self.end) - _minutes(self.start)

    @property
    def is_plenary(self) -> bool:
        return not self.sessions

    def session_for(self, strand: str) -> Session | None:
        return next((s for s in self.sessions if s.strand == strand), None)


@dataclass(frozen=True)
class Programme:
    """One validated programme."""

    slug: str
    path: str
    title: str
    date: dt.date
    venue: str
    summary: str
    organiser: str
    rooms: dict[str, Room]
    strands: tuple[Strand, ...]
    slots: tuple[Slot, ...]
    content_hash: str = ""
    status: str = "published"

    def sessions(self) -> list[tuple[Slot, Session]]:
        return [(slot, s) for slot in self.slots for s in slot.sessions]

    def strand(self, strand_id: str) -> Strand:
        return next(s for s in self.strands if s.id == strand_id)

    def room_name(self, room_id: str) -> str:
        room = self.rooms.get(room_id)
        return room.name if room else room_id


@dataclass
class ProgrammeResult:
    programme: Programme | None
    problems: list[Problem] = field(default_factory=list)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _time_range(check: FieldReader, key: Key) -> tuple[str, str]:
    raw = check.value(key)
    match = TIME_RE.match(raw) if isinstance(raw, str) else None
    if not match:
        check.fail(key, f"must be a time range like 09:50-10:50, got {describe(raw)}")
        return "", ""
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        check.fail(key, f"{raw!r} is not a time of day")
        return "", ""
    start, end = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
    if end <= start:
        check.fail(key, f"ends at {end}, before it starts at {start}")
        return "", ""
    return start, end


def _rooms(check: FieldReader) -> dict[str, Room]:
    rooms: dict[str, Room] = {}
    for room_id, entry in check.mapping(("rooms",), what="rooms").items():
        key: Key = ("rooms", room_id)
        if not isinstance(entry, dict):
            check.fail(key, "a room needs a name, like {name: Library, capacity: 60}")
            continue
        check.unknown_keys(entry, ROOM_FIELDS, key)
        name = check.text(key + ("name",), limit=120)
        capacity = check.whole_number(key + ("capacity",), low=1,
                                      what="a whole number of seats", required=False)
        rooms[room_id] = Room(room_id, name, capacity)
    return rooms


def _strands(check: FieldReader, rooms: dict[str, Room]) -> list[Strand]:
    strands: list[Strand] = []
    for strand_id, entry in check.mapping(("strands",), what="strands").items():
        key: Key = ("strands", strand_id)
        if not isinstance(entry, dict):
            check.fail(key, "a strand needs a title, subjects and a room")
            continue
        check.unknown_keys(entry, STRAND_FIELDS, key)
        title = check.text(key + ("title",), limit=120)
        subjects = check.tags(key + ("subjects",), "subjects", min_items=0, limit=20)
        room = _room_ref(check, key + ("room",), rooms)
        description = check.text(key + ("description",), required=False)
        strands.append(Strand(strand_id, title, subjects, room, description))
    return strands


def _room_ref(check: FieldReader, key: Key, rooms: dict[str, Room]) -> str:
    room = check.text(key, limit=80)
    if room and room not in rooms:
        check.fail(key, f"unknown room {room!r}; the rooms are {', '.join(rooms) or 'not listed'}")
    return room


@dataclass(frozen=True)
class References:
    """What a programme may point at: valid collections, broken ones, write-up dates."""

    collections: Mapping[str, Collection]
    broken: frozenset[str] = frozenset()
    writeup_dates: Mapping[str, dt.date] = field(default_factory=dict)


def _session(check: FieldReader, entry: Any, key: Key, slot_minutes: int,
             strands: dict[str, Strand], rooms: dict[str, Room], refs: References,
             day: dt.date | None) -> Session | None:
    if not isinstance(entry, dict):
        check.fail(key, "a session needs a strand, a collection and facilitators")
        return None
    check.unknown_keys(entry, SESSION_FIELDS, key)
    strand_id = check.text(key + ("strand",), limit=80)
    strand = strands.get(strand_id)
    if strand_id and strand is None:
        check.fail(key + ("strand",), f"unknown strand {strand_id!r}; the strands are "
                                      f"{', '.join(strands)}")
    slug = check.text(key + ("collection",), limit=80)
    collection = refs.collections.get(slug)
    where = key + ("collection",)
    if slug in refs.broken:
        check.fail(where, f"collection {slug!r} has errors of its own (run `kb validate`)")
    elif slug and collection is None:
        check.fail(where, f"unknown collection {slug!r}: there is no "
                          f"content/collections/{slug}.md")
    elif collection is not None:
        if collection.status != "published":
            check.fail(where, f"collection {slug!r} is a draft; publish it before the "
                              "programme uses it")
        if collection.minutes > slot_minutes:
            check.fail(where, f"the session plan of {slug!r} runs {collection.minutes} "
                              f"minutes, but the slot is {slot_minutes}", "warning")
        if strand and strand.subjects and not set(strand.subjects) & set(collection.subjects):
            check.fail(where, f"{slug!r} is for {', '.join(collection.subjects)}, not the "
                              f"subjects of strand {strand.id!r}", "warning")
        late = [w for w in collection.writeups
                if day and refs.writeup_dates.get(w, day) > day]
        if late:
            check.fail(where, f"{slug!r} uses write-ups dated after the day: "
                              f"{', '.join(late)}", "warning")
    room = (_room_ref(check, key + ("room",), rooms) if "room" in entry
            else (strand.room if strand else ""))
    people = check.text_list(key + ("facilitators",), limit=6)
    if "facilitators" in entry and not people and isinstance(entry.get("facilitators"), list):
        check.fail(key + ("facilitators",), "name at least one facilitator")
    names, contacts = _people(check, key + ("facilitators",), people)
    title = check.text(key + ("title",), limit=160, required=False)
    return Session(strand_id, slug, room, names, title, check.line_of(key), contacts)


ADDRESS_RE = re.compile(r"^(?P<name>[^<>]*?)\s*(?:<(?P<mail>[^<>]*)>)?$")
MAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _people(check: FieldReader, key: Key, people: tuple[str, ...]
            ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split "Name (School) <address>" entries into the names shown and the addresses."""
    names, contacts = [], []
    for person in people:
        found = ADDRESS_RE.match(person)
        mail = (found.group("mail") or "").strip().lower() if found else ""
        name = found.group("name").strip() if found else person
        if not found or (found.group("mail") is not None and not MAIL_RE.match(mail)):
            check.fail(key, f"{person!r}: write a facilitator as Name (School), optionally "
                            "followed by their e-mail address in angle brackets, like "
                            "Ann Smith (Hillside School) <ann.smith@hillside.example>")
            continue
        if not name:
            check.fail(key, f"{person!r} gives an address but no name")
            continue
        names.append(name)
        contacts.append(mail)
    return tuple(names), tuple(contacts)


def _slots(check: FieldReader, strands: dict[str, Strand], rooms: dict[str, Room],
           refs: References, day: dt.date | None) -> list[Slot]:
    raw = check.value(("slots",))
    if not isinstance(raw, list) or not raw:
        check.fail(("slots",), "must be a list of time slots, each starting '- time: 09:00-09:45'")
        return []
    slots: list[Slot] = []
    previous_end = ""
    for index, entry in enumerate(raw):
        key: Key = ("slots", index)
        if not isinstance(entry, dict):
            check.fail(key, f"slot {index + 1} needs a time and a title or sessions")
            continue
        check.unknown_keys(entry, SLOT_FIELDS, key)
        start, end = _time_range(check, key + ("time",))
        if start and previous_end and start < previous_end:
            check.fail(key + ("time",), f"starts at {start}, before the slot above ends at "
                                        f"{previous_end}")
        previous_end = end or previous_end
        minutes = _minutes(end) - _minutes(start) if start else 0
        raw_sessions = entry.get("sessions") or []
        title = check.text(key + ("title",), limit=160, required=not raw_sessions)
        room = _room_ref(check, key + ("room",), rooms) if "room" in entry else ""
        if not isinstance(raw_sessions, list):
            check.fail(key + ("sessions",), "must be a list of sessions")
            raw_sessions = []
        sessions: list[Session] = []
        for s_index, s_entry in enumerate(raw_sessions):
            s_key = key + ("sessions", s_index)
            session = _session(check, s_entry, s_key, minutes, strands, rooms, refs, day)
            if session is not None:
                _check_clashes(check, s_key, session, sessions)
                sessions.append(session)
        slots.append(Slot(start, end, title, room, tuple(sessions), check.line_of(key)))
    return slots


def _check_clashes(check: FieldReader, key: Key, session: Session,
                   others: list[Session]) -> None:
    """One session per strand, room and facilitator in each slot."""
    for other in others:
        if session.strand and session.strand == other.strand:
            check.fail(key + ("strand",), f"strand {session.strand!r} already has a session in "
                                          f"this slot (line {other.line})")
        if session.room and session.room == other.room:
            check.fail(key + ("room",), f"room {session.room!r} is already used in this slot "
                                        f"(line {other.line})")
        clash = {normalise_tag(p) for p in session.facilitators} & \
            {normalise_tag(p) for p in other.facilitators}
        if clash:
            check.fail(key + ("facilitators",), f"{', '.join(sorted(clash))} cannot lead two "
                                                f"sessions at once (line {other.line})")


def parse_programme(path: str, raw: bytes, taxonomy: Taxonomy, refs: References,
                    max_bytes: int = 256_000) -> ProgrammeResult:
    """Parse and validate one programme file's bytes; collect every problem found."""
    opened = read_content_file(path, raw, max_bytes, front_matter=False, what="a programme")
    if opened.meta is None:
        return ProgrammeResult(None, opened.problems)
    slug, meta, problems = opened.slug, opened.meta, opened.problems
    data: dict[str, Any] = meta.data
    check = FieldReader(path, meta, taxonomy)
    status = check.one_of(("status",), STATUSES) if "status" in data else "published"
    draft = status == "draft"
    if draft:
        check.check_fields(DRAFT_REQUIRED, REQUIRED + OPTIONAL)
    else:
        check.check_fields(REQUIRED, OPTIONAL)
    title = check.text(("title",), limit=160)
    day = check.date(("date",))
    venue = check.text(("venue",), limit=200)
    summary = check.text(("summary",))
    organiser = check.text(("organiser",), limit=200, required=False)
    rooms = _rooms(check) if _given(data, "rooms", draft) else {}
    strands = _strands(check, rooms) if _given(data, "strands", draft) else []
    by_id = {s.id: s for s in strands}
    slots = _slots(check, by_id, rooms, refs, day) if _given(data, "slots", draft) else []
    if slots and not any(s.sessions for s in slots) and not draft:
        check.fail(("slots",), "the day has no sessions")
    problems += check.problems
    if any(p.level == "error" for p in problems):
        return ProgrammeResult(None, problems)
    return ProgrammeResult(Programme(
        slug=slug, path=path, title=title, date=day, venue=venue,  # type: ignore[arg-type]
        summary=summary, organiser=organiser, rooms=rooms, strands=tuple(strands),
        slots=tuple(slots), content_hash=hashlib.sha256(raw).hexdigest(),
        status=status or "published"), problems)


def _given(data: dict[str, Any], name: str, draft: bool) -> bool:
    """Whether to check a section: always when present, except an empty one in a draft."""
    if name not in data:
        return False
    return not draft or bool(data[name])

"""Changing a programme file from the curators' forms: each change is a small function on the
file's data (details, a room, a strand, a slot, a session, the status), rendered in one
readable layout and checked by the same validator as `kb validate` before anything is written.

The editor only prepares and checks the new text; kb.workflows.programme_edits writes it
under the folder lock, together with its revision, audit entry and the sign-up checks.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kb.content.authoring import slug_from_title
from kb.content.taxonomy import Taxonomy
from kb.curation.editing import FolderEditor, RefusedChange, _Dumper, _FlowList, _plain
from kb.curation.programme import TIME_RE, Programme, References, parse_programme
from kb.errors import BadInputError, KBError, NotFoundError, Problem

# An operation changes the data in place and returns the field label of what it touched
# ("rooms.hall", "slots[3]", "slots[3].sessions"), so problems can be put beside the form.
Operation = Callable[[dict[str, Any]], str]
PART_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
RESERVED_IDS = ("new",)  # /rooms/new is the form for adding one


class _FlowDict(dict):  # type: ignore[type-arg]
    """A room written on one line, like {name: Library, capacity: 60}."""


class _ProgrammeDumper(_Dumper):
    pass


_ProgrammeDumper.add_representer(_FlowDict, lambda dumper, value: dumper.represent_mapping(
    "tag:yaml.org,2002:map", value, flow_style=True))


class ProgrammeRefused(RefusedChange):
    """A change the validator (or a sign-up rule) refused; `focus` is the part it touched."""

    def __init__(self, message: str, problems: list[Problem], focus: str = "") -> None:
        super().__init__(message, problems)
        self.focus = focus


@dataclass(frozen=True)
class PreparedEdit:
    """The checked new text of a programme, ready to be written."""

    path: Path
    before: bytes | None
    text: str
    programme: Programme
    warnings: tuple[Problem, ...]
    focus: str


def refuse(field: str, message: str, path: str = "") -> ProgrammeRefused:
    """A refusal of one field, e.g. refuse("rooms.hall.capacity", "...")."""
    focus = field.rsplit(".", 1)[0] if "." in field else ""
    return ProgrammeRefused(f"the change was not saved: {message}",
                            [Problem(path, 0, field, message)], focus)


def start_of(time: Any) -> str:
    """'09:50' for a slot's time '9:50-10:50' ('' when it is no time range)."""
    match = TIME_RE.match(time) if isinstance(time, str) else None
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else ""


def render_programme(data: dict[str, Any]) -> str:
    """The file text in its canonical order: details, rooms one a line, strands, slots."""
    out: dict[str, Any] = {"title": data.get("title")}
    if data.get("status") == "draft":
        out["status"] = "draft"
    for name in ("date", "venue", "organiser", "summary"):
        if data.get(name) not in (None, ""):
            out[name] = data[name]
    out["rooms"] = {rid: _FlowDict({k: v for k, v in room.items() if v not in (None, "")})
                    if isinstance(room, dict) else room
                    for rid, room in (data.get("rooms") or {}).items()}
    out["strands"] = {sid: _strand_out(s) for sid, s in (data.get("strands") or {}).items()}
    out["slots"] = [_slot_out(s) for s in data.get("slots") or []]
    text = yaml.dump(out, Dumper=_ProgrammeDumper, sort_keys=False, allow_unicode=True,
                     width=96, default_flow_style=False)
    if yaml.safe_load(text) != _plain(out):  # never write what would read back differently
        raise KBError("cannot write the programme faithfully; please report this")
    return text


def _strand_out(strand: Any) -> Any:
    if not isinstance(strand, dict):
        return strand
    out = {k: strand[k] for k in ("title", "subjects", "room", "description")
           if strand.get(k) not in (None, "")}
    if isinstance(out.get("subjects"), list):
        out["subjects"] = _FlowList(out["subjects"])
    elif "subjects" not in out:
        out["subjects"] = _FlowList()
    return out


def _slot_out(slot: Any) -> Any:
    if not isinstance(slot, dict):
        return slot
    out = {k: slot[k] for k in ("time", "title", "room") if slot.get(k) not in (None, "")}
    sessions = []
    for session in slot.get("sessions") or []:
        entry = {k: session[k] for k in ("strand", "collection", "room", "facilitators",
                                         "title") if session.get(k) not in (None, "", [])}
        if isinstance(entry.get("facilitators"), list):
            entry["facilitators"] = _FlowList(entry["facilitators"])
        sessions.append(entry)
    if sessions:
        out["sessions"] = sessions
    return out


def _date_value(text: str) -> Any:
    """A real date as a date (written unquoted); anything else as typed, for the validator."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return text.strip()


def _capacity_value(text: str) -> Any:
    text = text.strip()
    return int(text) if text.isdigit() else (text or None)


def _new_id(kind: str, wanted: str, name: str, taken: dict[str, Any]) -> str:
    part_id = wanted.strip() or slug_from_title(name)[:40].strip("-")
    if not part_id:
        raise refuse(f"{kind}.id", "give it a name first; its short name is made from it")
    if not PART_ID_RE.match(part_id) or part_id in RESERVED_IDS:
        raise refuse(f"{kind}.id", f"the short name {part_id[:40]!r} must be lower-case "
                                   "letters, digits and hyphens, up to 40 of them")
    if part_id in taken:
        raise refuse(f"{kind}.id", f"there is already one called {part_id!r}; choose "
                                   "another short name")
    return part_id


# -- the operations ------------------------------------------------------------------------

def set_details(title: str, date: str, venue: str, organiser: str, summary: str) -> Operation:
    def run(data: dict[str, Any]) -> str:
        data.update(title=title.strip(), date=_date_value(date), venue=venue.strip(),
                    organiser=organiser.strip(), summary=" ".join(summary.split()))
        return ""
    return run


def put_room(room_id: str | None, name: str, capacity: str, wanted_id: str = "") -> Operation:
    """Add a room (room_id None) or change one's name and seats."""
    def run(data: dict[str, Any]) -> str:
        rooms = data.setdefault("rooms", {}) or {}
        data["rooms"] = rooms
        rid = room_id if room_id is not None else _new_id("rooms", wanted_id, name, rooms)
        if room_id is not None and room_id not in rooms:
            raise NotFoundError(f"there is no room {room_id[:40]!r} in this programme")
        rooms[rid] = {"name": name.strip(), "capacity": _capacity_value(capacity)}
        return f"rooms.{rid}"
    return run


def remove_room(room_id: str) -> Operation:
    def run(data: dict[str, Any]) -> str:
        rooms = data.get("rooms") or {}
        if room_id not in rooms:
            raise NotFoundError(f"there is no room {room_id[:40]!r} in this programme")
        users = [f"strand {sid!r}" for sid, s in (data.get("strands") or {}).items()
                 if isinstance(s, dict) and s.get("room") == room_id]
        for slot in data.get("slots") or []:
            if slot.get("room") == room_id:
                users.append(f"the {start_of(slot.get('time'))} slot")
            users += [f"the {s.get('strand')} session at {start_of(slot.get('time'))}"
                      for s in slot.get("sessions") or [] if s.get("room") == room_id]
        if users:
            raise refuse(f"rooms.{room_id}.name", f"the room is used by {', '.join(users)}; "
                                                  "choose other rooms for them first")
        del rooms[room_id]
        return f"rooms.{room_id}"
    return run


def put_strand(strand_id: str | None, title: str, subjects: list[str], room: str,
               description: str, wanted_id: str = "") -> Operation:
    """Add a strand (strand_id None) or change one; its short name never changes, because
    sign-ups refer to it."""
    def run(data: dict[str, Any]) -> str:
        strands = data.setdefault("strands", {}) or {}
        data["strands"] = strands
        sid = strand_id if strand_id is not None else _new_id("strands", wanted_id, title,
                                                               strands)
        if strand_id is not None and strand_id not in strands:
            raise NotFoundError(f"there is no strand {strand_id[:40]!r} in this programme")
        strands[sid] = {"title": title.strip(), "subjects": list(subjects), "room": room.strip(),
                        "description": " ".join(description.split())}
        return f"strands.{sid}"
    return run


def remove_strand(strand_id: str) -> Operation:
    def run(data: dict[str, Any]) -> str:
        strands = data.get("strands") or {}
        if strand_id not in strands:
            raise NotFoundError(f"there is no strand {strand_id[:40]!r} in this programme")
        used = [start_of(slot.get("time")) for slot in data.get("slots") or []
                if any(s.get("strand") == strand_id for s in slot.get("sessions") or [])]
        if used:
            raise refuse(f"strands.{strand_id}.title",
                         f"the strand has sessions at {', '.join(used)}; remove them first")
        del strands[strand_id]
        return f"strands.{strand_id}"
    return run


def _slot_index(data: dict[str, Any], start: str) -> int:
    for index, slot in enumerate(data.get("slots") or []):
        if isinstance(slot, dict) and start_of(slot.get("time")) == start:
            return index
    raise NotFoundError(f"there is no slot starting at {start[:10]!r} in this programme")


def _sort_slots(data: dict[str, Any], slot: dict[str, Any]) -> int:
    """Keep slots in time order (the validator wants them so); the index of `slot` after."""
    slots = data["slots"]
    slots.sort(key=lambda s: start_of(s.get("time")) or "99")
    return next(i for i, s in enumerate(slots) if s is slot)


def put_slot(start: str | None, time: str, title: str, room: str) -> Operation:
    """Add a slot (start None) or change one's time, title and room."""
    def run(data: dict[str, Any]) -> str:
        slots = data.get("slots") or []
        data["slots"] = slots
        if start is None:
            slot: dict[str, Any] = {}
            slots.append(slot)
        else:
            slot = slots[_slot_index(data, start)]
        slot.update(time=" ".join(time.split()), title=" ".join(title.split()),
                    room=room.strip())
        return f"slots[{_sort_slots(data, slot) + 1}]"
    return run


def remove_slot(start: str) -> Operation:
    def run(data: dict[str, Any]) -> str:
        index = _slot_index(data, start)
        del data["slots"][index]
        return f"slots[{index + 1}]"
    return run


def put_session(start: str, strand: str | None, collection: str, room: str,
                facilitators: list[str], title: str, new_strand: str = "") -> Operation:
    """Place a session in a slot (strand None: a new one for `new_strand`) or change one.
    A session keeps its strand, because sign-ups refer to it by slot and strand."""
    def run(data: dict[str, Any]) -> str:
        index = _slot_index(data, start)
        sessions = data["slots"][index].setdefault("sessions", []) or []
        data["slots"][index]["sessions"] = sessions
        entry = {"strand": new_strand.strip() if strand is None else strand,
                 "collection": collection.strip(), "room": room.strip(),
                 "facilitators": [" ".join(p.split()) for p in facilitators if p.strip()],
                 "title": " ".join(title.split())}
        if strand is None:
            sessions.append(entry)
        else:
            position = next((i for i, s in enumerate(sessions) if s.get("strand") == strand),
                            None)
            if position is None:
                raise NotFoundError(f"there is no {strand[:40]!r} session at {start}")
            sessions[position] = entry
        if not entry["facilitators"]:
            raise refuse(f"slots[{index + 1}].sessions.facilitators",
                         "name at least one facilitator, one a line")
        return f"slots[{index + 1}].sessions"
    return run


def remove_session(start: str, strand: str) -> Operation:
    def run(data: dict[str, Any]) -> str:
        index = _slot_index(data, start)
        sessions = data["slots"][index].get("sessions") or []
        kept = [s for s in sessions if s.get("strand") != strand]
        if len(kept) == len(sessions):
            raise NotFoundError(f"there is no {strand[:40]!r} session at {start}")
        data["slots"][index]["sessions"] = kept
        if not kept and not data["slots"][index].get("title"):
            data["slots"][index]["title"] = "Workshops"  # a slot without sessions needs a title
        return f"slots[{index + 1}].sessions"
    return run


def set_status(status: str) -> Operation:
    def run(data: dict[str, Any]) -> str:
        if status not in ("draft", "published"):
            raise BadInputError(f"status: 'draft' or 'published', not {status[:20]!r}")
        data["status"] = status
        return ""
    return run


# -- the editor ----------------------------------------------------------------------------

class ProgrammeEditor(FolderEditor):
    """Prepares checked new versions of the files in content/programmes/."""

    SUFFIX, NOUN = ".yaml", "programme"

    def __init__(self, programmes_dir: Path, taxonomy: Taxonomy, refs: References,
                 max_bytes: int = 256_000, shown_dir: str = "content/programmes") -> None:
        super().__init__(programmes_dir, max_bytes, shown_dir)
        self.taxonomy, self.refs = taxonomy, refs

    def check(self, slug: str, text: str, focus: str = "") -> tuple[Programme, list[Problem]]:
        """Validate a new text as `kb validate` would; refuse it if there is any error."""
        result = parse_programme(self.shown(slug), text.encode("utf-8"), self.taxonomy,
                                 self.refs, self.max_bytes)
        errors = [p for p in result.problems if p.level == "error"]
        if result.programme is None or errors:
            raise ProgrammeRefused("the change was not saved, because the programme would "
                                   "not be valid:\n" + "\n".join(f"  {p.field}: {p.message}"
                                                                 for p in errors),
                                   errors, focus)
        return result.programme, [p for p in result.problems if p.level != "error"]

    def prepare_new(self, slug: str, title: str, date: str, venue: str, organiser: str,
                    summary: str) -> PreparedEdit:
        """A new draft programme; call under the folder lock. Never replaces a file."""
        path = self.path_of(slug)
        if path.exists():
            raise refuse("slug", f"{self.shown(slug)} already exists; choose another address")
        data: dict[str, Any] = {"status": "draft", "rooms": {}, "strands": {}, "slots": []}
        set_details(title, date, venue, organiser, summary)(data)
        text = render_programme(data)
        programme, warnings = self.check(slug, text)
        return PreparedEdit(path, None, text, programme, tuple(warnings), "")

    def prepare(self, slug: str, operation: Operation) -> PreparedEdit:
        """The programme after one change; call under the folder lock."""
        path = self.path_of(slug)
        before = self.read(slug)
        current = parse_programme(self.shown(slug), before, self.taxonomy, self.refs,
                                  self.max_bytes)
        if current.programme is None:
            raise self.broken(slug, current.problems)
        data = copy.deepcopy(yaml.safe_load(before.decode("utf-8")))
        focus = operation(data)
        text = render_programme(data)
        programme, warnings = self.check(slug, text, focus)
        return PreparedEdit(path, before, text, programme, tuple(warnings), focus)

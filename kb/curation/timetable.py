"""The day at a glance: a programme laid out as rows of time slots and columns of strands (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from kb.curation.collection import Collection
from kb.curation.programme import Programme, Session, Slot, Strand


@dataclass(frozen=True)
class Cell:
    """One session placed in the grid, with the collection it teaches."""

    session: Session
    collection: Collection
    strand: Strand
    room_name: str

    @property
    def title(self) -> str:
        return self.session.title or self.collection.title


@dataclass(frozen=True)
class Row:
    """One time slot: a plenary spanning every column, or one cell (or None) per strand."""

    slot: Slot
    cells: tuple[Cell | None, ...]
    room_name: str = ""


@dataclass(frozen=True)
class Grid:
    """The filtered day; strands with nothing left to show are dropped from the columns."""

    programme: Programme
    strands: tuple[Strand, ...]
    rows: tuple[Row, ...]
    subjects: tuple[str, ...]
    phases: tuple[str, ...]
    shown: int
    total: int

    @property
    def filtered(self) -> bool:
        return bool(self.subjects or self.phases)


def session_matches(collection: Collection, strand: Strand, subjects: tuple[str, ...],
                    phases: tuple[str, ...]) -> bool:
    """A session matches a subject through its strand or its collection, a phase through the
    collection's audience; values of one filter are OR-ed, the two filters AND-ed."""
    if subjects and not set(subjects) & set(strand.subjects) \
            and not collection.is_for(subjects=subjects):
        return False
    return collection.is_for(phases=phases)


def build_grid(programme: Programme, collections: Mapping[str, Collection],
               subjects: tuple[str, ...] = (), phases: tuple[str, ...] = ()) -> Grid:
    """Lay the day out, keeping only the sessions that match the filters."""
    matched: dict[tuple[int, str], Cell] = {}
    total = 0
    for index, slot in enumerate(programme.slots):
        for session in slot.sessions:
            total += 1
            collection = collections.get(session.collection)
            strand = programme.strand(session.strand)
            if collection is None or not session_matches(collection, strand, subjects, phases):
                continue
            matched[(index, strand.id)] = Cell(session, collection, strand,
                                               programme.room_name(session.room))
    strands = tuple(s for s in programme.strands
                    if not (subjects or phases) or any(k[1] == s.id for k in matched))
    rows = []
    for index, slot in enumerate(programme.slots):
        if slot.is_plenary:
            rows.append(Row(slot, (), programme.room_name(slot.room) if slot.room else ""))
        else:
            rows.append(Row(slot, tuple(matched.get((index, s.id)) for s in strands)))
    return Grid(programme, strands, tuple(rows), subjects, phases, len(matched), total)

"""One teacher's day: the plenaries and the sessions they have a place in, as a list for the
print view and as an iCalendar (.ics) file made with the `icalendar` library (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from kb.curation.programme import Programme

# Inset days happen in English schools: times in programme files are local to London.
TIMEZONE = "Europe/London"


@dataclass(frozen=True)
class DayItem:
    """One line of the teacher's day."""

    start: str
    end: str
    title: str
    room: str
    strand: str = ""  # '' for a plenary
    collection: str = ""
    facilitators: tuple[str, ...] = ()
    waiting: str = ""  # a session they queue for instead (no place yet)
    position: int = 0
    open_choice: bool = False  # a workshop slot with no place chosen


def personal_day(programme: Programme, placed: Mapping[str, str],
                 waiting: Mapping[str, tuple[str, int]]) -> list[DayItem]:
    """The day in time order; placed: slot start -> strand, waiting: -> (strand, position)."""
    items = []
    for slot in programme.slots:
        if slot.is_plenary:
            items.append(DayItem(slot.start, slot.end, slot.title,
                                 programme.room_name(slot.room) if slot.room else ""))
            continue
        queue = waiting.get(slot.start, ("", 0))
        queue_title = ""
        if queue[0]:
            queued = slot.session_for(queue[0])
            queue_title = (queued.title or queued.collection) if queued else queue[0]
        session = slot.session_for(placed.get(slot.start, ""))
        if session is None:
            items.append(DayItem(slot.start, slot.end, slot.title or "Workshop: not chosen",
                                 "", waiting=queue_title, position=queue[1],
                                 open_choice=True))
            continue
        items.append(DayItem(slot.start, slot.end, session.title or session.collection,
                             programme.room_name(session.room), session.strand,
                             session.collection, session.facilitators, queue_title, queue[1]))
    return items


def _moment(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=ZoneInfo(TIMEZONE))


def day_calendar(programme: Programme, items: list[DayItem], owner: str,
                 site_url: str, titles: Mapping[str, str]) -> bytes:
    """An .ics file with one event per item of the day (open choices left out).

    titles: collection slug -> title, for sessions whose programme entry has no title."""
    cal = Calendar()
    cal.add("prodid", "-//Westmoor practice library//inset day//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{programme.title}: {owner}")
    stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for item in items:
        if item.open_choice:
            continue
        event = Event()
        event.add("uid", f"{programme.slug}-{item.start.replace(':', '')}-"
                         f"{item.strand or 'plenary'}@practice-kb")
        event.add("dtstamp", stamp)
        event.add("dtstart", _moment(programme.date, item.start))
        event.add("dtend", _moment(programme.date, item.end))
        title = titles.get(item.collection, item.title) if item.collection else item.title
        event.add("summary", title)
        where = ", ".join(p for p in (item.room, programme.venue) if p)
        event.add("location", where)
        lines = []
        if item.facilitators:
            lines.append("Led by " + ", ".join(item.facilitators))
        if item.collection:
            lines.append(f"Session materials: {site_url}/collections/{item.collection}")
        if lines:
            event.add("description", "\n".join(lines))
        cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):  # icalendar 6+: a VTIMEZONE for Europe/London
        cal.add_missing_timezones()
    return bytes(cal.to_ical())

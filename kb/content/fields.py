"""Reading typed fields out of parsed YAML, for write-ups, collections and programmes (pure).

One reader for every content file. Each fault becomes a Problem with the file, the line and the
field, in plain words for the teachers who write the files, and reading goes on, so that one
run lists every problem. A field is named as people count: ('items', 2, 'why') is
`items[3].why`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from typing import Any, Iterable

from kb.content.taxonomy import Taxonomy
from kb.content.yamlfile import LocatedYaml, Step
from kb.errors import Problem

Key = tuple[Step, ...]
MAX_TEXT = 2_000
# A write-up or a day outside these years is a typo (0224 for 2024), and date arithmetic on
# it (review dates, feeds) would overflow.
FIRST_YEAR, LAST_YEAR = 1900, 2100
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ABSENT: Any = object()


def describe(value: Any) -> str:
    """A short description in plain words of a wrongly typed YAML value, for messages."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "nothing"
    if isinstance(value, bool):
        return f"yes/no value {value} (put text in quotes)"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"date {value.isoformat()}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "indented fields"
    return f"{type(value).__name__} {str(value)[:40]!r}"


def field_label(key: Key) -> str:
    """('items', 2, 'writeup') -> 'items[3].writeup' (people count from one)."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else part
    return out


def suggest(name: str, known: Iterable[str]) -> str:
    """'; did you mean 'title'?' for a near miss, else ''."""
    near = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{near[0]}'?" if near else ""


class FieldReader:
    """Reads typed values out of located YAML, recording a problem (with its line) per fault.

    Each reading method takes the key path of a field and, optionally, its value (by default
    the value found at that path); it returns a clean value, or an empty one after recording
    the problem. A required field already reported missing is not reported again.
    """

    def __init__(self, path: str, meta: LocatedYaml, taxonomy: Taxonomy | None = None) -> None:
        self.path, self.meta, self.taxonomy = path, meta, taxonomy
        self.problems: list[Problem] = []
        self._missing: set[Key] = set()

    # -- recording ------------------------------------------------------------------------

    def fail(self, key: Key, message: str, level: str = "error") -> None:
        """Record a problem at the line of `key` (or of its nearest parent)."""
        line = self.meta.line_of(*key, default=1)
        self.problems.append(Problem(self.path, line, field_label(key), message, level))

    def line_of(self, key: Key) -> int:
        return self.meta.line_of(*key)

    def value(self, key: Key) -> Any:
        """The value at a key path, or None where the path leads nowhere."""
        value: Any = self.meta.data
        for part in key:
            if isinstance(part, int):
                value = value[part] if isinstance(value, list) and part < len(value) else None
            elif isinstance(value, dict):
                # Key paths hold text; a YAML key such as `1:` or `2024-01-02:` is not text.
                value = value[part] if part in value else next(
                    (v for k, v in value.items() if str(k) == part), None)
            else:
                value = None
        return value

    def _read(self, key: Key, value: Any) -> tuple[Any, bool]:
        """The value to check, and whether to stay quiet because it was reported missing."""
        if value is _ABSENT:
            value = self.value(key)
        return value, value is None and key in self._missing

    # -- the shape of a mapping -----------------------------------------------------------

    def check_fields(self, required: tuple[str, ...], optional: tuple[str, ...] = (),
                     key: Key = ()) -> None:
        """Report missing required fields and unknown ones (with the nearest known name)."""
        mapping = self.value(key)
        if not isinstance(mapping, dict):
            return
        for name in required:
            if name not in mapping:
                self._missing.add(key + (name,))
                self.fail(key, f"missing required field '{name}'")
        self.unknown_keys(mapping, required + optional, key)

    def unknown_keys(self, mapping: dict[Any, Any], known: tuple[str, ...],
                     key: Key = ()) -> None:
        for name in mapping:
            if str(name) not in known:
                self.fail(key + (str(name),), f"unknown field '{name}'{suggest(str(name), known)}")

    def mapping(self, key: Key, value: Any = _ABSENT, *, what: str) -> dict[str, Any]:
        """A non-empty mapping such as `rooms:` with indented entries, keyed by text."""
        value, quiet = self._read(key, value)
        if not isinstance(value, dict) or not value:
            if not quiet:
                self.fail(key, f"must list {what} on indented lines, got {describe(value)}")
            return {}
        return {str(k): v for k, v in value.items()}

    # -- scalars --------------------------------------------------------------------------

    def text(self, key: Key, value: Any = _ABSENT, *, limit: int = MAX_TEXT,
             required: bool = True) -> str:
        """Non-empty text with its whitespace collapsed, at most `limit` characters."""
        value, quiet = self._read(key, value)
        if value is None and (quiet or not required):
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be non-empty text, got {describe(value)}")
            return ""
        if len(value) > limit:
            self.fail(key, f"is {len(value)} characters; keep it under {limit}")
        return " ".join(value.split())

    def one_of(self, key: Key, choices: tuple[str, ...], value: Any = _ABSENT) -> str:
        """Text that must be one of a few words, like a status."""
        text = self.text(key, value, limit=80)
        if text and text not in choices:
            self.fail(key, f"must be one of {', '.join(choices)}, got {text!r}")
            return ""
        return text

    def whole_number(self, key: Key, value: Any = _ABSENT, *, low: int, high: int | None = None,
                     what: str = "a whole number", required: bool = True) -> int | None:
        """A whole number from low to high (no upper bound when high is None)."""
        value, quiet = self._read(key, value)
        if value is None and (quiet or not required):
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low \
                or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
            self.fail(key, f"must be {what} {bounds}, got {describe(value)}")
            return None
        return value

    def date(self, key: Key, value: Any = _ABSENT, *, required: bool = True) -> dt.date | None:
        """A real calendar date written YYYY-MM-DD (quoted or not)."""
        value, quiet = self._read(key, value)
        if value is None and (quiet or not required):
            return None
        problem = _date_problem(value)
        if isinstance(problem, dt.date):
            return problem
        self.fail(key, problem)
        return None

    # -- lists ----------------------------------------------------------------------------

    def text_list(self, key: Key, value: Any = _ABSENT, *, required: bool = True,
                  min_items: int = 0, limit: int | None = None) -> tuple[str, ...]:
        """A list of text items (one bare item counts as a list of one)."""
        value, quiet = self._read(key, value)
        if value is None and (quiet or not required):
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, f"must be a list of text items, like [a, b]; got {describe(value)}")
            return ()
        if len(value) < min_items:
            self.fail(key, "must list at least one item")
        if limit is not None and len(value) > limit:
            self.fail(key, f"has {len(value)} entries; give at most {limit}")
        return tuple(" ".join(v.split()) for v in value)

    def tags(self, key: Key, vocabulary: str, value: Any = _ABSENT, *, required: bool = True,
             min_items: int = 1, limit: int | None = None) -> tuple[str, ...]:
        """Taxonomy ids for tags written by id, label or alias (vocabulary: a field such as
        'subjects' or 'phase'); an unknown tag is reported with the nearest terms."""
        if self.taxonomy is None:
            raise TypeError("FieldReader.tags needs the taxonomy")
        vocab = self.taxonomy.for_field(vocabulary)
        out: list[str] = []
        for tag in self.text_list(key, value, required=required, min_items=min_items,
                                  limit=limit):
            term_id = vocab.resolve(tag)
            if term_id is None:
                self.fail(key, self.taxonomy.unknown_tag_message(vocabulary, tag))
            elif term_id not in out:
                out.append(term_id)
        return tuple(out)


def is_date_problem(message: str) -> bool:
    """True for the message of a value that is no date (an upload or API call with one is
    refused outright rather than kept as a draft)."""
    return message.startswith(_EXPECTED_DATE) or " is not a real date: " in message


_EXPECTED_DATE = "must be a date written YYYY-MM-DD"


def _date_problem(value: Any) -> dt.date | str:
    """The date a value stands for, or what is wrong with it."""
    expected = _EXPECTED_DATE
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            return f"{expected}; the year {value.year} looks like a typo"
        return value
    if not isinstance(value, str):
        return f"{expected}, got {describe(value)}"
    text = value.strip()
    iso, day_first = ISO_DATE.match(text), DAY_FIRST.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif day_first:
        day, month, year = (int(g) for g in day_first.groups())
    else:
        return f"{expected}, got {describe(value)}"
    impossible = _impossible(year, month, day)
    if iso:
        if impossible:
            return f"{text} is not a real date: {impossible}"
        return _date_problem(dt.date(year, month, day))  # a quoted date; check its year
    if impossible:
        return f"{expected}, got {text!r}, which is not a real date either ({impossible})"
    return f"{expected}, got {text!r}; write it year first: {year:04d}-{month:02d}-{day:02d}"


def _impossible(year: int, month: int, day: int) -> str:
    """Why year-month-day is no date ('there is no month 13'), or '' if it is one."""
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    days = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= days:
        return f"{calendar.month_name[month]} {year} has {days} days"
    if year < 1:
        return "there is no year 0"
    return ""

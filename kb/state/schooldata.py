"""School context and yearly indicators (school-level only): a validated, all-or-nothing import."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from kb.content.directory import Directory
from kb.errors import BadInputError, Problem, ValidationError
from kb.state import audit
from kb.state.database import StateStore, now_iso

# School-level figures only: any other column (a pupil's name, number) is refused.
MAX_CSV_BYTES = 5_000_000
SECONDARY, PRIMARY = ("secondary", "all-through"), ("primary", "all-through")
SETTINGS = ("rural", "urban")
INSPECTION_GRADES = ("outstanding", "good", "requires improvement", "inadequate")


@dataclass(frozen=True)
class Indicator:
    """One yearly measure: its label, unit, allowed range, phases and which way is better."""

    id: str
    label: str
    unit: str
    low: float
    high: float
    phases: tuple[str, ...]
    higher_is_better: bool


INDICATORS: dict[str, Indicator] = {i.id: i for i in (
    Indicator("attainment8", "Attainment 8", "points", 0, 90, SECONDARY, True),
    Indicator("progress8", "Progress 8", "score", -5, 5, SECONDARY, True),
    Indicator("ks2_rwm_expected", "KS2 reading, writing and maths at the expected standard",
              "% of pupils", 0, 100, PRIMARY, True),
    Indicator("disadvantaged_gap", "Disadvantaged gap (others minus disadvantaged pupils)",
              "A8 points or % points", -100, 100, SECONDARY + PRIMARY, False),
    Indicator("persistent_absence", "Persistent absence", "% of pupils", 0, 100,
              ("primary", "secondary", "all-through", "post-16"), False),
)}
CONTEXT_COLUMNS = ("school", "pupils", "disadvantaged_pct", "eal_pct", "send_pct", "setting",
                   "inspection_grade")
INDICATOR_COLUMNS = ("school", "year", *INDICATORS)


@dataclass(frozen=True)
class CsvProblem(Problem):
    """A problem in a CSV file, located by line and column (1-based)."""

    column: int = 0

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}:" + (f" [{self.field}]" if self.field else "") + f" {self.message}"


@dataclass(frozen=True)
class SchoolContext:
    """What a school is like: size, intake and setting, and its latest inspection grade."""

    school: str
    pupils: int
    disadvantaged: float
    eal: float
    send: float
    setting: str
    inspection: str


@dataclass(frozen=True)
class ImportReport:
    contexts: int
    indicator_rows: int
    files: tuple[str, ...]


def year_label(year: int) -> str:
    """The academic year ending in `year`, as the performance tables write it (2022/23)."""
    return f"{year - 1}/{year % 100:02d}"


def _number(text: str, low: float, high: float, whole: bool = False) -> float:
    value = float(text)  # ValueError for words
    if not math.isfinite(value) or (whole and value != int(value)):
        raise ValueError(text)
    if not low <= value <= high:
        raise OverflowError(f"must be between {low:g} and {high:g}, got {text}")
    return value


class _Reader:
    """Reads one CSV file, collecting every problem with its line and column."""

    def __init__(self, name: str, directory: Directory) -> None:
        self.name, self.directory = name, directory
        self.problems: list[Problem] = []

    def problem(self, line: int, column: int, field: str, message: str) -> None:
        self.problems.append(CsvProblem(self.name, line, field, message, column=column))

    def school(self, line: int, text: str) -> str | None:
        found = self.directory.resolve_school(text)
        if found is None:
            near = ", ".join(self.directory.suggest_school(text))
            hint = f"did you mean {near}?" if near else "see content/schools.yaml"
            self.problem(line, 1, "school", f"unknown school {text[:80]!r} ({hint})")
            return None
        return found.id

    def number(self, line: int, column: int, field: str, text: str, low: float, high: float,
               whole: bool = False) -> float | None:
        try:
            return _number(text, low, high, whole)
        except OverflowError as exc:
            self.problem(line, column, field, str(exc))
        except ValueError:
            kind = "a whole number" if whole else "a number"
            self.problem(line, column, field, f"not {kind}: {text[:40]!r}")
        return None


def _rows(text: str, reader: _Reader) -> tuple[list[str], list[tuple[int, list[str]]]]:
    parsed = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(parsed)]
        rows: list[tuple[int, list[str]]] = []
        for row in parsed:
            if any(cell.strip() for cell in row):
                rows.append((parsed.line_num, [cell.strip() for cell in row]))
    except (StopIteration, csv.Error) as exc:
        reader.problem(max(parsed.line_num, 1), 0, "", f"not readable as CSV: {exc}"
                       if isinstance(exc, csv.Error) else "the file is empty; it needs a header")
        return [], []
    return header, rows


def _check_header(header: list[str], expected: tuple[str, ...], reader: _Reader) -> bool:
    ok = True
    for n, column in enumerate(header, start=1):
        if column not in expected:
            reader.problem(1, n, column, f"unknown column {column[:40]!r}; the columns are "
                           + ", ".join(expected) + " (only school-level figures are kept)")
            ok = False
        elif header.index(column) != n - 1:
            reader.problem(1, n, column, "this column appears twice")
            ok = False
    for column in expected:
        if column not in header:
            reader.problem(1, 0, column, f"missing column {column!r}")
            ok = False
    return ok


def _read_context(header: list[str], rows: list[tuple[int, list[str]]],
                  reader: _Reader) -> list[SchoolContext]:
    out: list[SchoolContext] = []
    seen: dict[str, int] = {}
    col = {name: header.index(name) for name in CONTEXT_COLUMNS}
    for line, row in rows:
        if len(row) != len(header):
            reader.problem(line, 0, "", f"{len(row)} cells where the header has {len(header)}")
            continue
        school, values = reader.school(line, row[col["school"]]), {}
        for field, high in (("pupils", 5000), ("disadvantaged_pct", 100), ("eal_pct", 100),
                            ("send_pct", 100)):
            values[field] = reader.number(line, col[field] + 1, field, row[col[field]],
                                          int(field == "pupils"), high, field == "pupils")
        setting = row[col["setting"]].lower()
        if setting not in SETTINGS:
            reader.problem(line, col["setting"] + 1, "setting",
                           f"{setting[:40]!r} is not rural or urban")
        grade = " ".join(row[col["inspection_grade"]].lower().split())
        if grade not in INSPECTION_GRADES:
            reader.problem(line, col["inspection_grade"] + 1, "inspection_grade",
                           f"{grade[:40]!r} is not one of " + ", ".join(INSPECTION_GRADES))
        if school and school in seen:
            reader.problem(line, 1, "school", f"{school} already appears on line {seen[school]}")
            continue
        if None in (school, *values.values()) or setting not in SETTINGS or \
                grade not in INSPECTION_GRADES:
            continue
        seen[school] = line
        out.append(SchoolContext(school, int(values["pupils"] or 0),
                                 float(values["disadvantaged_pct"] or 0),
                                 float(values["eal_pct"] or 0), float(values["send_pct"] or 0),
                                 setting, grade))
    return out


def _read_indicators(header: list[str], rows: list[tuple[int, list[str]]],
                     reader: _Reader) -> list[tuple[str, int, str, float]]:
    out: list[tuple[str, int, str, float]] = []
    seen: dict[tuple[str, int], int] = {}
    col = {name: header.index(name) for name in INDICATOR_COLUMNS}
    for line, row in rows:
        if len(row) != len(header):
            reader.problem(line, 0, "", f"{len(row)} cells where the header has {len(header)}")
            continue
        school = reader.school(line, row[col["school"]])
        year = reader.number(line, col["year"] + 1, "year", row[col["year"]], 2000, 2100, True)
        if school and year is not None:
            key = (school, int(year))
            if key in seen:
                reader.problem(line, col["year"] + 1, "year",
                               f"{school} {year_label(int(year))} already appears on line "
                               f"{seen[key]}")
                continue
            seen[key] = line
        phase = reader.directory.schools[school].phase if school else ""
        for ind in INDICATORS.values():
            text = row[col[ind.id]]
            if not text:
                continue
            value = reader.number(line, col[ind.id] + 1, ind.id, text, ind.low, ind.high)
            if school and phase not in ind.phases:
                reader.problem(line, col[ind.id] + 1, ind.id,
                               f"{ind.label} is not reported for a {phase} school; leave it "
                               "empty")
            elif school and year is not None and value is not None:
                out.append((school, int(year), ind.id, value))
    return out


def import_csv(store: StateStore, directory: Directory, paths: list[Path],
               actor: str = "cli") -> ImportReport:
    """Validate every file, then import them all in one transaction, or nothing at all.

    A context file replaces the context of the schools it names; an indicator file replaces
    the figures of each (school, year) it names, so importing the same file twice changes
    nothing. Raises ValidationError listing every problem with file, line and column.
    """
    problems: list[Problem] = []
    contexts: list[SchoolContext] = []
    figures: list[tuple[str, int, str, float]] = []
    for path in paths:
        reader = _Reader(str(path), directory)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise BadInputError(f"{path}: cannot read it ({exc.strerror})") from None
        if len(raw) > MAX_CSV_BYTES:
            reader.problem(0, 0, "", f"larger than {MAX_CSV_BYTES} bytes")
        else:
            try:
                header, rows = _rows(raw.decode("utf-8-sig"), reader)
            except UnicodeDecodeError as exc:
                reader.problem(0, 0, "", f"not UTF-8: {exc.reason}")
                header, rows = [], []
            if header and "year" in header:
                if _check_header(header, INDICATOR_COLUMNS, reader):
                    figures += _read_indicators(header, rows, reader)
            elif header and "pupils" in header:
                if _check_header(header, CONTEXT_COLUMNS, reader):
                    contexts += _read_context(header, rows, reader)
            elif header:
                reader.problem(1, 0, "", "cannot tell what this file holds: an indicator file "
                               "has a 'year' column, a context file a 'pupils' column")
        problems += reader.problems
    if problems:
        raise ValidationError(problems)
    stamp = now_iso()
    with store.write() as conn:
        for c in contexts:
            conn.execute("INSERT OR REPLACE INTO school_context (school, pupils, disadvantaged, "
                         "eal, send, setting, inspection, imported_at) VALUES (?,?,?,?,?,?,?,?)",
                         (c.school, c.pupils, c.disadvantaged, c.eal, c.send, c.setting,
                          c.inspection, stamp))
        for school, year in sorted({(s, y) for s, y, _, _ in figures}):
            conn.execute("DELETE FROM school_indicators WHERE school=? AND year=?",
                         (school, year))
        conn.executemany("INSERT INTO school_indicators (school, year, indicator, value, "
                         "imported_at) VALUES (?,?,?,?,?)",
                         [(*f, stamp) for f in figures])
        audit.record(conn, actor, "schools.import", "schools:data",
                     f"{len(contexts)} contexts, {len(figures)} figures from "
                     + ", ".join(p.name for p in paths))
    return ImportReport(len(contexts), len(figures), tuple(str(p) for p in paths))


def load_contexts(store: StateStore) -> dict[str, SchoolContext]:
    with store.read() as conn:
        rows = conn.execute("SELECT school, pupils, disadvantaged, eal, send, setting, "
                            "inspection FROM school_context ORDER BY school").fetchall()
    return {r[0]: SchoolContext(*r) for r in rows}


def load_indicators(store: StateStore) -> dict[str, dict[str, dict[int, float]]]:
    """school -> indicator -> year -> value."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    with store.read() as conn:
        for school, year, indicator, value in conn.execute(
                "SELECT school, year, indicator, value FROM school_indicators "
                "ORDER BY school, indicator, year"):
            out.setdefault(school, {}).setdefault(indicator, {})[year] = value
    return out

"""What curators taught the search (content/search.yaml): phrases that name a taxonomy term,
and best bets, a write-up or collection pinned as the best answer to a query.

The file is content like the write-ups: versioned, validated by `kb validate` with file:line
messages, and edited only through `SearchTuningEditor`, which validates the new version before
replacing the file atomically. A broken entry is reported and skipped; the rest still apply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from kb.content.taxonomy import Taxonomy
from kb.content.yamlfile import LocatedYaml, YamlSyntaxError, load_located
from kb.curation.editing import locked, write_atomically
from kb.errors import BadInputError, NotFoundError, Problem

FILE_NAME = "search.yaml"
ALIAS_FIELDS = ("subjects", "interventions", "phase", "pupil_groups")
BET_KINDS = ("practice", "collection")
MAX_PHRASE = 80
MAX_NOTE = 300
WORD_RE = re.compile(r"\w+", re.UNICODE)
HEADER = ("# What curators taught the search: phrases that name a taxonomy term, and best\n"
          "# bets pinned as the answer to a query. Edited on the web (/search/tuning) and by\n"
          "# `kb validate`-checked edits; each change is a revision in the audit log.\n")


def normalise_query(text: str) -> str:
    """The form in which queries are compared: lower-case words separated by single spaces."""
    return " ".join(WORD_RE.findall(text.casefold()))


@dataclass(frozen=True)
class TaughtAlias:
    phrase: str
    field: str
    term: str
    added_by: str = ""
    added: str = ""


@dataclass(frozen=True)
class BestBet:
    query: str
    kind: str  # practice | collection
    slug: str
    note: str = ""
    added_by: str = ""
    added: str = ""

    @property
    def key(self) -> str:
        return normalise_query(self.query)


@dataclass(frozen=True)
class SearchTuning:
    aliases: tuple[TaughtAlias, ...] = ()
    best_bets: tuple[BestBet, ...] = ()
    problems: tuple[Problem, ...] = field(default=(), compare=False)


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    return " ".join(value.split())


def parse_search_tuning(path: str, text: str, taxonomy: Taxonomy,
                        writeups: Collection[str], collections: Collection[str]) -> SearchTuning:
    """Read the file's text; every bad entry becomes a problem with its line, and is skipped."""
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        return SearchTuning(problems=(Problem(path, exc.line, "", str(exc)),))
    data = located.data if located.data is not None else {}
    problems: list[Problem] = []
    if not isinstance(data, dict):
        return SearchTuning(problems=(Problem(path, 1, "", "expected 'aliases:' and "
                                              "'best_bets:' lists"),))
    for key in data:
        if key not in ("aliases", "best_bets"):
            problems.append(Problem(path, located.line_of(str(key)), str(key),
                                    "unknown section; use 'aliases' or 'best_bets'"))
    aliases = _aliases(path, located, data.get("aliases") or [], taxonomy, problems)
    bets = _bets(path, located, data.get("best_bets") or [], writeups, collections, problems)
    return SearchTuning(tuple(aliases), tuple(bets), tuple(problems))


def _entries(path: str, located: LocatedYaml, raw: Any, section: str,
             problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(raw, list):
        problems.append(Problem(path, located.line_of(section), section, "must be a list"))
        return []
    out = []
    for n, entry in enumerate(raw):
        line = located.line_of(section, n)
        if isinstance(entry, dict):
            out.append((line, entry))
        else:
            problems.append(Problem(path, line, section, "each entry must be a set of "
                                    "'field: value' lines"))
    return out


def _aliases(path: str, located: LocatedYaml, raw: Any, taxonomy: Taxonomy,
             problems: list[Problem]) -> list[TaughtAlias]:
    out: list[TaughtAlias] = []
    seen: set[tuple[str, str]] = set()
    for line, entry in _entries(path, located, raw, "aliases", problems):
        phrase = _text(entry.get("phrase"), MAX_PHRASE)
        field_name, term = entry.get("field"), entry.get("term")
        if phrase is None or not WORD_RE.search(phrase):
            problems.append(Problem(path, line, "aliases.phrase",
                                    f"needs a phrase of up to {MAX_PHRASE} characters"))
            continue
        if field_name not in ALIAS_FIELDS:
            problems.append(Problem(path, line, "aliases.field",
                                    f"must be one of {', '.join(ALIAS_FIELDS)}"))
            continue
        if not isinstance(term, str) or taxonomy.for_field(field_name).get(term) is None:
            problems.append(Problem(path, line, "aliases.term",
                                    taxonomy.unknown_tag_message(field_name, term)))
            continue
        key = (normalise_query(phrase), field_name)
        if key in seen:
            problems.append(Problem(path, line, "aliases.phrase",
                                    f"'{phrase}' is already taught for {field_name}"))
            continue
        seen.add(key)
        out.append(TaughtAlias(phrase, field_name, term, str(entry.get("added_by") or ""),
                               str(entry.get("added") or "")))
    return out


def _bets(path: str, located: LocatedYaml, raw: Any, writeups: Collection[str],
          collections: Collection[str], problems: list[Problem]) -> list[BestBet]:
    out: list[BestBet] = []
    for line, entry in _entries(path, located, raw, "best_bets", problems):
        query = _text(entry.get("query"), MAX_PHRASE)
        kinds = [k for k in BET_KINDS if k in entry]
        note = entry.get("note", "")
        if query is None or not normalise_query(query):
            problems.append(Problem(path, line, "best_bets.query",
                                    f"needs the query, up to {MAX_PHRASE} characters"))
            continue
        if len(kinds) != 1:
            problems.append(Problem(path, line, "best_bets", "name one 'practice: <slug>' or "
                                    "one 'collection: <slug>'"))
            continue
        kind, slug = kinds[0], entry[kinds[0]]
        known = writeups if kind == "practice" else collections
        if not isinstance(slug, str) or slug not in known:
            problems.append(Problem(path, line, f"best_bets.{kind}",
                                    f"there is no published {kind} called {slug!r}"))
            continue
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            problems.append(Problem(path, line, "best_bets.note",
                                    f"must be text of up to {MAX_NOTE} characters"))
            continue
        out.append(BestBet(query, kind, slug, " ".join(note.split()),
                           str(entry.get("added_by") or ""), str(entry.get("added") or "")))
    return out


def render_search_tuning(tuning: SearchTuning) -> str:
    """The file text in its canonical layout."""
    def clean(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in entry.items() if v}

    data = {
        "aliases": [clean({"phrase": a.phrase, "field": a.field, "term": a.term,
                           "added_by": a.added_by, "added": a.added}) for a in tuning.aliases],
        "best_bets": [clean({"query": b.query, b.kind: b.slug, "note": b.note,
                             "added_by": b.added_by, "added": b.added})
                      for b in tuning.best_bets],
    }
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)


class SearchTuningEditor:
    """Adds and removes taught phrases and best bets; each change is validated first."""

    def __init__(self, content_dir: Path, taxonomy: Taxonomy, writeups: Collection[str],
                 collections: Collection[str]) -> None:
        self.path = content_dir / FILE_NAME
        self.taxonomy, self.writeups, self.collections = taxonomy, writeups, collections

    def load(self) -> SearchTuning:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return SearchTuning()
        return parse_search_tuning(f"content/{FILE_NAME}", text, self.taxonomy, self.writeups,
                                   self.collections)

    def add_alias(self, phrase: str, field_name: str, term: str, by: str) -> SearchTuning:
        alias = TaughtAlias(" ".join(phrase.split()), field_name, term, by, _today())
        return self._edit(lambda t: replace(t, aliases=t.aliases + (alias,)))

    def remove_alias(self, phrase: str, field_name: str) -> SearchTuning:
        key = (normalise_query(phrase), field_name)

        def change(t: SearchTuning) -> SearchTuning:
            kept = tuple(a for a in t.aliases if (normalise_query(a.phrase), a.field) != key)
            if len(kept) == len(t.aliases):
                raise NotFoundError(f"no taught phrase '{phrase}' for {field_name}")
            return replace(t, aliases=kept)
        return self._edit(change)

    def add_best_bet(self, query: str, kind: str, slug: str, note: str, by: str
                     ) -> SearchTuning:
        if kind not in BET_KINDS:
            raise BadInputError(f"a best bet is a {' or a '.join(BET_KINDS)}, not {kind!r}")
        bet = BestBet(" ".join(query.split()), kind, slug, " ".join(note.split()), by, _today())

        def change(t: SearchTuning) -> SearchTuning:
            kept = tuple(b for b in t.best_bets
                         if (b.key, b.kind, b.slug) != (bet.key, kind, slug))
            return replace(t, best_bets=kept + (bet,))
        return self._edit(change)

    def remove_best_bet(self, query: str, kind: str, slug: str) -> SearchTuning:
        key = normalise_query(query)

        def change(t: SearchTuning) -> SearchTuning:
            kept = tuple(b for b in t.best_bets if (b.key, b.kind, b.slug) != (key, kind, slug))
            if len(kept) == len(t.best_bets):
                raise NotFoundError(f"no best bet of {kind} {slug!r} for '{query}'")
            return replace(t, best_bets=kept)
        return self._edit(change)

    def _edit(self, change: Callable[[SearchTuning], SearchTuning]) -> SearchTuning:
        with locked(self.path.parent):
            current = self.load()
            errors = [p for p in current.problems if p.level == "error"]
            if errors:
                raise BadInputError(f"fix content/{FILE_NAME} first: " +
                                    "; ".join(str(p) for p in errors))
            text = render_search_tuning(change(current))
            checked = parse_search_tuning(f"content/{FILE_NAME}", text, self.taxonomy,
                                          self.writeups, self.collections)
            if checked.problems:
                raise BadInputError("the change was not saved: " +
                                    "; ".join(f"{p.field}: {p.message}" for p in checked.problems))
            write_atomically(self.path, text)
            return checked


def _today() -> str:
    return dt.date.today().isoformat()

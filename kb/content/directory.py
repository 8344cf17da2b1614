"""The families of schools and their members (content/schools.yaml)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from kb.content.taxonomy import normalise_tag
from kb.content.yamlfile import YamlSyntaxError, load_located
from kb.errors import Problem, ValidationError


@dataclass(frozen=True)
class Family:
    id: str
    name: str
    description: str


OFFER_KINDS = ("visit", "coaching", "resources", "training")


@dataclass(frozen=True)
class Offer:
    """Something a school offers others through school-to-school support."""

    kind: str
    description: str


@dataclass(frozen=True)
class School:
    id: str
    name: str
    phase: str
    family: str
    offers: tuple[Offer, ...] = ()


@dataclass(frozen=True)
class Directory:
    """Families and schools, looked up by id or by name (any case)."""

    families: dict[str, Family]
    schools: dict[str, School]

    def resolve_school(self, text: str) -> School | None:
        key = normalise_tag(text)
        return next((s for s in self.schools.values()
                     if normalise_tag(s.id) == key or normalise_tag(s.name) == key), None)

    def resolve_family(self, text: str) -> Family | None:
        key = normalise_tag(text)
        return next((f for f in self.families.values()
                     if normalise_tag(f.id) == key or normalise_tag(f.name) == key), None)

    def schools_in(self, family_id: str) -> list[School]:
        return sorted((s for s in self.schools.values() if s.family == family_id),
                      key=lambda s: s.name)

    def suggest_school(self, text: str) -> list[str]:
        return difflib.get_close_matches(text, list(self.schools), n=3, cutoff=0.4)

    def suggest_family(self, text: str) -> list[str]:
        return difflib.get_close_matches(text, list(self.families), n=3, cutoff=0.4)


def load_directory(path: Path) -> Directory:
    """Read schools.yaml; raise ValidationError naming the line of any problem."""
    name = str(path)
    try:
        located = load_located(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError([Problem(name, 0, "", "schools file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ValidationError([Problem(name, 0, "", f"not UTF-8: {exc.reason}")]) from None
    except YamlSyntaxError as exc:
        raise ValidationError([Problem(name, exc.line, "", str(exc))]) from None
    data = located.data if isinstance(located.data, dict) else {}
    problems: list[Problem] = []
    families: dict[str, Family] = {}
    for fid, raw in (data.get("families") or {}).items():
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            problems.append(Problem(name, located.line_of("families", str(fid)),
                                    f"families.{fid}", "a family needs a name"))
            continue
        families[str(fid)] = Family(str(fid), raw["name"], str(raw.get("description", "")))
    schools: dict[str, School] = {}
    for sid, raw in (data.get("schools") or {}).items():
        line = located.line_of("schools", str(sid))
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            problems.append(Problem(name, line, f"schools.{sid}", "a school needs a name"))
            continue
        family = str(raw.get("family", ""))
        if family not in families:
            problems.append(Problem(name, line, f"schools.{sid}.family",
                                    f"unknown family {family!r}"))
            continue
        offers: list[Offer] = []
        for n, offer in enumerate(raw.get("offers") or []):
            if not isinstance(offer, dict) or offer.get("kind") not in OFFER_KINDS or \
                    not isinstance(offer.get("description"), str):
                problems.append(Problem(name, line, f"schools.{sid}.offers[{n}]",
                                        "each offer needs a kind (" + ", ".join(OFFER_KINDS)
                                        + ") and a description"))
                continue
            offers.append(Offer(offer["kind"], " ".join(offer["description"].split())))
        schools[str(sid)] = School(str(sid), raw["name"], str(raw.get("phase", "")), family,
                                   tuple(offers))
    if not families or not schools:
        problems.append(Problem(name, 1, "", "needs 'families' and 'schools' sections"))
    if problems:
        raise ValidationError(problems)
    return Directory(families, schools)

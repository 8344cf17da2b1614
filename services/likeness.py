"""Schools like this one: a plain distance over standardised context, and its reason in words."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kb.content.directory import Directory, School
from kb.state.schooldata import SchoolContext, load_contexts
from services.runtime import Services

# (feature, what "similar" calls it, words for more, words for less)
FEATURES = (("size", "size", "larger", "smaller"),
            ("disadvantaged", "disadvantage", "more disadvantaged pupils",
             "fewer disadvantaged pupils"),
            ("eal", "EAL", "more pupils with EAL", "fewer pupils with EAL"),
            ("send", "SEND", "more pupils with SEND",
             "fewer pupils with SEND"))
SIMILAR_WITHIN = 0.5  # standard deviations: closer than this counts as "similar"
DIFFERENT_BEYOND = 1.0  # further than this is named as a difference
SETTING_WEIGHT = 1.0  # added (squared) to the distance when one is rural and the other urban
RULE = ("Each school's size (the logarithm of its number of pupils) and its shares of "
        "disadvantaged pupils, of pupils with EAL and with SEND are put on one scale: how many "
        "standard deviations each is from the average of all the schools. The distance between "
        "two schools is the square root of the sum of the squared differences, plus 1 inside "
        "the root when one is rural and the other urban. Only schools of the same phase are "
        "compared; a school with no other of its phase is compared with all.")


@dataclass(frozen=True)
class Likeness:
    """A similar school, how far it is, and why it counts as similar."""

    school: School
    distance: float
    reason: str


def _raw(c: SchoolContext) -> dict[str, float]:
    return {"size": math.log(max(c.pupils, 1)), "disadvantaged": c.disadvantaged,
            "eal": c.eal, "send": c.send}


def standardise(contexts: dict[str, SchoolContext]) -> dict[str, dict[str, float]]:
    """Each school's features as z-scores over all the schools with a context."""
    raw = {s: _raw(c) for s, c in contexts.items()}
    out: dict[str, dict[str, float]] = {s: {} for s in raw}
    for feature, *_ in FEATURES:
        values = [r[feature] for r in raw.values()]
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
        for school, r in raw.items():
            out[school][feature] = (r[feature] - mean) / sd
    return out


def reason(a: dict[str, float], b: dict[str, float], setting_a: str, setting_b: str,
           same_phase: bool, phase_b: str) -> str:
    """Why b is like a, in plain words: "similar size and disadvantage, also rural"."""
    similar = [name for feature, name, *_ in FEATURES
               if abs(a[feature] - b[feature]) <= SIMILAR_WITHIN]
    parts = []
    if similar:
        parts.append("similar " + (" and ".join(similar) if len(similar) <= 2 else
                                   ", ".join(similar[:-1]) + " and " + similar[-1]))
    if setting_a == setting_b:
        parts.append(f"also {setting_b}")
    if not same_phase:
        parts.append(f"a {phase_b} school")
    gaps = sorted(((b[f] - a[f], more, less) for f, _, more, less in FEATURES
                   if abs(a[f] - b[f]) > DIFFERENT_BEYOND), key=lambda g: -abs(g[0]))
    # Nothing alike: say so rather than "nearest", since the partner ranking gives a reason
    # for every school of the phase, the furthest included.
    words = ", ".join(parts) or ("a different context" if gaps else "broadly alike in context")
    if gaps:
        words += (", though with " if parts else ", with ") + " and ".join(
            (more if d > 0 else less) for d, more, less in gaps[:2])
        words = words.replace("with larger", "larger").replace("with smaller", "smaller")
    return words[0].upper() + words[1:]


def similar_schools(directory: Directory, contexts: dict[str, SchoolContext], school_id: str,
                    k: int = 5) -> list[Likeness]:
    """The k schools nearest to school_id by context (none when it has no context)."""
    if school_id not in contexts or school_id not in directory.schools:
        return []
    z = standardise(contexts)
    me = directory.schools[school_id]
    others = [s for s in contexts if s != school_id and s in directory.schools]
    same = [s for s in others if directory.schools[s].phase == me.phase]
    pool = same or others
    found = []
    for other in pool:
        d2 = sum((z[school_id][f] - z[other][f]) ** 2 for f, *_ in FEATURES)
        if contexts[school_id].setting != contexts[other].setting:
            d2 += SETTING_WEIGHT
        school = directory.schools[other]
        found.append(Likeness(school, round(math.sqrt(d2), 3), reason(
            z[school_id], z[other], contexts[school_id].setting, contexts[other].setting,
            school.phase == me.phase, school.phase)))
    return sorted(found, key=lambda like: (like.distance, like.school.name))[:k]


def school_likeness(services: Services, school_id: str, k: int = 5
                    ) -> tuple[SchoolContext | None, list[Likeness]]:
    """A school's context and the schools most like it, read from the application database."""
    contexts = load_contexts(services.state)
    return contexts.get(school_id), similar_schools(services.directory, contexts, school_id, k)

"""The controlled vocabularies (content/taxonomy.yaml): terms, aliases and tag resolution."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from kb.content.yamlfile import YamlSyntaxError, load_located
from kb.errors import Problem, ValidationError

# Front-matter field -> taxonomy vocabulary.
VOCABULARIES = {
    "subjects": "subjects",
    "interventions": "interventions",
    "phase": "phases",
    "key_stages": "key_stages",
    "pupil_groups": "pupil_groups",
    "evidence_strength": "evidence_strengths",
}
# The tag fields a search can filter and facet on, in display order.
TAG_FIELDS = ("subjects", "interventions", "phase", "key_stages", "pupil_groups",
              "evidence_strength")


@dataclass(frozen=True)
class Term:
    """One vocabulary term."""

    id: str
    label: str
    description: str
    aliases: tuple[str, ...] = ()
    # Everyday descriptions teachers give of the term: matched by meaning (embedded with each
    # write-up tagged with it), never as tags or search phrases.
    phrases: tuple[str, ...] = ()
    evidence_source: str = ""
    evidence_url: str = ""
    evidence_summary: str = ""


def normalise_tag(text: str) -> str:
    """Case-fold and collapse spaces, hyphens and underscores so 'Key Stage 3' ~ 'key-stage-3'."""
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


@dataclass(frozen=True)
class Vocabulary:
    """The terms of one vocabulary, in file order, with an alias lookup table."""

    name: str
    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        lookup: dict[str, str] = {}
        for term in self.terms:
            for key in (term.id, term.label, *term.aliases):
                lookup.setdefault(normalise_tag(key), term.id)
        object.__setattr__(self, "_lookup", lookup)

    def get(self, term_id: str) -> Term | None:
        return next((t for t in self.terms if t.id == term_id), None)

    def ids(self) -> list[str]:
        return [t.id for t in self.terms]

    def label(self, term_id: str) -> str:
        term = self.get(term_id)
        return term.label if term else term_id

    def resolve(self, tag: str) -> str | None:
        """The id a tag names (by id, label or alias, any case), or None."""
        return self._lookup.get(normalise_tag(tag))  # type: ignore[attr-defined]

    def suggest(self, tag: str, limit: int = 3) -> list[str]:
        """The ids of the terms closest to an unknown tag."""
        keys = list(self._lookup)  # type: ignore[attr-defined]
        close = difflib.get_close_matches(normalise_tag(tag), keys, n=limit * 3, cutoff=0.5)
        out: list[str] = []
        for key in close:
            term_id = self._lookup[key]  # type: ignore[attr-defined]
            if term_id not in out:
                out.append(term_id)
        return out[:limit]


@dataclass(frozen=True)
class Taxonomy:
    """All vocabularies, keyed by vocabulary name (subjects, interventions, ...)."""

    vocabularies: dict[str, Vocabulary]

    def for_field(self, field: str) -> Vocabulary:
        return self.vocabularies[VOCABULARIES[field]]

    def label(self, field: str, term_id: str) -> str:
        return self.for_field(field).label(term_id)

    def unknown_tag_message(self, field: str, tag: object) -> str:
        vocab = self.for_field(field)
        suggestions = vocab.suggest(str(tag))
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        return f"unknown {field} tag {str(tag)!r}{hint} (terms are listed in taxonomy.yaml)"


TERM_KEYS = {"label", "description", "aliases", "phrases", "evidence"}


def load_taxonomy(path: Path) -> Taxonomy:
    """Read taxonomy.yaml; raise ValidationError naming the line of any problem."""
    name = str(path)
    try:
        located = load_located(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError([Problem(name, 0, "", "taxonomy file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ValidationError([Problem(name, 0, "", f"not UTF-8: {exc.reason}")]) from None
    except YamlSyntaxError as exc:
        raise ValidationError([Problem(name, exc.line, "", str(exc))]) from None
    data = located.data
    problems: list[Problem] = []
    vocabularies: dict[str, Vocabulary] = {}
    if not isinstance(data, dict):
        raise ValidationError([Problem(name, 1, "", "expected a mapping of vocabularies")])
    for vocab_name in VOCABULARIES.values():
        section = data.get(vocab_name)
        if not isinstance(section, dict) or not section:
            problems.append(Problem(name, located.line_of(vocab_name, default=1), vocab_name,
                                    "missing or empty vocabulary"))
            continue
        terms = []
        for term_id, raw in section.items():
            line = located.line_of(vocab_name, str(term_id))
            if not isinstance(raw, dict) or not isinstance(raw.get("label"), str):
                problems.append(Problem(name, line, f"{vocab_name}.{term_id}",
                                        "each term needs a label, a description and aliases"))
                continue
            aliases = raw.get("aliases") or []
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                problems.append(Problem(name, line, f"{vocab_name}.{term_id}.aliases",
                                        "aliases must be a list of strings"))
                continue
            phrases = raw.get("phrases") or []
            if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
                problems.append(Problem(name, located.line_of(vocab_name, str(term_id), "phrases",
                                                               default=line),
                                        f"{vocab_name}.{term_id}.phrases",
                                        "phrases must be a list of strings"))
                continue
            unknown = sorted(set(raw) - TERM_KEYS)
            if unknown:
                problems.append(Problem(name, located.line_of(vocab_name, str(term_id), unknown[0],
                                                               default=line),
                                        f"{vocab_name}.{term_id}.{unknown[0]}",
                                        f"unknown key; a term has {', '.join(sorted(TERM_KEYS))}"))
                continue
            evidence = raw.get("evidence") or {}
            terms.append(Term(
                id=str(term_id), label=raw["label"], description=str(raw.get("description", "")),
                aliases=tuple(aliases), phrases=tuple(phrases),
                evidence_source=str(evidence.get("source", "")),
                evidence_url=str(evidence.get("url", "")),
                evidence_summary=str(evidence.get("summary", "")),
            ))
        vocabularies[vocab_name] = Vocabulary(vocab_name, tuple(terms))
    if problems:
        raise ValidationError(problems)
    return Taxonomy(vocabularies)

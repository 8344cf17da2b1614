"""Query expansion from the taxonomy: a query naming a term by an alias ("LAC", "FSM", "KS2",
"D&T") is searched with the term's label as well.

Teachers write in acronyms that the embedding model has never seen and that write-ups often
spell out, so "LAC" alone found nothing. The phrases come from the taxonomy at index time and
are stored with each index generation, so a search always expands with the vocabulary its
index was built from.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from indexer.keyword import STOPWORDS
from kb.content.taxonomy import VOCABULARIES, Taxonomy
from kb.curation.search_tuning import TaughtAlias

# Evidence strength is a judgement about a write-up, not a topic: "strong" or "proven" in a
# query ("strong readers") must not pull in the label "Established".
EXPANDED_FIELDS = ("subjects", "interventions", "phase", "key_stages", "pupil_groups")
MAX_TERMS = 4  # at most this many terms expand one query, in the order they appear
# A word, with an English contraction or possessive kept on it ("we're", "children's") so that
# its tail is never read as a word of its own ("re" is religious education).
WORD_RE = re.compile(r"\w+(?:['\u2019](?:re|ve|ll|d|t|s|m)\b)?", re.UNICODE | re.IGNORECASE)
TAIL_RE = re.compile(r"['\u2019]\w+$")


def _word(token: str) -> str:
    """A matched word without its contraction tail, case-folded."""
    return TAIL_RE.sub("", token).casefold()
log = logging.getLogger(__name__)


def words(text: str) -> tuple[str, ...]:
    """Case-folded words: 'D&T' -> ('d', 't'), 'Key stage 3' -> ('key', 'stage', '3')."""
    return tuple(_word(w) for w in WORD_RE.findall(text))


def vocabulary(taxonomy: Taxonomy, taught: Iterable[TaughtAlias] = ()) -> list[dict[str, Any]]:
    """The phrases that name each term (its id, label and aliases, and the phrases curators
    taught the search for it), for the index manifest."""
    extra: dict[tuple[str, str], list[str]] = {}
    for alias in taught:
        extra.setdefault((alias.field, alias.term), []).append(alias.phrase)
    entries: list[dict[str, Any]] = []
    for field_name in EXPANDED_FIELDS:
        for term in taxonomy.vocabularies[VOCABULARIES[field_name]].terms:
            named = (term.id, term.label, *term.aliases, *extra.get((field_name, term.id), ()))
            phrases = sorted({words(key) for key in named if _usable(words(key))})
            if phrases:
                entries.append({"field": field_name, "term": term.id, "label": term.label,
                                "phrases": [" ".join(p) for p in phrases]})
    return entries


def _usable(phrase: tuple[str, ...]) -> bool:
    """A phrase a query may match: not a lone stop word, letter or number ("it" is an alias
    of computing, but "how do I make it stick" is not about computing)."""
    if len(phrase) != 1:
        return bool(phrase)
    word = phrase[0]
    return len(word) > 1 and word not in STOPWORDS and not word.isdigit()


def _well_formed(entry: object) -> bool:
    return (isinstance(entry, dict)
            and all(isinstance(entry.get(key), str) for key in ("field", "term", "label"))
            and isinstance(entry.get("phrases"), list)
            and all(isinstance(p, str) and p.split() for p in entry["phrases"]))


@dataclass(frozen=True)
class Expanded:
    """One term a query named, and the words that named it (as typed)."""

    field: str
    term: str
    label: str
    matched: str


class QueryExpander:
    """Finds taxonomy phrases in a query: longest phrase first, left to right, no overlaps."""

    def __init__(self, entries: object) -> None:
        self._phrases: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        usable = [e for e in entries if _well_formed(e)] if isinstance(entries, list) else []
        if usable != entries:  # a hand-edited or damaged manifest: search on without them
            log.warning("index manifest: %s malformed query-expansion entries ignored",
                        len(entries) - len(usable) if isinstance(entries, list) else "all")
        for entry in usable:
            for phrase in entry["phrases"]:
                self._phrases.setdefault(tuple(phrase.split()), []).append(entry)
        self._longest = max((len(p) for p in self._phrases), default=0)

    def expand(self, text: str) -> list[Expanded]:
        """The terms the query names whose label it does not already spell out."""
        spans = list(WORD_RE.finditer(text))
        query = tuple(_word(m.group()) for m in spans)
        present = set(query)
        found: dict[tuple[str, str], Expanded] = {}
        start = 0
        while start < len(query) and len(found) < MAX_TERMS:
            for size in range(min(self._longest, len(query) - start), 0, -1):
                entries = self._phrases.get(query[start:start + size])
                if entries:
                    typed = text[spans[start].start():spans[start + size - 1].end()]
                    for entry in entries:
                        if not set(words(entry["label"])) <= present:  # else it says it already
                            found.setdefault((entry["field"], entry["term"]), Expanded(
                                entry["field"], entry["term"], entry["label"], typed))
                    start += size
                    break
            else:
                start += 1
        return list(found.values())[:MAX_TERMS]


def expanded_text(text: str, expansions: list[Expanded]) -> str:
    """The query as searched: what was typed, then the labels of the terms it named (a few
    words each: a longer gloss, such as the term's description, made the query embedding
    several times slower and found no more)."""
    if not expansions:
        return text
    return f"{text} ({'; '.join(e.label for e in expansions)})"

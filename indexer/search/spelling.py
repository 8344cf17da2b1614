"""Typo tolerance: words of a query that no dictionary knows are corrected to the nearest word
the library itself uses ("metacognitoin" -> "metacognition"), with SymSpell.

SymSpell (symspellpy) looks a word up in microseconds whatever the vocabulary's size, because
it precomputes deletions instead of comparing against every word, and it ships an English
frequency list that tells us which words are already correct. A word is left alone when it is
known to either list, when it is short, holds a digit or an apostrophe, is written in
capitals (an acronym) or starts with a capital inside the query (a name), or when it names a
school or a person.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from symspellpy import SymSpell, Verbosity

WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
MIN_LENGTH = 4  # shorter words have too many neighbours to correct safely
MAX_WORDS = 40  # a query is corrected in bounded time however long it is


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The 82,765 words of symspellpy's English frequency list (correct spellings)."""
    text = resources.files("symspellpy").joinpath(
        "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


def count_words(texts: Iterable[str]) -> Counter[str]:
    """How often each lower-cased word occurs in the texts."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w.casefold() for w in WORD_RE.findall(text))
    return counts


@dataclass(frozen=True)
class Correction:
    """The query as corrected, and each word changed (as typed -> as searched)."""

    text: str
    changes: tuple[tuple[str, str], ...]


class Speller:
    """Corrects unknown words against a library's vocabulary (built once per index)."""

    def __init__(self, vocabulary: Counter[str], names: Iterable[str] = ()) -> None:
        self._known = set(vocabulary)
        self._names = {w.casefold() for name in names for w in WORD_RE.findall(name)}
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in vocabulary.items():
            if len(word) >= MIN_LENGTH - 1:
                self._symspell.create_dictionary_entry(word, count)

    def _leave_alone(self, typed: str, first: bool) -> bool:
        word = typed.casefold()
        return (len(word) < MIN_LENGTH or "'" in word or typed.isupper()
                or (typed[0].isupper() and not first) or word in self._known
                or word in self._names or word in english_words())

    def suggest(self, word: str) -> str | None:
        """The library word nearest to an unknown one (fewest edits, then most used)."""
        distance = 1 if len(word) <= 5 else 2
        found = self._symspell.lookup(word.casefold(), Verbosity.CLOSEST,
                                      max_edit_distance=distance)
        if not found:
            return None
        best = min(found, key=lambda s: (s.distance, -s.count, s.term))
        return best.term if best.term != word.casefold() else None

    def correct(self, text: str) -> Correction | None:
        """The query with its misspelt words corrected, or None if nothing changed."""
        changes: list[tuple[str, str]] = []
        pieces: list[str] = []
        last = 0
        for n, match in enumerate(WORD_RE.finditer(text)):
            if n >= MAX_WORDS:
                break
            typed = match.group()
            if self._leave_alone(typed, first=n == 0):
                continue
            better = self.suggest(typed)
            if better is None:
                continue
            if typed[0].isupper():
                better = better[0].upper() + better[1:]
            changes.append((typed, better))
            pieces += [text[last:match.start()], better]
            last = match.end()
        if not changes:
            return None
        return Correction("".join(pieces) + text[last:], tuple(changes))

"""The coverage map: how many write-ups exist for each subject x intervention, and how strong
their evidence is (pure; works on any documents' tag mappings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from kb.content.taxonomy import Taxonomy

STRENGTH_RANK = {"emerging": 1, "promising": 2, "established": 3}


@dataclass
class Cell:
    """Write-ups tagged with one subject and one intervention."""

    count: int = 0
    by_strength: dict[str, int] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """The strongest evidence strength among the write-ups ('' when empty)."""
        return max(self.by_strength, key=lambda s: STRENGTH_RANK.get(s, 0), default="")

    @property
    def level(self) -> int:
        """0 = none, 1 = thin (one write-up), 2 = some, 3 = well covered (3+ incl. strong)."""
        if self.count == 0:
            return 0
        if self.count == 1:
            return 1
        return 3 if self.count >= 3 and self.best in ("promising", "established") else 2


@dataclass
class Coverage:
    subjects: list[str]
    interventions: list[str]
    cells: dict[tuple[str, str], Cell]
    total: int

    def cell(self, intervention: str, subject: str) -> Cell:
        return self.cells.get((intervention, subject), Cell())

    def row_total(self, intervention: str) -> int:
        return sum(self.cell(intervention, s).count for s in self.subjects)


def build_coverage(docs: Iterable[Mapping[str, Sequence[str]]], taxonomy: Taxonomy,
                   key_stages: Sequence[str] = ()) -> Coverage:
    """Count write-ups per (intervention, subject); each doc is a mapping of tag field -> ids.

    With key_stages, only write-ups for at least one of those key stages are counted.
    """
    cells: dict[tuple[str, str], Cell] = {}
    total = 0
    for tags in docs:
        if key_stages and not set(key_stages) & set(tags.get("key_stages", ())):
            continue
        total += 1
        strength = (list(tags.get("evidence_strength", ())) or [""])[0]
        for intervention in tags.get("interventions", ()):
            for subject in tags.get("subjects", ()):
                cell = cells.setdefault((intervention, subject), Cell())
                cell.count += 1
                cell.by_strength[strength] = cell.by_strength.get(strength, 0) + 1
    return Coverage(taxonomy.for_field("subjects").ids(),
                    taxonomy.for_field("interventions").ids(), cells, total)


def format_coverage(coverage: Coverage, taxonomy: Taxonomy) -> str:
    """A plain-text matrix: rows are interventions, columns subjects; '.' marks a gap."""
    subjects = coverage.subjects
    heads = [s[:8] for s in subjects]
    width = max(len(taxonomy.label("interventions", i)) for i in coverage.interventions)
    lines = [" " * width + " " + " ".join(f"{h:>8}" for h in heads) + "  total"]
    for intervention in coverage.interventions:
        label = taxonomy.label("interventions", intervention)
        cells = []
        for subject in subjects:
            cell = coverage.cell(intervention, subject)
            mark = {"established": "*", "promising": "+", "emerging": ""}.get(cell.best, "")
            cells.append(f"{(str(cell.count) + mark) if cell.count else '.':>8}")
        lines.append(f"{label:<{width}} " + " ".join(cells) +
                     f"  {coverage.row_total(intervention):5d}")
    lines.append("")
    lines.append("Numbers count write-ups; * = at least one established, + = best is promising, "
                 "'.' = none yet.")
    return "\n".join(lines)

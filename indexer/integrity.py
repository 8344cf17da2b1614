"""`kb check`: verify the current generation against its manifest and rebuild what is damaged."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer import generations as gens
from indexer.embedders.base import Embedder
from indexer.pipeline import BuildReport, check_generation, index_content
from kb.settings import Settings


@dataclass
class CheckReport:
    """What one `kb check` found and did."""

    generation: str  # the generation checked ('' when there was none)
    problem: str | None  # None when the generation is complete and intact
    swept: list[str] = field(default_factory=list)  # leftovers of interrupted builds removed
    rebuilt: BuildReport | None = None  # the rebuild, when one was needed and allowed


def verify_index(settings: Settings, model: str, dim: int | None = None
                 ) -> tuple[str, str | None]:
    """The current generation's name and what is wrong with it (None when intact)."""
    current = gens.current_generation(settings.index_dir)
    if current is None:
        return "", "there is no index yet"
    return current.name, check_generation(current, model, dim)


def check_index(settings: Settings, embedder: Embedder, *, repair: bool = True,
                progress: bool = False) -> CheckReport:
    """Sweep interrupted builds, verify checksums, counts and settings, rebuild if damaged.

    The rebuild is a full one from content/ (every passage re-embedded): simpler to trust
    than patching a damaged file, and the damaged generation is never copied from.
    """
    swept = gens.sweep_interrupted(settings.index_dir)
    name, problem = verify_index(settings, embedder.name, embedder.dim)
    report = CheckReport(name, problem, swept)
    if problem is not None and repair:
        _, report.rebuilt = index_content(settings, embedder, full=True, progress=progress)
        report.swept += report.rebuilt.swept
    return report

"""`kb eval --queries FILE`: how well the bundled library answers hand-judged teacher
questions (hit@1, hit@5, MRR@10, recall@10 per mode and per kind of query, and what the
"strong matches" group keeps), through the product's own index build and search engine."""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from indexer.embedders.base import Embedder
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchParams, SearchQuery
from kb.errors import BadInputError
from kb.settings import Settings

MODES = ("hybrid", "keyword", "dense")
DEPTH = 10
ALL = 100  # results read per query: every match of the bundled library


@dataclass(frozen=True)
class TeacherQuery:
    text: str
    wanted: tuple[str, ...]
    kind: str
    line: int


def load_queries(path: Path) -> list[TeacherQuery]:
    """The judged queries of a YAML file: `queries:` items with `query`, `wanted`, `kind`."""
    try:
        data = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(f"{path}: cannot read the query set ({exc})") from None
    items = None
    if isinstance(data, yaml.MappingNode):
        items = next((v for k, v in data.value if k.value == "queries"), None)
    if not isinstance(items, yaml.SequenceNode):
        raise BadInputError(f"{path}: expected a 'queries:' list")
    out = []
    for node in items.value:
        line = node.start_mark.line + 1
        entry = yaml.safe_load(yaml.serialize(node))
        if not isinstance(entry, dict) or not isinstance(entry.get("query"), str) \
                or not isinstance(entry.get("wanted"), list) or not entry["wanted"]:
            raise BadInputError(f"{path}:{line}: each query needs 'query' (text) and "
                                "'wanted' (a list of write-up slugs)")
        out.append(TeacherQuery(entry["query"], tuple(map(str, entry["wanted"])),
                                str(entry.get("kind", "plain")), line))
    return out


def score_ranking(ranked: list[str], wanted: tuple[str, ...]) -> dict[str, float]:
    """hit@1, hit@5, reciprocal rank within 10 and recall@10 of one ranked list of slugs."""
    first = next((i for i, slug in enumerate(ranked[:DEPTH]) if slug in wanted), None)
    return {
        "hit@1": float(first == 0),
        "hit@5": float(first is not None and first < 5),
        "mrr@10": 0.0 if first is None else 1.0 / (first + 1),
        "recall@10": len(set(ranked[:DEPTH]) & set(wanted)) / len(wanted),
    }


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.mean(r[key] for r in rows), 3) for key in rows[0]}


def evaluate_queries(settings: Settings, embedder: Embedder, queries: list[TeacherQuery],
                     modes: tuple[str, ...] = MODES, params: SearchParams | None = None,
                     progress: bool = False) -> dict[str, Any]:
    """Index the content folder into a temporary data folder, then score every query in each
    mode; returns per-mode totals, per-kind totals and the queries each mode missed."""
    params = params or SearchParams()
    with tempfile.TemporaryDirectory(prefix="kb-teacher-eval-") as tmp:
        local = replace(settings, data_dir=Path(tmp))
        library, _ = index_content(local, embedder, progress=progress)
        known = {d.slug for d in library.published()}
        for q in queries:
            unknown = [s for s in q.wanted if s not in known]
            if unknown:
                raise BadInputError(f"query at line {q.line} wants unknown write-ups: "
                                    f"{', '.join(unknown)}")
        report: dict[str, Any] = {"queries": len(queries), "modes": {}}
        for mode in modes:
            engine = SearchEngine(local.index_dir, embedder, replace(params, mode=mode),
                                  max_query_chars=settings.max_query_chars)
            rows, by_kind, missed, groups = [], {}, [], []
            for q in queries:
                hits = engine.search(SearchQuery(q.text, page_size=ALL)).hits
                ranked = [h.doc.slug for h in hits]
                row = score_ranking(ranked, q.wanted)
                strong = {h.doc.slug for h in hits if h.group == "strong"}
                groups.append((len(strong), len(hits),
                               len(strong & set(q.wanted)) / len(q.wanted)))
                rows.append(row)
                by_kind.setdefault(q.kind, []).append(row)
                if not row["hit@5"]:
                    missed.append({"line": q.line, "kind": q.kind, "query": q.text,
                                   "wanted": list(q.wanted), "top": ranked[:3]})
            engine.close()
            report["modes"][mode] = {"all": _mean(rows), "strong": _strong(groups),
                                     "kinds": {k: {**_mean(v), "n": len(v)}
                                               for k, v in sorted(by_kind.items())},
                                     "missed": missed}
        return report


def _strong(groups: list[tuple[int, int, float]]) -> dict[str, float]:
    """What the strong group (the unfolded results) holds: its median size, the mean number
    of matches, the share of wanted write-ups in it and of queries with at least one there."""
    return {"median_strong": statistics.median(g[0] for g in groups),
            "mean_matches": round(statistics.mean(g[1] for g in groups), 1),
            "wanted_kept": round(statistics.mean(g[2] for g in groups), 3),
            "queries_kept": round(statistics.mean(g[2] > 0 for g in groups), 3)}


def format_report(report: dict[str, Any], show_missed: bool = True) -> str:
    """An aligned table: one row per mode, then per kind for the hybrid mode, then misses."""
    keys = ("hit@1", "hit@5", "mrr@10", "recall@10")
    lines = [f"{report['queries']} judged teacher queries",
             f"{'mode':<10} " + " ".join(f"{k:>9}" for k in keys)]
    for mode, result in report["modes"].items():
        lines.append(f"{mode:<10} " + " ".join(f"{result['all'][k]:>9.3f}" for k in keys))
    first = next(iter(report["modes"]))
    strong = report["modes"][first]["strong"]
    lines += ["", f"strong matches ({first}): median {strong['median_strong']:g} shown of "
              f"{strong['mean_matches']:g} matches on average; they hold "
              f"{strong['wanted_kept']:.1%} of the wanted write-ups, and at least one for "
              f"{strong['queries_kept']:.1%} of queries"]
    lines += ["", f"by kind ({first})", f"{'kind':<12} {'n':>3} " +
              " ".join(f"{k:>9}" for k in keys)]
    for kind, row in report["modes"][first]["kinds"].items():
        lines.append(f"{kind:<12} {row['n']:>3} " + " ".join(f"{row[k]:>9.3f}" for k in keys))
    if show_missed:
        missed = report["modes"][first]["missed"]
        lines += ["", f"not in the top five ({first}): {len(missed)}"]
        lines += [f"  line {m['line']} [{m['kind']}] {m['query'][:70]!r} -> {', '.join(m['top'])}"
                  for m in missed]
    return "\n".join(lines)

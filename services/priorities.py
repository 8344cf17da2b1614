"""Suggestions for a school's priority, found by meaning: write-ups and collections that address
it, and partner schools ranked by their offers, their results and how alike they are."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from indexer.search.engine import Hit, SearchQuery
from kb.content.directory import Offer, School
from kb.curation.catalogue import Curation
from kb.curation.collection import Collection
from kb.state.schooldata import INDICATORS, load_contexts, load_indicators
from kb.workflows.priorities import Priority
from services.likeness import similar_schools
from services.runtime import Services

# How a partner's score is made (stated on the page); without an indicator the results weight
# goes to the offer.
WEIGHTS = {"offer": 0.5, "results": 0.3, "context": 0.2}
CLOSE_MATCH, SOME_MATCH = 0.45, 0.3  # cosine similarity of the priority and an offer
COLLECTION_MATCH = 0.3
RANKING_RULE = (
    "Each school with offers is scored out of 1: half for how closely its best offer matches "
    "the priority by meaning (cosine similarity of the two texts' embeddings), three tenths "
    "for its latest result on the priority's indicator (its rank among schools of its phase "
    "that report it, best = 1), and a fifth for how alike it is to this school (1 / (1 + the "
    "context distance) for a school of the same phase, 0 otherwise). Without an indicator the "
    "offer counts for eight tenths.")

_vectors: dict[tuple[str, str], np.ndarray] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Partner:
    school: School
    score: float
    offer: Offer | None
    offer_match: float
    results: float | None  # 0..1 rank on the indicator, best = 1
    value: float | None
    context: float
    reason: str


@dataclass(frozen=True)
class Suggestions:
    writeups: list[Hit]
    collections: list[tuple[Collection, float, list[str]]]  # (collection, match, hit slugs)
    partners: list[Partner]
    rule: str = RANKING_RULE


def _embed(services: Services, texts: list[str]) -> np.ndarray:
    """Document vectors for texts, cached per model for the life of the process."""
    name = services.engine.embedder.name
    with _lock:
        missing = [t for t in dict.fromkeys(texts) if (name, t) not in _vectors]
        if missing:
            for text, vec in zip(missing, services.engine.embedder.encode_documents(missing)):
                _vectors[(name, text)] = np.asarray(vec, dtype=np.float32)
        return np.stack([_vectors[(name, t)] for t in texts]) if texts else np.zeros((0, 1))


def _ranks(services: Services, indicator: str) -> dict[str, tuple[float, float]]:
    """school -> (rank 0..1 among its phase, best = 1; latest value) on one indicator."""
    spec = INDICATORS[indicator]
    figures = load_indicators(services.state)
    latest = {s: series[indicator][max(series[indicator])] for s, series in figures.items()
              if indicator in series and s in services.directory.schools}
    out = {}
    for school, value in latest.items():
        phase = services.directory.schools[school].phase
        peers = [v for s, v in latest.items() if services.directory.schools[s].phase == phase]
        worse = sum(1 for v in peers if (v < value if spec.higher_is_better else v > value))
        out[school] = (worse / (len(peers) - 1) if len(peers) > 1 else 0.5, value)
    return out


def _reason(p: Partner, indicator: str, likeness: str) -> str:
    parts = []
    if p.offer is not None:
        strength = ("closely" if p.offer_match >= CLOSE_MATCH else "partly"
                    if p.offer_match >= SOME_MATCH else "loosely")
        parts.append(f"its {p.offer.kind} offer matches {strength}")
    if p.results is not None and p.value is not None:
        label = INDICATORS[indicator].label
        where = ("among the best" if p.results >= 0.75 else "above the middle"
                 if p.results >= 0.5 else "below the middle")
        parts.append(f"{label} {p.value:g}, {where} of its phase")
    parts.append(likeness[0].lower() + likeness[1:] if likeness else "a different phase")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def partners(services: Services, priority: Priority, limit: int = 5) -> list[Partner]:
    """Schools that offer support, ranked for this priority (never the school itself)."""
    offering = [s for s in services.directory.schools.values()
                if s.offers and s.id != priority.school]
    offers = [(s, o) for s in offering for o in s.offers]
    if not offers:
        return []
    query = services.engine.embedder.encode_query(priority.text)
    matches = _embed(services, [o.description for _, o in offers]) @ np.asarray(query)
    best: dict[str, tuple[Offer, float]] = {}
    for (school, offer), match in zip(offers, matches.tolist()):
        if school.id not in best or match > best[school.id][1]:
            best[school.id] = (offer, match)
    contexts = load_contexts(services.state)
    alike = {like.school.id: like for like in similar_schools(
        services.directory, contexts, priority.school, k=len(contexts))}
    ranks = _ranks(services, priority.indicator) if priority.indicator else {}
    found = []
    for school in offering:
        offer, match = best[school.id]
        like = alike.get(school.id)
        context = 0.0 if like is None or like.school.phase != school.phase or \
            school.phase != services.directory.schools[priority.school].phase \
            else 1 / (1 + like.distance)
        rank, value = ranks.get(school.id, (None, None))
        if priority.indicator:
            score = (WEIGHTS["offer"] * match + WEIGHTS["results"] * (rank or 0.0)
                     + WEIGHTS["context"] * context)
        else:
            score = (WEIGHTS["offer"] + WEIGHTS["results"]) * match + WEIGHTS["context"] * context
        partner = Partner(school, round(score, 4), offer, round(match, 4), rank, value,
                          round(context, 4), "")
        reason = _reason(partner, priority.indicator, like.reason if like and context else "")
        found.append(Partner(**{**partner.__dict__, "reason": reason}))
    return sorted(found, key=lambda p: (-p.score, p.school.name))[:limit]


def suggest(services: Services, curation: Curation, priority: Priority) -> Suggestions:
    """Write-ups (the real search engine), collections and partner schools for a priority."""
    results = services.engine.search(SearchQuery(text=priority.text, page_size=5))
    hits = [h for h in results.hits if h.group == "strong"] or results.hits[:3]
    hit_slugs = {h.doc.slug for h in hits}
    published = [c for c in curation.collections.values() if c.status == "published"]
    collections = []
    if published:
        query = services.engine.embedder.encode_query(priority.text)
        vectors = _embed(services, [f"{c.title}. {c.purpose}" for c in published])
        for c, match in zip(published, (vectors @ np.asarray(query)).tolist()):
            shared = [i.writeup for i in c.items if i.writeup in hit_slugs]
            if match >= COLLECTION_MATCH or shared:
                collections.append((c, round(match, 4), shared))
        collections.sort(key=lambda t: (-len(t[2]), -t[1]))
    return Suggestions(hits, collections[:3], partners(services, priority))

"""The bundled library: it validates, has the promised spread, and search finds what teachers
want."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchQuery
from kb.content.library import load_library
from kb.content.markdown import plain_text
from kb.content.stats import count_by_tag
from kb.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
QUERIES = yaml.safe_load((Path(__file__).parent / "queries.yaml").read_text())["queries"]


@pytest.fixture(scope="module")
def library():  # type: ignore[no-untyped-def]
    return load_library(Settings(content_dir=ROOT / "content"))


def test_bundled_library_validates_cleanly(library) -> None:  # type: ignore[no-untyped-def]
    assert library.problems == []
    assert len(library.published()) >= 60


def test_spread_of_subjects_interventions_stages_and_strengths(library) -> None:  # type: ignore
    counts = count_by_tag(library.documents)
    assert len(counts["subjects"]) >= 12
    assert len(counts["interventions"]) >= 18
    assert {"ks2", "ks3", "ks4", "ks5"} <= set(counts["key_stages"])
    assert set(counts["evidence_strength"]) == {"emerging", "promising", "established"}
    assert {"disadvantaged", "send", "eal", "boys", "high-prior-attainment",
            "looked-after"} <= set(counts["pupil_groups"])
    assert len(counts["family"]) >= 6 and len({d.school for d in library.documents}) >= 30
    years = {d.year for d in library.documents}
    assert min(years) <= 2015 and max(years) >= 2019


def test_every_write_up_has_the_sections_and_a_sensible_length(library) -> None:  # type: ignore
    for doc in library.documents:
        words = len(plain_text(doc.body).split())
        assert 350 <= words <= 1_050, (doc.slug, words)


def test_every_taxonomy_term_has_label_description_and_is_used(library) -> None:  # type: ignore
    counts = count_by_tag(library.documents)
    for field_name in ("subjects", "interventions", "evidence_strength"):
        vocab = library.taxonomy.for_field(field_name)
        for term in vocab.terms:
            assert term.label and term.description
            assert counts[field_name][term.id] > 0, (field_name, term.id)


def test_query_set_is_well_formed(library) -> None:  # type: ignore[no-untyped-def]
    slugs = {d.slug for d in library.documents}
    assert len(QUERIES) >= 24
    for item in QUERIES:
        assert item["wanted"] and set(item["wanted"]) <= slugs, item


@pytest.fixture(scope="module")
def bundled_engine(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore
    settings = Settings(content_dir=ROOT / "content",
                        data_dir=tmp_path_factory.mktemp("bundled"))
    index_content(settings, embedder, progress=False)
    return SearchEngine(settings.index_dir, embedder)


def test_search_finds_a_wanted_write_up_in_the_top_five(bundled_engine) -> None:  # type: ignore
    misses = []
    for item in QUERIES:
        top = [h.doc.slug for h in bundled_engine.search(SearchQuery(item["query"])).hits[:5]]
        if not set(item["wanted"]) & set(top):
            misses.append(item["query"])
    rate = 1 - len(misses) / len(QUERIES)
    print(f"\nteacher query set: {rate:.0%} found in top 5; misses: {misses}")
    assert rate >= 0.8, misses

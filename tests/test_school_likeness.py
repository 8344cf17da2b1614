"""Schools like this one: the distance, the words given for it, the school page and its twin."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import ROOT
from support_accounts import Site

from kb.content.library import load_reference
from kb.state.schooldata import SchoolContext, import_csv, load_contexts
from services.likeness import similar_schools, standardise

DATA = ROOT / "content" / "data"
BUNDLED = [DATA / "school-context.csv", DATA / "school-indicators.csv"]


@pytest.fixture(scope="module")
def directory():  # type: ignore[no-untyped-def]
    return load_reference(ROOT / "content")[1]


def import_bundled(site: Site) -> None:
    import_csv(site.store, load_reference(site.settings.content_dir)[1], BUNDLED)


def ctx(school: str, pupils: int, dis: float, eal: float, send: float,
        setting: str = "rural") -> SchoolContext:
    return SchoolContext(school, pupils, dis, eal, send, setting, "good")


def test_nearest_is_the_smallest_distance_and_the_reason_says_why(directory) -> None:
    contexts = {c.school: c for c in (
        ctx("saltings-school", 650, 44, 3, 11),
        ctx("shingle-bay-community-college", 640, 43, 3, 11),      # nearly the same, rural
        ctx("eastmere-academy", 660, 43, 3, 11, "urban"),          # same figures, urban
        ctx("kingsweir-grammar", 900, 5, 4, 15, "urban"),          # far away
        ctx("tollgate-primary", 650, 44, 3, 11),                   # another phase: left out
        ctx("ashcombe-academy", 700, 28, 5, 12, "urban"),
    )}
    found = similar_schools(directory, contexts, "saltings-school", k=3)
    assert [f.school.id for f in found] == ["shingle-bay-community-college", "eastmere-academy",
                                            "ashcombe-academy"]
    assert found[0].reason == "Similar size, disadvantage, EAL and SEND, also rural"
    assert "also" not in found[1].reason and math.isclose(found[1].distance, 1.0, abs_tol=0.05)
    assert "fewer disadvantaged pupils" in found[2].reason
    # the distance is what the page says: Euclidean over z-scores, +1 for another setting
    z = standardise(contexts)
    expected = math.sqrt(sum((z["saltings-school"][f] - z["ashcombe-academy"][f]) ** 2
                             for f in ("size", "disadvantaged", "eal", "send")) + 1)
    assert math.isclose(found[2].distance, expected, abs_tol=0.001)


def test_a_school_without_context_has_no_similar_schools(directory) -> None:
    assert similar_schools(directory, {}, "saltings-school") == []


def test_bundled_schools_have_five_of_their_phase(directory, tmp_path: Path) -> None:
    from kb.state.database import open_state

    store = open_state(tmp_path / "state.db")
    import_csv(store, directory, BUNDLED)
    contexts = load_contexts(store)
    for school in directory.schools.values():
        found = similar_schools(directory, contexts, school.id)
        assert len(found) == 5 and school.id not in {f.school.id for f in found}
        if school.phase in ("primary", "secondary"):
            assert {f.school.phase for f in found} == {school.phase}
        assert [f.distance for f in found] == sorted(f.distance for f in found)


def test_school_page_lists_similar_schools_with_links_reasons_and_json(site: Site) -> None:
    anonymous = site.client()
    before = anonymous.get("/schools/eastmere-academy").text
    assert "no context figures for this school yet" in before
    import_bundled(site)
    page = anonymous.get("/schools/eastmere-academy")
    assert page.status_code == 200
    assert 'id="similar-heading">Schools like this one' in page.text
    assert "How similarity is measured" in page.text and "Latest inspection" in page.text
    data = anonymous.get("/api/schools/eastmere-academy").json()
    assert data["context"]["setting"] in ("rural", "urban") and len(data["similar"]) == 5
    for like in data["similar"]:
        assert f'<a href="{like["url"]}">{like["name"]}</a>: {like["reason"]}.' in \
            page.text.replace("&#39;", "'")
    assert anonymous.get("/api/schools/nowhere").status_code == 404

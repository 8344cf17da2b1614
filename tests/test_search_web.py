"""The search page and /api/search in teachers' words: the spelling notice and its way back,
strong results then folded related ones, reasons, sorting, curated sessions, best bets."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from indexer.embedders.base import Embedder
from kb.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"



def test_page_says_what_it_corrected_and_links_to_the_words_as_typed(
        client: TestClient) -> None:
    html = client.get("/search?q=persistnt+absnce").text
    assert "Showing results for <strong>persistent absence</strong>" in html
    link = re.search(r'search instead for <a href="([^"]+)">persistnt absnce</a>', html)
    assert link and "exact=1" in link.group(1)
    exact = client.get(link.group(1).replace("&amp;", "&")).text
    assert "Showing results for" not in exact


def test_correction_never_reflects_markup(client: TestClient) -> None:
    html = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E+absnce").text
    assert "<script>alert" not in html


def test_api_reports_correction_groups_reasons_and_sort(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "persistnt absnce"}).json()
    assert body["corrected_from"] == "persistnt absnce"
    assert body["searched"] == "persistent absence"
    assert body["sort"] == "relevance" and 1 <= body["strong"] <= body["total"]
    first = body["results"][0]
    assert first["group"] == "strong"
    assert "absence" in first["reasons"]["words"]
    assert first["url"].startswith("/practice/") and "#" not in first["url"]
    exact = client.get("/api/search", params={"q": "persistnt absnce", "exact": 1}).json()
    assert exact["corrected_from"] == "" and exact["searched"] == "persistnt absnce"


def test_sort_newest_in_page_and_api(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "pupils", "sort": "newest",
                                             "page_size": 20}).json()
    strong = [r["date"] for r in body["results"] if r["group"] == "strong"]
    assert strong == sorted(strong, reverse=True)
    html = client.get("/search?q=pupils&sort=newest").text
    assert '<option value="newest" selected>' in html
    bad = client.get("/api/search", params={"q": "pupils", "sort": "random"})
    assert bad.status_code == 422 and "sort" in bad.text


def test_reasons_name_matched_words_and_tags(client: TestClient) -> None:
    html = client.get("/search?q=attendance+phone+calls").text
    assert "Matches your words:" in html


def with_collections(settings: Settings) -> Settings:
    target = settings.content_dir / "collections"
    target.mkdir(exist_ok=True)
    for file in (FIXTURES / "collections").glob("*.md"):
        shutil.copy(file, target / file.name)
    return settings


def test_a_published_collection_for_the_subject_is_its_own_result(
        fresh: Settings, embedder: Embedder) -> None:
    from webapp.app import create_app

    with TestClient(create_app(with_collections(fresh), embedder=embedder,
                               update_on_start=False)) as client:
        collection_results_are_shown(client)


def collection_results_are_shown(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "maths catch up ideas"}).json()
    assert [c["slug"] for c in body["collections"]] == ["maths-tuition-and-quizzes"]
    assert body["collections"][0]["type"] == "collection"
    html = client.get("/search?q=maths+catch+up+ideas").text
    assert "Curated sessions" in html and 'href="/collections/maths-tuition-and-quizzes"' in html
    drafts = client.get("/api/search", params={"q": "coaching"}).json()
    assert "coaching-draft" not in [c["slug"] for c in drafts["collections"]]


def test_less_related_results_are_folded(fresh: Settings, embedder: Embedder) -> None:
    from dataclasses import replace

    from webapp.app import create_app

    with TestClient(create_app(fresh, embedder=embedder)) as client:
        engine = client.app.state.services.engine
        engine.params = replace(engine.params, strong_ratio=0.95)
        engine.clear_cache()
        html = client.get("/search?q=help+pupils+catch+up").text
        assert '<details class="related-results"' in html
        assert re.search(r"<summary>\d+ less closely related write-ups?", html)


def test_a_best_bet_leads_and_is_marked_recommended(fresh: Settings,
                                                     embedder: Embedder) -> None:
    from indexer.pipeline import index_content
    from webapp.app import create_app

    with_collections(fresh)
    (fresh.content_dir / "search.yaml").write_text(
        "best_bets:\n  - query: getting kids in every day\n"
        "    practice: whole-class-feedback-science\n    note: Our pick for this\n"
        "  - query: getting kids in every day\n    collection: reading-and-attendance\n")
    index_content(fresh, embedder, progress=False)
    with TestClient(create_app(fresh, embedder=embedder, update_on_start=False)) as client:
        body = client.get("/api/search", params={"q": "Getting kids in every day"}).json()
        assert body["results"][0]["slug"] == "whole-class-feedback-science"
        assert body["results"][0]["reasons"]["recommended"] is True
        assert body["results"][0]["reasons"]["note"] == "Our pick for this"
        assert body["collections"][0]["slug"] == "reading-and-attendance"
        assert body["collections"][0]["recommended"] is True
        html = client.get("/search?q=getting+kids+in+every+day").text
        assert "Recommended by curators: Our pick for this" in html

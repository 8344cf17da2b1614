"""Every page and API route through FastAPI's TestClient, including hostile input."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import write
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from test_markdown import PAYLOADS, assert_harmless


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.labels_for: set[str] = set()
        self.inputs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and a.get("for"):
            self.labels_for.add(a["for"] or "")
        if tag == "input" and a.get("type") not in ("hidden", "submit"):
            self.inputs.append((a.get("id") or "", a.get("type") or ""))


def check_page(html: str) -> None:
    """One h1, every visible input labelled, a main landmark and a lang attribute."""
    parsed = _Headings()
    parsed.feed(html)
    assert parsed.h1 == 1
    for input_id, _ in parsed.inputs:
        assert input_id in parsed.labels_for, f"input {input_id!r} has no label"
    assert '<main id="main"' in html and '<html lang="en-GB">' in html


@pytest.mark.parametrize("url, text", [
    ("/", "Find practice that worked"),
    ("/search", "All write-ups"),
    ("/search?q=phoning+families+when+pupils+are+off", "First-day phone calls"),
    ("/search?subject=maths&key_stage=ks4", "Small-group maths tuition"),
    ("/search?subject=Maths", "Weekly low-stakes quizzes"),
    ("/practice/weekly-quizzes-year-7-maths", "About this write-up"),
    ("/subjects", "Browse by subject"),
    ("/subjects/maths", "Weekly low-stakes quizzes"),
    ("/interventions", "Browse by intervention"),
    ("/interventions/retrieval-practice", "Weekly low-stakes quizzes"),
    ("/docs", "Shapes of the JSON"),
])
def test_pages_render(client: TestClient, url: str, text: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    assert text in response.text
    check_page(response.text)
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_search_page_shows_facets_snippet_and_section_link(client: TestClient) -> None:
    html = client.get("/search?q=persistent+absence").text
    assert "<mark>" in html
    # The link opens the write-up at its title (no fragment) and names the matched section,
    # which the page marks further down (issue 14: not scrolled past the title).
    link = re.search(r'href="/practice/first-day-attendance-calls'
                     r'\?from=[\w-]+&amp;section=([a-z-]+)"', html)
    assert link
    page = client.get(f"/practice/first-day-attendance-calls?section={link.group(1)}").text
    assert f'id="{link.group(1)}" class="matched-section"' in page
    assert "The part that matched your search" in page
    assert 'name="subject" value="whole-school"' in html
    assert "Whole school <span class=\"count\">(1)</span>" in html


def test_filtered_page_offers_clear_filters_and_keeps_them_in_pagination(
        client: TestClient) -> None:
    html = client.get("/search?subject=maths&page_size=1").text
    assert "Clear filters" in html
    # Page links land on the results heading (#results-heading), not the top of the page.
    assert 'href="/search?subject=maths&amp;page=2#results-heading"' in html or \
        'href="/search?subject=maths&amp;page_size=1&amp;page=2#results-heading"' in html


def test_practice_page_shows_metadata_toc_and_related(client: TestClient) -> None:
    html = client.get("/practice/small-group-maths-tuition-year-11").text
    assert 'id="impact"' in html and 'href="#impact"' in html
    assert "Saltings School" in html and "Eastmere Coast Family" in html
    assert "Related practice" in html
    assert "Evidence: Established" in html


def test_unknown_pages_get_a_friendly_404(client: TestClient) -> None:
    for url in ("/practice/does-not-exist", "/nowhere", "/subjects/astrology",
                "/practice/..%2f..%2fetc%2fpasswd"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Search the practice library" in response.text


@pytest.mark.parametrize("query", [
    '"unbalanced', "NEAR(", "AND OR NOT", "*", "-", "x" * 10_000, "😀", "",
    "<script>alert(1)</script>", "{{7*7}}", "%00", "title:x",
])
def test_search_box_never_errors_and_escapes_input(client: TestClient, query: str) -> None:
    for url in ("/search", "/api/search"):
        response = client.get(url, params={"q": query})
        assert response.status_code == 200, (url, response.text[:200])
    html = client.get("/search", params={"q": query}).text
    assert "<script>alert(1)</script>" not in html
    assert "49" not in re.sub(r"\d{3,}|\d+(?=[ ,.%)])", "", html.split("</form>")[0]) or \
        query != "{{7*7}}"


@pytest.mark.parametrize("url, status, fragment", [
    ("/api/search?page=0", 422, "page"),
    ("/api/search?page=abc", 422, "page"),
    ("/api/search?subject=astrology", 422, "astrology"),
    ("/api/search?year=20x6", 422, "year"),
    ("/api/search?school=nowhere", 422, "school"),
    ("/api/search?page_size=1000", 422, "page_size"),
    ("/api/practices/nope", 404, "nope"),
    ("/search?page=-1", 422, "page"),
])
def test_bad_parameters_get_clear_errors(client: TestClient, url: str, status: int,
                                         fragment: str) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert fragment in response.text


def test_api_search_shape(client: TestClient) -> None:
    data = client.get("/api/search", params={"q": "reading", "subject": "english"}).json()
    assert set(data) >= {"total", "results", "facets"}
    first = data["results"][0]
    assert set(first) >= {"slug", "title", "summary", "school", "family", "subjects",
                          "interventions", "evidence", "score", "section", "snippet"}
    assert first["slug"] == "reading-catch-up-year-5"
    assert first["subjects"] == ["english"] and first["evidence"]["strength"] == "emerging"
    assert data["facets"]["subjects"][0]["value"] == "english"


def test_api_practices_taxonomy_and_health(client: TestClient) -> None:
    practices = client.get("/api/practices", params={"family": "eastmere"}).json()
    assert practices["total"] == 2
    one = client.get("/api/practices/first-day-attendance-calls").json()
    assert one["interventions"] == ["attendance", "parental-engagement"]
    assert one["related"] and one["body_html"].startswith("<h2")
    taxonomy = client.get("/api/taxonomy").json()
    assert {"subjects", "interventions", "phases", "key_stages", "pupil_groups",
            "evidence_strengths"} <= set(taxonomy)
    health = client.get("/api/health").json()
    assert health == {"status": "ok", "semantic": "ok"}  # anonymous: no details
    assert client.get("/api/practices").json()["total"] == 6
    schema = client.get("/openapi.json").json()
    assert "/api/search" in schema["paths"]


def test_hostile_write_up_is_harmless_on_its_page(fresh, embedder) -> None:  # type: ignore
    from indexer.pipeline import index_content
    from webapp.app import create_app

    text = (fresh.practice_dir / "weekly-quizzes-year-7-maths.md").read_text()
    body = "\n\n".join(PAYLOADS)
    write(fresh, "hostile", text.replace("## Context", "## Context\n\n" + body))
    index_content(fresh, embedder, progress=False)
    with TestClient(create_app(fresh, embedder=embedder)) as client:
        html = client.get("/practice/hostile").text
        article = html.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
        assert_harmless(article)
        assert "&lt;script&gt;" in article


def test_app_serves_keyword_results_when_vectors_are_damaged(fresh, embedder) -> None:  # type: ignore
    from indexer import generations as gens
    from webapp.app import create_app

    gen = gens.current_generation(fresh.index_dir)
    (gen / gens.VECTORS).write_bytes(b"x" * 100)
    with TestClient(create_app(fresh, embedder=embedder, update_on_start=False)) as client:
        assert client.get("/api/health").json()["semantic"] == "degraded"
        response = client.get("/search?q=attendance")
        assert response.status_code == 200 and "First-day phone calls" in response.text
        assert "Search by meaning is unavailable" in response.text


def test_app_rebuilds_a_missing_index_on_start(fresh, embedder) -> None:  # type: ignore
    import shutil

    from webapp.app import create_app

    shutil.rmtree(fresh.data_dir)
    with TestClient(create_app(fresh, embedder=embedder)) as client:
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.get("/api/practices").json()["total"] == 6


def test_missing_index_gives_503_not_500(fresh, embedder) -> None:  # type: ignore
    import shutil

    from webapp.app import create_app

    shutil.rmtree(fresh.data_dir)
    with TestClient(create_app(fresh, embedder=embedder, update_on_start=False)) as client:
        response = client.get("/search?q=x")
        assert response.status_code == 503 and "not ready" in response.text
        assert client.get("/api/search?q=x").status_code == 503


def test_api_reference_lists_every_route_and_needs_nothing_from_elsewhere(
        client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method in operations:
            assert f"<code>{method.upper()} {path}</code>" in html, (method, path)
    # Parameters with their types and defaults; body and answer shapes link to their fields.
    assert re.search(r"<code>page_size</code></th><td>query</td><td>whole number</td>"
                     r"<td>no</td><td>10</td>", html)
    assert "<td>list of text</td>" in html and "or null</td>" not in html.split("Shapes")[0]
    assert 'href="#model-SearchResponse"' in html and 'id="model-SearchResponse"' in html
    assert 'href="#model-LoginIn"' in html
    assert "Answers 201 with" in html and "Answers 204 with no body" in html  # status codes
    assert "Send as the X-CSRF-Token header on POST requests." in html  # field notes
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing from elsewhere
    assert client.get("/redoc").status_code == 404  # the CDN-loaded explorers are off


def test_no_route_can_capture_another_routes_address(client: TestClient) -> None:
    # Route order must not decide who answers: an address made for one route (ids filled in
    # as numbers, other parameters as words) matches no other route with the same method.
    routes = [(c.path, c.path_regex, c.methods or set())
              for c in iter_route_contexts(client.app.routes)
              if isinstance(c.original_route, APIRoute)]
    assert any(":int}" in path for path, _, _ in routes)
    clashes = []
    for path, _, methods in routes:
        url = re.sub(r"\{\w+(:\w+)?\}",
                     lambda m: "7" if m.group(1) == ":int" else "some-words", path)
        clashes += [(path, other) for other, regex, other_methods in routes
                    if other != path and methods & other_methods and regex.match(url)]
    assert clashes == []


def test_api_reference_type_names() -> None:
    from webapp.reference import type_name

    assert type_name({"type": "array", "items": {"$ref": "#/components/schemas/Term"}}) == \
        "list of Term"
    assert type_name({"anyOf": [{"type": "integer"}, {"type": "null"}]}) == \
        "whole number or null"
    assert type_name({"type": "string", "enum": ["draft", "published"]}) == \
        "text (draft, published)"
    assert type_name({"type": "string", "format": "date"}) == "date"
    assert type_name({"type": "object", "additionalProperties": {"type": "integer"}}) == \
        "mapping to whole number"

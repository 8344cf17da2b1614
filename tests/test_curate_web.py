"""Curators build and edit collections on the web: forms, CSRF, roles, and the PDF that results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT
from support_accounts import Site, csrf_of
from test_collections_cli import assert_in_order, pdf_text
from test_web import check_page

from kb.state.audit import entries

CURATOR = "cpd@example.org"
SLUG = "quizzes-and-feedback"
QUIZZES = "weekly-quizzes-year-7-maths"
FEEDBACK = "whole-class-feedback-science"
TUITION = "small-group-maths-tuition-year-11"


def _repo_collections() -> dict[str, int]:
    folder = ROOT / "content" / "collections"
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} if folder.is_dir() else {}


def _files(site: Site) -> dict[str, bytes]:
    folder = site.settings.collections_dir
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def _post(site: Site, page: str, action: str, data: dict[str, object],
          who: str = CURATOR) -> object:
    """Post a form the way a browser would: with the CSRF token from the page it is on."""
    client = site.client(who)
    shown = client.get(page)
    assert shown.status_code == 200, (page, shown.status_code)
    assert f'action="{action}"' in shown.text, f"no form posting to {action} on {page}"
    return client.post(action, data={"csrf_token": csrf_of(shown.text), **data})


def _create(site: Site) -> None:
    response = _post(site, "/collections/new", "/collections/new", {
        "title": "Quizzes and feedback", "slug": SLUG,
        "purpose": "Two ways of checking what pupils know, for a department meeting.",
        "curator": "Cal Curator", "subjects": ["maths", "science"], "phases": ["secondary"]})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/collections/{SLUG}/edit?done=created"  # type: ignore[attr-defined]


def test_a_curator_builds_edits_publishes_and_exports_a_collection(site: Site) -> None:
    repo_before = _repo_collections()
    edit = f"/collections/{SLUG}/edit"
    _create(site)
    assert (site.settings.collections_dir / f"{SLUG}.md").exists()
    page = site.client(CURATOR).get(edit + "?done=created")
    assert "Collection created" in page.text and "Quizzes and feedback" in page.text
    check_page(page.text)

    # From the search results: the small form on each result card.
    search = site.client(CURATOR).get("/search?q=low-stakes+quizzes")
    assert f'name="writeup" value="{QUIZZES}"' in search.text
    response = _post(site, "/search?q=low-stakes+quizzes", "/collections/add", {
        "collection": SLUG, "writeup": QUIZZES, "why": "Quizzes show what stuck."})
    assert response.status_code == 303  # type: ignore[attr-defined]
    # From a write-up page.
    response = _post(site, f"/practice/{FEEDBACK}", "/collections/add", {
        "collection": SLUG, "writeup": FEEDBACK, "why": "Feedback without marking."})
    assert response.status_code == 303  # type: ignore[attr-defined]
    # A third, from the collection's own page, to be removed later.
    response = _post(site, edit, f"/collections/{SLUG}/items", {
        "writeup": TUITION, "why": "Not for this session after all."})
    assert response.status_code == 303  # type: ignore[attr-defined]

    # Reorder: feedback up, so it comes first.
    response = _post(site, edit, f"/collections/{SLUG}/items/{FEEDBACK}/move",
                     {"direction": "up"})
    assert response.status_code == 303  # type: ignore[attr-defined]
    # Annotate the quizzes: note, questions and task.
    response = _post(site, edit, f"/collections/{SLUG}/items/{QUIZZES}/note", {
        "why": "Retrieval practice in ten minutes a week.",
        "questions": "Which topics would you quiz first?\nHow would you use the results?",
        "task": "Write five questions for next week."})
    assert response.status_code == 303  # type: ignore[attr-defined]
    response = _post(site, edit, f"/collections/{SLUG}/items/{FEEDBACK}/note", {
        "why": "Feedback without marking.", "questions": "What do pupils do with the sheet?",
        "task": "Try one sheet with a Year 10 class."})
    assert response.status_code == 303  # type: ignore[attr-defined]
    response = _post(site, edit, f"/collections/{SLUG}/items/{TUITION}/remove", {})
    assert response.status_code == 303  # type: ignore[attr-defined]
    response = _post(site, edit, f"/collections/{SLUG}/plan",
                     {"plan": "10 Welcome and aims\n30 Read and discuss\n20 Plan a task"})
    assert response.status_code == 303  # type: ignore[attr-defined]
    response = _post(site, edit, f"/collections/{SLUG}/details", {
        "title": "Quizzes and whole-class feedback", "purpose": "Checking what pupils know.",
        "curator": "Cal Curator", "subjects": ["maths", "science"], "phases": ["secondary"]})
    assert response.status_code == 303  # type: ignore[attr-defined]
    # The template introduction cannot be published: write one on the page first.
    response = _post(site, edit, f"/collections/{SLUG}/status", {"status": "published"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "still the template text" in response.text  # type: ignore[attr-defined]
    response = _post(site, edit, f"/collections/{SLUG}/introduction", {
        "introduction": "Two quick ways to see what pupils know.\n\nBring a class list."})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert "Bring a class list." in site.client(CURATOR).get(edit).text
    response = _post(site, edit, f"/collections/{SLUG}/status", {"status": "published"})
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]

    text = (site.settings.collections_dir / f"{SLUG}.md").read_text()
    assert text.index(FEEDBACK) < text.index(QUIZZES) and TUITION not in text
    public = site.client(None).get(f"/collections/{SLUG}")
    assert public.status_code == 200 and "Edit this collection" not in public.text
    assert 'action="/collections/add"' not in public.text
    pdf = site.client(None).get(f"/collections/{SLUG}/handout.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert_in_order(pdf_text(pdf.content), [
        "Quizzes and whole-class feedback", "Welcome and aims", "Plan a task",
        "Two quick ways to see what pupils know.",
        "Whole-class feedback sheets in GCSE science", "Feedback without marking.",
        "What do pupils do with the sheet?", "Try one sheet with a Year 10 class.",
        "Weekly low-stakes quizzes in Year 7 maths", "Retrieval practice in ten minutes a week.",
        "Which topics would you quiz first?", "How would you use the results?",
        "Write five questions for next week."])
    assert "Small-group maths tuition" not in pdf_text(pdf.content)

    actions = [e.action for e in entries(site.store, target=f"collection:{SLUG}")]
    assert actions[::-1] == ["collection.create", "collection.add", "collection.add",
                             "collection.add", "collection.move", "collection.annotate",
                             "collection.annotate", "collection.remove", "collection.plan",
                             "collection.details", "collection.introduction",
                             "collection.status"]
    assert all(e.actor == CURATOR for e in entries(site.store, target=f"collection:{SLUG}"))
    assert _repo_collections() == repo_before  # the repository's content/ was never touched


def test_invalid_changes_are_refused_with_per_field_messages(site: Site) -> None:
    _create(site)
    edit = f"/collections/{SLUG}/edit"
    before = _files(site)
    response = _post(site, edit, f"/collections/{SLUG}/details", {
        "title": "", "purpose": "Still here.", "subjects": ["maths"], "phases": ["secondary"]})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert re.search(r'id="e-title"[^>]*>.*Enter a title', response.text)  # type: ignore[attr-defined]
    assert '<a href="#f-title">Enter a title</a>' in response.text  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in response.text  # type: ignore[attr-defined]
    response = _post(site, edit, f"/collections/{SLUG}/plan", {"plan": "Welcome everyone"})
    assert response.status_code == 422 and "must start with the minutes" in response.text  # type: ignore[attr-defined]
    assert "Welcome everyone" in response.text  # type: ignore[attr-defined]  # kept as typed
    response = _post(site, edit, f"/collections/{SLUG}/status", {"status": "published"})
    assert response.status_code == 422 and "was not saved" in response.text  # type: ignore[attr-defined]
    assert 'href="#status-heading"' in response.text  # type: ignore[attr-defined]
    response = _post(site, "/collections/new", "/collections/new", {
        "title": "Again", "slug": SLUG, "purpose": "x", "subjects": ["maths"],
        "phases": ["secondary"]})
    assert response.status_code == 422 and "already exists" in response.text  # type: ignore[attr-defined]
    assert _files(site) == before


@pytest.mark.parametrize("who", [None, "cara@example.org", "reader@example.org",
                                 "mod@example.org"])
def test_people_who_are_not_curators_see_no_forms_and_change_nothing(site: Site,
                                                                      who: str | None) -> None:
    _create(site)
    before = _files(site)
    client = site.client(who)
    for page in (f"/practice/{QUIZZES}", "/search?q=quizzes", "/collections"):
        html = client.get(page).text
        assert 'action="/collections/add"' not in html and "/collections/new" not in html
    token = csrf_of(client.get("/login").text)
    posts = [("/collections/new", {"title": "Mine", "purpose": "x"}),
             ("/collections/add", {"collection": SLUG, "writeup": QUIZZES}),
             (f"/collections/{SLUG}/items", {"writeup": QUIZZES}),
             (f"/collections/{SLUG}/plan", {"plan": "10 Hello"}),
             (f"/collections/{SLUG}/status", {"status": "draft"})]
    for path, data in posts:
        response = client.post(path, data={"csrf_token": token, **data})
        if who is None:
            assert response.status_code == 303 and response.headers["location"].startswith(
                "/login?next=")
        else:
            assert response.status_code == 403, (who, path)
    assert client.get(f"/collections/{SLUG}/edit").status_code == (303 if who is None else 403)
    assert _files(site) == before


@pytest.mark.parametrize("attack", ["no token", "bad token", "token of another session",
                                    "foreign origin"])
def test_curator_forms_without_a_valid_token_get_403_and_change_nothing(site: Site,
                                                                        attack: str) -> None:
    _create(site)
    before = _files(site)
    client = site.client(CURATOR)
    token = csrf_of(client.get(f"/collections/{SLUG}/edit").text)
    other = csrf_of(site.client("admin@example.org").get("/collections/new").text)
    for path, fields in [("/collections/new", {"title": "Sneaky", "purpose": "x",
                                               "subjects": ["maths"], "phases": ["secondary"]}),
                         ("/collections/add", {"collection": SLUG, "writeup": QUIZZES}),
                         (f"/collections/{SLUG}/details", {"title": "Hijacked"}),
                         (f"/collections/{SLUG}/status", {"status": "published"})]:
        data: dict[str, object] = dict(fields)
        headers = {}
        if attack == "bad token":
            data["csrf_token"] = token[:-4] + "0000"
        elif attack == "token of another session":
            data["csrf_token"] = other
        elif attack == "foreign origin":
            data["csrf_token"] = token
            headers["Origin"] = "https://evil.example"
        response = client.post(path, data=data, headers=headers)
        assert response.status_code == 403, (attack, path)
    assert _files(site) == before


def test_admins_curate_too_and_see_the_add_form(site: Site) -> None:
    _create(site)
    html = site.client("admin@example.org").get(f"/practice/{QUIZZES}").text
    assert 'action="/collections/add"' in html and f'value="{SLUG}"' in html
    check_page(html)


def test_collection_edits_write_into_the_tests_own_content_folder(site: Site,
                                                                  tmp_path: Path) -> None:
    assert site.settings.collections_dir.is_relative_to(tmp_path)
    _create(site)
    assert (tmp_path / "content" / "collections" / f"{SLUG}.md").exists()
    assert not (ROOT / "content" / "collections" / f"{SLUG}.md").exists()

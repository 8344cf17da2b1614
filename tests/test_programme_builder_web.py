"""The programme builder through the real app: a curator builds and publishes a day with the
forms, readers and contributors are refused, CSRF is checked, clashes and sign-up conflicts
come back beside their fields, and every change is a revision and an audit entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support_accounts import Site, csrf_of
from test_web import check_page

from kb.state import audit
from kb.workflows.programme_edits import programme_history

FIXTURES = Path(__file__).parent / "fixtures"
DAY = "/programmes/test-day"
CPD = "cpd@example.org"


@pytest.fixture
def day(site: Site) -> Site:
    """The site with the fixture collections and the test-day programme."""
    shutil.copytree(FIXTURES / "collections", site.settings.collections_dir)
    shutil.copytree(FIXTURES / "programmes", site.settings.programmes_dir)
    return site


def submit(site: Site, email: str, page: str, url: str, data: dict[str, object]):  # type: ignore
    """Post a form as its page offers it: with the CSRF token read from that page."""
    client = site.client(email)
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": token})


def test_a_curator_builds_and_publishes_a_day_with_the_forms(day: Site) -> None:
    cpd = day.client(CPD)
    listing = cpd.get("/programmes").text
    assert 'href="/programmes/new"' in listing
    created = submit(day, CPD, "/programmes/new", "/programmes/new", {
        "title": "Spring inset day", "slug": "", "date": "2026-03-02", "venue": "Test Hall",
        "organiser": "", "summary": "A short day for the tests."})
    assert created.status_code == 303, created.text[:500]
    base = "/programmes/spring-inset-day/edit"
    assert created.headers["location"] == f"{base}?done=created"
    assert day.client().get("/programmes/spring-inset-day").status_code == 404  # a draft
    assert "Spring inset day" in cpd.get("/programmes").text  # listed for curators
    steps = [
        (f"{base}/rooms/new", {"id": "", "name": "Room 1", "capacity": "25"}),
        (f"{base}/strands/new", {"id": "", "title": "Maths", "subjects": ["maths"],
                                 "room": "room-1", "description": ""}),
        (f"{base}/slots/new", {"time": "09:30-10:30", "title": "Round 1", "room": ""}),
        (f"{base}/slots/09:30/sessions/new", {
            "strand": "maths", "collection": "maths-tuition-and-quizzes", "room": "",
            "facilitators": "Ann Maths (Hillside)\n", "title": ""}),
    ]
    for url, data in steps:
        response = submit(day, CPD, url, url, data)
        assert response.status_code == 303, (url, response.text[:800])
    page = cpd.get(base)
    assert page.status_code == 200
    check_page(page.text)
    assert "Maths tuition and quizzes" in page.text and "Ann Maths (Hillside)" in page.text
    published = submit(day, CPD, base, f"{base}/status", {"status": "published"})
    assert published.status_code == 303
    public = cpd.get("/programmes/spring-inset-day").text
    assert "Maths tuition and quizzes" in public and f'href="{base}"' in public
    history = programme_history(day.store, "spring-inset-day")
    assert [r.summary for r in history][-1] == "Spring inset day" and len(history) == 6
    actions = {e.action for e in audit.entries(day.store,
                                               target="programme:spring-inset-day")}
    assert {"programme.create", "programme.room", "programme.session",
            "programme.status"} <= actions
    assert "Revision history" in cpd.get(base).text


@pytest.mark.parametrize("email", ["reader@example.org", "cara@example.org"])
def test_readers_and_contributors_cannot_build(day: Site, email: str) -> None:
    client = day.client(email)
    for url in ("/programmes/new", f"{DAY}/edit", f"{DAY}/edit/rooms/r1"):
        assert client.get(url).status_code == 403, url
    token = csrf_of(client.get("/account").text)
    before = (day.settings.programmes_dir / "test-day.yaml").read_bytes()
    refused = client.post(f"{DAY}/edit/rooms/r1", data={"name": "Room 1", "capacity": "2",
                                                         "csrf_token": token})
    assert refused.status_code == 403
    assert (day.settings.programmes_dir / "test-day.yaml").read_bytes() == before
    assert 'href="/programmes/new"' not in client.get("/programmes").text
    assert f'href="{DAY}/edit"' not in client.get(DAY).text


def test_a_change_without_the_csrf_token_is_refused(day: Site) -> None:
    cpd = day.client(CPD)
    before = (day.settings.programmes_dir / "test-day.yaml").read_bytes()
    refused = cpd.post(f"{DAY}/edit/rooms/r1", data={"name": "Room 1", "capacity": "2"})
    assert refused.status_code == 403
    wrong = cpd.post(f"{DAY}/edit/rooms/r1", data={"name": "Room 1", "capacity": "2",
                                                   "csrf_token": "not-the-token"})
    assert wrong.status_code == 403
    assert (day.settings.programmes_dir / "test-day.yaml").read_bytes() == before
    assert programme_history(day.store, "test-day") == []


def test_a_clash_comes_back_beside_its_field(day: Site) -> None:
    url = f"{DAY}/edit/slots/09:30/sessions/new"
    before = (day.settings.programmes_dir / "test-day.yaml").read_bytes()
    response = submit(day, CPD, url, url, {
        "strand": "leaders", "collection": "reading-and-attendance", "room": "r1",
        "facilitators": "Dee New", "title": ""})
    assert response.status_code == 422
    html = response.text
    check_page(html)
    assert 'class="error-summary"' in html and 'href="#f-room"' in html
    assert "Room &#39;r1&#39; is already used in this slot" in html
    assert "(line" not in html  # line numbers mean nothing on the web
    assert 'id="e-room"' in html and 'aria-invalid="true"' in html
    assert '<option value="leaders" selected>' in html  # the values as posted
    assert (day.settings.programmes_dir / "test-day.yaml").read_bytes() == before


def test_bad_seats_and_times_are_said_in_plain_words(day: Site) -> None:
    room = submit(day, CPD, f"{DAY}/edit/rooms/r1", f"{DAY}/edit/rooms/r1",
                  {"name": "Room 1", "capacity": "thirty"})
    assert room.status_code == 422
    assert "Enter the number of seats as a whole number, or leave it empty" in room.text
    slot = submit(day, CPD, f"{DAY}/edit/slots/new", f"{DAY}/edit/slots/new",
                  {"time": "half nine", "title": "Extra", "room": ""})
    assert slot.status_code == 422 and "Enter the time like 09:50-10:50" in slot.text


def test_editing_respects_the_places_teachers_hold(day: Site) -> None:
    lead = day.client(CPD)
    opened = submit(day, CPD, f"{DAY}/signups", f"{DAY}/signups/window",
                    {"status": "open", "deadline": ""})
    assert opened.status_code == 303
    for email in ("reader@example.org", "cara@example.org"):
        placed = submit(day, email, f"{DAY}/signup", f"{DAY}/signup",
                        {"slot": "09:30", "strand": "maths"})
        assert placed.status_code == 303
    assert "2 signed up" in lead.get(f"{DAY}/edit").text
    removed = submit(day, CPD, f"{DAY}/edit", f"{DAY}/edit/slots/09:30/sessions/maths/remove",
                     {})
    assert removed.status_code == 422
    assert "2 teachers signed up for the maths session at 09:30" in removed.text
    assert 'href="#slots-heading"' in removed.text  # the summary leads to the day's slots
    smaller = submit(day, CPD, f"{DAY}/edit/rooms/r1", f"{DAY}/edit/rooms/r1",
                     {"name": "Room 1", "capacity": "1"})
    assert smaller.status_code == 422 and 'id="e-capacity"' in smaller.text
    assert "Room 1 would seat 1; give it at least 2 seats" in smaller.text
    assert day.count("signups") == 2

"""Sign-up on the web: a CPD lead opens and closes, teachers choose, queue, cancel and get
their day (.ics), CSRF on every form, the grid's places left, registers, and the JSON twins."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from icalendar import Calendar
from support_accounts import Site, csrf_of

from kb.state.accounts import add_user
from kb.workflows import attendance

FIXTURES = Path(__file__).parent / "fixtures"
DAY = "/programmes/test-day"


@pytest.fixture
def day(site: Site) -> Site:
    """The fixture programme on the site, with Room 1 (maths) holding 1 and Room 2 open."""
    shutil.copytree(FIXTURES / "collections", site.settings.collections_dir)
    shutil.copytree(FIXTURES / "programmes", site.settings.programmes_dir)
    path = site.settings.programmes_dir / "test-day.yaml"
    path.write_text(path.read_text().replace("capacity: 30", "capacity: 1"))
    return site


def post(site: Site, email: str, url: str, data: dict[str, str], page: str = ""):  # type: ignore
    client = site.client(email)
    token = csrf_of(client.get(page or f"{DAY}/signup").text)
    return client.post(url, data={**data, "csrf_token": token})


def open_signup(site: Site, deadline: str = "") -> None:
    response = post(site, "cpd@example.org", f"{DAY}/signups/window",
                    {"status": "open", "deadline": deadline}, page=f"{DAY}/signups")
    assert response.status_code == 303


def test_a_teacher_signs_up_queues_and_gets_their_day(day: Site) -> None:
    reader = day.client("reader@example.org")
    assert "has not opened yet" in reader.get(f"{DAY}/signup").text
    assert post(day, "reader@example.org", f"{DAY}/signup",
                {"slot": "09:30", "strand": "maths"}).status_code == 409
    open_signup(day, "2999-01-01T17:00")
    page = reader.get(f"{DAY}/signup").text
    assert "You can change or cancel until 2999-01-01 17:00" in page
    first = post(day, "reader@example.org", f"{DAY}/signup", {"slot": "09:30",
                                                              "strand": "maths"})
    assert first.status_code == 303 and "notice=placed" in first.headers["location"]
    again = post(day, "reader@example.org", f"{DAY}/signup", {"slot": "09:30",
                                                              "strand": "maths"})
    assert "notice=repeat" in again.headers["location"]  # a double click: one place
    assert day.count("signups") == 1
    # Room 1 is now full: Cara is told so, and offered the waiting list
    full = post(day, "cara@example.org", f"{DAY}/signup", {"slot": "09:30", "strand": "maths"})
    assert full.status_code == 409 and "is full (1 places); join its waiting list" in full.text
    assert "Join the waiting list" in day.client("cara@example.org").get(f"{DAY}/signup").text
    queued = post(day, "cara@example.org", f"{DAY}/signup",
                  {"slot": "09:30", "strand": "maths", "waitlist": "yes"})
    assert "notice=waiting" in queued.headers["location"]
    assert "Full, 1 waiting" in day.client().get(DAY).text  # the public grid
    # the reader cancels: Cara gets the place automatically
    post(day, "reader@example.org", f"{DAY}/signup/cancel", {"slot": "09:30",
                                                             "status": "placed"})
    cara = day.client("cara@example.org")
    mine = cara.get(f"/api{DAY}/signup").json()["mine"]
    assert mine == [{"slot": "09:30", "placed": "maths", "waiting": "", "position": 0}]
    my_day = cara.get(f"{DAY}/my-day").text
    assert "Room 1" in my_day and "Ann Maths" in my_day and "No session chosen yet" in my_day
    ics = cara.get(f"{DAY}/my-day.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(ics.content).walk("VEVENT")
    summaries = [str(e["SUMMARY"]) for e in events]
    assert "Welcome" in summaries and len(events) == 3  # welcome, maths, lunch
    maths = next(e for e in events if "Room 1" in str(e["LOCATION"]))
    assert maths.decoded("DTSTART").isoformat() == "2024-01-05T09:30:00+00:00"


def test_every_form_needs_its_token_and_sign_in(day: Site) -> None:
    open_signup(day)
    reader = day.client("reader@example.org")
    for url, data in ((f"{DAY}/signup", {"slot": "09:30", "strand": "maths"}),
                      (f"{DAY}/signup/cancel", {"slot": "09:30"})):
        assert reader.post(url, data=data).status_code == 403
        assert reader.post(url, data={**data, "csrf_token": "forged"}).status_code == 403
    cpd = day.client("cpd@example.org")
    assert cpd.post(f"{DAY}/signups/window", data={"status": "closed"}).status_code == 403
    assert day.count("signups") == 0
    anonymous = day.client()
    assert anonymous.get(f"{DAY}/signup").status_code == 303  # to sign in
    assert anonymous.post(f"/api{DAY}/signup", json={"slot": "09:30",
                                                     "strand": "maths"}).status_code == 401
    assert reader.get(f"{DAY}/signups").status_code == 403  # not a CPD lead
    me = reader.get("/api/me").json()
    bad = reader.post(f"/api{DAY}/signup", json={"slot": "9.30", "strand": "maths"},
                      headers={"X-CSRF-Token": me["csrf_token"]})
    assert bad.status_code == 422 and "slot: '9.30' is not a workshop slot" in \
        bad.json()["detail"]


def test_the_lead_closes_reopens_moves_and_reads_registers(day: Site) -> None:
    open_signup(day)
    post(day, "reader@example.org", f"{DAY}/signup", {"slot": "09:30", "strand": "english"})
    closed = post(day, "cpd@example.org", f"{DAY}/signups/window", {"status": "closed"},
                  page=f"{DAY}/signups")
    assert closed.status_code == 303
    refused = post(day, "cara@example.org", f"{DAY}/signup",
                   {"slot": "09:30", "strand": "english"})
    assert refused.status_code == 409 and "sign-up for this programme is closed" in refused.text
    moved = post(day, "cpd@example.org", f"{DAY}/signups/move",
                 {"email": "reader@example.org", "session": "09:30|maths"},
                 page=f"{DAY}/signups")
    assert moved.status_code == 303
    assert "now has a place in maths" in day.client("cpd@example.org").get(
        moved.headers["location"]).text
    open_signup(day)  # reopen
    assert "Sign up for sessions" in day.client().get(DAY).text
    csv = day.client("cpd@example.org").get(f"{DAY}/register.csv",
                                            params={"slot": "09:30", "strand": "maths"})
    assert csv.status_code == 200 and "Rae Reader,reader@example.org" in csv.text
    pdf = day.client("cpd@example.org").get(f"{DAY}/register.pdf",
                                            params={"slot": "09:30", "strand": "maths"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader  # the test extra

    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Register:" in text and "Rae Reader" in text
    # facilitators read their own register; other teachers may not
    add_user(day.store, day_directory(day), "ann@example.org", "correct horse battery",
             "reader", name="Ann Maths")
    ann = day.client("ann@example.org")
    assert "Rae Reader" in ann.get(f"{DAY}/register",
                                   params={"slot": "09:30", "strand": "maths"}).text
    assert ann.get(f"{DAY}/register", params={"slot": "09:30",
                                              "strand": "english"}).status_code == 403
    assert day.client("cara@example.org").get(
        f"{DAY}/register.csv", params={"slot": "09:30", "strand": "maths"}).status_code == 403
    # the address that identifies a facilitator is never shown to visitors
    assert "Ann Maths" in day.client().get(DAY).text
    assert "ann@example.org" not in day.client().get(DAY).text + day.client().get(
        "/api" + DAY).text
    # a name is no identity: another account called Ann Maths may not read the register
    add_user(day.store, day_directory(day), "not-ann@example.org", "correct horse battery",
             "reader", name="Ann Maths")
    assert day.client("not-ann@example.org").get(
        f"{DAY}/register", params={"slot": "09:30", "strand": "maths"}).status_code == 403


def test_json_twins_for_the_lead_and_the_teacher(day: Site) -> None:
    cpd = day.client("cpd@example.org")
    token = cpd.get("/api/me").json()["csrf_token"]
    opened = cpd.post(f"/api{DAY}/signups/window", json={"status": "open"},
                      headers={"X-CSRF-Token": token})
    assert opened.json()["accepting"] is True
    reader = day.client("reader@example.org")
    rtoken = reader.get("/api/me").json()["csrf_token"]
    got = reader.post(f"/api{DAY}/signup", json={"slot": "09:30", "strand": "maths"},
                      headers={"X-CSRF-Token": rtoken}).json()
    assert got["status"] == "placed" and got["message"] == "you have a place"
    full = cpd.post(f"/api{DAY}/signups/move", json={"email": "cara@example.org",
                                                     "slot": "09:30", "strand": "maths"},
                    headers={"X-CSRF-Token": token})
    assert full.status_code == 409 and "nobody was moved" in full.json()["detail"]
    places = {(p["slot"], p["strand"]): p for p in day.client().get(
        f"/api{DAY}/places").json()}
    assert places[("09:30", "maths")]["left"] == 0
    assert places[("09:30", "english")]["capacity"] is None
    day_answer = day.client("cara@example.org")
    ctoken = day_answer.get("/api/me").json()["csrf_token"]
    both = day_answer.post(f"/api{DAY}/signup/day", headers={"X-CSRF-Token": ctoken}, json={
        "wishes": [{"slot": "09:30", "strands": ["maths", "english"]},
                   {"slot": "10:45", "strands": ["leaders"]}]}).json()
    assert [(x["slot"], x["placed"], x["waiting"]) for x in both] == \
        [("09:30", "english", "maths"), ("10:45", "leaders", "")]
    cancelled = reader.post(f"/api{DAY}/signup/cancel", json={"slot": "09:30"},
                            headers={"X-CSRF-Token": rtoken})
    assert cancelled.json() == {"removed": True}
    # the reader's place went to Cara, first in the queue; her English place is free again
    fills = attendance.fills(day.store, day_programme(day))
    assert (fills[("09:30", "maths")].placed, fills[("09:30", "english")].placed) == (1, 0)


def day_directory(site: Site):  # type: ignore[no-untyped-def]
    from kb.content.library import load_reference

    return load_reference(site.settings.content_dir)[1]


def day_programme(site: Site):  # type: ignore[no-untyped-def]
    from kb.curation.catalogue import load_curation

    return load_curation(site.settings).programme("test-day")

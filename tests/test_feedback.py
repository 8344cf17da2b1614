"""Feedback after the inset day: attendees rate their sessions and say what they will try;
the CPD lead sees fill and feedback per session and strand (table, SVG chart, JSON)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from support_accounts import Site, csrf_of

from kb.curation.catalogue import load_curation
from kb.errors import ConflictError
from kb.workflows import feedback, signup

FIXTURES = Path(__file__).parent / "fixtures"
DAY = "/programmes/test-day"


@pytest.fixture
def attended(site: Site) -> Site:
    """The fixture day (5 January 2024, so feedback is open) with the reader in maths."""
    shutil.copytree(FIXTURES / "collections", site.settings.collections_dir)
    shutil.copytree(FIXTURES / "programmes", site.settings.programmes_dir)
    programme = load_curation(site.settings).programme("test-day")
    signup.set_window(site.store, site.user("cpd@example.org"), programme, "open")
    signup.choose(site.store, site.user("reader@example.org"), programme, "09:30", "maths")
    return site


def test_an_attendee_rates_a_session_and_the_lead_sees_it(attended: Site) -> None:
    reader = attended.client("reader@example.org")
    page = reader.get(f"{DAY}/feedback").text
    assert "What will you try?" in page and "/collections/maths-tuition-and-quizzes" in page
    form = {"slot": "09:30", "strand": "maths", "rating": "4",
            "will_try": "Weekly quizzes in Year 7"}
    assert reader.post(f"{DAY}/feedback", data=form).status_code == 403  # no token
    token = csrf_of(page)
    assert reader.post(f"{DAY}/feedback", data={**form, "csrf_token": token}
                       ).status_code == 303
    changed = reader.post(f"{DAY}/feedback", data={**form, "rating": "5",
                                                   "csrf_token": token})
    assert changed.status_code == 303 and attended.count("session_feedback") == 1
    bad = reader.post(f"{DAY}/feedback", data={**form, "rating": "7", "csrf_token": token})
    # in plain words on the page (issue 16)
    assert bad.status_code == 422 and "Choose 1 (not useful) to 5" in bad.text
    other = reader.post(f"{DAY}/feedback", data={**form, "strand": "english",
                                                  "csrf_token": token})
    assert other.status_code == 409 and "you had no place in the english session" in other.text
    assert reader.get(f"{DAY}/report").status_code == 403
    cpd = attended.client("cpd@example.org")
    report = cpd.get(f"{DAY}/report").text
    assert "Weekly quizzes in Year 7" in report and "<svg" in report and "3%" in report
    data = cpd.get(f"/api{DAY}/report").json()
    maths = next(s for s in data["sessions"] if s["strand"] == "maths")
    assert (maths["placed"], maths["capacity"], maths["fill_percent"]) == (1, 30, 3)
    assert (maths["responses"], maths["mean_rating"]) == (1, 5.0)
    strand = next(s for s in data["strands"] if s["strand"] == "maths")
    assert (strand["sessions"], strand["responses"], strand["mean_rating"]) == (1, 1, 5.0)


def test_feedback_opens_on_the_day_and_the_api_checks_its_fields(attended: Site) -> None:
    programme = load_curation(attended.settings).programme("test-day")
    reader = attended.user("reader@example.org")
    with pytest.raises(ConflictError, match="feedback opens on the day itself, 2024-01-05"):
        feedback.give(attended.store, reader, programme, "09:30", "maths", 3, "",
                      today=dt.date(2024, 1, 4))
    client = attended.client("reader@example.org")
    token = client.get("/api/me").json()["csrf_token"]
    sent = client.post(f"/api{DAY}/feedback", headers={"X-CSRF-Token": token},
                       json={"slot": "09:30", "strand": "maths", "rating": 0})
    assert sent.status_code == 422 and "rating" in sent.json()["detail"]
    ok = client.post(f"/api{DAY}/feedback", headers={"X-CSRF-Token": token},
                     json={"slot": "09:30", "strand": "maths", "rating": 2})
    assert ok.status_code == 204
    assert feedback.mine(attended.store, reader.id, "test-day") == {("09:30", "maths"): (2, "")}

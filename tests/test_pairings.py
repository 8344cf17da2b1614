"""Brokering and monitoring: a flagged school's priority paired with a partner, both accept,
a plan, notes, the review beside the indicator, the write-up pre-filled; roles per route."""

from __future__ import annotations

import html
import re

import pytest
from support_accounts import PASSWORD, Site
from support_brokering import LEAD, PARTNER, SALTINGS, broker, post

from kb.content.library import load_reference
from kb.state.accounts import add_user


@pytest.fixture
def brokered(site: Site) -> tuple[Site, int]:
    """Saltings School (flagged on persistent absence) writes a priority; the lead proposes
    Brackenford Community School, whose offer matches."""
    return site, broker(site)[1]


def test_walk_from_proposal_to_review_and_write_up(brokered: tuple[Site, int]) -> None:
    site, n = brokered
    assert post(site, SALTINGS, f"/pairings/{n}/accept").status_code == 303
    assert site.client(LEAD).get(f"/api/pairings/{n}").json()["status"] == "proposed"
    # no plan before both have accepted
    assert post(site, SALTINGS, f"/pairings/{n}/plan", goal="x", milestones="2027-01-10 a",
                review_on="2027-07-01").status_code == 409
    assert post(site, PARTNER, f"/pairings/{n}/accept").status_code == 303
    assert site.client(LEAD).get(f"/api/pairings/{n}").json()["status"] == "agreed"
    plan = post(site, PARTNER, f"/pairings/{n}/plan", goal="Day-one calls for every absence",
                milestones="2027-02-01 Scripts written and rehearsed\n"
                           "2027-01-10 Training session at Brackenford",
                review_on="2027-07-15")
    assert plan.status_code == 303
    assert post(site, SALTINGS, f"/pairings/{n}/notes",
                note="Calls started in Year 9").status_code == 303
    assert post(site, LEAD, f"/pairings/{n}/review",
                outcome="Calls made on 95% of first days").status_code == 303
    data = site.client(SALTINGS).get(f"/api/pairings/{n}").json()
    assert data["status"] == "reviewed" and data["school_accepted"] and data["partner_accepted"]
    assert [m["due"] for m in data["milestones"]] == ["2027-01-10", "2027-02-01"]
    assert data["notes"][0]["text"] == "Calls started in Year 9"
    assert [t["year"] for t in data["trend"]] == ["2021/22", "2022/23", "2023/24", "2024/25"]
    page = site.client(SALTINGS).get(f"/pairings/{n}").text
    assert "Persistent absence: before and since" in page and "before the pairing" in page
    assert f'href="/contribute?pairing={n}"' in page
    form = html.unescape(site.client(SALTINGS).get(f"/contribute?pairing={n}").text)
    assert "support from Brackenford Community School" in form
    assert "Calls made on 95% of first days" in form and "2024/25" in form
    with site.store.read() as conn:
        actions = [r[0] for r in conn.execute(
            "SELECT action FROM audit_log WHERE target=?", (f"pairing:{n}",))]
    assert actions == ["pairing.propose", "pairing.accept", "pairing.accept", "pairing.plan",
                       "pairing.note", "pairing.review"]


SEES = {LEAD: True, SALTINGS: True, PARTNER: True, "admin@example.org": True,
        "cara@example.org": False,  # Ashcombe: Brackenford's family, but not a moderator
        "eve@example.org": False,  # Eastmere: Saltings' family, a contributor elsewhere
        "mod@example.org": False,  # a moderator of no family
        "reader@example.org": False, "cpd@example.org": False}


@pytest.mark.parametrize("email, sees", SEES.items())
def test_visibility_per_role_and_route(brokered: tuple[Site, int], email: str,
                                       sees: bool) -> None:
    site, n = brokered
    client = site.client(email)
    for url in (f"/pairings/{n}", f"/api/pairings/{n}"):
        assert client.get(url).status_code == (200 if sees else 404), (email, url)
    assert (f"/pairings/{n}" in client.get("/pairings").text) is sees
    assert any(p["id"] == n for p in client.get("/api/pairings").json()) is sees


def test_family_lead_sees_it_and_a_family_moderator_does_not(brokered: tuple[Site, int]
                                                              ) -> None:
    site, n = brokered
    add_user(site.store, load_reference(site.settings.content_dir)[1], "fm@example.org",
             PASSWORD, "moderator", school="harbourside-primary")  # Eastmere, like Saltings
    assert site.client("fm@example.org").get(f"/pairings/{n}").status_code == 404
    assert site.client("lead-east@example.org").get(f"/pairings/{n}").status_code == 200
    # seeing is not answering: only the two schools' staff accept
    assert post(site, "lead-east@example.org", f"/pairings/{n}/accept").status_code == 403


@pytest.mark.parametrize("email, url", [
    ("cara@example.org", "/priorities/{p}/pairings"), (SALTINGS, "/priorities/{p}/pairings"),
    ("mod@example.org", "/priorities/{p}/pairings"),
])
def test_only_challenge_leads_propose(brokered: tuple[Site, int], email: str, url: str) -> None:
    site, n = brokered
    p = site.client(LEAD).get(f"/api/pairings/{n}").json()["priority"]
    response = post(site, email, url.format(p=p), partner="tollgate-primary", proposal="x")
    assert response.status_code == 403


def test_outsiders_and_the_lead_cannot_accept_and_bad_plans_are_named(
        brokered: tuple[Site, int]) -> None:
    site, n = brokered
    assert post(site, LEAD, f"/pairings/{n}/accept").status_code == 403
    assert post(site, "cara@example.org", f"/pairings/{n}/accept").status_code == 404
    post(site, SALTINGS, f"/pairings/{n}/accept")
    post(site, PARTNER, f"/pairings/{n}/accept")
    assert post(site, PARTNER, f"/pairings/{n}/accept").status_code == 409
    for milestones, review, words in [
        # in plain words on the page (issue 16): the sentence without the field's name
        ("next week training", "2027-07-01", "Line 1 should start with a date"),
        ("2027-01-10 Training", "July", "Give the review date"),
        ("2027-01-10 Training", "2026-12-01", "The review comes after"),
    ]:
        bad = post(site, SALTINGS, f"/pairings/{n}/plan", goal="Goal", milestones=milestones,
                   review_on=review)
        assert bad.status_code == 422 and words in html.unescape(bad.text)
    note = post(site, SALTINGS, f"/pairings/{n}/notes", note="<b>bold</b> claim")
    assert note.status_code == 303
    page = site.client(SALTINGS).get(f"/pairings/{n}").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and not re.search(r"<b>bold", page)


def test_a_partner_declines(brokered: tuple[Site, int]) -> None:
    site, n = brokered
    assert post(site, PARTNER, f"/pairings/{n}/decline").status_code == 303
    assert site.client(LEAD).get(f"/api/pairings/{n}").json()["status"] == "declined"
    assert post(site, SALTINGS, f"/pairings/{n}/accept").status_code == 409


@pytest.mark.parametrize("email, status", [
    (LEAD, 200), ("admin@example.org", 200), (SALTINGS, 403), ("mod@example.org", 403),
    ("reader@example.org", 403)])
def test_partnership_overview_counts_and_roles(brokered: tuple[Site, int], email: str,
                                               status: int) -> None:
    site, n = brokered
    page, data = site.client(email).get("/partnership"), site.client(email).get(
        "/api/partnership")
    assert page.status_code == status and data.status_code == status
    if status != 200:
        return
    body = data.json()
    assert body["priorities_open"] == 1 and body["reviewed"] == []
    states = {row["key"]: row["count"] for row in body["by_state"]}
    assert states == {"proposed": 1, "agreed": 0, "declined": 0, "reviewed": 0}
    indicators = {row["key"]: row["count"] for row in body["by_indicator"]}
    assert indicators["persistent_absence"] == 1 and sum(indicators.values()) == 1
    assert "<svg" in page.text and "<caption>Pairings by state</caption>" in page.text
    post(site, SALTINGS, f"/pairings/{n}/accept")
    post(site, PARTNER, f"/pairings/{n}/accept")
    post(site, SALTINGS, f"/pairings/{n}/plan", goal="Calls", milestones="2027-01-10 Train",
         review_on="2027-07-01")
    post(site, LEAD, f"/pairings/{n}/review", outcome="It worked")
    after = site.client(email).get("/api/partnership").json()
    assert after["reviewed"] == [f"/api/pairings/{n}"]
    assert after["schools_supported"] == 1 and after["schools_supporting"] == 1
    assert "It worked" in site.client(email).get("/partnership").text

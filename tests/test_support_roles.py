"""Who sees a school's priorities and its brokered pairings (issue 19): "visible only to the
two schools, their family lead and challenge leads". One table per kind of page, every role,
every route, HTML and JSON alike: 200 for those allowed, 404 (not 403, so nothing is given away)
for everyone else on a priority or pairing, 403 on the challenge leads' own pages."""

from __future__ import annotations

import pytest
from support_accounts import Site
from support_brokering import LEAD, PARTNER, SALTINGS, broker

# email -> (sees the pairing, sees Saltings' priority, is a challenge lead or admin)
ROLES = {
    "reader@example.org": (False, False, False),  # reader
    "eve@example.org": (False, False, False),  # contributor at Eastmere Academy, same family
    "mod@example.org": (False, False, False),  # moderator of no family
    "mod-east@example.org": (False, False, False),  # moderator in Saltings' family
    "cpd@example.org": (False, False, False),  # curator at Tollgate, the partner's family
    "lead-east@example.org": (True, True, False),  # family lead of Saltings' family
    "lead-brack@example.org": (True, False, False),  # family lead of the partner's family
    "lead-kings@example.org": (False, False, False),  # family lead of another family
    LEAD: (True, True, True),  # challenge lead
    "admin@example.org": (True, True, True),  # admin
    SALTINGS: (True, True, False),  # staff of the supported school
    PARTNER: (True, False, False),  # staff of the partner school: the pairing, not the list
    "third@example.org": (False, False, False),  # staff of a third school, another family
}


@pytest.fixture
def brokered(site: Site) -> tuple[Site, int, int]:
    priority, pairing = broker(site)
    return site, priority, pairing


@pytest.mark.parametrize("email", ROLES)
def test_pairing_routes_per_role(brokered: tuple[Site, int, int], email: str) -> None:
    site, _, n = brokered
    sees = ROLES[email][0]
    client = site.client(email)
    for url in (f"/pairings/{n}", f"/api/pairings/{n}"):
        response = client.get(url)
        assert response.status_code == (200 if sees else 404), (email, url)
        assert ("first-day calls" in response.text) is sees, (email, url)
    listed = client.get("/pairings")
    assert listed.status_code == 200 and (f'href="/pairings/{n}"' in listed.text) is sees
    assert any(p["id"] == n for p in client.get("/api/pairings").json()) is sees


@pytest.mark.parametrize("email", ROLES)
def test_priority_routes_per_role(brokered: tuple[Site, int, int], email: str) -> None:
    site, p, _ = brokered
    sees = ROLES[email][1]
    client = site.client(email)
    for url in ("/schools/saltings-school/priorities", f"/priorities/{p}",
                "/api/schools/saltings-school/priorities", f"/api/priorities/{p}"):
        response = client.get(url)
        assert response.status_code == (200 if sees else 404), (email, url)
        assert ("first-day calls" in response.text) is sees, (email, url)
    assert ("first-day calls" in client.get("/priorities").text) is sees
    school_page = client.get("/schools/saltings-school").text
    assert ('href="/schools/saltings-school/priorities"' in school_page) is sees


@pytest.mark.parametrize("email", ROLES)
def test_challenge_pages_per_role(brokered: tuple[Site, int, int], email: str) -> None:
    site, _, _ = brokered
    status = 200 if ROLES[email][2] else 403
    client = site.client(email)
    for url in ("/triage", "/api/triage", "/partnership", "/api/partnership"):
        assert client.get(url).status_code == status, (email, url)


def test_anonymous_visitors_are_asked_to_sign_in(brokered: tuple[Site, int, int]) -> None:
    site, p, n = brokered
    anonymous = site.client()
    for url in (f"/pairings/{n}", f"/priorities/{p}", "/schools/saltings-school/priorities",
                "/triage", "/partnership"):
        assert anonymous.get(url).status_code == 303, url
    for url in (f"/api/pairings/{n}", f"/api/priorities/{p}", "/api/triage",
                "/api/partnership"):
        assert anonymous.get(url).status_code == 401, url


@pytest.mark.parametrize("email, status", [
    ("lead-east@example.org", 403), ("lead-brack@example.org", 403),  # see, may not answer
    (LEAD, 403), ("mod-east@example.org", 404), ("third@example.org", 404),
    (SALTINGS, 303)])
def test_seeing_a_pairing_is_not_answering_it(brokered: tuple[Site, int, int], email: str,
                                              status: int) -> None:
    from support_brokering import post

    site, _, n = brokered
    assert post(site, email, f"/pairings/{n}/accept").status_code == status

"""Shared pieces for the brokering tests: the bundled school figures, a flagged school's
priority paired by a challenge lead with a partner whose offer matches, and the people around
it (the two schools' staff, family leads, a family moderator, a third school's staff)."""

from __future__ import annotations

from conftest import ROOT
from support_accounts import PASSWORD, Site, csrf_of

from kb.content.library import load_reference
from kb.state.accounts import add_user
from kb.state.schooldata import import_csv

DATA = ROOT / "content" / "data"
BUNDLED = [DATA / "school-context.csv", DATA / "school-indicators.csv"]
LEAD = "lead@example.org"
SALTINGS, PARTNER = "sal@example.org", "bcs@example.org"  # Eastmere / Brackenford families
PRIORITY = ("Persistent absence is too high; we want first-day calls and home visits that "
            "bring pupils back")
# email -> (role, school): everyone else around a pairing of Saltings School (Eastmere family)
# with Brackenford Community School (Brackenford family).
AROUND = {
    "lead-east@example.org": ("family-lead", "harbourside-primary"),  # Saltings' family lead
    "lead-brack@example.org": ("family-lead", "heronsgate-primary"),  # the partner's
    "lead-kings@example.org": ("family-lead", "kingsweir-grammar"),  # another family's
    "mod-east@example.org": ("moderator", "harbourside-primary"),  # a moderator in the family
    "third@example.org": ("contributor", "kingsweir-grammar"),  # a third school's staff
}


def add_people(site: Site) -> None:
    """The challenge lead, both schools' staff and the people in AROUND, with the bundled
    context and indicators imported."""
    directory = load_reference(site.settings.content_dir)[1]
    import_csv(site.store, directory, BUNDLED)
    add_user(site.store, directory, LEAD, PASSWORD, "challenge-lead", name="Lee Lead")
    add_user(site.store, directory, SALTINGS, PASSWORD, "contributor",
             school="saltings-school", name="Sam Saltings")
    add_user(site.store, directory, PARTNER, PASSWORD, "contributor",
             school="brackenford-community-school", name="Bea Brackenford")
    for email, (role, school) in AROUND.items():
        add_user(site.store, directory, email, PASSWORD, role, school=school,
                 name=email.split("@")[0].replace("-", " ").title())


def broker(site: Site) -> tuple[int, int]:
    """Saltings School (flagged on persistent absence) writes a priority and the challenge
    lead proposes Brackenford Community School; returns (priority id, pairing id)."""
    add_people(site)
    lead = site.client(LEAD)
    flagged = lead.get("/api/triage?flagged=yes").json()["rows"]
    assert "persistent_absence" in next(r for r in flagged
                                        if r["school"] == "saltings-school")["flags"]
    sal = site.client(SALTINGS)
    token = csrf_of(sal.get("/schools/saltings-school/priorities").text)
    made = sal.post("/schools/saltings-school/priorities", data={
        "csrf_token": token, "text": PRIORITY, "indicator": "persistent_absence"})
    pid = int(made.headers["location"].rsplit("/", 1)[1])
    page = lead.get(f"/priorities/{pid}").text
    assert 'name="partner" value="brackenford-community-school"' in page
    proposed = lead.post(f"/priorities/{pid}/pairings", data={
        "csrf_token": csrf_of(page), "partner": "brackenford-community-school",
        "proposal": "Their first-day calls training matches your priority"})
    assert proposed.status_code == 303
    return pid, int(proposed.headers["location"].rsplit("/", 1)[1])


def post(site: Site, email: str, url: str, **data: str):  # type: ignore[no-untyped-def]
    """A form post by `email` with a CSRF token from a page they can open."""
    client = site.client(email)
    token = csrf_of(client.get("/pairings").text)
    return client.post(url, data={"csrf_token": token, **data})


def agree_and_review(site: Site, n: int, outcome: str = "Calls made on 95% of first days"
                     ) -> None:
    """Both schools accept pairing n, the partner writes the plan, Saltings adds a note and
    the challenge lead records the outcome."""
    for email in (SALTINGS, PARTNER):
        assert post(site, email, f"/pairings/{n}/accept").status_code == 303
    assert post(site, PARTNER, f"/pairings/{n}/plan", goal="Day-one calls for every absence",
                milestones="2027-01-10 Training session at Brackenford\n"
                           "2027-02-01 Scripts written and rehearsed",
                review_on="2027-07-15").status_code == 303
    assert post(site, SALTINGS, f"/pairings/{n}/notes",
                note="Calls started in Year 9").status_code == 303
    assert post(site, LEAD, f"/pairings/{n}/review", outcome=outcome).status_code == 303

"""Write-ups that came out of support (issue 19): a reviewed pairing is written up from its
pre-filled form, the submission keeps the pairing through drafts, moderation and publication,
and the partnership overview counts and lists it (page and JSON). Only staff of the two
schools can claim a pairing, and only a reviewed one."""

from __future__ import annotations

import html
import re

import pytest
from support_accounts import Site, csrf_of, key_of
from support_brokering import LEAD, PARTNER, SALTINGS, agree_and_review, broker, post

MODERATOR = "mod@example.org"


def prefilled(site: Site, email: str, n: int) -> dict[str, str]:
    """The fields the pre-filled form shows, finished as a teacher would finish them."""
    page = site.client(email).get(f"/contribute?pairing={n}")
    assert page.status_code == 200
    text = page.text
    assert f'<input type="hidden" name="pairing" value="{n}">' in text

    def value(name: str) -> str:
        found = re.search(rf'name="{name}" type="[a-z]+"[^>]*value="([^"]*)"', text)
        assert found, name
        return html.unescape(found.group(1))

    def area(name: str) -> str:
        found = re.search(rf'name="{name}"[^>]*>(.*?)</textarea>', text, re.S)
        assert found, name
        return html.unescape(found.group(1))

    body = area("body").replace(
        "## What we would change\n\n\n\n", "## What we would change\n\nStart the calls in "
        "September, not January.\n\n").rstrip() + "\n\nTrain two staff and share the script.\n"
    return {"csrf_token": csrf_of(text), "idempotency_key": key_of(text),
            "pairing": str(n), "title": value("title"), "summary": area("summary"),
            "school": "saltings-school", "family": "eastmere", "authors": value("authors"),
            "date": value("date"), "phase": "secondary", "key_stages": "ks4",
            "subjects": "pastoral", "interventions": "attendance",
            "evidence_strength": "emerging", "evidence_measure": area("evidence_measure"),
            "body": body, "slug": "first-day-calls-with-brackenford", "note": ""}


@pytest.fixture
def reviewed(site: Site) -> tuple[Site, int]:
    n = broker(site)[1]
    agree_and_review(site, n)
    return site, n


def test_a_reviewed_pairing_written_up_and_published_is_counted(
        reviewed: tuple[Site, int]) -> None:
    site, n = reviewed
    lead = site.client(LEAD)
    before = lead.get("/api/partnership").json()
    assert before["writeups_from_support"] == 0 and before["writeups"] == []
    assert "No write-up from a pairing has been published yet" in lead.get("/partnership").text

    # Saltings opens "Write it up" and saves a draft: the pairing is recorded with it.
    sal = site.client(SALTINGS)
    assert f'href="/contribute?pairing={n}"' in sal.get(f"/pairings/{n}").text
    form = prefilled(site, SALTINGS, n)
    assert "Calls made on 95% of first days" in form["body"]
    saved = sal.post("/contribute", data={**form, "action": "save"})
    assert saved.status_code == 303, html.unescape(saved.text)
    sub_id = int(re.search(r"/my/submissions/(\d+)", saved.headers["location"]).group(1))  # type: ignore[union-attr]
    assert sal.get(f"/api/submissions/{sub_id}").json()["submission"]["pairing"] == n

    # Later edits of the draft carry no pairing field; the link stays.
    draft = sal.get(f"/my/submissions/{sub_id}").text
    assert f'href="/pairings/{n}"' in draft
    again = {k: v for k, v in form.items() if k != "pairing"}
    submitted = sal.post(f"/my/submissions/{sub_id}",
                         data={**again, "csrf_token": csrf_of(draft), "action": "submit"})
    assert submitted.status_code == 303, html.unescape(submitted.text)
    assert sal.get(f"/api/submissions/{sub_id}").json()["submission"]["status"] == "pending"

    # Moderation: changes requested, resubmitted, approved; the link survives it all.
    mod = site.client(MODERATOR)
    review = mod.get(f"/moderation/{sub_id}").text
    assert f"pairing {n}" in review
    assert mod.post(f"/moderation/{sub_id}/request-changes", data={
        "csrf_token": csrf_of(review), "comment": "Say how many pupils"}).status_code == 303
    page = sal.get(f"/my/submissions/{sub_id}").text
    body = again["body"].replace("## Impact\n\n", "## Impact\n\nFor 212 pupils: ")
    assert sal.post(f"/my/submissions/{sub_id}", data={
        **again, "body": body, "csrf_token": csrf_of(page), "action": "submit"}
        ).status_code == 303
    assert lead.get("/api/partnership").json()["writeups_from_support"] == 0  # not yet out
    review = mod.get(f"/moderation/{sub_id}").text
    approved = mod.post(f"/moderation/{sub_id}/approve",
                        data={"csrf_token": csrf_of(review), "comment": ""})
    assert approved.status_code == 303 and "done=approved" in approved.headers["location"]
    slug = "first-day-calls-with-brackenford"
    assert (site.settings.practice_dir / f"{slug}.md").exists()
    assert sal.get(f"/api/submissions/{sub_id}").json()["submission"]["pairing"] == n

    # Counted and listed, linked, in the overview page and its JSON twin.
    data = lead.get("/api/partnership").json()
    assert data["writeups_from_support"] == 1
    (item,) = data["writeups"]
    assert item["slug"] == slug and item["url"] == f"/practice/{slug}"
    assert item["pairing"] == n and item["pairing_url"] == f"/api/pairings/{n}"
    assert item["school"] == "saltings-school" and item["partner"] == PARTNER_SCHOOL
    assert item["title"].endswith("support from Brackenford Community School")
    overview = html.unescape(lead.get("/partnership").text)
    assert "1 published write-up came out of support" in overview
    assert f'<a href="/practice/{slug}">{item["title"]}</a>' in overview
    assert "Write-ups that came out of support (1)" in overview
    assert f'href="/practice/{slug}"' in sal.get(f"/pairings/{n}").text
    assert lead.get(item["url"]).status_code == 200
    with site.store.read() as conn:
        details = [r[0] for r in conn.execute(
            "SELECT detail FROM audit_log WHERE target=?", (f"submission:{sub_id}",))]
    assert f"new {slug} from pairing {n}" in details

    # A write-up taken down again is no longer counted.
    (site.settings.practice_dir / f"{slug}.md").unlink()
    assert lead.get("/api/partnership").json()["writeups_from_support"] == 0


PARTNER_SCHOOL = "brackenford-community-school"


def test_the_partner_school_can_write_it_up_too(reviewed: tuple[Site, int]) -> None:
    site, n = reviewed
    page = html.unescape(site.client(PARTNER).get(f"/contribute?pairing={n}").text)
    assert "supporting The Saltings School" in page and f"pairing {n}" in page
    assert '<option value="brackenford-community-school" selected>' in page  # their school


def test_an_ordinary_write_up_is_not_counted(reviewed: tuple[Site, int]) -> None:
    site, n = reviewed
    form = prefilled(site, SALTINGS, n)
    del form["pairing"]
    sal = site.client(SALTINGS)
    done = sal.post("/contribute", data={**form, "action": "submit"})
    assert done.status_code == 303
    sub_id = int(done.headers["location"].split("/")[3].split("?")[0])
    assert sal.get(f"/api/submissions/{sub_id}").json()["submission"]["pairing"] is None
    review = site.client(MODERATOR).get(f"/moderation/{sub_id}").text
    site.client(MODERATOR).post(f"/moderation/{sub_id}/approve",
                                data={"csrf_token": csrf_of(review), "comment": ""})
    assert site.client(LEAD).get("/api/partnership").json()["writeups_from_support"] == 0


@pytest.mark.parametrize("email, pairing, status", [
    ("third@example.org", "{n}", 404),  # a third school cannot see the pairing at all
    ("eve@example.org", "{n}", 404),  # nor can another school in Saltings' family
    ("lead-east@example.org", "{n}", 403),  # the family lead sees it but is not its staff
    (SALTINGS, "{n}x", 422),  # not a number
    (SALTINGS, "999", 404),  # no such pairing
])
def test_only_the_two_schools_claim_a_pairing(reviewed: tuple[Site, int], email: str,
                                              pairing: str, status: int) -> None:
    site, n = reviewed
    client = site.client(email)
    form = prefilled(site, SALTINGS, n)
    page = client.get("/contribute").text
    form.update(csrf_token=csrf_of(page), idempotency_key=key_of(page),
                pairing=pairing.format(n=n))
    before = site.count("submissions")
    assert client.get(f"/contribute?pairing={pairing.format(n=n)}").status_code == status
    assert client.post("/contribute", data={**form, "action": "save"}).status_code == status
    assert site.count("submissions") == before


def test_a_pairing_is_written_up_once_it_is_reviewed(site: Site) -> None:
    n = broker(site)[1]
    for email in (SALTINGS, PARTNER):
        post(site, email, f"/pairings/{n}/accept")
    sal = site.client(SALTINGS)
    assert sal.get(f"/contribute?pairing={n}").status_code == 409
    assert f"/contribute?pairing={n}" not in sal.get(f"/pairings/{n}").text


def test_the_api_records_the_pairing_too(reviewed: tuple[Site, int]) -> None:
    site, n = reviewed
    sal, third = site.client(SALTINGS), site.client("third@example.org")
    markdown = sal.get(f"/api/submissions/{_draft(site, n)}").json()["submission"]["markdown"]
    refused = third.post("/api/submissions", json={"markdown": markdown, "pairing": n},
                         headers={"X-CSRF-Token": third.get("/api/me").json()["csrf_token"]})
    assert refused.status_code == 404, refused.text
    made = sal.post("/api/submissions", json={"markdown": markdown, "pairing": n,
                                              "slug": "calls-via-the-api", "submit": True},
                    headers={"X-CSRF-Token": sal.get("/api/me").json()["csrf_token"]})
    assert made.status_code == 201, made.text
    assert made.json()["submission"]["pairing"] == n
    assert made.json()["submission"]["status"] == "pending"


def _draft(site: Site, n: int) -> int:
    """A draft saved from the pre-filled form; its id."""
    done = site.client(SALTINGS).post("/contribute",
                                      data={**prefilled(site, SALTINGS, n), "action": "save"})
    return int(done.headers["location"].split("/")[3].split("?")[0])

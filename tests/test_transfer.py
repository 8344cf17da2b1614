"""'We tried this too': reports, moderation, the transfer trail and evidence promotion."""

from __future__ import annotations

import pytest
from support_accounts import Site, csrf_of
from test_web import check_page

from kb.errors import BadInputError, ConflictError, PermissionDeniedError
from kb.state import audit
from kb.workflows import transfer
from kb.workflows.revisions import history

SLUG = "weekly-quizzes-year-7-maths"  # ashcombe-academy; evidence strength "promising"


def _report_on_the_page(site: Site, email: str, context: str, result: str = "positive",
                        measured: str = "Quiz scores for 60 pupils over a term") -> None:
    client = site.client(email)
    page = client.get(f"/practice/{SLUG}")
    assert "We tried this too" in page.text
    check_page(page.text)
    sent = client.post(f"/practice/{SLUG}/transfer", data={
        "csrf_token": csrf_of(page.text), "context": context, "adapted": "Fortnightly",
        "measured": measured, "result": result})
    assert sent.status_code == 303 and "reported=1" in sent.headers["location"]


def _moderate_all(site: Site) -> None:
    mod = site.client("mod@example.org")
    queue = mod.get("/moderation/transfers")
    assert queue.status_code == 200
    check_page(queue.text)
    for report in transfer.queue(site.store):
        assert mod.post(f"/moderation/transfers/{report.id}/approve", data={
            "csrf_token": csrf_of(queue.text)}).status_code == 303


def test_an_approved_report_shows_on_the_original_and_raises_its_count(site: Site) -> None:
    _report_on_the_page(site, "eve@example.org", "Year 8 at Eastmere, three classes")
    public = site.client(None)
    assert "Replicated by 0 other schools" in public.get(f"/practice/{SLUG}").text
    assert "three classes" not in public.get(f"/practice/{SLUG}").text
    _moderate_all(site)
    page = public.get(f"/practice/{SLUG}").text
    assert "Replicated by 1 other school, 1 with positive measured results" in page
    assert "Year 8 at Eastmere, three classes" in page and "Eastmere Academy" in page
    check_page(page)
    assert transfer.replications(transfer.trail(site.store, SLUG)) == (1, 1)
    actions = [e.action for e in audit.entries(site.store) if e.target.startswith("transfer:")]
    assert actions == ["transfer.approved", "transfer.report"]


def test_rejection_needs_a_reason_and_hides_the_report(site: Site) -> None:
    report = transfer.report(site.store, site.user("eve@example.org"), slug=SLUG,
                             origin_school="ashcombe-academy", context="c", adapted="",
                             measured="", result="mixed")
    mod = site.user("mod@example.org")
    with pytest.raises(BadInputError):
        transfer.reject(site.store, mod, report.id, " ")
    with pytest.raises(PermissionDeniedError):
        transfer.approve(site.store, site.user("cara@example.org"), report.id)
    assert transfer.reject(site.store, mod, report.id, "not specific").status == "rejected"
    with pytest.raises(ConflictError):
        transfer.approve(site.store, mod, report.id)
    assert transfer.trail(site.store, SLUG) == []
    with pytest.raises(BadInputError):  # one's own school's write-up
        transfer.report(site.store, site.user("cara@example.org"), slug=SLUG,
                        origin_school="ashcombe-academy", context="c", adapted="",
                        measured="", result="positive")


def test_promotion_after_two_schools_changes_the_file_and_search(site: Site) -> None:
    mod = site.client("mod@example.org")
    _report_on_the_page(site, "eve@example.org", "Year 8 at Eastmere")
    _moderate_all(site)
    token = csrf_of(mod.get("/moderation/transfers").text)
    assert "Promote the evidence strength" not in mod.get(f"/practice/{SLUG}").text
    assert mod.post(f"/practice/{SLUG}/promote", data={"csrf_token": token}
                    ).status_code == 409  # one school is not enough
    _report_on_the_page(site, "cpd@example.org", "Year 6 at Tollgate", result="positive")
    _report_on_the_page(site, "cpd@example.org", "A second class", result="mixed")
    _moderate_all(site)
    page = mod.get(f"/practice/{SLUG}").text
    assert "Replicated by 2 other schools, 2 with positive measured results" in page
    assert "Promote the evidence strength" in page
    # CSRF: without a token nothing changes.
    before = site.files()[f"{SLUG}.md"]
    assert mod.post(f"/practice/{SLUG}/promote", data={}).status_code == 403
    assert site.files()[f"{SLUG}.md"] == before
    response = mod.post(f"/practice/{SLUG}/promote", data={"csrf_token": token})
    assert response.status_code == 303
    text = site.files()[f"{SLUG}.md"].decode()
    assert "  strength: established\n" in text and "strength: promising" not in text
    assert text.replace("strength: established", "strength: promising") == before.decode()
    hits = site.client(None).get("/api/search?q=weekly+low-stakes+quizzes").json()["results"]
    assert [h["evidence"]["strength"] for h in hits if h["slug"] == SLUG] == ["established"]
    revisions = history(site.store, SLUG)
    assert "promising -> established" in revisions[0].summary and len(revisions) == 2
    assert audit.entries(site.store, target=f"practice:{SLUG}")[0].action == "practice.promote"
    # Already at the top: a second promotion is refused.
    assert mod.post(f"/practice/{SLUG}/promote", data={"csrf_token": token}
                    ).status_code == 409


def test_only_moderators_see_the_queue_and_promote(site: Site) -> None:
    cara = site.client("cara@example.org")
    assert cara.get("/moderation/transfers").status_code == 403
    token = csrf_of(cara.get("/support").text)
    assert cara.post(f"/practice/{SLUG}/promote", data={"csrf_token": token}
                     ).status_code == 403
    anonymous = site.client(None)
    assert "We tried this too" not in anonymous.get(f"/practice/{SLUG}").text


def test_with_strength_touches_only_the_strength_line() -> None:
    text = "---\ntitle: x\nevidence:\n  measure: \"strength: 3\"\n  strength: emerging\n---\nBody\n"
    assert transfer.with_strength(text, "promising") == text.replace(
        "strength: emerging", "strength: promising")
    with pytest.raises(BadInputError):
        transfer.with_strength("---\ntitle: x\n---\n", "promising")

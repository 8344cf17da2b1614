"""School-to-school support requests: states, who may see them, CSRF, counts and audit."""

from __future__ import annotations

import re

import pytest
from support_accounts import Site, csrf_of
from test_web import check_page

from kb.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from kb.state import audit
from kb.workflows import support

SLUG = "weekly-quizzes-year-7-maths"  # from ashcombe-academy (Cara's school), Brackenford


def _ask(site: Site, email: str = "eve@example.org") -> support.SupportRequest:
    return support.ask(site.store, site.user(email), slug=SLUG, school="ashcombe-academy",
                       family="brackenford", kind="visit", message="Could we visit in May?")


def test_a_request_goes_through_its_states(site: Site) -> None:
    cara, eve = site.user("cara@example.org"), site.user("eve@example.org")
    req = _ask(site)
    assert req.status == "open"
    with pytest.raises(ConflictError):
        support.complete(site.store, cara, req.id, "2024-01-01")  # not accepted yet
    with pytest.raises(PermissionDeniedError):
        support.accept(site.store, eve, req.id)  # the asker cannot answer their own request
    accepted = support.accept(site.store, cara, req.id, "Yes, any Tuesday")
    assert accepted.status == "accepted" and accepted.reply == "Yes, any Tuesday"
    with pytest.raises(ConflictError):
        support.decline(site.store, cara, req.id)
    with pytest.raises(BadInputError):
        support.complete(site.store, cara, req.id, "next week")
    done = support.complete(site.store, cara, req.id, "2024-05-14", "Two teachers came")
    assert (done.status, done.happened_on) == ("completed", "2024-05-14")
    declined = support.decline(site.store, cara, _ask(site).id, "Not this term")
    assert declined.status == "declined"
    assert support.counts(site.store, slug=SLUG) == support.SupportCounts(2, 1)
    assert support.counts(site.store, family="brackenford") == support.SupportCounts(2, 1)
    assert support.counts(site.store, family="eastmere") == support.SupportCounts(0, 0)
    actions = [e.action for e in audit.entries(site.store, target=f"support:{req.id}")]
    assert actions == ["support.completed", "support.accepted", "support.ask"]


def test_bad_requests_are_refused(site: Site) -> None:
    eve = site.user("eve@example.org")
    with pytest.raises(BadInputError):
        support.ask(site.store, eve, slug=SLUG, school="ashcombe-academy",
                    family="brackenford", kind="money", message="hi")
    with pytest.raises(BadInputError):
        support.ask(site.store, eve, slug=SLUG, school="ashcombe-academy",
                    family="brackenford", kind="visit", message="  ")
    with pytest.raises(BadInputError):  # your own school's write-up
        support.ask(site.store, site.user("cara@example.org"), slug=SLUG,
                    school="ashcombe-academy", family="brackenford", kind="visit",
                    message="hello")


def test_only_the_two_parties_and_moderators_see_a_request(site: Site) -> None:
    req = _ask(site)
    for email in ("eve@example.org", "cara@example.org", "mod@example.org",
                  "admin@example.org"):
        page = site.client(email).get(f"/support/{req.id}")
        assert page.status_code == 200, email
        assert "Could we visit in May?" in page.text
        check_page(page.text)
        listing = site.client(email).get("/support")
        assert f"/support/{req.id}" in listing.text, email
        check_page(listing.text)
    for email in ("cpd@example.org", "reader@example.org"):  # other school, no school
        assert site.client(email).get(f"/support/{req.id}").status_code == 404, email
        assert f"/support/{req.id}" not in site.client(email).get("/support").text
        with pytest.raises(NotFoundError):
            support.get(site.store, site.user(email), req.id)
    anonymous = site.client(None).get(f"/support/{req.id}")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    # Someone outside cannot answer it either, even with a valid token.
    cpd = site.client("cpd@example.org")
    token = csrf_of(cpd.get("/support").text)
    assert cpd.post(f"/support/{req.id}/accept", data={"csrf_token": token}
                    ).status_code == 404
    assert support.get(site.store, site.user("mod@example.org"), req.id).status == "open"


def test_the_web_round_trip_and_the_counts_on_the_pages(site: Site) -> None:
    eve = site.client("eve@example.org")
    page = eve.get(f"/practice/{SLUG}")
    assert "Ask this school for support" in page.text and 'name="message"' in page.text
    check_page(page.text)
    sent = eve.post(f"/practice/{SLUG}/support", data={
        "csrf_token": csrf_of(page.text), "kind": "coaching", "message": "Coaching please"})
    assert sent.status_code == 303
    request_id = int(re.search(r"/support/(\d+)", sent.headers["location"]).group(1))
    assert "was sent to" in eve.get(sent.headers["location"]).text
    cara = site.client("cara@example.org")
    own = cara.get(f"/practice/{SLUG}").text
    assert 'name="message"' not in own  # no asking one's own school
    detail = cara.get(f"/support/{request_id}").text
    assert 'action="/support/%d/accept"' % request_id in detail
    assert cara.post(f"/support/{request_id}/accept", data={
        "csrf_token": csrf_of(detail), "reply": "Happy to"}).status_code == 303
    detail = cara.get(f"/support/{request_id}").text
    assert cara.post(f"/support/{request_id}/complete", data={
        "csrf_token": csrf_of(detail), "happened_on": "2024-02-01",
        "note": "Observed two lessons"}).status_code == 303
    shown = eve.get(f"/support/{request_id}").text
    assert "Support happened" in shown and "Observed two lessons" in shown
    assert "1 support request so far, 1 completed" in site.client(None).get(
        f"/practice/{SLUG}").text
    family = site.client(None).get("/families/brackenford").text
    assert "1 request to schools in this family, 1 completed" in family
    # The public page shows counts only: no message, no names of the parties.
    assert "Coaching please" not in site.client(None).get(f"/practice/{SLUG}").text


def test_support_forms_need_a_csrf_token(site: Site) -> None:
    req = _ask(site)
    eve, cara = site.client("eve@example.org"), site.client("cara@example.org")
    before = site.count("support_requests")
    assert eve.post(f"/practice/{SLUG}/support", data={
        "kind": "visit", "message": "no token"}).status_code == 403
    assert eve.post(f"/practice/{SLUG}/support", data={
        "kind": "visit", "message": "forged", "csrf_token": "x" * 40}).status_code == 403
    for action in ("accept", "decline"):
        assert cara.post(f"/support/{req.id}/{action}", data={}).status_code == 403
    token = csrf_of(cara.get("/support").text)
    assert cara.post(f"/support/{req.id}/accept", data={"csrf_token": token},
                     headers={"Origin": "https://evil.example"}).status_code == 403
    assert site.count("support_requests") == before
    assert support.get(site.store, site.user("cara@example.org"), req.id).status == "open"

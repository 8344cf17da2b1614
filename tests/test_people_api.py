"""The JSON twins of invitations, the account page and administration (issue 17): the same
library functions as the pages and `kb user`, the session cookie plus the X-CSRF-Token header
on every write (like every other JSON write), and the statuses /openapi.json promises."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from support_accounts import Site
from support_mail import SmtpServer
from test_joining_web import deliver, link_in, mailsite  # noqa: F401

from kb.state.accounts import get_user, set_role
from kb.state.follows import add_follow


def api(site: Site, email: str) -> tuple[TestClient, dict[str, str]]:
    client = site.client(email)
    return client, {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}


def test_invitations_are_listed_sent_revoked_and_resent_through_the_api(
        mailsite: Site, smtp_server: SmtpServer) -> None:  # noqa: F811
    admin, headers = api(mailsite, "admin@example.org")
    body = {"email": "Nia@Ashcombe.example", "role": "contributor",
            "school": "Ashcombe Academy", "name": "Nia New"}
    assert admin.post("/api/invitations", json=body).status_code == 403  # no CSRF header
    made = admin.post("/api/invitations", json=body, headers=headers)
    assert made.status_code == 201, made.text
    out = made.json()
    assert (out["email"], out["role"], out["school"], out["state"]) == (
        "nia@ashcombe.example", "contributor", "ashcombe-academy", "waiting")
    assert out["school_name"] == "Ashcombe Academy" and out["invited_by"] == "admin@example.org"
    assert "link" not in out and "token" not in str(out)  # the link goes to the invitee only
    again = admin.post("/api/invitations", json=body, headers=headers)
    assert again.status_code == 409 and "already been invited" in again.json()["detail"]
    bad = admin.post("/api/invitations", json={**body, "email": "nobody"}, headers=headers)
    assert bad.status_code == 422 and "not an e-mail address" in bad.json()["detail"]
    assert [i["email"] for i in admin.get("/api/invitations").json()] == ["nia@ashcombe.example"]

    assert deliver(mailsite) == 1
    first_link = link_in(smtp_server.recorder.messages()[0], "invite")
    resent = admin.post(f"/api/invitations/{out['id']}/resend", headers=headers)
    assert resent.status_code == 200 and resent.json()["state"] == "waiting"
    assert deliver(mailsite) == 1
    second_link = link_in(smtp_server.recorder.messages()[1], "invite")
    anon = TestClient(mailsite.app, follow_redirects=False)
    assert anon.get(first_link).status_code == 404 and anon.get(second_link).status_code == 200
    revoked = admin.post(f"/api/invitations/{out['id']}/revoke", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert anon.get(second_link).status_code == 410
    assert admin.post("/api/invitations/999999/revoke", headers=headers).status_code == 404


def test_a_family_lead_manages_only_their_familys_invitations(mailsite: Site) -> None:  # noqa: F811
    admin, admin_headers = api(mailsite, "admin@example.org")
    other = admin.post("/api/invitations", headers=admin_headers, json={
        "email": "t@eastmere.example", "role": "reader", "school": "eastmere-academy"}).json()
    set_role(mailsite.store, "cara@example.org", "family-lead")  # Ashcombe: Brackenford
    lead, headers = api(mailsite, "cara@example.org")
    own = lead.post("/api/invitations", headers=headers, json={
        "email": "t@ashcombe.example", "role": "contributor", "school": "ashcombe-academy"})
    assert own.status_code == 201
    refused = lead.post("/api/invitations", headers=headers, json={
        "email": "u@eastmere.example", "role": "contributor", "school": "eastmere-academy"})
    assert refused.status_code == 403 and "own family" in refused.json()["detail"]
    assert [i["email"] for i in lead.get("/api/invitations").json()] == ["t@ashcombe.example"]
    assert lead.post(f"/api/invitations/{other['id']}/revoke",
                     headers=headers).status_code == 404
    reader, reader_headers = api(mailsite, "reader@example.org")
    assert reader.get("/api/invitations").status_code == 403
    assert TestClient(mailsite.app).get("/api/invitations").status_code == 401


def test_the_account_api_reads_and_changes_name_and_email_choices(mailsite: Site) -> None:  # noqa: F811
    add_follow(mailsite.store, mailsite.user("cara@example.org"), "quizzes",
               {"subjects": ("maths",)})
    me, headers = api(mailsite, "cara@example.org")
    account = me.get("/api/account").json()
    assert (account["email"], account["role"], account["school"]) == (
        "cara@example.org", "contributor", "ashcombe-academy")
    assert all(choice["on"] for choice in account["notifications"])
    assert {c["kind"] for c in account["notifications"]} >= {"digest", "submission-decided"}
    (follow,) = account["follows"]
    assert follow["description"].startswith("\u201cquizzes\u201d in ")
    assert follow["search_url"] == "/search?q=quizzes&subject=maths"
    assert me.get(follow["search_url"]).status_code == 200

    renamed = me.post("/api/account/name", json={"name": "  Cara   C. "}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Cara C."
    assert me.post("/api/account/name", json={"name": " "}, headers=headers).status_code == 422
    assert me.post("/api/account/name", json={"name": "X"}).status_code == 403  # no CSRF
    chosen = me.put("/api/account/notifications", json={"on": ["support"]}, headers=headers)
    assert chosen.status_code == 200
    assert {c["kind"] for c in chosen.json()["notifications"] if c["on"]} == {"support"}
    unknown = me.put("/api/account/notifications", json={"on": ["bogus"]}, headers=headers)
    assert unknown.status_code == 422 and "'bogus' is not a kind" in unknown.json()["detail"]
    page = me.get("/account").text  # the page shows what the API set
    assert 'value="support" checked' in page and 'value="digest" checked' not in page
    assert "Cara C." in page


def test_admins_find_and_change_people_through_the_api(mailsite: Site) -> None:  # noqa: F811
    admin, headers = api(mailsite, "admin@example.org")
    found = admin.get("/api/admin/people", params={"q": "ashcombe"}).json()
    assert [p["email"] for p in found] == ["cara@example.org"]
    cara_id = found[0]["id"]
    cara = mailsite.client("cara@example.org")
    moved = admin.post(f"/api/admin/people/{cara_id}/school", json={"school": "Eastmere Academy"},
                       headers=headers)
    assert moved.status_code == 200 and moved.json()["school"] == "eastmere-academy"
    assert cara.get("/api/me").status_code == 401  # their sessions ended
    role = admin.post(f"/api/admin/people/{cara_id}/role", json={"role": "moderator"},
                      headers=headers)
    assert role.status_code == 200 and role.json()["role"] == "moderator"
    wrong = admin.post(f"/api/admin/people/{cara_id}/role", json={"role": "king"},
                       headers=headers)
    assert wrong.status_code == 422 and "is not one of" in wrong.json()["detail"]
    off = admin.post(f"/api/admin/people/{cara_id}/disable", headers=headers)
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert get_user(mailsite.store, "cara@example.org").disabled
    on = admin.post(f"/api/admin/people/{cara_id}/enable", headers=headers)
    assert on.json()["disabled"] is False
    own_id = mailsite.user("admin@example.org").id
    myself = admin.post(f"/api/admin/people/{own_id}/disable", headers=headers)
    assert myself.status_code == 422 and "ask another admin" in myself.json()["detail"]
    assert admin.post("/api/admin/people/999999/enable", headers=headers).status_code == 404
    mod, mod_headers = api(mailsite, "mod@example.org")
    assert mod.post(f"/api/admin/people/{cara_id}/disable",
                    headers=mod_headers).status_code == 403

    log = admin.get("/api/admin/audit", params={"action": "user.", "target":
                                                "user:cara@example.org"}).json()
    assert [e["action"] for e in log["entries"]][:4] == [
        "user.enable", "user.disable", "user.set-role", "user.set-school"]
    assert all(e["actor"] == "admin@example.org" for e in log["entries"][:4])
    assert log["page"] == 1 and log["per_page"] == 50 and log["total"] >= 4
    paged = admin.get("/api/admin/audit", params={"page": 2}).json()
    assert paged["page"] == 2 and paged["pages"] >= 1
    assert admin.get("/api/admin/audit", params={"page": 0}).status_code == 422


def test_the_new_operations_are_documented_with_their_error_statuses(mailsite: Site) -> None:  # noqa: F811
    schema: dict[str, Any] = TestClient(mailsite.app).get("/openapi.json").json()
    paths = schema["paths"]
    expected = {
        ("/api/invitations", "get"): {"401", "403", "422"},
        ("/api/invitations", "post"): {"401", "403", "409", "422", "429"},
        ("/api/invitations/{inv_id}/revoke", "post"): {"401", "403", "404", "409"},
        ("/api/invitations/{inv_id}/resend", "post"): {"401", "403", "404", "409", "429"},
        ("/api/account", "get"): {"401"},
        ("/api/account/name", "post"): {"401", "403", "422"},
        ("/api/account/notifications", "put"): {"401", "403", "422"},
        ("/api/admin/people", "get"): {"401", "403", "422"},
        ("/api/admin/people/{user_id}/role", "post"): {"401", "403", "404", "409", "422"},
        ("/api/admin/people/{user_id}/school", "post"): {"401", "403", "404", "422"},
        ("/api/admin/people/{user_id}/disable", "post"): {"401", "403", "404"},
        ("/api/admin/people/{user_id}/enable", "post"): {"401", "403", "404"},
        ("/api/admin/audit", "get"): {"401", "403", "422"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, method, sorted(responses))
        for status in statuses:
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"}
    assert "InvitationOut" in schema["components"]["schemas"]
    assert "AuditPageOut" in schema["components"]["schemas"]

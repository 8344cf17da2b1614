"""Invitations and password resets end to end: sent from the web app through a real SMTP
server, the links in the messages followed in the app (reliability rows 31-33 for the forms)."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from support_accounts import PASSWORD, Site, csrf_of, open_site, with_settings
from support_mail import SmtpServer, html_part, text_part
from test_auth_web import TEXT
from test_web import check_page

from kb.mail.sender import SmtpTransport, send_due
from kb.settings import Settings
from kb.state.accounts import get_user

SITE_URL = "http://testserver"


@pytest.fixture
def mailsite(private: Settings, embedder: Any, users_template: Any,
             smtp_server: SmtpServer) -> Iterator[Site]:
    settings = with_settings(private, smtp_url=smtp_server.url, public_url=SITE_URL,
                             mail_from="Westmoor library <library@westmoor.example>")
    yield from open_site(settings, embedder, users_template)


def deliver(site: Site) -> int:
    return send_due(site.store, SmtpTransport(site.settings.smtp_url,
                                              site.settings.mail_from)).sent


def link_in(msg: Any, path: str) -> str:
    match = re.search(rf"{re.escape(SITE_URL)}(/{path}/[A-Za-z0-9_-]+)", text_part(msg))
    assert match, text_part(msg)
    assert f'href="{SITE_URL}{match.group(1)}"' in html_part(msg)
    return match.group(1)


def post_form(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_of(client.get(path).text), **data})


def test_an_invited_teacher_follows_the_link_and_is_signed_in(
        mailsite: Site, smtp_server: SmtpServer) -> None:
    admin = mailsite.client("admin@example.org")
    page = admin.get("/admin/invitations")
    assert page.status_code == 200
    check_page(page.text)
    sent = admin.post("/admin/invitations", data={
        "csrf_token": csrf_of(page.text), "email": "Nia@Ashcombe.example",
        "name": "Nia New", "role": "contributor", "school": "ashcombe-academy"})
    assert sent.status_code == 303
    assert deliver(mailsite) == 1
    (msg,) = smtp_server.recorder.messages()
    assert msg["To"].addresses[0].addr_spec == "nia@ashcombe.example"
    assert msg["Subject"] == "You are invited to the Westmoor practice library"
    assert "Ashcombe Academy" in text_part(msg) and "Ada Admin" in text_part(msg)
    path = link_in(msg, "invite")
    listed = admin.get("/admin/invitations").text
    assert "nia@ashcombe.example" in listed and "waiting" in listed

    invitee = TestClient(mailsite.app, follow_redirects=False)
    form = invitee.get(path)
    assert form.status_code == 200 and "Ashcombe Academy" in form.text
    check_page(form.text)
    mismatch = invitee.post(path, data={"csrf_token": csrf_of(form.text), "name": "Nia",
                                        "password": PASSWORD, "confirm": "something else!"})
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    no_csrf = invitee.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert no_csrf.status_code == 403
    done = invitee.post(path, data={"csrf_token": csrf_of(form.text), "name": "Nia New",
                                    "password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 303
    assert "Signed in as Nia New" in invitee.get("/").text
    user = get_user(mailsite.store, "nia@ashcombe.example")
    assert (user.role, user.school, user.family) == ("contributor", "ashcombe-academy",
                                                     "brackenford")
    used = TestClient(mailsite.app).get(path)
    assert used.status_code == 410 and "used already" in used.text
    assert "accepted" in admin.get("/admin/invitations").text


def test_altered_revoked_and_resent_links(mailsite: Site, smtp_server: SmtpServer) -> None:
    admin = mailsite.client("admin@example.org")
    post_form(admin, "/admin/invitations", email="rae@x.example", role="reader", school="",
              name="")
    deliver(mailsite)
    old = link_in(smtp_server.recorder.messages()[0], "invite")
    anon = TestClient(mailsite.app)
    altered = anon.get(old[:-3] + ("aaa" if not old.endswith("aaa") else "bbb"))
    assert altered.status_code == 404 and "not valid" in altered.text
    assert anon.get("/invite/" + "x" * 500).status_code == 404
    inv_id = re.search(r"/admin/invitations/(\d+)/revoke", admin.get(
        "/admin/invitations").text).group(1)  # type: ignore[union-attr]
    post_form(admin, "/admin/invitations", email="", role="reader")  # a 422, not a crash
    token = csrf_of(admin.get("/admin/invitations").text)
    assert admin.post(f"/admin/invitations/{inv_id}/revoke",
                      data={"csrf_token": token}).status_code == 303
    revoked = anon.get(old)
    assert revoked.status_code == 410 and "withdrawn" in revoked.text
    assert admin.post(f"/admin/invitations/{inv_id}/resend",
                      data={"csrf_token": token}).status_code == 303
    deliver(mailsite)
    new = link_in(smtp_server.recorder.messages()[1], "invite")
    assert new != old and anon.get(new).status_code == 200
    assert anon.get(old).status_code == 404  # the old token is gone for good


def test_a_csv_of_invitations_lists_bad_lines_and_invites_the_rest(mailsite: Site) -> None:
    admin = mailsite.client("admin@example.org")
    page = admin.get("/admin/invitations")
    csv_text = ("email,name,role,school\n"
                "one@x.example,One,contributor,Ashcombe Academy\n"
                "not-an-address,Two,reader,\n"
                "ONE@x.example,Again,reader,\n"
                "three@x.example,Three,,\n"
                "four@x.example,Four,contributor,Nowhere High\n")
    answer = admin.post("/admin/invitations/csv", data={
        "csrf_token": csrf_of(page.text), "role": "reader", "school": ""},
        files={"file": ("people.csv", csv_text.encode(), "text/csv")})
    assert answer.status_code == 200
    assert "2 invited" in answer.text
    assert "line 3: &#39;not-an-address&#39; is not an e-mail address" in answer.text
    assert "line 4: one@x.example is repeated (first on line 2)" in answer.text
    assert "line 6: unknown school" in answer.text
    assert mailsite.count("outbox") == 2 and mailsite.count("invitations") == 2


def test_a_family_lead_invites_only_to_their_own_family(mailsite: Site) -> None:
    from kb.state.accounts import set_role

    set_role(mailsite.store, "cara@example.org", "family-lead")  # Ashcombe: Brackenford
    lead = mailsite.client("cara@example.org")
    page = lead.get("/admin/invitations")
    assert page.status_code == 200 and "Eastmere" not in page.text
    own = post_form(lead, "/admin/invitations", email="t1@x.example", role="contributor",
                    school="ashcombe-academy")
    assert own.status_code == 303
    other = post_form(lead, "/admin/invitations", email="t2@x.example", role="contributor",
                      school="eastmere-academy")
    assert other.status_code == 422 and "own family" in other.text
    admin_role = post_form(lead, "/admin/invitations", email="t3@x.example", role="admin",
                           school="ashcombe-academy")
    assert admin_role.status_code == 422
    assert mailsite.client("eve@example.org").get("/admin/invitations").status_code == 403
    # A family lead is a signed-in contributor everywhere else.
    for path in ("/account", "/contribute", "/support", "/my/submissions"):
        assert lead.get(path).status_code == 200, path
    assert lead.get("/moderation").status_code == 403


def test_password_reset_by_email_ends_every_session(mailsite: Site,
                                                    smtp_server: SmtpServer) -> None:
    old_session = mailsite.client("cara@example.org")
    assert "Signed in as" in old_session.get("/").text
    anon = TestClient(mailsite.app, follow_redirects=False)
    login = anon.get("/login")
    assert 'href="/forgot"' in login.text
    known = post_form(anon, "/forgot", email="cara@example.org")
    unknown = post_form(anon, "/forgot", email="nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("cara@example.org", "X") == \
        unknown.text.replace("nobody@example.org", "X").replace(
            csrf_of(unknown.text) if 'name="csrf_token"' in unknown.text else "\0", "")
    assert deliver(mailsite) == 1  # only the real account gets a message
    (msg,) = smtp_server.recorder.messages()
    path = link_in(msg, "reset")
    page = anon.get(path)
    assert page.status_code == 200
    check_page(page.text)
    short = anon.post(path, data={"csrf_token": csrf_of(page.text), "password": "short",
                                  "confirm": "short"})
    assert short.status_code == 422 and "10 to 1024" in short.text
    new_password = "a brand new pass phrase"
    done = anon.post(path, data={"csrf_token": csrf_of(page.text), "password": new_password,
                                 "confirm": new_password})
    assert done.status_code == 303 and "Signed in as Cara" in anon.get("/").text
    assert "Signed in as" not in old_session.get("/").text  # the old session ended
    assert anon.get(path).status_code == 410
    deliver(mailsite)
    assert smtp_server.recorder.messages()[-1]["Subject"] == "Your password was changed"
    fresh = TestClient(mailsite.app, follow_redirects=False)
    signed = post_form(fresh, "/login", email="cara@example.org", password=new_password)
    assert signed.status_code == 303


def test_reset_requests_are_rate_limited_per_address(mailsite: Site) -> None:
    anon = TestClient(mailsite.app, follow_redirects=False)
    for n in range(5):
        assert post_form(anon, "/forgot", email="mod@example.org").status_code == \
            (200 if n < 3 else 429)  # (more in test_joining_throttle.py)
    assert mailsite.count("reset_tokens") == mailsite.settings.resets_per_hour == 3
    assert deliver(mailsite) == 3


def test_the_account_page_changes_name_password_and_mail_and_signs_out_everywhere(
        mailsite: Site) -> None:
    other = mailsite.client("cara@example.org", base_url="http://other")
    me = mailsite.client("cara@example.org")
    page = me.get("/account")
    assert page.status_code == 200 and "cara@example.org" in page.text
    check_page(page.text)
    assert post_form(me, "/account", name="Cara C.").status_code == 405  # forms post elsewhere
    token = csrf_of(page.text)
    assert me.post("/account/name", data={"csrf_token": token, "name": "  "}).status_code == 422
    assert me.post("/account/name", data={"csrf_token": token,
                                          "name": "Cara C."}).status_code == 303
    assert "Signed in as Cara C." in me.get("/").text
    wrong = me.post("/account/password", data={"csrf_token": token, "current": "not it at all",
                                               "new": "another pass phrase",
                                               "confirm": "another pass phrase"})
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    assert "Signed in as" in other.get("/").text
    changed = me.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                                 "new": "another pass phrase",
                                                 "confirm": "another pass phrase"})
    assert changed.status_code == 303
    assert "Signed in as" in me.get("/").text  # this session stays
    assert "Signed in as" not in other.get("/").text  # the other one ended
    assert me.post("/account/notifications", data={
        "csrf_token": token, "on": ["support"]}).status_code == 303
    from kb.state.accounts import mail_opt_out
    assert "submission-decided" in mail_opt_out(mailsite.store, mailsite.user("cara@example.org"))
    assert 'value="support" checked' in me.get("/account").text
    assert me.post("/account/notifications", data={"csrf_token": token, "on": ["bogus"]}
                   ).status_code == 303  # unknown boxes are simply not "on"
    out = me.post("/account/sign-out-everywhere", data={"csrf_token": token})
    assert out.status_code == 303 and "Signed in as" not in me.get("/").text


def test_turned_off_notifications_are_not_sent(mailsite: Site) -> None:
    from kb.mail.notices import OPTIONAL
    from kb.state.accounts import set_mail_opt_out
    set_mail_opt_out(mailsite.store, mailsite.user("cara@example.org"), {"submission-decided"},
                     set(OPTIONAL))
    sub, _ = mailsite.workflow().save(mailsite.user("cara@example.org"), kind="new",
                                      slug="quiet-one", text=TEXT, submit=True)
    mod = mailsite.client("mod@example.org")
    token = csrf_of(mod.get(f"/moderation/{sub.id}").text)
    assert mod.post(f"/moderation/{sub.id}/reject", data={
        "csrf_token": token, "comment": "No."}).status_code == 303
    assert mailsite.count("outbox") == 0


def test_invitations_are_throttled_per_inviter(mailsite: Site, monkeypatch: Any) -> None:
    from kb.workflows import invitations

    monkeypatch.setattr(invitations, "INVITES_PER_HOUR", 2)
    admin = mailsite.client("admin@example.org")
    page = admin.get("/admin/invitations")
    csv_text = "".join(f"t{n}@x.example,T{n},reader,\n" for n in range(4))
    answer = admin.post("/admin/invitations/csv", data={"csrf_token": csrf_of(page.text),
                                                        "role": "reader"},
                        files={"file": ("people.csv", csv_text.encode(), "text/csv")})
    assert "2 invited" in answer.text and "line 3: you have sent 2 invitations" in answer.text
    one = post_form(admin, "/admin/invitations", email="late@x.example", role="reader")
    assert one.status_code == 429

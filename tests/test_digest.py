"""Following a search and the weekly digest: new and updated write-ups that match, one e-mail
a week, through the real SMTP server (and the links followed in the app)."""

from __future__ import annotations

import time

from support_accounts import Site, csrf_of
from support_mail import SmtpServer, text_part
from test_auth_web import TEXT
from test_joining_web import SITE_URL, deliver, mailsite  # noqa: F401

from services.digest import send_digests


def _digest(site: Site, now: float) -> tuple[int, int]:
    services = site.app.state.services
    report = send_digests(site.store, services.engine, services.taxonomy, services.directory,
                          site.settings, now=now)
    return report.people, report.queued


def test_a_followed_search_brings_new_write_ups_weekly(
        mailsite: Site, smtp_server: SmtpServer) -> None:  # noqa: F811
    eve = mailsite.client("eve@example.org")
    page = eve.get("/search?subject=english")
    assert "Follow this search" in page.text
    assert "Follow this search" not in mailsite.client(None).get("/search?subject=english").text
    followed = eve.post("/account/follows", data={"csrf_token": csrf_of(page.text),
                                                  "subject": "English"})
    assert followed.status_code == 303
    account = eve.get("/account").text
    assert "New write-ups in English" in account
    again = eve.post("/account/follows", data={"csrf_token": csrf_of(page.text),
                                               "subject": "english"})
    assert again.status_code == 409  # the same search, however it is spelt
    bad = eve.post("/account/follows", data={"csrf_token": csrf_of(page.text),
                                             "subject": "astrology"})
    assert bad.status_code == 422

    # A new English write-up is published through moderation (and indexed at once).
    sub, _ = mailsite.workflow().save(mailsite.user("cara@example.org"), kind="new",
                                      slug="older-pupils-reading", text=TEXT, submit=True)
    mod = mailsite.client("mod@example.org")
    token = csrf_of(mod.get(f"/moderation/{sub.id}").text)
    assert mod.post(f"/moderation/{sub.id}/approve", data={"csrf_token": token}
                    ).status_code == 303
    now = time.time()
    assert _digest(mailsite, now) == (1, 1)
    assert deliver(mailsite) >= 1
    (digest,) = [m for m in smtp_server.recorder.messages() if m["X-KB-Kind"] == "digest"]
    assert digest["To"].addresses[0].addr_spec == "eve@example.org"
    body = text_part(digest)
    assert "New write-ups in English: 1 new or updated" in body
    link = f"{SITE_URL}/practice/older-pupils-reading"
    assert link in body and "/account#notifications" in body
    assert eve.get(link.removeprefix(SITE_URL)).status_code == 200
    assert f"{SITE_URL}/search?subject=english" in body
    # Nothing again until a week has passed; then nothing new means no e-mail.
    assert _digest(mailsite, now + 3600) == (0, 0)
    assert _digest(mailsite, now + 7 * 86_400) == (1, 0)


def test_no_digest_for_people_who_turned_it_off(mailsite: Site) -> None:  # noqa: F811
    from kb.mail.notices import OPTIONAL
    from kb.state.accounts import set_mail_opt_out
    from kb.state.follows import add_follow

    eve = mailsite.user("eve@example.org")
    add_follow(mailsite.store, eve, "", {"subjects": ("english",)}, now=time.time() - 30 * 86400)
    set_mail_opt_out(mailsite.store, eve, {"digest"}, set(OPTIONAL))
    assert _digest(mailsite, time.time()) == (0, 0)
    unfollow = mailsite.client("eve@example.org")
    page = unfollow.get("/account")
    follow_id = page.text.split("/account/follows/")[1].split("/")[0]
    assert unfollow.post(f"/account/follows/{follow_id}/remove",
                         data={"csrf_token": csrf_of(page.text)}).status_code == 303
    assert "None yet" in unfollow.get("/account").text

"""Notifications through a real SMTP server: each queued in the same transaction as the
decision it reports, with the moderator's words, and links that work in the app."""

from __future__ import annotations

from support_accounts import Site, csrf_of
from support_mail import SmtpServer, html_part, text_part
from test_auth_web import TEXT
from test_joining_web import SITE_URL, deliver, mailsite  # noqa: F401


def _pending(site: Site, slug: str) -> int:
    sub, problems = site.workflow().save(site.user("cara@example.org"), kind="new", slug=slug,
                                         text=TEXT, submit=True)
    assert sub.status == "pending", problems
    return sub.id


def _decide(site: Site, submission_id: int, action: str, comment: str) -> int:
    mod = site.client("mod@example.org")
    page = mod.get(f"/moderation/{submission_id}")
    return mod.post(f"/moderation/{submission_id}/{action}", data={
        "csrf_token": csrf_of(page.text), "comment": comment}).status_code


def test_contributors_hear_each_decision_with_the_comment(
        mailsite: Site, smtp_server: SmtpServer) -> None:  # noqa: F811
    cara = mailsite.client("cara@example.org")
    first = _pending(mailsite, "older-pupils-reading")
    comment = "Please add <b>how many</b> pupils took part.\nAnd the dates."
    assert _decide(mailsite, first, "request-changes", comment) == 303
    second = _pending(mailsite, "another-reading-idea")
    assert _decide(mailsite, second, "reject", "We have this already.") == 303
    third = _pending(mailsite, "a-third-reading-idea")
    assert _decide(mailsite, third, "approve", "") == 303
    assert deliver(mailsite) == 3
    changes, rejected, approved = smtp_server.recorder.messages()
    for msg in (changes, rejected, approved):
        assert msg["To"].addresses[0].addr_spec == "cara@example.org"
        assert msg.get_content_type() == "multipart/alternative"
    assert changes["Subject"] == "Changes requested on your write-up"
    assert "> Please add <b>how many</b> pupils took part.\n> And the dates." in \
        text_part(changes)
    assert "Please add &lt;b&gt;how many&lt;/b&gt; pupils" in html_part(changes)
    assert f"{SITE_URL}/my/submissions/{first}" in text_part(changes)
    assert cara.get(f"/my/submissions/{first}").status_code == 200
    assert "We have this already." in text_part(rejected)
    assert approved["Subject"] == "Your write-up is published"
    link = f"{SITE_URL}/practice/a-third-reading-idea"
    assert link in text_part(approved)
    assert cara.get(link.removeprefix(SITE_URL)).status_code == 200


def test_a_decision_that_fails_sends_nothing(mailsite: Site) -> None:  # noqa: F811
    pending = _pending(mailsite, "taken-meanwhile")
    # A file of that name appears before the approval (published some other way).
    (mailsite.settings.practice_dir / "taken-meanwhile.md").write_text(TEXT, encoding="utf-8")
    before = mailsite.count("outbox")
    assert _decide(mailsite, pending, "approve", "") == 409
    assert mailsite.count("outbox") == before
    assert _decide(mailsite, pending, "reject", "Taken already.") == 303
    assert mailsite.count("outbox") == before + 1


SLUG = "weekly-quizzes-year-7-maths"  # an Ashcombe Academy write-up in the fixture library


def _sent_to(smtp_server: SmtpServer) -> list[tuple[str, str, str]]:
    return [(m["To"].addresses[0].addr_spec, str(m["X-KB-Kind"]), text_part(m))
            for m in smtp_server.recorder.messages()]


def test_moderators_hear_of_a_new_submission(mailsite: Site,  # noqa: F811
                                             smtp_server: SmtpServer) -> None:
    cara = mailsite.client("cara@example.org")
    page = cara.get("/contribute")
    from support_accounts import good_form, key_of
    sent = cara.post("/contribute", data={**good_form(), "csrf_token": csrf_of(page.text),
                                          "idempotency_key": key_of(page.text),
                                          "action": "submit"})
    assert sent.status_code == 303
    deliver(mailsite)
    waiting = [(to, text) for to, kind, text in _sent_to(smtp_server)
               if kind == "submission-waiting"]
    # Every moderator and admin without a family (the fixture's are), never the author.
    assert sorted(to for to, _ in waiting) == ["admin@example.org", "mod2@example.org",
                                               "mod@example.org"]
    link = waiting[0][1].split(f"{SITE_URL}/moderation/")[1].split()[0]
    mod = mailsite.client("mod@example.org")
    assert mod.get(f"/moderation/{link}").status_code == 200
    assert "/account#notifications" in waiting[0][1]  # optional: says where to stop it


def test_a_school_hears_of_a_support_request_and_the_asker_of_its_progress(
        mailsite: Site, smtp_server: SmtpServer) -> None:  # noqa: F811
    eve = mailsite.client("eve@example.org")
    page = eve.get(f"/practice/{SLUG}")
    sent = eve.post(f"/practice/{SLUG}/support", data={
        "csrf_token": csrf_of(page.text), "kind": "coaching",
        "message": "Could one of you coach our Year 7 team?"})
    assert sent.status_code == 303
    request_id = sent.headers["location"].split("/support/")[1].split("?")[0]
    cara = mailsite.client("cara@example.org")
    detail = cara.get(f"/support/{request_id}").text
    assert cara.post(f"/support/{request_id}/accept", data={
        "csrf_token": csrf_of(detail), "reply": "Happy to, in March."}).status_code == 303
    deliver(mailsite)
    messages = _sent_to(smtp_server)
    asked = [m for m in messages if m[1] == "support-asked"]
    assert [m[0] for m in asked] == ["cara@example.org"]  # Ashcombe's contributor
    assert "> Could one of you coach our Year 7 team?" in asked[0][2]
    assert f"{SITE_URL}/support/{request_id}" in asked[0][2]
    progress = [m for m in messages if m[1] == "support-progress"]
    assert [m[0] for m in progress] == ["eve@example.org"]
    assert "accepted" in progress[0][2] and "> Happy to, in March." in progress[0][2]


def test_a_teacher_hears_their_transfer_report_was_decided(
        mailsite: Site, smtp_server: SmtpServer) -> None:  # noqa: F811
    from kb.workflows import transfer

    eve = mailsite.client("eve@example.org")
    page = eve.get(f"/practice/{SLUG}")
    for context in ("Year 8 at Eastmere", "Year 9 at Eastmere"):
        assert eve.post(f"/practice/{SLUG}/transfer", data={
            "csrf_token": csrf_of(page.text), "context": context, "adapted": "Fortnightly",
            "measured": "Quiz scores", "result": "positive"}).status_code == 303
    first, second = transfer.queue(mailsite.store)
    mod = mailsite.client("mod@example.org")
    token = csrf_of(mod.get("/moderation/transfers").text)
    assert mod.post(f"/moderation/transfers/{first.id}/approve",
                    data={"csrf_token": token}).status_code == 303
    assert mod.post(f"/moderation/transfers/{second.id}/reject",
                    data={"csrf_token": token, "reason": "A duplicate."}).status_code == 303
    deliver(mailsite)
    decided = [m for m in _sent_to(smtp_server) if m[1].startswith("transfer-")]
    assert [(m[0], m[1]) for m in decided] == [("eve@example.org", "transfer-approved"),
                                               ("eve@example.org", "transfer-rejected")]
    assert "> A duplicate." in decided[1][2]
    assert f"{SITE_URL}/practice/{SLUG}" in decided[0][2]

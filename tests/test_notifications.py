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

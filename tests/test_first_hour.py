"""A new school's first hour, end to end through the web app and a real SMTP server (issue 17's
closing note): the admin invites the family lead, who invites staff from a CSV; a teacher
accepts, forgets their password and resets it, follows a subject, and hears of a new
write-up in the weekly digest. Each e-mail's subject is checked in order; run with -s to
see the transcript."""

from __future__ import annotations

import html
import re
import time
from typing import Any

from fastapi.testclient import TestClient
from support_accounts import Site, csrf_of, good_form, key_of
from support_mail import SmtpServer, text_part
from test_joining_web import SITE_URL, deliver, link_in, mailsite  # noqa: F401

import services.digest as digest
from kb.state import schedule

SLUG = "reading-partners-year-8"
LEAD, TEACHER = "lena@ashcombe.example", "tariq@ashcombe.example"
STAFF_CSV = f"""email,name,role
{TEACHER},Tariq Teacher,contributor
una@ashcombe.example,Una Union,reader
not-an-address,Broken Line,contributor
{TEACHER},Tariq Again,contributor
"""


class Transcript:
    def __init__(self, site: Site, server: SmtpServer) -> None:
        self.site, self.server, self.lines, self.seen = site, server, [], 0

    def step(self, words: str) -> None:
        self.lines.append(f"- {words}")

    def mail(self) -> list[Any]:
        """Deliver the outbox through the SMTP server; the messages that arrived."""
        deliver(self.site)
        new = self.server.recorder.messages()[self.seen:]
        self.seen += len(new)
        for msg in new:
            self.lines.append(f"    e-mail to {msg['To'].addresses[0].addr_spec}: "
                              f"\u201c{msg['Subject']}\u201d")
        return new


def form(client: TestClient, page: str) -> str:
    return csrf_of(client.get(page).text)


def test_a_new_schools_first_hour(mailsite: Site, smtp_server: SmtpServer) -> None:  # noqa: F811
    log = Transcript(mailsite, smtp_server)
    admin = mailsite.client("admin@example.org")

    log.step("The admin invites Ashcombe's family lead at /admin/invitations.")
    assert admin.post("/admin/invitations", data={
        "csrf_token": form(admin, "/admin/invitations"), "email": LEAD, "name": "Lena Lead",
        "role": "family-lead", "school": "ashcombe-academy"}).status_code == 303
    (invite,) = log.mail()
    assert invite["Subject"] == "You are invited to the Westmoor practice library"

    log.step("The family lead follows the link, chooses a password and is signed in.")
    lead = TestClient(mailsite.app, follow_redirects=False)
    path = link_in(invite, "invite")
    accepted = lead.post(path, data={"csrf_token": form(lead, path), "name": "Lena Lead",
                                     "password": "lena's long pass phrase",
                                     "confirm": "lena's long pass phrase"})
    assert accepted.status_code == 303 and "Signed in as Lena Lead" in lead.get("/").text

    log.step("She uploads the staff list (CSV) as contributors at Ashcombe Academy.")
    answer = lead.post("/admin/invitations/csv", data={
        "csrf_token": form(lead, "/admin/invitations"), "role": "contributor",
        "school": "ashcombe-academy"},
        files={"file": ("staff.csv", STAFF_CSV.encode(), "text/csv")})
    assert answer.status_code == 200 and "2 invited" in answer.text
    problems = re.findall(r"line \d+: [^<]+", answer.text)
    assert [p.split(":")[0] for p in problems] == ["line 4", "line 5"]
    log.step("The page lists the lines left out: " + "; ".join(html.unescape(p.strip())
                                                               for p in problems))
    staff = log.mail()
    assert sorted(m["To"].addresses[0].addr_spec for m in staff) == [
        TEACHER, "una@ashcombe.example"]

    log.step("Tariq accepts his invitation.")
    tariq = TestClient(mailsite.app, follow_redirects=False)
    (to_tariq,) = [m for m in staff if m["To"].addresses[0].addr_spec == TEACHER]
    assert "Lena Lead" in text_part(to_tariq)
    path = link_in(to_tariq, "invite")
    assert tariq.post(path, data={"csrf_token": form(tariq, path), "password": "first words "
                                  "he chose", "confirm": "first words he chose"}
                      ).status_code == 303

    log.step("A week later he has forgotten it: 'Forgot your password?' on the sign-in page.")
    tariq = TestClient(mailsite.app, follow_redirects=False)
    assert tariq.post("/forgot", data={"csrf_token": form(tariq, "/forgot"),
                                       "email": TEACHER}).status_code == 200
    (reset,) = log.mail()
    assert reset["Subject"] == "Reset your password for the Westmoor practice library"
    path = link_in(reset, "reset")
    assert tariq.post(path, data={"csrf_token": form(tariq, path), "password": "a new phrase "
                                  "he will keep", "confirm": "a new phrase he will keep"}
                      ).status_code == 303
    (changed,) = log.mail()
    assert changed["Subject"] == "Your password was changed"

    log.step("Signed in, he follows English from the search page ('Follow this search').")
    search = tariq.get("/search?subject=english")
    assert "Follow this search" in search.text
    assert tariq.post("/account/follows", data={"csrf_token": csrf_of(search.text),
                                                "subject": "english"}).status_code == 303
    assert "New write-ups in English" in tariq.get("/account").text

    log.step("A colleague's English write-up is submitted and a moderator approves it.")
    cara = mailsite.client("cara@example.org")
    page = cara.get("/contribute").text
    assert cara.post("/contribute", data={
        **good_form(slug=SLUG), "csrf_token": csrf_of(page), "idempotency_key": key_of(page),
        "action": "submit"}).status_code == 303
    waiting = log.mail()
    assert {m["Subject"] for m in waiting} == {f"Waiting for review: {SLUG}"}
    sub_id = text_part(waiting[0]).split(f"{SITE_URL}/moderation/")[1].split()[0]
    mod = mailsite.client("mod@example.org")
    assert mod.post(f"/moderation/{sub_id}/approve", data={
        "csrf_token": form(mod, f"/moderation/{sub_id}")}).status_code == 303
    (published,) = log.mail()
    assert published["Subject"] == "Your write-up is published"

    log.step("Monday 07:00 UTC: kb serve's sender thread finds the weekly digest due.")
    monday = schedule.weekly_moment(time.time() + 7 * 86_400, "monday", 7)
    services = mailsite.app.state.services
    report = digest.digest_if_due(mailsite.store, mailsite.settings, lambda: (
        services.engine, services.taxonomy, services.directory), now=monday + 60)
    assert report is not None and report.queued == 1
    (weekly,) = log.mail()
    assert weekly["To"].addresses[0].addr_spec == TEACHER
    assert weekly["Subject"] == "New practice this week in the searches you follow"
    body = text_part(weekly)
    assert f"{SITE_URL}/practice/{SLUG}" in body
    assert tariq.get(f"/practice/{SLUG}").status_code == 200
    print("\n" + "\n".join(log.lines))

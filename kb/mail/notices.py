"""Notifications queued inside the transaction of the change they report: a contributor hears
that their submission was approved, sent back with the moderator's comment, or rejected."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kb.mail import outbox
from kb.mail.compose import Letter, build_message
from kb.settings import Settings

# Optional e-mail a person can turn off on their account page (every such message carries a
# link there). Account mail (invitations, resets, password changes) is never optional.
OPTIONAL = {
    "submission-decided": "Decisions on my submissions (with the moderator's comment)",
    "submission-waiting": "New submissions waiting for review (moderators)",
    "support": "Support requests to my school, and answers to the ones I sent",
    "transfer-decided": "Decisions on my \u201cwe tried this too\u201d reports",
    "digest": "A weekly digest of new write-ups in the searches I follow",
}

DECISIONS = {
    "approved": ("Your write-up is published", "{moderator} approved your {what} "
                 "\u201c{slug}\u201d. It is now published and can be found in search."),
    "changes_requested": ("Changes requested on your write-up", "{moderator} asked for "
                          "changes to your {what} \u201c{slug}\u201d before it can be "
                          "published. Their comment is below; edit it and submit it again."),
    "rejected": ("Your write-up was not accepted", "{moderator} did not accept your {what} "
                 "\u201c{slug}\u201d. Their reason is below."),
}


@dataclass(frozen=True)
class Notices:
    """Where links point (KB_PUBLIC_URL) and who the messages come from (KB_MAIL_FROM)."""

    site_url: str
    mail_from: str

    @property
    def choices_url(self) -> str:
        return f"{self.site_url}/account#notifications"

    def send(self, conn: sqlite3.Connection, category: str, letter: Letter) -> bool:
        """Queue a letter unless its recipient turned this category off (or is disabled)."""
        row = conn.execute("SELECT mail_opt_out, disabled FROM users WHERE email=?",
                           (letter.to,)).fetchone()
        if row is None or row[1] or category in row[0].split(","):
            return False
        outbox.enqueue(conn, build_message(letter, self.mail_from), letter.kind)
        return True

    def submission_decided(self, conn: sqlite3.Connection, *, submission_id: int, slug: str,
                           kind: str, author_email: str, author_name: str, moderator: str,
                           status: str, comment: str) -> None:
        """Queue the author's message about a moderator's decision (in the caller's
        transaction: rolled back with the decision if that fails)."""
        if status not in DECISIONS:
            return
        subject, words = DECISIONS[status]
        what = "edit of" if kind == "edit" else "new write-up"
        if status == "approved":
            action = ("Read it", f"{self.site_url}/practice/{slug}")
        else:
            action = ("See your submission", f"{self.site_url}/my/submissions/{submission_id}")
        letter = Letter(to=author_email, to_name=author_name, kind=f"submission-{status}",
                        subject=subject,
                        paragraphs=(words.format(moderator=moderator, what=what, slug=slug),),
                        quote=comment, action=action, unsubscribe=self.choices_url)
        self.send(conn, "submission-decided", letter)

    @classmethod
    def from_settings(cls, settings: Settings) -> Notices:
        return cls(settings.site_url, settings.mail_from)

    def submission_waiting(self, conn: sqlite3.Connection, *, submission_id: int, slug: str,
                           kind: str, author_id: int, author_name: str, family: str) -> None:
        """Tell the moderators (of the author's family, or of no family) that a submission
        waits for review; never the author themselves."""
        what = "An edit of" if kind == "edit" else "A new write-up,"
        for email, name in conn.execute(
                "SELECT email, name FROM users WHERE role IN ('moderator', 'admin') AND "
                "disabled=0 AND id<>? AND (family='' OR family=?)", (author_id, family)):
            self.send(conn, "submission-waiting", Letter(
                to=email, to_name=name, kind="submission-waiting",
                subject=f"Waiting for review: {slug}",
                paragraphs=(f"{what} \u201c{slug}\u201d, from {author_name}, is waiting for "
                            "review.",),
                action=("Review it", f"{self.site_url}/moderation/{submission_id}"),
                unsubscribe=self.choices_url))

    def support_asked(self, conn: sqlite3.Connection, *, request_id: int, slug: str,
                      school: str, asker: str, kind_label: str, message: str) -> None:
        """Tell the contributors of the school asked that a request came in."""
        for email, name in conn.execute(
                "SELECT email, name FROM users WHERE school=? AND disabled=0 AND role IN "
                "('contributor', 'family-lead', 'moderator', 'curator', 'admin')", (school,)):
            self.send(conn, "support", Letter(
                to=email, to_name=name, kind="support-asked",
                subject=f"A request for support: {kind_label.lower()} ({slug})",
                paragraphs=(f"{asker} asked your school for support ({kind_label.lower()}) "
                            f"with \u201c{slug}\u201d. Their message is below; accept or "
                            "decline it on the request's page.",),
                quote=message, action=("Answer the request",
                                       f"{self.site_url}/support/{request_id}"),
                unsubscribe=self.choices_url))

    def support_moved(self, conn: sqlite3.Connection, *, request_id: int, slug: str,
                      asker_id: int, status_label: str, reply: str) -> None:
        """Tell the asker how their request moved on (accepted, declined, completed)."""
        row = conn.execute("SELECT email, name FROM users WHERE id=?", (asker_id,)).fetchone()
        if row is None:
            return
        self.send(conn, "support", Letter(
            to=row[0], to_name=row[1], kind="support-progress",
            subject=f"Your support request: {status_label.lower()}",
            paragraphs=(f"Your request for support with \u201c{slug}\u201d is now: "
                        f"{status_label.lower()}.",),
            quote=reply, action=("See the request", f"{self.site_url}/support/{request_id}"),
            unsubscribe=self.choices_url))

    def transfer_decided(self, conn: sqlite3.Connection, *, reporter_id: int, slug: str,
                         status: str, reason: str) -> None:
        """Tell a teacher their "we tried this too" report was approved or rejected."""
        row = conn.execute("SELECT email, name FROM users WHERE id=?",
                           (reporter_id,)).fetchone()
        if row is None:
            return
        approved = status == "approved"
        self.send(conn, "transfer-decided", Letter(
            to=row[0], to_name=row[1], kind=f"transfer-{status}",
            subject="Your report was " + ("published" if approved else "not accepted"),
            paragraphs=((f"Your report of adopting \u201c{slug}\u201d is now part of its "
                         "transfer trail. Thank you." if approved else
                         f"Your report of adopting \u201c{slug}\u201d was not accepted. The "
                         "moderator's reason is below."),),
            quote=reason, action=("See the write-up", f"{self.site_url}/practice/{slug}"),
            unsubscribe=self.choices_url))

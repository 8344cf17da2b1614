"""Notifications queued inside the transaction of the change they report: a contributor hears
that their submission was approved, sent back with the moderator's comment, or rejected."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kb.mail import outbox
from kb.mail.compose import Letter, build_message

# Optional e-mail a person can turn off on their account page (every such message carries a
# link there). Account mail (invitations, resets, password changes) is never optional.
OPTIONAL = {
    "submission-decided": "Decisions on my submissions (with the moderator's comment)",
    "submission-waiting": "New submissions waiting for review (moderators)",
    "support": "Support requests to my school, and answers to the ones I sent",
    "transfer-decided": "Decisions on my \u201cwe tried this too\u201d reports",
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

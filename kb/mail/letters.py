"""The words of each message the site sends: one function per kind, returning a Letter."""

from __future__ import annotations

from kb.mail.compose import Letter

ROLE_WORDS = {"reader": "a reader", "contributor": "a contributor",
              "family-lead": "a family lead", "moderator": "a moderator",
              "curator": "a CPD lead (curator)", "admin": "an administrator"}


def invitation(to: str, name: str, role: str, school_name: str, inviter: str, link: str,
               days: int) -> Letter:
    where = f" at {school_name}" if school_name else ""
    return Letter(
        to=to, to_name=name, kind="invitation",
        subject="You are invited to the Westmoor practice library",
        paragraphs=(f"{inviter} has invited you to join the Westmoor practice library as "
                    f"{ROLE_WORDS.get(role, role)}{where}.",
                    "Follow the link below to choose a password; you will be signed in "
                    f"straight away. The link works once and for {days} days.",
                    "If you did not expect this invitation, you can ignore this e-mail."),
        action=("Accept the invitation", link))


def password_reset(to: str, name: str, link: str, minutes: int) -> Letter:
    return Letter(
        to=to, to_name=name, kind="password-reset",
        subject="Reset your password for the Westmoor practice library",
        paragraphs=("Someone (we hope you) asked to reset the password of your account.",
                    f"Follow the link below to choose a new one. It works once and for "
                    f"{minutes} minutes; when you use it, every other sign-in of your account "
                    "ends.",
                    "If you did not ask for this, ignore this e-mail: your password has not "
                    "changed."),
        action=("Choose a new password", link))


def password_changed(to: str, name: str, site: str) -> Letter:
    return Letter(
        to=to, to_name=name, kind="password-changed",
        subject="Your password was changed",
        paragraphs=("The password of your Westmoor practice library account was just "
                    "changed, and every sign-in of the account has ended.",
                    "If this was not you, ask for a new reset link straight away and tell "
                    "the library's administrator."),
        action=("Sign in", f"{site}/login"))

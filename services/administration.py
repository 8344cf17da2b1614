"""Administration use cases the web pages, the JSON API and the CLI share: changing a person's
role, school or whether they may sign in (through the kb.state.accounts functions `kb user`
uses), and reading the audit log a page at a time."""

from __future__ import annotations

from kb.content.directory import Directory
from kb.errors import BadInputError
from kb.state import accounts, audit
from kb.state.accounts import User
from kb.state.database import StateStore

PER_PAGE = 50
AuditPage = audit.AuditPage  # what read_log returns (webapp reaches the log only through here)
ACTIONS = ("role", "school", "disable", "enable")


def change_person(store: StateStore, directory: Directory, admin: User, person: User,
                  action: str, value: str = "") -> User:
    """Change someone's role or school (`value`), or disable or enable them, as `admin`
    (named in the audit log); an admin cannot demote or disable themselves here, so nobody
    locks the site out by mistake. Their sessions end so the change applies at once."""
    if person.id == admin.id and action in ("role", "disable"):
        raise BadInputError("you cannot change your own role or disable yourself here; ask "
                            "another admin (so nobody locks the site out)")
    if action == "role":
        return accounts.set_role(store, person.email, value, admin.email)
    if action == "school":
        return accounts.set_school(store, directory, person.email, value[:120], admin.email)
    if action in ("disable", "enable"):
        return accounts.set_disabled(store, person.email, action == "disable", admin.email)
    raise BadInputError(f"action: {action[:40]!r} is not {', '.join(ACTIONS)}")


def read_log(store: StateStore, *, actor: str = "", action: str = "", target: str = "",
             page: int = 1) -> audit.AuditPage:
    """One page of the audit log, newest first, narrowed by actor, action and target."""
    return audit.search(store, actor=actor, action=action, target=target, page=page,
                        per_page=PER_PAGE)

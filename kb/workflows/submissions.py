"""Contributions: drafts, submission for review, moderators' outcomes and publication."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kb.content.documents import ParseResult, split_front_matter
from kb.content.yamlfile import YamlSyntaxError, load_located
from kb.errors import (
    BadInputError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
)
from kb.mail.notices import Notices
from kb.state import audit, throttle
from kb.state.accounts import CONTRIBUTOR_ROLES, MODERATOR_ROLES, User
from kb.state.database import StateStore, now_iso
from kb.workflows.contribution import describe_change
from kb.workflows.publishing import check_slug, content_hash, practice_path, read_current
from kb.workflows.revisions import add_revision, keep_current, publishing

STATUS_LABELS = {
    "draft": "Draft", "pending": "Waiting for review", "changes_requested": "Changes requested",
    "approved": "Published", "rejected": "Rejected",
}
EDITABLE = ("draft", "changes_requested")
Checker = Callable[[str, str], ParseResult]


@dataclass(frozen=True)
class Submission:
    """A proposed new write-up or edit, with its place in the review workflow."""

    id: int
    user_id: int
    author_email: str
    author_name: str
    kind: str
    slug: str
    text: str
    base_hash: str
    note: str
    status: str
    comment: str
    created_at: str
    updated_at: str
    submitted_at: str
    reviewer: str
    reviewed_at: str
    pairing_id: int | None = None  # the brokered pairing it came out of (issue 19), if any

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def title(self) -> str:
        """The write-up's title from its front matter, for lists; "Untitled draft" if none."""
        yaml_text, _, _, problems = split_front_matter("submission", self.text)
        if not problems:
            try:
                data = load_located(yaml_text).data
            except YamlSyntaxError:
                data = None
            if isinstance(data, dict) and str(data.get("title") or "").strip():
                return str(data["title"]).strip()
        return "Untitled draft"


_SELECT = ("SELECT s.id, s.user_id, u.email, u.name, s.kind, s.slug, s.text, s.base_hash, "
           "s.note, s.status, s.comment, s.created_at, s.updated_at, s.submitted_at, "
           "coalesce(r.name, ''), s.reviewed_at, s.pairing_id FROM submissions s JOIN users u ON "
           "u.id=s.user_id LEFT JOIN users r ON r.id=s.reviewed_by")


def _one(conn: sqlite3.Connection, submission_id: int) -> Submission | None:
    row = conn.execute(_SELECT + " WHERE s.id=?", (submission_id,)).fetchone()
    return Submission(*row) if row else None


def has_published(store: StateStore, user_id: int, slug: str) -> bool:
    """True when this account wrote a submission that was published as this write-up."""
    with store.read() as conn:
        row = conn.execute("SELECT 1 FROM submissions WHERE user_id=? AND slug=? AND "
                           "status='approved' LIMIT 1", (user_id, slug)).fetchone()
    return row is not None


@dataclass(frozen=True)
class Workflow:
    """The contribution workflow over one state database and one practice folder."""

    store: StateStore
    practice_dir: Path
    check: Checker
    max_per_hour: int = 30
    notices: Notices | None = None  # e-mail the author about decisions (issue 17)

    # -- reading -----------------------------------------------------------------------
    def get(self, user: User, submission_id: int) -> Submission:
        """A submission its author or a moderator may see; anyone else gets NotFoundError."""
        with self.store.read() as conn:
            sub = _one(conn, submission_id)
        if sub is None or (sub.user_id != user.id and not user.has_role(*MODERATOR_ROLES)):
            raise NotFoundError(f"there is no submission {submission_id} for you")
        return sub

    def mine(self, user: User) -> list[Submission]:
        with self.store.read() as conn:
            rows = conn.execute(_SELECT + " WHERE s.user_id=? ORDER BY s.updated_at DESC, "
                                "s.id DESC", (user.id,)).fetchall()
        return [Submission(*r) for r in rows]

    def queue(self) -> list[Submission]:
        """Pending submissions, newest first."""
        with self.store.read() as conn:
            rows = conn.execute(_SELECT + " WHERE s.status='pending' ORDER BY s.submitted_at "
                                "DESC, s.id DESC").fetchall()
        return [Submission(*r) for r in rows]

    # -- checking ------------------------------------------------------------------------
    def problems(self, user: User, kind: str, slug: str, text: str,
                 submission_id: int | None = None, idempotency_key: str = "") -> list[Problem]:
        """Every problem with a proposal: the file validator's, then slug and family rules.
        The submission this one is (its id, or this user's request key: a repeated click)
        never clashes with itself."""
        where = f"content/practice/{slug}.md"
        try:
            check_slug(slug)
        except BadInputError as exc:
            return [Problem(where, 0, "slug", str(exc))] + self.check("untitled", text).problems
        result = self.check(slug, text)
        problems = list(result.problems)
        if kind == "new" and practice_path(self.practice_dir, slug).exists():
            problems.append(Problem(where, 0, "slug", f"a write-up called {slug!r} is already "
                                    "published; choose another slug or propose an edit to it"))
        if kind == "new":
            with self.store.read() as conn:
                clash = conn.execute(
                    "SELECT 1 FROM submissions WHERE kind='new' AND slug=? AND "
                    "status='pending' AND id IS NOT ? AND NOT (user_id=? AND "
                    "idempotency_key IS NOT NULL AND idempotency_key=?)",
                    (slug, submission_id, user.id, idempotency_key[:100])).fetchone()
            if clash:
                problems.append(Problem(where, 0, "slug", f"another submission waiting for "
                                        f"review uses the slug {slug!r}; choose another"))
        doc = result.document
        if doc is not None and not user.has_role(*MODERATOR_ROLES) and doc.family != user.family:
            problems.append(Problem(where, 0, "school", "you can contribute write-ups for "
                                    "schools in your own family of schools only"))
        return problems

    def base_for_edit(self, user: User, slug: str) -> tuple[str, str]:
        """The published text and its hash, when this user may propose an edit to it."""
        if not user.has_role(*CONTRIBUTOR_ROLES):
            raise PermissionDeniedError("only contributors can propose edits")
        current = read_current(practice_path(self.practice_dir, slug))
        if current is None:
            raise NotFoundError(f"no published write-up called {slug!r}")
        text = current.decode("utf-8", "replace")
        doc = self.check(slug, text).document
        if not user.has_role(*MODERATOR_ROLES) and (doc is None or doc.family != user.family):
            raise PermissionDeniedError("you can propose edits to write-ups from your own "
                                        "family of schools only")
        return text, content_hash(current)

    # -- writing -------------------------------------------------------------------------
    def save(self, user: User, *, kind: str, slug: str, text: str, submit: bool,
             base_hash: str = "", note: str = "", submission_id: int | None = None,
             idempotency_key: str = "", pairing_id: int | None = None
             ) -> tuple[Submission, list[Problem]]:
        """Create or update a draft and, when asked and valid, submit it for review.

        Work is never thrown away: an invalid proposal is kept as a draft and its problems
        returned. A repeated request with the same idempotency key updates one row.
        `pairing_id` (checked by the caller) records the pairing a new write-up came out of;
        once set it stays through every later save, moderation and publication.
        """
        if not user.has_role(*CONTRIBUTOR_ROLES):
            raise PermissionDeniedError("only contributors can submit write-ups")
        if kind not in ("new", "edit"):
            raise BadInputError(f"kind must be 'new' or 'edit', got {kind!r}")
        problems = self.problems(user, kind, slug, text, submission_id, idempotency_key)
        valid = not any(p.level == "error" for p in problems)
        status = "pending" if submit and valid else "draft"
        now, stamp = time.time(), now_iso()
        with self.store.write() as conn:
            self._throttle(conn, user, now)
            existing = None
            if submission_id is not None:
                existing = _one(conn, submission_id)
                if existing is None or existing.user_id != user.id:
                    raise NotFoundError(f"there is no submission {submission_id} for you")
            elif idempotency_key:
                row = conn.execute("SELECT id FROM submissions WHERE user_id=? AND "
                                   "idempotency_key=?", (user.id, idempotency_key[:100])
                                   ).fetchone()
                existing = _one(conn, row[0]) if row else None
            if existing is not None:
                if existing.status == "pending" and existing.text == text and submit:
                    return existing, problems  # a repeated submit: nothing more to do
                if not existing.editable:
                    raise ConflictError(f"submission {existing.id} is "
                                        f"{existing.status_label.lower()} and can no longer "
                                        "be changed" + ("; withdraw it first"
                                                        if existing.status == "pending" else ""))
                slug = slug if existing.kind == "new" else existing.slug
                conn.execute("UPDATE submissions SET slug=?, text=?, note=?, status=?, "
                             "updated_at=?, submitted_at=?, pairing_id=coalesce(pairing_id, ?) "
                             "WHERE id=?",
                             (slug, text, note, status, stamp,
                              stamp if status == "pending" else existing.submitted_at,
                              pairing_id if existing.kind == "new" else None, existing.id))
                sub_id = existing.id
            else:
                cur = conn.execute(
                    "INSERT INTO submissions (user_id, kind, slug, text, base_hash, note, "
                    "status, idempotency_key, created_at, updated_at, submitted_at, "
                    "pairing_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (user.id, kind, slug, text, base_hash, note, status,
                     idempotency_key[:100] or None, stamp, stamp,
                     stamp if status == "pending" else "",
                     pairing_id if kind == "new" else None))
                sub_id = int(cur.lastrowid or 0)
            audit.record(conn, user.email, "submission.submit" if status == "pending" else
                         "submission.save", f"submission:{sub_id}", f"{kind} {slug}"
                         + (f" from pairing {pairing_id}" if pairing_id else ""))
            saved = _one(conn, sub_id)
            if status == "pending" and self.notices is not None and saved is not None:
                self.notices.submission_waiting(conn, submission_id=sub_id, slug=saved.slug,
                                                kind=saved.kind, author_id=user.id,
                                                author_name=user.name, family=user.family)
        assert saved is not None
        return saved, problems

    def _throttle(self, conn: sqlite3.Connection, user: User, now: float) -> None:
        key = f"save:{user.id}"
        if not user.has_role(*MODERATOR_ROLES):
            throttle.check(conn, [throttle.Limit(key, self.max_per_hour, 3600)], now,
                           f"you have saved {self.max_per_hour} times in the last hour")
        throttle.record(conn, [key], now)

    def withdraw(self, user: User, submission_id: int) -> Submission:
        """Take a pending submission back to draft so its author can change it."""
        with self.store.write() as conn:
            found = _one(conn, submission_id)
            if found is None or found.user_id != user.id:
                raise NotFoundError(f"there is no submission {submission_id} for you")
            cur = conn.execute("UPDATE submissions SET status='draft', updated_at=? WHERE id=? "
                               "AND status='pending'", (now_iso(), submission_id))
            if cur.rowcount != 1:
                raise ConflictError(f"submission {submission_id} is not waiting for review")
            audit.record(conn, user.email, "submission.withdraw", f"submission:{submission_id}")
            sub = _one(conn, submission_id)
        assert sub is not None
        return sub

    def _decide(self, conn: sqlite3.Connection, moderator: User, submission_id: int,
                status: str, comment: str) -> Submission:
        """Move a pending submission to an outcome, exactly once (a conditional UPDATE)."""
        if not moderator.has_role(*MODERATOR_ROLES):
            raise PermissionDeniedError("only moderators can review submissions")
        sub = _one(conn, submission_id)
        if sub is None:
            raise NotFoundError(f"there is no submission {submission_id}")
        if sub.user_id == moderator.id and moderator.role != "admin":
            raise PermissionDeniedError("another moderator must review your own submission")
        cur = conn.execute("UPDATE submissions SET status=?, comment=?, reviewed_by=?, "
                           "reviewed_at=?, updated_at=? WHERE id=? AND status='pending'",
                           (status, comment, moderator.id, now_iso(), now_iso(),
                            submission_id))
        if cur.rowcount != 1:
            raise ConflictError(f"submission {submission_id} is no longer waiting for review "
                                f"(it is {sub.status_label.lower()})")
        audit.record(conn, moderator.email, f"submission.{status}", f"submission:{sub.id}",
                     comment[:500])
        if self.notices is not None:
            self.notices.submission_decided(
                conn, submission_id=sub.id, slug=sub.slug, kind=sub.kind,
                author_email=sub.author_email, author_name=sub.author_name,
                moderator=moderator.name, status=status, comment=comment)
        return sub

    def request_changes(self, moderator: User, submission_id: int, comment: str) -> None:
        if not comment.strip():
            raise BadInputError("comment: say what should change")
        with self.store.write() as conn:
            self._decide(conn, moderator, submission_id, "changes_requested", comment.strip())

    def reject(self, moderator: User, submission_id: int, reason: str) -> None:
        if not reason.strip():
            raise BadInputError("reason: give a reason for rejecting")
        with self.store.write() as conn:
            self._decide(conn, moderator, submission_id, "rejected", reason.strip())

    def approve(self, moderator: User, submission_id: int, comment: str = "") -> Submission:
        """Publish a pending submission: write its file atomically and keep a revision.

        The status change, the revision and the file stand or fall together, and the
        conditional UPDATE makes two simultaneous approvals publish once.
        """
        if not moderator.has_role(*MODERATOR_ROLES):
            raise PermissionDeniedError("only moderators can approve submissions")
        sub = self.get(moderator, submission_id)
        path = practice_path(self.practice_dir, sub.slug)
        with publishing(self.store, path) as (conn, publication):
            sub = self._decide(conn, moderator, submission_id, "approved", comment.strip())
            result = self.check(sub.slug, sub.text)
            if result.document is None:
                reasons = "; ".join(str(p) for p in result.problems if p.level == "error")
                raise BadInputError(f"the submission does not pass validation: {reasons}")
            current = read_current(path)
            if sub.kind == "new" and current is not None:
                raise ConflictError(f"a write-up called {sub.slug!r} is already published; "
                                    "it was not overwritten. Request changes to another slug.")
            if sub.kind == "edit":
                if current is None:
                    raise ConflictError(f"the write-up {sub.slug!r} is no longer published")
                if content_hash(current) != sub.base_hash:
                    raise ConflictError(f"{sub.slug!r} has changed since this edit was "
                                        "proposed; request changes so it can be redone "
                                        "on the current version")
            keep_current(conn, sub.slug, current)
            summary = ("new write-up" if current is None else
                       describe_change(current.decode("utf-8", "replace"), sub.text))
            if sub.note:
                summary = f"{summary} ({sub.note})"
            add_revision(conn, sub.slug, sub.text, author=sub.author_name,
                         approved_by=moderator.name, summary=summary, submission_id=sub.id)
            audit.record(conn, moderator.email, "practice.publish", f"practice:{sub.slug}",
                         f"submission {sub.id}")
            publication.write(sub.text)
        return self.get(moderator, submission_id)


def published_from_pairings(store: StateStore) -> list[Submission]:
    """Approved new write-ups that came out of a brokered pairing, oldest first (the
    partnership overview counts those whose file is still published)."""
    with store.read() as conn:
        rows = conn.execute(_SELECT + " WHERE s.pairing_id IS NOT NULL AND s.kind='new' AND "
                            "s.status='approved' ORDER BY s.reviewed_at, s.id").fetchall()
    return [Submission(*r) for r in rows]

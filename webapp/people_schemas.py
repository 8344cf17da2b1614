"""The shapes of the people API: invitations, one's own account (name, e-mail choices,
followed searches) and administration (people, their role and school, the audit log)."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

from kb.content.directory import Directory
from kb.state.accounts import User
from kb.workflows.invitations import Invitation
from services.administration import AuditPage

InvitationState = Literal["waiting", "accepted", "expired", "revoked"]


def _iso(moment: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment)) if moment else ""


# -- invitations ---------------------------------------------------------------------------

class InvitationIn(BaseModel):
    email: str = Field(max_length=254, description="the invitee's e-mail address")
    role: str = Field(max_length=40, description="reader, contributor, family-lead, ... "
                      "(a family lead invites readers, contributors and family leads)")
    school: str = Field("", max_length=120, description="school id or name; needed for "
                        "contributors and family leads")
    name: str = Field("", max_length=120, description="the invitee's name, if known")


class InvitationOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    school: str = Field(description="school id ('' for none)")
    school_name: str
    family: str
    invited_by: str
    created_at: str = Field(description="when the current link was sent (UTC)")
    expires_at: str = Field(description="when the current link stops working (UTC)")
    state: InvitationState


def invitation_out(inv: Invitation, directory: Directory) -> InvitationOut:
    school = directory.schools.get(inv.school)
    return InvitationOut(id=inv.id, email=inv.email, name=inv.name, role=inv.role,
                         school=inv.school, school_name=school.name if school else "",
                         family=inv.family, invited_by=inv.invited_by,
                         created_at=_iso(inv.created_at), expires_at=_iso(inv.expires_at),
                         state=inv.state())  # type: ignore[arg-type]


# -- one's own account -----------------------------------------------------------------------

class NotificationChoice(BaseModel):
    kind: str
    label: str
    on: bool


class FollowOut(BaseModel):
    id: int
    description: str = Field(description="the followed search in words")
    search_url: str = Field(description="the search page it follows")


class AccountOut(BaseModel):
    email: str
    name: str
    role: str
    school: str
    family: str
    notifications: list[NotificationChoice] = Field(description="the optional e-mails and "
                                                    "whether this account gets each")
    follows: list[FollowOut] = Field(description="searches followed for the weekly digest")


class NameIn(BaseModel):
    name: str = Field(max_length=120, description="the name shown on pages")


class NotificationsIn(BaseModel):
    on: list[str] = Field(max_length=20, description="the kinds of optional e-mail to get "
                          "(see notifications in GET /api/account); the others are turned off")


# -- administration --------------------------------------------------------------------------

class PersonOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    school: str
    family: str
    disabled: bool


def person_out(user: User) -> PersonOut:
    return PersonOut(id=user.id, email=user.email, name=user.name, role=user.role,
                     school=user.school, family=user.family, disabled=user.disabled)


class RoleIn(BaseModel):
    role: str = Field(max_length=40)


class SchoolIn(BaseModel):
    school: str = Field(max_length=120, description="school id or name; '' for none (only "
                        "for roles that need no school)")


class AuditEntryOut(BaseModel):
    at: str
    actor: str
    action: str
    target: str
    detail: str


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    total: int = Field(description="entries matching the filters")
    page: int
    pages: int
    per_page: int


def audit_page_out(log: AuditPage) -> AuditPageOut:
    return AuditPageOut(entries=[AuditEntryOut(at=e.at, actor=e.actor, action=e.action,
                                               target=e.target, detail=e.detail)
                                 for e in log.entries],
                        total=log.total, page=log.page, pages=log.pages, per_page=log.per_page)

"""The error family shared by every layer; each edge (CLI, web) translates these once."""

from __future__ import annotations

from dataclasses import dataclass


class KBError(Exception):
    """Base class: the message says what failed, where, and what to do next."""


class NotFoundError(KBError):
    """A named thing (write-up, taxonomy term, page) does not exist."""


class BadInputError(KBError):
    """A parameter or form value is not acceptable; the message names it."""


class IndexUnavailableError(KBError):
    """The search index is missing or unreadable; run `kb index`."""


class AuthenticationError(KBError):
    """Sign-in failed or is needed; the message never says which part was wrong."""


class PermissionDeniedError(KBError):
    """The signed-in user's role or family does not allow this action."""


class ConflictError(KBError):
    """The action clashes with the current state (already reviewed, slug taken, changed since)."""


class TooManyRequestsError(KBError):
    """Too many attempts in a short time; retry_after says how many seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem, located by file, line and field."""

    path: str
    line: int
    field: str
    message: str
    level: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        field = f" [{self.field}]" if self.field else ""
        tag = "" if self.level == "error" else f" ({self.level})"
        return f"{where}:{field}{tag} {self.message}"


class ValidationError(KBError):
    """One or more problems in content files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

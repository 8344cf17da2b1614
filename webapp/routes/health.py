"""/api/health: whether the site can answer and whether search by meaning is working (for
monitoring; no page of its own). Anonymous probes get ok/degraded only; moderators and admins
also see the index generation, counts and any library error."""

from __future__ import annotations

from fastapi import APIRouter, Request

from kb.state.accounts import MODERATOR_ROLES, User
from webapp.deps import ServicesDep
from webapp.schemas import Health

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/health", response_model=Health, response_model_exclude_none=True)
def api_health(request: Request, services: ServicesDep) -> Health:
    """ok or degraded; signed-in moderators and admins also get the details."""
    detail = services.engine.health()
    status = "ok" if detail["semantic"] == "ok" else "degraded"
    user: User | None = getattr(request.state, "user", None)
    if user is None or not user.has_role(*MODERATOR_ROLES):
        return Health(status=status, semantic=detail["semantic"])
    return Health(status=status, **detail)

"""/api/health: whether the site can answer, which index generation it serves, and whether
search by meaning is working (for monitoring; no page of its own)."""

from __future__ import annotations

from fastapi import APIRouter

from webapp.deps import ServicesDep
from webapp.schemas import Health

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/health", response_model=Health)
def api_health(services: ServicesDep) -> Health:
    """Index generation, counts, and whether search by meaning is working."""
    return Health(status="ok", **services.engine.health())

"""Template context several pages share: what the write-up page shows about revisions,
support and transfer for this visitor, the audience filters of collection and programme
pages, and the site address written into handouts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from kb.content.taxonomy import Term
from kb.curation.collection import Collection
from kb.state.accounts import CONTRIBUTOR_ROLES, MODERATOR_ROLES, User
from kb.workflows import support, transfer
from kb.workflows.revisions import history
from services.runtime import Services


def _user(request: Request) -> User | None:
    return getattr(request.state, "user", None)


def history_context(request: Request, services: Services, slug: str,
                    family: str) -> dict[str, Any]:
    """What the write-up page shows about its revisions and who may edit or restore it."""
    user = _user(request)
    can_moderate = bool(user and user.has_role(*MODERATOR_ROLES))
    can_edit = bool(user and user.has_role(*CONTRIBUTOR_ROLES) and
                    (can_moderate or user.family == family))
    return {"revisions": history(services.state, slug), "can_restore": can_moderate,
            "can_edit": can_edit}


def support_context(request: Request, services: Services, slug: str,
                    school: str) -> dict[str, Any]:
    """What the write-up page shows: the counts, and the request form to whom it applies."""
    user = _user(request)
    return {"support_counts": support.counts(services.state, slug=slug),
            "support_kinds": support.KINDS,
            "can_ask": bool(user and not user.disabled and user.school != school)}


def transfer_context(request: Request, services: Services, slug: str,
                     school: str) -> dict[str, Any]:
    """The transfer trail, replication counts and the forms the visitor may use."""
    user = _user(request)
    reports = transfer.trail(services.state, slug)
    schools, positive = transfer.replications(reports)
    return {"transfers": reports, "replicated_by": schools, "positive_schools": positive,
            "transfer_results": transfer.RESULTS,
            "can_report": bool(user and user.school and user.school != school),
            "can_promote": bool(user and user.has_role(*MODERATOR_ROLES)
                                and positive >= transfer.PROMOTION_MIN_SCHOOLS),
            "promotion_min": transfer.PROMOTION_MIN_SCHOOLS}


def _terms(services: Services, field_name: str, used: set[str]) -> list[Term]:
    return [t for t in services.taxonomy.for_field(field_name).terms if t.id in used]


def audience_context(services: Services, collections: list[Collection],
                     subjects: tuple[str, ...], phases: tuple[str, ...],
                     extra_subjects: set[str] | None = None) -> dict[str, Any]:
    """The subject and phase pickers of a collection or programme page: only the terms the
    listed collections use, with the chosen ones kept."""
    used_subjects = {s for c in collections for s in c.subjects} | (extra_subjects or set())
    return {
        "subject_terms": _terms(services, "subjects", used_subjects | set(subjects)),
        "phase_terms": _terms(services, "phase", {p for c in collections for p in c.phases}
                              | set(phases)),
        "subject": subjects[0] if subjects else "", "phase": phases[0] if phases else "",
    }


def site_url(request: Request, services: Services) -> str:
    """The address written into handouts: KB_PUBLIC_URL if set, else the one asked for."""
    return services.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


def materials_context(request: Request, services: Services, owner: str,
                      slug: str) -> dict[str, Any]:
    """The list of a write-up's or collection's files and, for those who may change them, the
    upload form's settings (see _materials.html)."""
    from kb.content.filecheck import human_size
    from services.materials import materials_of, may_attach

    return {"materials": materials_of(services, owner, slug), "owner": owner, "slug": slug,
            "can_attach": may_attach(services, _user(request), owner, slug),
            "material_limit": human_size(services.settings.max_material_bytes)}

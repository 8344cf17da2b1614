"""Following a search (words and filters: a subject, an intervention, a family ...) for the
weekly digest e-mail, from the search page; followed searches are listed on /account."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from kb.state import follows
from webapp.deps import PostedForm, ServicesDep, SignedIn
from webapp.params import parse_search

router = APIRouter(include_in_schema=False)


@router.post("/account/follows")
def follow_search(services: ServicesDep, user: SignedIn, form: PostedForm) -> Response:
    search = parse_search(form, services.taxonomy, services.directory,  # type: ignore[arg-type]
                          services.settings.page_size)
    follows.add_follow(services.state, user, search.query.text, search.query.filters)
    return RedirectResponse("/account?done=follow#follows", status_code=303)


@router.post("/account/follows/{follow_id:int}/remove")
def unfollow(follow_id: int, services: ServicesDep, user: SignedIn) -> Response:
    follows.remove_follow(services.state, user, follow_id)
    return RedirectResponse("/account?done=unfollow#follows", status_code=303)

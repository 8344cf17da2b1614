"""Session materials: the files page of a write-up or collection, downloading one file,
uploading (multipart form, CSRF) and removing; the JSON twin /api/<owner>/<slug>/materials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from kb.curation.catalogue import Curation
from kb.errors import BadInputError
from services.materials import attach, detach, material_file, materials_of, may_attach
from services.runtime import Services
from webapp.context import materials_context
from webapp.deps import CurationDep, PostedForm, ServicesDep, SignedIn, TemplatesDep
from webapp.schemas import MaterialList, material_of

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["materials"])
DONE = {"added": "The file was attached.", "removed": "The file was removed."}


def _owner_title(request: Request, services: Services, curation: Curation, owner: str,
                 slug: str) -> tuple[str, str, str]:
    """(title, page address, what it is) of a published write-up or a collection (drafts
    only for those who may change it); NotFoundError otherwise."""
    if owner == "practice":
        return services.engine.document(slug).title, f"/practice/{slug}", "write-up"
    user = getattr(request.state, "user", None)
    collection = curation.collection(
        slug, include_drafts=may_attach(services, user, "collections", slug))
    return collection.title, f"/collections/{slug}", "collection"


def _files_page(request: Request, services: Services, curation: Curation,
                templates: TemplatesDep, owner: str, slug: str, status: int = 200,
                **extra: Any) -> Response:
    title, back, what = _owner_title(request, services, curation, owner, slug)
    return templates.TemplateResponse(request, "materials.html", {
        "title": title, "back_url": back, "what": what,
        **materials_context(request, services, owner, slug), **extra}, status_code=status)


def _download(services: Services, owner: str, slug: str, name: str) -> Response:
    material, data = material_file(services, owner, slug, name)
    # Always a download, never rendered here: the browser must not guess another type.
    return Response(data, media_type=material.kind.media_type, headers={
        "Content-Disposition": f'attachment; filename="{material.name}"',
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
        "Cache-Control": "no-cache"})


async def _upload(request: Request, services: Services, curation: Curation,
                  templates: TemplatesDep, user: Any, owner: str, slug: str,
                  form: PostedForm) -> Response:
    _owner_title(request, services, curation, owner, slug)  # 404 before anything else
    sent = form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return _files_page(request, services, curation, templates, owner, slug, 422,
                           material_error="Choose a file to upload.")
    data = await sent.read(services.settings.max_material_bytes + 1)
    try:
        await run_in_threadpool(attach, services, user, owner, slug, sent.filename, data)
    except BadInputError as exc:
        return _files_page(request, services, curation, templates, owner, slug, 422,
                           material_error=f"{str(exc)[0].upper()}{str(exc)[1:]}.")
    return RedirectResponse(f"/{owner}/{slug}/materials?done=added#materials", status_code=303)


# -- write-ups -------------------------------------------------------------------------------

@pages.get("/practice/{slug}/materials", response_class=HTMLResponse)
def practice_files(slug: str, request: Request, services: ServicesDep, curation: CurationDep,
                   templates: TemplatesDep, done: str = "") -> Response:
    return _files_page(request, services, curation, templates, "practice", slug,
                       material_done=DONE.get(done, ""))


@pages.get("/practice/{slug}/materials/{name}")
def practice_file(slug: str, name: str, services: ServicesDep) -> Response:
    services.engine.document(slug)  # published write-ups only
    return _download(services, "practice", slug, name)


@pages.post("/practice/{slug}/materials", response_class=HTMLResponse)
async def practice_upload(slug: str, request: Request, services: ServicesDep,
                          curation: CurationDep, templates: TemplatesDep, user: SignedIn,
                          form: PostedForm) -> Response:
    return await _upload(request, services, curation, templates, user, "practice", slug, form)


@pages.post("/practice/{slug}/materials/{name}/remove")
def practice_remove(slug: str, name: str, services: ServicesDep, user: SignedIn) -> Response:
    services.engine.document(slug)
    detach(services, user, "practice", slug, name)
    return RedirectResponse(f"/practice/{slug}/materials?done=removed#materials",
                            status_code=303)


# -- collections -----------------------------------------------------------------------------

@pages.get("/collections/{slug}/materials", response_class=HTMLResponse)
def collection_files(slug: str, request: Request, services: ServicesDep,
                     curation: CurationDep, templates: TemplatesDep, done: str = "") -> Response:
    return _files_page(request, services, curation, templates, "collections", slug,
                       material_done=DONE.get(done, ""))


@pages.get("/collections/{slug}/materials/{name}")
def collection_file(slug: str, name: str, request: Request, services: ServicesDep,
                    curation: CurationDep) -> Response:
    _owner_title(request, services, curation, "collections", slug)
    return _download(services, "collections", slug, name)


@pages.post("/collections/{slug}/materials", response_class=HTMLResponse)
async def collection_upload(slug: str, request: Request, services: ServicesDep,
                            curation: CurationDep, templates: TemplatesDep, user: SignedIn,
                            form: PostedForm) -> Response:
    return await _upload(request, services, curation, templates, user, "collections", slug,
                         form)


@pages.post("/collections/{slug}/materials/{name}/remove")
def collection_remove(slug: str, name: str, request: Request, services: ServicesDep,
                      curation: CurationDep, user: SignedIn) -> Response:
    _owner_title(request, services, curation, "collections", slug)
    detach(services, user, "collections", slug, name)
    return RedirectResponse(f"/collections/{slug}/materials?done=removed#materials",
                            status_code=303)


# -- the JSON twins --------------------------------------------------------------------------

@api.get("/practices/{slug}/materials", response_model=MaterialList)
def api_practice_materials(slug: str, services: ServicesDep) -> MaterialList:
    """The files attached to a published write-up, with size and kind."""
    services.engine.document(slug)
    found = materials_of(services, "practice", slug)
    return MaterialList(total=len(found), results=[material_of(m) for m in found])


@api.get("/collections/{slug}/materials", response_model=MaterialList)
def api_collection_materials(slug: str, request: Request, services: ServicesDep,
                             curation: CurationDep) -> MaterialList:
    """The files attached to a published collection, with size and kind."""
    _owner_title(request, services, curation, "collections", slug)
    found = materials_of(services, "collections", slug)
    return MaterialList(total=len(found), results=[material_of(m) for m in found])


router = APIRouter()
router.include_router(pages)
router.include_router(api)

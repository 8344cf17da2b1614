"""Taking the library away: one write-up's print view and PDF, and the whole library as an
open download (a zip of Markdown files with a JSON Lines file) with its JSON Lines twin."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kb.content.export import LICENCE, LICENCE_URL
from services.downloads import library_archive, library_lines, published_count
from webapp.context import site_url
from webapp.deps import PacksDep, ServicesDep, TemplatesDep
from webapp.handouts import HANDOUT_CSS, download, html_to_pdf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


@pages.get("/practice/{slug}/print", response_class=HTMLResponse)
def writeup_print(slug: str, request: Request, services: ServicesDep,
                  templates: TemplatesDep) -> HTMLResponse:
    """One write-up laid out for paper (the browser's Print command makes the PDF too)."""
    return templates.TemplateResponse(request, "practice_print.html", {
        "doc": services.engine.document(slug), "site_url": site_url(request, services),
        "licence": LICENCE})


@pages.get("/practice/{slug}/writeup.pdf")
def writeup_pdf(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                packs: PacksDep) -> Response:
    """One write-up as a PDF, laid out by WeasyPrint like the collection handouts."""
    doc = services.engine.document(slug)
    url = site_url(request, services)

    def build() -> bytes:
        from markupsafe import Markup

        html = templates.env.get_template("writeup_document.html").render(
            doc=doc, site_url=url, licence=LICENCE,
            inline_css=Markup(HANDOUT_CSS.read_text(encoding="utf-8")))
        return html_to_pdf(html)

    data = packs.get(("writeup", "pdf", slug, services.engine.generation or "", url), build)
    return download(data, "pdf", f"{slug}.pdf")


@pages.get("/download", response_class=HTMLResponse)
def download_page(request: Request, services: ServicesDep,
                  templates: TemplatesDep) -> HTMLResponse:
    """What the open download holds and the licence it comes under."""
    return templates.TemplateResponse(request, "download.html", {
        "count": published_count(services), "licence": LICENCE, "licence_url": LICENCE_URL})


@pages.get("/download/library.zip")
def library_zip_file(services: ServicesDep) -> Response:
    return Response(library_archive(services), media_type="application/zip", headers={
        "Content-Disposition": 'attachment; filename="westmoor-practice-library.zip"',
        "Cache-Control": "no-cache"})


@api.get("/library.jsonl", response_class=Response,
         responses={200: {"content": {"application/jsonl": {}},
                          "description": "One published write-up a line, with its tags."}})
def api_library_jsonl(services: ServicesDep) -> Response:
    """Every published write-up as JSON Lines (one object a line, with its tags), free to
    reuse under CC BY 4.0; the same file is inside /download/library.zip."""
    return Response(library_lines(services), media_type="application/jsonl", headers={
        "Content-Disposition": 'inline; filename="writeups.jsonl"',
        "X-Content-Licence": f"{LICENCE} {LICENCE_URL}"})


router = APIRouter()
router.include_router(pages)
router.include_router(api)

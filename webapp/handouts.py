"""Packs people take into a room: collection handouts and programme timetables as HTML and PDF."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment
from markupsafe import Markup
from starlette.responses import Response

from kb.content.markdown import render_html
from kb.curation.catalogue import Curation
from kb.curation.collection import Collection
from kb.curation.materials import Material, list_materials, read_material
from kb.curation.packs import PackAttachment, append_pdfs, markdown_zip
from kb.curation.programme import Programme
from kb.curation.timetable import build_grid
from kb.errors import KBError

STATIC_DIR = Path(__file__).parent / "static"
HANDOUT_CSS = STATIC_DIR / "handout.css"
FORMATS = ("pdf", "html", "md")
MEDIA_TYPES = {"pdf": "application/pdf", "md": "application/zip", "html": "text/html"}

log = logging.getLogger(__name__)


def render_writeup_body(body: str, position: int) -> Markup:
    """A write-up body nested under its handout heading, with ids unique on the page."""
    html, _ = render_html(body, anchor_prefix=f"w{position}-", shift_headings=1)
    return Markup(html)  # produced by kb.content.markdown's safe renderer, never raw user HTML


def pack_materials(content_dir: Path | None, curation: Curation,
                   collection: Collection) -> list[Material]:
    """The collection's own materials, then those of its write-ups in order."""
    if content_dir is None:
        return []
    found = list_materials(content_dir, "collections", collection.slug)
    for _, doc in curation.items_of(collection):
        found += list_materials(content_dir, "practice", doc.slug)
    return found


def pack_attachments(content_dir: Path | None, curation: Curation, collection: Collection,
                     site_url: str) -> tuple[PackAttachment, ...]:
    """The materials of a pack with their bytes (a file that cannot be read is left out)."""
    if content_dir is None:
        return ()
    out = []
    for material in pack_materials(content_dir, curation, collection):
        try:
            data = read_material(content_dir, material)
        except OSError as exc:
            log.warning("material left out of the pack: %s: %s", material.shown_path, exc)
            continue
        out.append(PackAttachment(material.name, f"{material.label}, {material.size_text}",
                                  site_url.rstrip("/") + material.url, material.kind.key, data))
    return tuple(out)


def handout_context(curation: Curation, collection: Collection, site_url: str,
                    content_dir: Path | None = None) -> dict[str, Any]:
    """Everything the handout templates need, for the web page and the exported files alike."""
    return {
        "collection": collection, "items": curation.items_of(collection),
        "sessions": curation.sessions_using(collection.slug), "site_url": site_url.rstrip("/"),
        "writeup_body": render_writeup_body,
        "pack_materials": pack_materials(content_dir, curation, collection),
    }


def timetable_context(curation: Curation, programme: Programme, site_url: str,
                      subjects: tuple[str, ...] = (),
                      phases: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"programme": programme, "site_url": site_url.rstrip("/"),
            "grid": build_grid(programme, curation.collections, subjects, phases)}


def _standalone(env: Environment, template: str, context: dict[str, Any]) -> str:
    # The stylesheet is our own static file, not user input, so it may go in verbatim.
    css = Markup(HANDOUT_CSS.read_text(encoding="utf-8"))
    return env.get_template(template).render(**context, inline_css=css)


def standalone_pdf(env: Environment, template: str, context: dict[str, Any]) -> bytes:
    """Any self-contained page (e.g. a session's register) as a PDF."""
    return html_to_pdf(_standalone(env, template, context))


def handout_html(env: Environment, curation: Curation, collection: Collection,
                 site_url: str, content_dir: Path | None = None) -> str:
    """A self-contained HTML handout (styles inline), for saving or printing offline."""
    return _standalone(env, "handout_document.html",
                       handout_context(curation, collection, site_url, content_dir))


def timetable_html(env: Environment, curation: Curation, programme: Programme,
                   site_url: str) -> str:
    """A self-contained one-page timetable of the whole day."""
    return _standalone(env, "timetable_document.html",
                       timetable_context(curation, programme, site_url))


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # Handouts never load anything from elsewhere: no network calls from a PDF build, and
    # an image URL in a write-up cannot reach into the machine or the network.
    raise ValueError(f"not fetched: {url[:80]}")


def _no_fetching() -> Any:
    """A WeasyPrint URL fetcher that refuses every address (a class in newer WeasyPrint)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # older WeasyPrint takes a plain function
        return _refuse_fetch

    class RefuseAll(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            return _refuse_fetch(url)

    return RefuseAll()


def html_to_pdf(html: str) -> bytes:
    """Lay the HTML out with WeasyPrint and return the PDF bytes."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango libraries missing
        raise KBError(f"PDF export needs WeasyPrint and the Pango libraries ({exc}); "
                      "run `make run` or see the README") from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    pdf = HTML(string=html, url_fetcher=_no_fetching()).write_pdf()
    if not pdf:
        raise KBError("WeasyPrint produced no PDF")
    return bytes(pdf)


def collection_export(env: Environment, curation: Curation, collection: Collection,
                      fmt: str, site_url: str, content_dir: Path | None = None) -> bytes:
    """The handout in one of FORMATS: pdf (session materials that are PDFs appended), html
    (self-contained) or md (a zip of Markdown with the materials). Materials are listed with
    their full addresses in every format."""
    attachments = pack_attachments(content_dir, curation, collection, site_url) \
        if fmt != "html" else ()
    if fmt == "md":
        return markdown_zip(collection, curation.items_of(collection),
                            curation.library.taxonomy, site_url, attachments)
    html = handout_html(env, curation, collection, site_url, content_dir)
    if fmt == "html":
        return html.encode("utf-8")
    pdf, skipped = append_pdfs(html_to_pdf(html), attachments)
    for name in skipped:
        log.warning("PDF material %s of collection %s could not be appended", name,
                    collection.slug)
    return pdf


def programme_export(env: Environment, curation: Curation, programme: Programme, fmt: str,
                     site_url: str) -> bytes:
    """The one-page timetable as pdf or html."""
    html = timetable_html(env, curation, programme, site_url)
    return html.encode("utf-8") if fmt == "html" else html_to_pdf(html)


def download(data: bytes, fmt: str, filename: str) -> Response:
    """A built pack as a file to save (never cached by the browser: the content may change)."""
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-cache"})


class PackCache:
    """Keeps recently built packs; a key includes the content version, so edits rebuild."""

    def __init__(self, size: int = 48) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._building: dict[tuple[str, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], build: Callable[[], bytes]) -> bytes:
        """The cached pack, or build it once: concurrent requests for it wait for that build."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:  # one build per key; a slow PDF never blocks other downloads
            with self._lock:
                if key in self._items:
                    return self._items[key]
            data = build()
            with self._lock:
                self._items[key] = data
                self._building.pop(key, None)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return data

"""Atom feeds of new and updated write-ups, overall or filtered by any tag parameter."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kb.content.taxonomy import TAG_FIELDS
from webapp.deps import SearchDep, ServicesDep
from webapp.templating import label

router = APIRouter(include_in_schema=False)
ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 50


def _stamp(day: str) -> str:
    try:
        return dt.date.fromisoformat(day).isoformat() + "T00:00:00Z"
    except ValueError:
        return "1970-01-01T00:00:00Z"


@router.get("/feed.atom")
def atom_feed(request: Request, services: ServicesDep, search: SearchDep) -> Response:
    """Newest write-ups first; ?subject=, ?intervention=, ?family= ... narrow the feed."""
    base = str(request.base_url).rstrip("/")
    docs = services.engine.documents(search.query.filters)[:MAX_ENTRIES]
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    # Taxonomy terms by their labels; schools, families and years as given in the address.
    described = ", ".join(
        f"{field.rstrip('s').replace('_', ' ')} "
        + (label(services.taxonomy, services.directory, field, v) if field in TAG_FIELDS else v)
        for field, values in search.query.filters.items() for v in values)
    ET.SubElement(feed, f"{{{ATOM}}}title").text = (
        "Westmoor practice library" + (f": {described}" if described else ""))
    ET.SubElement(feed, f"{{{ATOM}}}id").text = str(request.url)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = (
        _stamp(docs[0].date) if docs else "1970-01-01T00:00:00Z")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=str(request.url))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=base + "/search")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "Westmoor families of schools"
    for doc in docs:
        url = f"{base}/practice/{doc.slug}"
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = doc.title
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(doc.date)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _stamp(doc.date)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=url)
        entry_author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(entry_author, f"{{{ATOM}}}name").text = (
            ", ".join(doc.meta.get("authors", [])) or doc.meta.get("school_name", ""))
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = doc.summary
        for field in ("subjects", "interventions"):
            for value in doc.tags.get(field, ()):
                ET.SubElement(entry, f"{{{ATOM}}}category", term=value,
                              label=label(services.taxonomy, services.directory, field, value))
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body,
                    media_type="application/atom+xml")

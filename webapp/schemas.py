"""The shapes of the JSON API: one pydantic model per thing, and the functions that fill them.

A write-up has one shape, `Writeup`, wherever it appears (search results, the practice list,
one practice, its related practices, a collection's items); answers that say more about it
extend that shape. The routers read requests and return these; the shapes of contributing and
moderating are in webapp/submission_schemas.py.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from indexer.chunking import attachment_name
from indexer.records import from_document
from indexer.search.engine import Hit, SearchResults
from kb.content.directory import Directory
from kb.content.documents import Document
from kb.content.markdown import render_html
from kb.content.taxonomy import Taxonomy
from kb.curation.catalogue import Curation
from kb.curation.collection import Collection
from kb.curation.programme import Programme
from kb.curation.timetable import Grid
from webapp.templating import label, render_snippet


class Record(Protocol):
    """A write-up as the index holds it (a stored row, or a document converted for it)."""

    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def date(self) -> str: ...
    @property
    def tags(self) -> dict[str, tuple[str, ...]]: ...
    @property
    def meta(self) -> dict[str, Any]: ...


# -- write-ups -----------------------------------------------------------------------------

class Evidence(BaseModel):
    strength: str
    measure: str


class Writeup(BaseModel):
    """One write-up. `evidence_strength` repeats `evidence.strength`: collection items gave it
    flat before the shapes were one, and clients of either keep working."""

    slug: str
    url: str
    title: str
    summary: str
    school: str
    school_name: str
    family: str
    family_name: str
    date: str
    phase: str
    key_stages: list[str]
    subjects: list[str]
    interventions: list[str]
    pupil_groups: list[str]
    evidence: Evidence
    evidence_strength: str


class Practice(Writeup):
    authors: list[str]
    review_due: str
    body_markdown: str
    body_html: str
    related: list[Writeup]


class NamedTag(BaseModel):
    field: str
    term: str
    label: str


class Reasons(BaseModel):
    """Why a result is here, in the words the page shows."""

    words: list[str] = Field(description="query words found in the write-up, as it spells them")
    tags: list[NamedTag] = Field(description="tags it has that the search named (or expanded to)")
    by_meaning: bool = Field(description="its closest passage matched the search by meaning")
    passage: str = Field(description="the section the snippet comes from")
    sentence: str = Field(description="the snippet's sentence that answers the "
                          "query best (by meaning, and its words)")
    recommended: bool = Field(description="pinned by a curator as a best answer to this search")
    note: str = Field(description="the curator's note on a recommended result")
    attachment: str = Field(default="", description="the attached file (worksheet, slides) "
                                                    "the snippet comes from, if any")


class SearchResult(Writeup):
    score: float
    section: str
    snippet: str
    snippet_html: str
    group: str = Field(description="'strong' matches first, then 'related' (less closely "
                                   "related, shown folded on the page)")
    reasons: Reasons


class PracticeList(BaseModel):
    total: int
    results: list[Writeup]


def writeup_of(doc: Record) -> Writeup:
    """The one JSON shape of a write-up, from the index's record of it."""
    tags, meta = doc.tags, doc.meta
    strength = (tags.get("evidence_strength") or ("",))[0]
    return Writeup(
        slug=doc.slug, url=f"/practice/{doc.slug}", title=doc.title, summary=doc.summary,
        school=tags["school"][0], school_name=meta.get("school_name", ""),
        family=tags["family"][0], family_name=meta.get("family_name", ""), date=doc.date,
        phase=(tags.get("phase") or ("",))[0], key_stages=list(tags.get("key_stages", ())),
        subjects=list(tags.get("subjects", ())), interventions=list(tags.get("interventions", ())),
        pupil_groups=list(tags.get("pupil_groups", ())),
        evidence=Evidence(strength=strength, measure=meta.get("evidence_measure", "")),
        evidence_strength=strength)


def writeup_of_document(doc: Document) -> Writeup:
    """The same shape for a write-up read from its file (collections hold these)."""
    return writeup_of(from_document(doc))


def practice_of(doc: Record, related: list[Record]) -> Practice:
    """One write-up in full: its shape, authors, review date and body as Markdown and HTML."""
    return Practice(**writeup_of(doc).model_dump(), authors=doc.meta.get("authors", []),
                    review_due=doc.meta.get("review_due", ""), body_markdown=doc.body,
                    body_html=render_html(doc.body)[0],
                    related=[writeup_of(d) for d in related])


def reasons_of(hit: Hit, taxonomy: Taxonomy) -> Reasons:
    text = "".join(t for t, _ in hit.snippet)
    start, end = hit.best_sentence
    return Reasons(
        words=list(hit.matched_words),
        tags=[NamedTag(field=f, term=v, label=taxonomy.label(f, v)) for f, v in hit.shared_tags],
        by_meaning=hit.similarity is not None and not hit.matched_words, passage=hit.section,
        sentence=text[start:end], recommended=hit.recommended is not None,
        note=hit.recommended or "", attachment=attachment_name(hit.section))


def result_of(hit: Hit, taxonomy: Taxonomy) -> SearchResult:
    fields = writeup_of(hit.doc).model_dump()
    if hit.anchor:
        fields["url"] += f"?section={hit.anchor}"
    return SearchResult(**fields, score=hit.score, section=hit.section,
                        snippet="".join(t for t, _ in hit.snippet),
                        snippet_html=str(render_snippet(hit.snippet, hit.best_sentence)),
                        group=hit.group, reasons=reasons_of(hit, taxonomy))


# -- search, vocabularies, health ------------------------------------------------------------

class FacetCount(BaseModel):
    value: str
    label: str
    count: int
    selected: bool


class CollectionResult(BaseModel):
    """A curated session shown beside the write-ups (its own result type)."""

    type: str = "collection"
    slug: str
    url: str
    title: str
    purpose: str
    minutes: int
    writeups: int
    recommended: bool
    note: str
    found_in: str = Field(default="", description="the attached file (worksheet, slides) "
                                                  "that holds every word searched, if that is "
                                                  "why it is here")


class SearchResponse(BaseModel):
    query: str
    searched: str = Field(description="the words searched: the query after spelling correction")
    corrected_from: str = Field(description="the query as typed, when spelling correction "
                                            "changed it ('' otherwise); repeat the search with "
                                            "exact=1 to search the words as typed")
    sort: str
    total: int
    strong: int = Field(description="how many of total are strong matches; the rest are "
                                    "less closely related")
    page: int
    pages: int
    mode: str
    notices: list[str]
    collections: list[CollectionResult]
    results: list[SearchResult]
    facets: dict[str, list[FacetCount]]


def collection_result_of(c: Collection, results: SearchResults,
                         found_in: str = "") -> CollectionResult:
    note = next((n for kind, slug, n in results.best_bets
                 if kind == "collection" and slug == c.slug), None)
    return CollectionResult(slug=c.slug, url=f"/collections/{c.slug}", title=c.title,
                            purpose=c.purpose, minutes=c.minutes, writeups=len(c.items),
                            recommended=note is not None, note=note or "", found_in=found_in)


def search_response_of(results: SearchResults, taxonomy: Taxonomy, directory: Directory,
                       collections: list[Collection],
                       found_in: dict[str, str] | None = None) -> SearchResponse:
    return SearchResponse(
        query=results.query.text, searched=results.searched or results.query.text,
        corrected_from=results.corrected_from, sort=results.query.sort, total=results.total,
        strong=results.strong_total, page=results.query.page,
        pages=results.pages, mode=results.mode, notices=list(results.notices),
        collections=[collection_result_of(c, results, (found_in or {}).get(c.slug, ""))
                     for c in collections],
        results=[result_of(h, taxonomy) for h in results.hits],
        facets={f: [FacetCount(value=v.value, label=label(taxonomy, directory, f, v.value),
                               count=v.count, selected=v.selected) for v in values]
                for f, values in results.facets.items()})


class EvidenceLink(BaseModel):
    source: str
    url: str
    summary: str


class Term(BaseModel):
    id: str
    label: str
    description: str
    aliases: list[str]
    evidence: EvidenceLink | None = None


def vocabularies_of(taxonomy: Taxonomy) -> dict[str, list[Term]]:
    return {name: [Term(id=t.id, label=t.label, description=t.description,
                        aliases=list(t.aliases),
                        evidence=EvidenceLink(source=t.evidence_source, url=t.evidence_url,
                                              summary=t.evidence_summary)
                        if t.evidence_source else None) for t in vocab.terms]
            for name, vocab in taxonomy.vocabularies.items()}


class Health(BaseModel):
    """ok or degraded for everyone; the rest (paths, library errors) for moderators only."""

    status: str = Field(description="ok, or degraded when search by meaning is unavailable")
    semantic: str = Field(description="ok or degraded")
    generation: str | None = None
    documents: int | None = None
    chunks: int | None = None
    semantic_problem: str | None = None
    model: str | None = None
    built_at: str | None = None


# -- collections and inset-day programmes -----------------------------------------------------

class PlanStep(BaseModel):
    minutes: int
    activity: str


class CollectionSummary(BaseModel):
    slug: str
    url: str
    title: str
    purpose: str
    subjects: list[str]
    phases: list[str]
    curator: str
    minutes: int
    writeups: int


class CollectionItem(BaseModel):
    position: int
    writeup: Writeup
    why: str
    questions: list[str]
    task: str


class SessionRef(BaseModel):
    programme: str
    programme_title: str
    start: str
    end: str
    room: str
    facilitators: list[str]


class CollectionDetail(CollectionSummary):
    introduction_markdown: str
    plan: list[PlanStep]
    items: list[CollectionItem]
    sessions: list[SessionRef]
    print_url: str
    pdf_url: str
    markdown_zip_url: str


class CollectionList(BaseModel):
    total: int
    results: list[CollectionSummary]


class Strand(BaseModel):
    id: str
    title: str
    subjects: list[str]
    room: str
    description: str


class Session(BaseModel):
    strand: str
    title: str
    collection: str
    collection_url: str
    room: str
    facilitators: list[str]
    subjects: list[str]
    phases: list[str]


class Slot(BaseModel):
    start: str
    end: str
    title: str
    room: str
    plenary: bool
    sessions: list[Session]


class ProgrammeSummary(BaseModel):
    slug: str
    url: str
    title: str
    date: str
    venue: str
    summary: str
    sessions: int


class ProgrammeDetail(ProgrammeSummary):
    organiser: str
    strands: list[Strand]
    slots: list[Slot]
    shown: int
    timetable_pdf_url: str


def collection_summary_of(c: Collection) -> CollectionSummary:
    return CollectionSummary(slug=c.slug, url=f"/collections/{c.slug}", title=c.title,
                             purpose=c.purpose, subjects=list(c.subjects),
                             phases=list(c.phases), curator=c.curator, minutes=c.minutes,
                             writeups=len(c.items))


def collection_detail_of(curation: Curation, c: Collection) -> CollectionDetail:
    items = [CollectionItem(position=n, writeup=writeup_of_document(doc), why=item.why,
                            questions=list(item.questions), task=item.task)
             for n, (item, doc) in enumerate(curation.items_of(c), start=1)]
    sessions = [SessionRef(programme=p.slug, programme_title=p.title, start=slot.start,
                           end=slot.end, room=p.room_name(s.room),
                           facilitators=list(s.facilitators))
                for p, slot, s in curation.sessions_using(c.slug)]
    return CollectionDetail(**collection_summary_of(c).model_dump(),
                            introduction_markdown=c.body,
                            plan=[PlanStep(minutes=s.minutes, activity=s.activity)
                                  for s in c.plan], items=items, sessions=sessions,
                            print_url=f"/collections/{c.slug}/print",
                            pdf_url=f"/collections/{c.slug}/handout.pdf",
                            markdown_zip_url=f"/collections/{c.slug}/handout.zip")


def programme_summary_of(p: Programme) -> ProgrammeSummary:
    return ProgrammeSummary(slug=p.slug, url=f"/programmes/{p.slug}", title=p.title,
                            date=p.date.isoformat(), venue=p.venue, summary=p.summary,
                            sessions=len(p.sessions()))


def programme_detail_of(programme: Programme, grid: Grid) -> ProgrammeDetail:
    """The day slot by slot, with the sessions the grid shows (all, or those filtered)."""
    slots = []
    for row in grid.rows:
        cells = [c for c in row.cells if c is not None]
        slots.append(Slot(
            start=row.slot.start, end=row.slot.end, title=row.slot.title,
            room=row.room_name, plenary=row.slot.is_plenary,
            sessions=[Session(strand=c.strand.id, title=c.title, collection=c.collection.slug,
                              collection_url=f"/collections/{c.collection.slug}",
                              room=c.room_name, facilitators=list(c.session.facilitators),
                              subjects=list(c.collection.subjects),
                              phases=list(c.collection.phases)) for c in cells]))
    return ProgrammeDetail(
        **programme_summary_of(programme).model_dump(), organiser=programme.organiser,
        strands=[Strand(id=s.id, title=s.title, subjects=list(s.subjects),
                        room=programme.room_name(s.room), description=s.description)
                 for s in programme.strands],
        slots=slots, shown=grid.shown,
        timetable_pdf_url=f"/programmes/{programme.slug}/timetable.pdf")


class BodyIn(BaseModel):
    """Every JSON request body: a field the API does not know is refused with a 422 naming it
    (reliability row 27), so a misspelt `submitt` is never silently dropped."""

    model_config = ConfigDict(extra="forbid")


# -- accounts --------------------------------------------------------------------------------

class LoginIn(BodyIn):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class Me(BaseModel):
    email: str
    name: str
    role: str
    school: str
    family: str
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on POST requests.")


# -- session materials -----------------------------------------------------------------------

class Material(BaseModel):
    """One attached file (slides, worksheet, handout) of a write-up or collection."""

    name: str
    url: str = Field(description="where to download it (always as an attachment)")
    kind: str = Field(description="pdf, docx, pptx, odt, png or jpeg, judged by its content")
    label: str = Field(description="the kind in plain words, e.g. 'Word document'")
    media_type: str
    size: int = Field(description="bytes")
    size_text: str = Field(description="the size as people read it, e.g. '1.2 MB'")


class MaterialList(BaseModel):
    total: int
    results: list[Material]


def material_of(material: Any) -> Material:
    """The JSON shape of a stored material (kb.curation.materials.Material)."""
    return Material(name=material.name, url=material.url, kind=material.kind.key,
                    label=material.label, media_type=material.kind.media_type,
                    size=material.size, size_text=material.size_text)

"""Every HTML page of the app, listed from its routes, on a seeded site (a submission, a
revision, a support request, collections and a programme), and the browser checks run on each:
horizontal overflow and axe-core (WCAG 2.2 AA)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.responses import HTMLResponse
from support_accounts import ROLE_PEOPLE, Site, good_form
from support_materials import docx_bytes, png_bytes

from kb.content.library import load_reference
from kb.curation.materials import add_material
from kb.settings import Settings
from kb.workflows import pairings, priorities, support
from kb.workflows.contribution import Fields, build_text

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ROLES = ("anonymous", *ROLE_PEOPLE)
WRITEUP = "weekly-quizzes-year-7-maths"  # a Brackenford write-up in the fixture library
WIDE = "wide-table-in-the-body"  # a copy of it with a wide table and a long address
_ROWS = [
    ["Class", "Autumn baseline score", "Spring quiz average", "Summer assessment",
     "Change since September", "Teacher's commentary on the pattern"],
    ["---"] * 6,
    ["7A", "41 per cent", "58 per cent", "63 per cent", "plus twenty-two points",
     "Retrieval quizzes every Monday, marked in class"],
    ["7B", "39 per cent", "51 per cent", "60 per cent", "plus twenty-one points",
     "Quizzes moved to Friday after the first half-term"],
]
WIDE_TABLE = ("\n## Results by class\n\n" + "".join(f"| {' | '.join(r)} |\n" for r in _ROWS)
              + "\nThe spreadsheet is at https://example.org/westmoor/very-long-address/"
              "that-never-breaks-anywhere/retrieval-practice-results-2024.xlsx\n")

# One real value for each path parameter; a route with a parameter missing here fails the
# listing, so a new page cannot slip past the checks. "{seeded:...}" values come from seed().
EXAMPLES = {
    "slug": {"/practice/": WIDE, "/collections/": "reading-and-attendance",
             "/programmes/": "test-day", "/practice/{slug}/revisions/": "seeded-revision"},
    "term_id": {"/subjects/": "maths", "/interventions/": "retrieval-practice"},
    "school_id": {"": "ashcombe-academy"}, "family_id": {"": "brackenford"},
    "submission_id": {"": "{pending}"}, "number": {"": "1"}, "request_id": {"": "{request}"},
    # Invitation and reset links (issue 17): an unknown token shows the "link not valid" page.
    "token": {"": "not-a-real-link-token"},
    # A school's priority and a proposed pairing (issue 19), made by seed().
    "priority_id": {"": "{priority}"}, "pairing_id": {"": "{pairing}"},
    # The programme builder's forms for one part of the fixture day (issue 18).
    "room": {"": "r1"}, "strand": {"": "maths"}, "start": {"": "09:30"},
}


def add_curation(settings: Settings) -> None:
    """Copy the fixture collections and programme into a private library."""
    for kind in ("collections", "programmes"):
        shutil.copytree(FIXTURES / kind, settings.content_dir / kind, dirs_exist_ok=True)


def add_wide_writeup(settings: Settings) -> None:
    """A published write-up whose body holds a wide table and an unbroken address."""
    text = (settings.practice_dir / f"{WRITEUP}.md").read_text(encoding="utf-8")
    text = text.replace('title: "', 'title: "Wide table: ', 1) + WIDE_TABLE
    (settings.practice_dir / f"{WIDE}.md").write_text(text, encoding="utf-8")


def seed(site: Site) -> dict[str, str]:
    """A pending submission, an approved one (so a revision exists), a support request, and
    a school's improvement priority with a proposed pairing (issue 19)."""
    flow = site.workflow()
    cara, mod = site.user(ROLE_PEOPLE["contributor"]), site.user(ROLE_PEOPLE["moderator"])
    text = build_text(Fields(**good_form()))
    pending, _ = flow.save(cara, kind="new", slug="seeded-pending", text=text, submit=True)
    approved, _ = flow.save(cara, kind="new", slug="seeded-revision", text=text, submit=True)
    flow.approve(mod, approved.id)
    asked = support.ask(site.store, site.user("eve@example.org"), slug=WRITEUP,
                        school="ashcombe-academy", family="brackenford", kind="visit",
                        message="Could we visit in May?")
    _, directory = load_reference(site.settings.content_dir)
    ashcombe, eastmere = (directory.resolve_school(s) for s in ("ashcombe-academy",
                                                                "eastmere-academy"))
    assert ashcombe is not None and eastmere is not None
    priority = priorities.add(site.store, cara, school=ashcombe.id, family=ashcombe.family,
                              phase=ashcombe.phase,
                              text="Boys' extended writing in Key Stage 4 history essays")
    pairing = pairings.propose(site.store, site.user(ROLE_PEOPLE["admin"]), priority,
                               eastmere.id, eastmere.family, "Eastmere's essay clinics")
    # Session materials (issue 18), so the files pages show a list with remove buttons.
    content, limit = site.settings.content_dir, site.settings.max_material_bytes
    add_material(content, "practice", WIDE, "Quiz worksheet with a rather long name.docx",
                 docx_bytes("Ten retrieval questions"), limit)
    add_material(content, "collections", "reading-and-attendance", "register photo.png",
                 png_bytes(), limit)
    return {"pending": str(pending.id), "request": str(asked.id),
            "priority": str(priority.id), "pairing": str(pairing.id)}


def _example(path: str, name: str) -> str:
    choices = EXAMPLES.get(name)
    assert choices, f"add an example value for {{{name}}} in {path} to EXAMPLES"
    for prefix, value in sorted(choices.items(), key=lambda kv: -len(kv[0])):
        if path.startswith(prefix) or prefix in path:
            return value
    raise AssertionError(f"no example for {{{name}}} in {path}")


def html_pages(app: Any, seeded: dict[str, str]) -> list[tuple[str, str]]:
    """(route template, a real address) for every GET route that answers with a page."""
    pages = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or set()):
            continue
        if route.response_class is not HTMLResponse or context.path.startswith("/api"):
            continue
        template = re.sub(r":\w+}", "}", context.path)
        address = template
        for name in re.findall(r"{(\w+)}", template):
            value = _example(template, name)
            value = re.sub(r"{(\w+)}", lambda m: seeded[m.group(1)], value)
            address = address.replace("{" + name + "}", value)
        pages.append((template, address))
    assert len(pages) >= 35, pages
    return pages


def axe_script() -> str:
    """axe-core's browser build, installed by `make test` from npm; missing is an error."""
    if not AXE.exists():
        raise AssertionError(f"axe-core is missing at {AXE}: run `make test` (or `npm install "
                             "--prefix .cache/axe axe-core@4`)")
    return AXE.read_text(encoding="utf-8")


WIDEST = """() => {
  const view = document.documentElement.clientWidth;
  let widest = document.documentElement.scrollWidth, what = "document";
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right > view + 1 && box.width > 0) {
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.overflowX !== "visible") { clipped = true; break; }
      }
      if (!clipped && box.right > widest) {
        widest = Math.round(box.right);
        what = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
      }
    }
  }
  return {scroll: document.documentElement.scrollWidth, widest: widest, what: what};
}"""


def measure(page: Any, axe: str, run_axe: bool = True) -> dict[str, Any]:
    """The document's width, its widest unclipped element and axe's violations."""
    found = page.evaluate(WIDEST)
    found["violations"] = []
    if run_axe:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(axe)  # through the DevTools protocol: the page's CSP does not apply
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
            "resultTypes: ['violations']})", AXE_TAGS)
        found["violations"] = [
            f"{v['id']} ({v['impact']}): {len(v['nodes'])} x "
            f"{v['nodes'][0]['target']} {v['nodes'][0]['failureSummary'][:160]!r}"
            for v in result["violations"]]
    return found

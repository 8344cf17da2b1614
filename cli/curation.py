"""`kb collection` and `kb programme`: curate collections in the terminal and export packs."""

from __future__ import annotations

from pathlib import Path

import click

from kb.curation.catalogue import collection_editor, load_curation
from kb.curation.collection import Collection
from kb.errors import BadInputError
from kb.settings import Settings
from webapp.handouts import collection_export, programme_export
from webapp.templating import create_templates


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


def _describe(collection: Collection) -> str:
    n = len(collection.items)
    return (f"{collection.slug} ({collection.status}): {n} write-up{'' if n == 1 else 's'}, "
            f"{collection.minutes}-minute plan")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


@click.group()
def collection() -> None:
    """Curate collections (content/collections/) and export their handouts."""


@collection.command("list")
@click.pass_context
def list_collections(ctx: click.Context) -> None:
    """List every collection with its status, size and length."""
    curation = load_curation(_settings(ctx))
    for c in sorted(curation.collections.values(), key=lambda c: c.slug):
        click.echo(f"{c.slug:<58} {c.status:<9} {len(c.items):>2} write-ups {c.minutes:>4} min  "
                   f"{c.title}")
    if curation.skipped:
        click.echo(f"{len(curation.skipped)} file(s) have errors and are not listed; "
                   "run `kb validate`.", err=True)


@collection.command()
@click.argument("slug")
@click.pass_context
def show(ctx: click.Context, slug: str) -> None:
    """Show one collection's plan and its write-ups in order."""
    c = load_curation(_settings(ctx)).collection(slug, include_drafts=True)
    click.echo(f"{c.title}\n{_describe(c)}\n\nPlan:")
    for step in c.plan:
        click.echo(f"  {step.minutes:>3} min  {step.activity}")
    click.echo("\nWrite-ups:")
    for n, item in enumerate(c.items, start=1):
        click.echo(f"  {n:>2}. {item.writeup}")


@collection.command()
@click.argument("slug")
@click.option("--title", required=True, help="Title of the collection.")
@click.option("--purpose", required=True, help="One or two sentences: what the session is for.")
@click.option("--subject", "subjects", multiple=True, required=True,
              help="Audience subject (repeat for more).")
@click.option("--phase", "phases", multiple=True, required=True,
              help="Audience phase (repeat for more).")
@click.option("--curator", default="", help="Your name.")
@click.option("--step", "steps", type=(click.IntRange(1, 240), str), multiple=True,
              help="A timed activity, as MINUTES ACTIVITY (repeat, in order).")
@click.option("--introduction", default="",
              help="The introduction (Markdown); until written, a template that cannot be "
                   "published.")
@click.pass_context
def new(ctx: click.Context, slug: str, title: str, purpose: str, subjects: tuple[str, ...],
        phases: tuple[str, ...], curator: str, steps: tuple[tuple[int, str], ...],
        introduction: str) -> None:
    """Create a draft collection file content/collections/SLUG.md."""
    editor = collection_editor(_settings(ctx))
    created = editor.create(slug, title, purpose, list(subjects), list(phases), curator,
                            introduction=introduction)
    if steps:
        created = editor.set_plan(slug, list(steps))
    click.echo(f"Created {editor.path_of(slug)}: {_describe(created)}. Add write-ups with "
               f"`kb collection add {slug} WRITEUP --note ...`.")


@collection.command()
@click.argument("slug")
@click.argument("text")
@click.pass_context
def introduce(ctx: click.Context, slug: str, text: str) -> None:
    """Replace the collection's introduction with TEXT (Markdown)."""
    editor = collection_editor(_settings(ctx))
    editor.set_introduction(slug, text)
    click.echo(f"Introduction of {slug} saved.")


@collection.command()
@click.argument("slug")
@click.argument("writeup")
@click.option("--note", default="", help="Why this write-up is in the collection.")
@click.option("--question", "questions", multiple=True, help="A discussion question (repeat).")
@click.option("--task", default="", help="A task to try back in school.")
@click.option("--position", type=int, default=None, help="1-based position (default: last).")
@click.pass_context
def add(ctx: click.Context, slug: str, writeup: str, note: str, questions: tuple[str, ...],
        task: str, position: int | None) -> None:
    """Add the write-up WRITEUP (its slug) to collection SLUG with the curator's note."""
    editor = collection_editor(_settings(ctx))
    changed = editor.add(slug, writeup, note, list(questions), task, position)
    click.echo(f"Added {writeup} as item {changed.position_of(writeup)}: {_describe(changed)}.")


@collection.command()
@click.argument("slug")
@click.argument("writeup")
@click.option("--note", default=None, help="New reason why it is here.")
@click.option("--question", "questions", multiple=True,
              help="Replace the discussion questions (repeat).")
@click.option("--task", default=None, help="New task to try.")
@click.pass_context
def annotate(ctx: click.Context, slug: str, writeup: str, note: str | None,
             questions: tuple[str, ...], task: str | None) -> None:
    """Change the curator's note on one write-up; parts not given are kept."""
    if note is None and not questions and task is None:
        raise BadInputError("give at least one of --note, --question or --task")
    changed = collection_editor(_settings(ctx)).annotate(
        slug, writeup, note, list(questions) if questions else None, task)
    click.echo(f"Updated the note on {writeup}: {_describe(changed)}.")


@collection.command()
@click.argument("slug")
@click.argument("writeup")
@click.argument("position", type=int)
@click.pass_context
def move(ctx: click.Context, slug: str, writeup: str, position: int) -> None:
    """Move WRITEUP to POSITION (1 is first); the others keep their order."""
    changed = collection_editor(_settings(ctx)).move(slug, writeup, position)
    click.echo(f"Moved {writeup} to item {changed.position_of(writeup)}: "
               + ", ".join(changed.writeups))


@collection.command()
@click.argument("slug")
@click.argument("writeup")
@click.pass_context
def remove(ctx: click.Context, slug: str, writeup: str) -> None:
    """Take WRITEUP and its note out of the collection."""
    changed = collection_editor(_settings(ctx)).remove(slug, writeup)
    click.echo(f"Removed {writeup}: {_describe(changed)}.")


@collection.command()
@click.argument("slug")
@click.option("--step", "steps", type=(click.IntRange(1, 240), str), multiple=True,
              required=True, help="A timed activity, as MINUTES ACTIVITY (repeat, in order).")
@click.pass_context
def plan(ctx: click.Context, slug: str, steps: tuple[tuple[int, str], ...]) -> None:
    """Replace the session plan with the steps given."""
    changed = collection_editor(_settings(ctx)).set_plan(slug, list(steps))
    click.echo(f"New plan: {_describe(changed)}.")


@collection.command()
@click.argument("slug")
@click.argument("status", type=click.Choice(["published", "draft"]))
@click.pass_context
def status(ctx: click.Context, slug: str, status: str) -> None:
    """Publish a collection (it must be complete) or take it back to draft."""
    changed = collection_editor(_settings(ctx)).set_status(slug, status)
    click.echo(f"{_describe(changed)}.")


@collection.command()
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "md"]), required=True,
              help="pdf, html (one self-contained file) or md (a zip of Markdown files).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="File to write.")
@click.option("--base-url", default=None, help="Site address printed in links "
              "(default KB_PUBLIC_URL, else http://HOST:PORT).")
@click.pass_context
def export(ctx: click.Context, slug: str, fmt: str, output: Path, base_url: str | None) -> None:
    """Export a collection's handout as a PDF, an HTML file or a Markdown zip."""
    settings = _settings(ctx)
    curation = load_curation(settings)
    c = curation.collection(slug, include_drafts=True)
    env = create_templates(curation.library.taxonomy, curation.library.directory).env
    data = collection_export(env, curation, c, fmt, (base_url or settings.site_url).rstrip("/"),
                             settings.content_dir)
    _write(output, data)
    click.echo(f"Wrote {output} ({len(data):,} bytes, {len(curation.items_of(c))} write-ups).")


@click.group()
def programme() -> None:
    """Inset-day programmes (content/programmes/): list them and export timetables."""


@programme.command("list")
@click.pass_context
def list_programmes(ctx: click.Context) -> None:
    """List every programme with its date and number of sessions."""
    curation = load_curation(_settings(ctx))
    for p in sorted(curation.programmes.values(), key=lambda p: p.date):
        click.echo(f"{p.slug:<40} {p.date.isoformat()} {len(p.sessions()):>3} sessions  {p.title}")


@programme.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), required=True,
              help="pdf or html (one self-contained file).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="File to write.")
@click.option("--base-url", default=None, help="Site address printed in links.")
@click.pass_context
def export_programme(ctx: click.Context, slug: str, fmt: str, output: Path,
                     base_url: str | None) -> None:
    """Export the one-page timetable of a programme."""
    settings = _settings(ctx)
    curation = load_curation(settings)
    p = curation.programme(slug)
    env = create_templates(curation.library.taxonomy, curation.library.directory).env
    data = programme_export(env, curation, p, fmt, (base_url or settings.site_url).rstrip("/"))
    _write(output, data)
    click.echo(f"Wrote {output} ({len(data):,} bytes, {len(p.sessions())} sessions).")


COMMANDS = [collection, programme]

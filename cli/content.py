"""CLI commands that need only kb: validate (write-ups, collections, programmes), new, stats."""

from __future__ import annotations

import datetime as dt
import sys

import click

from kb.content.authoring import create_writeup
from kb.content.coverage import build_coverage, format_coverage
from kb.content.library import load_library, load_reference
from kb.content.stats import count_by_tag
from kb.curation.catalogue import load_curation
from kb.curation.materials import check_materials
from kb.errors import BadInputError, KBError
from kb.settings import Settings


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


@click.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Check every write-up, collection and programme; report all problems.

    Exits 1 if any file is invalid.
    """
    settings = settings_of(ctx)
    library = load_library(settings)
    curation = load_curation(settings, library)
    materials = check_materials(settings.content_dir, settings.max_material_bytes, {
        "practice": {d.slug for d in library.documents},
        "collections": set(curation.collections)})
    for problem in sorted(library.problems) + sorted(curation.problems) + materials:
        click.echo(str(problem), err=problem.level == "error")
    total = len(library.documents) + len(library.skipped)
    click.echo(f"{len(library.documents)} of {total} write-ups valid; "
               f"{len(library.skipped)} invalid; "
               f"{sum(p.level == 'warning' for p in library.problems)} warnings.")
    bad_collections = sum(path.endswith(".md") for path in curation.skipped)
    bad_programmes = len(curation.skipped) - bad_collections
    click.echo(f"{len(curation.collections)} of {len(curation.collections) + bad_collections} "
               f"collections and {len(curation.programmes)} of "
               f"{len(curation.programmes) + bad_programmes} programmes valid; "
               f"{sum(p.level == 'warning' for p in curation.problems)} warnings.")
    broken = [p for p in materials if p.level == "error"]
    if broken:
        click.echo(f"{len(broken)} attached file(s) cannot be used; they are left out of "
                   "search and handouts until replaced.")
    if library.skipped or curation.skipped or broken:
        sys.exit(1)


@click.command()
@click.option("--title", required=True, help="Title of the write-up.")
@click.option("--school", required=True, help="School id or name (see content/schools.yaml).")
@click.option("--author", default="", help="Your name.")
@click.option("--subject", default="whole-school", show_default=True, help="Subject tag.")
@click.option("--intervention", default="feedback", show_default=True, help="Intervention tag.")
@click.option("--slug", default=None, help="File name without .md (default: from the title).")
@click.option("--date", "date_", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date of the write-up, YYYY-MM-DD (default: today).")
@click.pass_context
def new(ctx: click.Context, title: str, school: str, author: str, subject: str,
        intervention: str, slug: str | None, date_: dt.datetime | None) -> None:
    """Create a draft write-up from the template in content/practice/."""
    settings = settings_of(ctx)
    taxonomy, directory = load_reference(settings.content_dir)
    path = create_writeup(settings.practice_dir, taxonomy, directory, title=title,
                          school=school, author=author, subject=subject,
                          intervention=intervention, date=date_.date() if date_ else None,
                          slug=slug)
    click.echo(f"Created {path} (status: draft). Fill in the sections, set status: published, "
               "then run `kb validate` and `kb index`.")


@click.command()
@click.option("--coverage", is_flag=True,
              help="Show the subject x intervention coverage map instead.")
@click.option("--key-stage", "key_stages", multiple=True,
              help="With --coverage: count only write-ups for this key stage (repeatable).")
@click.pass_context
def stats(ctx: click.Context, coverage: bool, key_stages: tuple[str, ...]) -> None:
    """Count valid write-ups by subject, intervention, phase, key stage, group and strength."""
    settings = settings_of(ctx)
    library = load_library(settings)
    if coverage:
        vocab = library.taxonomy.for_field("key_stages")
        stages = []
        for stage in key_stages:
            term = vocab.resolve(stage)
            if term is None:
                raise BadInputError("--key-stage: " + library.taxonomy.unknown_tag_message(
                    "key_stages", stage))
            stages.append(term)
        docs = [{f: d.tags(f) for f in ("subjects", "interventions", "key_stages",
                                        "evidence_strength")} for d in library.published()]
        grid = build_coverage(docs, library.taxonomy, stages)
        click.echo(f"{grid.total} published write-ups"
                   + (f" for {', '.join(stages)}" if stages else ""))
        click.echo(format_coverage(grid, library.taxonomy))
        return
    counts = count_by_tag(library.documents)
    click.echo(f"{len(library.documents)} write-ups "
               f"({len(library.published())} published)")
    for field_name, counter in counts.items():
        click.echo(f"\n{field_name}")
        vocab = None
        try:
            vocab = library.taxonomy.for_field(field_name)
        except KeyError:
            pass
        for term, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            label = vocab.label(term) if vocab else term
            click.echo(f"  {n:4d}  {label}")


COMMANDS = [validate, new, stats]
__all__ = ["COMMANDS", "KBError"]

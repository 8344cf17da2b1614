"""CLI commands for school context and indicators: `kb schools import` and `kb schools show`."""

from __future__ import annotations

from pathlib import Path

import click

from kb.content.library import load_reference
from kb.settings import Settings
from kb.state import schooldata
from kb.state.database import open_state


@click.group()
def schools() -> None:
    """School context and yearly indicators (school-level figures only)."""


@schools.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def schools_import(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Import context and indicator CSV files: all of them, or nothing if any has a problem."""
    settings: Settings = ctx.find_root().obj
    _, directory = load_reference(settings.content_dir)
    report = schooldata.import_csv(open_state(settings.state_path), directory, list(files))
    click.echo(f"Imported the context of {report.contexts} schools and "
               f"{report.indicator_rows} yearly figures from {len(report.files)} file(s).")


@schools.command("show")
@click.argument("school")
@click.pass_context
def schools_show(ctx: click.Context, school: str) -> None:
    """One school's context and its figures year by year."""
    settings: Settings = ctx.find_root().obj
    _, directory = load_reference(settings.content_dir)
    found = directory.resolve_school(school)
    if found is None:
        raise click.BadParameter(f"unknown school {school!r}", param_hint="SCHOOL")
    store = open_state(settings.state_path)
    context = schooldata.load_contexts(store).get(found.id)
    click.echo(f"{found.name} ({found.phase})")
    if context:
        click.echo(f"  {context.pupils} pupils, {context.disadvantaged:g}% disadvantaged, "
                   f"{context.eal:g}% EAL, {context.send:g}% SEND, {context.setting}, "
                   f"inspection: {context.inspection}")
    for indicator, years in schooldata.load_indicators(store).get(found.id, {}).items():
        label = schooldata.INDICATORS[indicator].label
        click.echo(f"  {label}: " + ", ".join(f"{schooldata.year_label(y)} {v:g}"
                                              for y, v in sorted(years.items())))


COMMANDS = [schools]

"""The README documents every CLI command and every setting."""

from __future__ import annotations

import re
from pathlib import Path

import click

from cli.main import cli
from kb.settings import SETTING_NAMES, setting_docs

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_in_the_readme() -> None:
    for name in cli.commands:
        assert f"kb {name}" in README, name


def test_every_subcommand_of_a_group_is_in_the_readme() -> None:
    # On a line naming its group: in full (`kb bench scale`) or alone after the group's first
    # subcommand, as the command table does (`kb collection list` / `show SLUG`).
    lines = README.splitlines()
    for name, group in cli.commands.items():
        if not isinstance(group, click.Group):
            continue
        assert group.commands, name
        for sub in group.commands:
            pattern = re.compile(rf"`(kb {name} )?{re.escape(sub)}\b")
            assert any(f"kb {name} " in line and pattern.search(line) for line in lines), \
                f"kb {name} {sub}"


def test_every_setting_is_in_the_readme() -> None:
    for name in SETTING_NAMES:
        assert f"KB_{name.upper()}" in README, name


def test_readme_gives_the_two_commands() -> None:
    assert "make run" in README and "make test" in README


def test_the_readme_settings_table_gives_each_settings_default_and_help() -> None:
    for doc in setting_docs():
        assert f"| `{doc.variable}` | {doc.default} | {doc.doc} |" in README, doc.variable

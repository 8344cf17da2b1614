"""The README documents every CLI command and every setting."""

from __future__ import annotations

from pathlib import Path

from kb.settings import SETTING_NAMES, setting_docs
from cli.main import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_in_the_readme() -> None:
    for name in cli.commands:
        assert f"kb {name}" in README, name


def test_every_setting_is_in_the_readme() -> None:
    for name in SETTING_NAMES:
        assert f"KB_{name.upper()}" in README, name


def test_readme_gives_the_two_commands() -> None:
    assert "make run" in README and "make test" in README


def test_the_readme_settings_table_gives_each_settings_default_and_help() -> None:
    for doc in setting_docs():
        assert f"| `{doc.variable}` | {doc.default} | {doc.doc} |" in README, doc.variable

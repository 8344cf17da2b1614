"""Settings: defaults, then KB_* variables, then flags; every value parsed by its declared type,
every bad value refused with a message naming the variable."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.errors import BadInputError
from kb.settings import SETTING_NAMES, Settings, load_settings, parse_setting, setting


@dataclass(frozen=True)
class Extended(Settings):
    """Settings with a yes/no and a decimal field, as later features may add."""

    verbose: bool = setting(False, "print more")
    share: float = setting(0.5, "a share of something", high=1)


def test_environment_values_are_parsed_by_type_then_flags_win() -> None:
    settings = load_settings({"KB_PORT": " 9001 ", "KB_MODEL_CACHE": "/tmp/models",
                              "KB_EMBEDDER": "onnx", "KB_PUBLIC_URL": ""}, page_size=25)
    assert settings.port == 9001 and settings.page_size == 25
    assert settings.model_cache == Path("/tmp/models") and settings.embedder == "onnx"
    assert settings.public_url == ""  # an empty variable is the default, not a value


def test_yes_no_and_decimal_settings_never_stay_text() -> None:
    assert Extended().with_overrides(verbose="yes", share="0.25") == Extended(verbose=True,
                                                                              share=0.25)
    assert Extended().with_overrides(verbose="OFF").verbose is False
    assert Extended().with_overrides(verbose="1", share=1).share == 1.0


@pytest.mark.parametrize("changes, message", [
    ({"port": "eighty"}, "setting KB_PORT must be a whole number, got 'eighty'"),
    ({"port": "1.5"}, "setting KB_PORT must be a whole number, got '1.5'"),
    ({"port": True}, "setting KB_PORT must be a whole number, got True"),
    ({"port": "70000"}, "setting KB_PORT must be a whole number from 0 to 65535, got '70000'"),
    ({"page_size": "0"}, "setting KB_PAGE_SIZE must be a whole number of at least 1, got '0'"),
    ({"session_hours": -2}, "setting KB_SESSION_HOURS must be a whole number of at least 1, "
                            "got -2"),
    ({"embedder": "gpu"}, "setting KB_EMBEDDER must be one of onnx-int8, onnx, torch, got 'gpu'"),
    ({"data_dir": 5}, "setting KB_DATA_DIR must be a folder or file path, got 5"),
    ({"verbose": "maybe"}, "setting KB_VERBOSE must be yes or no (true/false, on/off, 1/0), "
                           "got 'maybe'"),
    ({"share": "half"}, "setting KB_SHARE must be a number, got 'half'"),
    ({"share": "nan"}, "setting KB_SHARE must be a number, got 'nan'"),
    ({"share": "1.5"}, "setting KB_SHARE must be a number from 0 to 1, got '1.5'"),
    ({"colour": "red"}, "unknown setting 'colour'"),
])
def test_a_bad_value_is_refused_naming_the_variable(changes: dict[str, object],
                                                    message: str) -> None:
    with pytest.raises(BadInputError) as caught:
        Extended().with_overrides(**changes)
    assert str(caught.value) == message


def test_every_way_of_building_settings_parses_the_values() -> None:
    assert Settings(port="8080").port == 8080  # type: ignore[arg-type]
    assert dataclasses.replace(Settings(), content_dir="elsewhere").content_dir == \
        Path("elsewhere")
    with pytest.raises(BadInputError, match="KB_PORT"):
        dataclasses.replace(Settings(), port="x")


def test_settings_are_frozen_and_every_field_has_help_and_a_parser() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    assert hash(settings) == hash(Settings())
    assert SETTING_NAMES == [spec.name for spec in fields(Settings)]
    for spec in fields(Settings):
        assert spec.metadata.get("doc"), f"declare {spec.name} with setting(default, help)"
        assert parse_setting(Settings, spec, spec.default) == spec.default


def test_the_cli_prints_a_bad_variable_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--content-dir", str(tmp_path), "stats"],
                                env={"KB_PAGE_SIZE": "lots"})
    assert result.exit_code == 1 and result.exception is not None
    assert "Error: setting KB_PAGE_SIZE must be a whole number, got 'lots'" in result.output
    assert "Traceback" not in result.output

"""One settings object for the whole product: defaults, then KB_* environment variables, then flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from kb.errors import BadInputError

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """Where content and derived data live, which model embeds, and how the server listens."""

    content_dir: Path = Path("content")
    data_dir: Path = Path("var")
    model: str = BUNDLED_MODEL
    host: str = "127.0.0.1"
    port: int = 8000
    max_query_chars: int = 300
    page_size: int = 10
    max_file_bytes: int = 256_000
    ann_threshold: int = 50_000  # vectors; past this the FAISS index is approximate (IVF)

    @property
    def practice_dir(self) -> Path:
        return self.content_dir / "practice"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with the non-None overrides applied (used for CLI flags)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **_coerce(clean))


ENV_PREFIX = "KB_"


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in types:
            raise BadInputError(f"unknown setting {name!r}")
        kind = types[name]
        try:
            if kind in ("Path", Path):
                out[name] = Path(raw)
            elif kind in ("int", int):
                out[name] = int(raw)
            else:
                out[name] = str(raw)
        except ValueError:
            raise BadInputError(
                f"setting {ENV_PREFIX}{name.upper()} must be a whole number, got {raw!r}"
            ) from None
    return out


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, then KB_* variables, then explicit overrides."""
    env = os.environ if environ is None else environ
    from_env = {
        f.name: env[ENV_PREFIX + f.name.upper()]
        for f in fields(Settings)
        if env.get(ENV_PREFIX + f.name.upper())
    }
    return Settings().with_overrides(**from_env).with_overrides(**overrides)


SETTING_NAMES = [f.name for f in fields(Settings)]

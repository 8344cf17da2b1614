"""One settings object for the whole product: defaults, then KB_* environment variables, then flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from kb.errors import BadInputError

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
# Embedding backends, fastest first; the default was chosen by `kb bench --embedders`.
EMBEDDERS = ("onnx-int8", "onnx", "torch")


@dataclass(frozen=True)
class Settings:
    """Where content and derived data live, which model embeds, and how the server listens."""

    content_dir: Path = Path("content")
    data_dir: Path = Path("var")
    model: str = BUNDLED_MODEL
    embedder: str = EMBEDDERS[0]
    host: str = "127.0.0.1"
    port: int = 8000
    max_query_chars: int = 300
    page_size: int = 10
    max_file_bytes: int = 256_000
    public_url: str = ""
    search_log_days: int = 180
    model_cache: Path = Path("")  # where built model files go; empty = <data_dir>/models
    max_body_bytes: int = 1_000_000
    session_hours: int = 12
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    max_submissions_per_hour: int = 30
    ann_threshold: int = 50_000  # vectors; past this the FAISS index is approximate (IVF)

    @property
    def collections_dir(self) -> Path:
        return self.content_dir / "collections"

    @property
    def programmes_dir(self) -> Path:
        return self.content_dir / "programmes"

    @property
    def site_url(self) -> str:
        """The address printed in handouts: KB_PUBLIC_URL, or where `kb serve` listens."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def models_dir(self) -> Path:
        """Model files built from the bundled model (e.g. the ONNX export), reused by builds."""
        return self.model_cache if str(self.model_cache) not in ("", ".") else \
            self.data_dir / "models"

    @property
    def practice_dir(self) -> Path:
        return self.content_dir / "practice"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def state_path(self) -> Path:
        """Accounts, sessions, submissions, revisions and the audit log (not derived: back up)."""
        return self.data_dir / "state.db"

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
        if name == "embedder" and out[name] not in EMBEDDERS:
            raise BadInputError(f"setting {ENV_PREFIX}EMBEDDER must be one of "
                                f"{', '.join(EMBEDDERS)}, got {raw!r}")
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

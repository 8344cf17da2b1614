"""One settings object for the product: defaults, then KB_* environment variables, then flags.

Each field carries its help text (the README's settings table is checked against it) and is
parsed by its declared type wherever a value comes from, so "8000" becomes 8000, "no" becomes
False, and "eighty" is refused with a message naming the variable.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Mapping, get_args, get_origin, get_type_hints

from kb.errors import BadInputError

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
# Embedding backends, fastest first; the default was chosen by `kb bench --embedders`.
EmbedderName = Literal["onnx-int8", "onnx", "torch"]
EMBEDDERS: tuple[str, ...] = get_args(EmbedderName)
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                  "sunday"]
ENV_PREFIX = "KB_"
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def setting(default: Any, doc: str, *, shown: str | None = None, low: int | None = 0,
            high: int | None = None) -> Any:
    """A settings field: its default, its help text, how the README shows the default (when
    not the value itself) and, for numbers, the allowed range."""
    return field(default=default, metadata={"doc": doc, "shown": shown, "low": low,
                                            "high": high})


@dataclass(frozen=True)
class Settings:
    """Where content and derived data live, which model embeds, and how the server listens."""

    content_dir: Path = setting(Path("content"), "the content folder (`practice/`, "
                                "`collections/`, `programmes/`, `taxonomy.yaml`, `schools.yaml`)")
    data_dir: Path = setting(Path("var"), "the index (`index/`, derived, safe to delete) and the "
                             "application database (`state.db`: back it up)")
    model: str = setting(BUNDLED_MODEL, "embedding model: the bundled one or a local model "
                         "folder")
    embedder: EmbedderName = setting(EMBEDDERS[0], "embedding backend: `onnx-int8` (default, "
                                     "fastest), `onnx` or `torch` (the fallback)")
    host: str = setting("127.0.0.1", "address `kb serve` listens on")
    port: int = setting(8000, "port `kb serve` listens on", high=65_535)
    max_query_chars: int = setting(300, "longer queries are cut, with a notice", low=1)
    page_size: int = setting(10, "results per page", low=1)
    max_file_bytes: int = setting(256_000, "larger write-up files are refused", low=1)
    public_url: str = setting("", "the site's address printed in handouts; empty: the address "
                              "asked for, or `http://KB_HOST:KB_PORT` from the CLI",
                              shown="(empty)")
    search_log_days: int = setting(180, "how long the search log (query text, filters, result "
                                   "count, best score, opened result, time; nothing about the "
                                   "person) is kept")
    model_cache: Path = setting(Path(""), "where model files built from the bundled model (the "
                                "ONNX export) are kept", shown="`<data dir>/models`")
    max_body_bytes: int = setting(1_000_000, "larger request bodies (forms, uploads) get a 413",
                                  low=1)
    max_material_bytes: int = setting(20_000_000, "larger session materials (slides, "
                                      "worksheets, handouts) are refused; an upload form's "
                                      "body may be this much plus 100 kB", low=1)
    session_hours: int = setting(12, "how long a sign-in lasts", low=1)
    login_max_failures: int = setting(5, "failed sign-ins (in 15 minutes) before an account "
                                      "must wait", low=1)
    login_lockout_seconds: int = setting(300, "how long it waits after each further failure")
    max_submissions_per_hour: int = setting(30, "saves per contributor per hour (moderators "
                                            "are exempt)")
    smtp_url: str = setting("", "where e-mail goes: `smtp://user:pass@host:587` (STARTTLS when "
                            "the server offers it, always with `?starttls=required`; a "
                            "password is only ever sent over TLS) or "
                            "`smtps://user:pass@host:465` (TLS from the start); the server's "
                            "certificate is always checked; empty: messages are written as "
                            "`.eml` files under `<data dir>/outbox/`", shown="(empty)")
    smtp_ca_file: Path = setting(Path(""), "a PEM file of the certificate authorities to trust "
                                 "for the mail server (e.g. a county's own CA); empty: the "
                                 "system's certificate store", shown="(empty: system store)")
    mail_from: str = setting("Westmoor practice library <library@localhost>", "the From "
                             "address of every message the site sends")
    digest_day: Weekday = setting("monday", "the day the weekly digest of followed searches "
                                  "goes out (`kb serve` sends it; `kb mail digest` by hand)")
    digest_hour: int = setting(7, "the hour (UTC, 0-23) on that day from which it is sent",
                               high=23)
    invite_days: int = setting(7, "how long an invitation link works", low=1, high=90)
    reset_minutes: int = setting(60, "how long a password-reset link works", low=5,
                                 high=1440)
    resets_per_hour: int = setting(3, "password-reset e-mails per address (and per account) "
                                   "an hour", low=1)
    ann_threshold: int = setting(50_000, "passages (vectors) from which the FAISS index is "
                                 "approximate (IVF) instead of exact; applied at the next "
                                 "`kb index`", low=1)

    def __post_init__(self) -> None:
        # Every way of building settings (defaults, environment, flags, dataclasses.replace)
        # passes through here, so a value never keeps the wrong type.
        for spec in fields(self):
            object.__setattr__(self, spec.name, parse_setting(type(self), spec,
                                                              getattr(self, spec.name)))

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
    def smtp_ca(self) -> Path | None:
        """KB_SMTP_CA_FILE, or None for the system's certificate store."""
        return None if str(self.smtp_ca_file) in ("", ".") else self.smtp_ca_file

    @property
    def outbox_dir(self) -> Path:
        """Where messages are written as .eml files when no KB_SMTP_URL is set."""
        return self.data_dir / "outbox"

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
        names = {spec.name for spec in fields(self)}
        for name in clean:
            if name not in names:
                raise BadInputError(f"unknown setting {name!r}")
        return replace(self, **clean)


def env_name(name: str) -> str:
    """The environment variable of a setting: port -> KB_PORT."""
    return ENV_PREFIX + name.upper()


@functools.cache
def _types(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def parse_setting(cls: type, spec: Field[Any], raw: Any) -> Any:
    """A setting's value as its declared type, from text (the environment) or a typed value;
    raises BadInputError naming the variable."""
    kind, meta = _types(cls)[spec.name], spec.metadata
    where = f"setting {env_name(spec.name)}"
    if get_origin(kind) is Literal:
        choices = get_args(kind)
        if raw not in choices:
            raise BadInputError(f"{where} must be one of {', '.join(choices)}, got {raw!r}")
        return raw
    if kind is Path:
        if not isinstance(raw, (str, os.PathLike)):
            raise BadInputError(f"{where} must be a folder or file path, got {raw!r}")
        return Path(raw)
    if kind is str:
        return str(raw)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise BadInputError(f"{where} must be yes or no (true/false, on/off, 1/0), "
                            f"got {raw!r}")
    if kind is int:
        try:
            if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                raise ValueError
            value = int(raw)
        except ValueError:
            raise BadInputError(f"{where} must be a whole number, got {raw!r}") from None
        return _in_range(f"{where} must be a whole number", value, meta, raw)
    if kind is float:
        try:
            if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
                raise ValueError
            number = float(raw)
            if not math.isfinite(number):
                raise ValueError
        except ValueError:
            raise BadInputError(f"{where} must be a number, got {raw!r}") from None
        return _in_range(f"{where} must be a number", number, meta, raw)
    raise TypeError(f"no parser for {spec.name}: {kind!r}")  # a programming error


def _in_range(must: str, value: Any, meta: Mapping[str, Any], raw: Any) -> Any:
    low, high = meta.get("low"), meta.get("high")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BadInputError(f"{must} {bounds}, got {raw!r}")
    return value


def settings_environment(settings: Settings) -> dict[str, str]:
    """The KB_* variables that make load_settings() rebuild these settings (for workers)."""
    return {env_name(spec.name): str(getattr(settings, spec.name)) for spec in fields(settings)}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, then KB_* variables, then explicit overrides."""
    env = os.environ if environ is None else environ
    from_env = {spec.name: env[env_name(spec.name)] for spec in fields(Settings)
                if env.get(env_name(spec.name))}
    return Settings().with_overrides(**from_env).with_overrides(**overrides)


@dataclass(frozen=True)
class SettingDoc:
    """One row of the settings table: the variable, its default as shown, and its help."""

    variable: str
    default: str
    doc: str


def setting_docs(cls: type = Settings) -> list[SettingDoc]:
    """Every setting with its help text, in declaration order (the README table)."""
    return [SettingDoc(env_name(spec.name), spec.metadata.get("shown") or f"`{spec.default}`",
                       spec.metadata.get("doc", "")) for spec in fields(cls)]


SETTING_NAMES = [spec.name for spec in fields(Settings)]

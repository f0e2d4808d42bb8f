"""One typed settings object, read from ``RIDGELINE_*`` environment variables and validated at start-up.

| variable | meaning | default |
|---|---|---|
| RIDGELINE_DATA_DIR | where the database, artifacts, keys and assets live | ``./var`` |
| RIDGELINE_DATABASE_URL | SQLAlchemy async URL (``sqlite+aiosqlite:///...`` or ``postgresql+asyncpg://...``) | SQLite in the data dir |
| RIDGELINE_REDIS_URL | Redis for the distributed job queue (later issue); unset = in-process jobs | unset |
| RIDGELINE_SIGNING_KEY_FILE | Ed25519 private key (PEM, PKCS8) used to sign manifests | generated under the data dir |
| RIDGELINE_LOG_LEVEL | DEBUG, INFO, WARNING, ERROR | INFO |
| RIDGELINE_HOST / RIDGELINE_PORT | bind address for ``ridgeline serve`` | 127.0.0.1 / 8000 |
| RIDGELINE_WORKERS | granian worker processes | 1 |
| RIDGELINE_ONLY | serve one family at the root (routing, sim, retail, autopack, genai) | unset = all |
| RIDGELINE_JOB_WORKERS | threads for heavy in-process jobs | 2 |
| RIDGELINE_SEED_DEFAULTS | build the embedded sample data on first start (1/0) | 1 |
| RIDGELINE_CLAMD_URL | ClamAV daemon that scans uploads (``unix:///run/clamav/clamd.ctl``, ``tcp://host:3310``) | unset = not scanned |
| RIDGELINE_CLAMD_TIMEOUT_S | how long one scan may take before the upload is refused (503) | 30 |
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, TypeVar, Union, get_args, get_origin

import msgspec

FAMILIES: tuple[str, ...] = ("routing", "sim", "retail", "autopack", "genai")
S = TypeVar("S", bound=msgspec.Struct)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
_ALLOWED_DB_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")
_DRIVER_FOR_PLAIN_SCHEME = {
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}


# scheme://host[:port], no path, no wildcard: a wildcard origin would let any site read answers
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable and what is expected."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path = Path("./var")
    database_url: str = ""
    redis_url: str | None = None
    signing_key_file: Path | None = None
    log_level: LogLevel = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    only: str | None = None
    job_workers: int = 2
    seed_defaults: bool = True
    # Exact origins allowed to read answers cross-origin; empty = CORS off (security_headers.py)
    cors_origins: tuple[str, ...] = ()
    hsts: bool = False  # send Strict-Transport-Security: only behind a TLS-terminating proxy
    # ClamAV daemon that scans uploads (platform/scanning.py); unset = uploads are not scanned
    clamd_url: str | None = None
    clamd_timeout_s: float = 30.0

    @property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL; plain ``postgresql://`` and ``sqlite://`` get their async driver."""
        url = self.database_url
        for plain, with_driver in _DRIVER_FOR_PLAIN_SCHEME.items():
            if url.startswith(plain):
                return with_driver + url[len(plain) :]
        if url:
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ridgeline.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return not self.database_url or self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``RIDGELINE_*`` variables; raise SettingsError naming any bad value."""
        settings = load_env_struct(cls, "RIDGELINE_", env, **overrides)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"RIDGELINE_PORT must be 1..65535, got {self.port}")
        if not 1 <= self.workers <= 256:
            raise SettingsError(f"RIDGELINE_WORKERS must be 1..256, got {self.workers}")
        if not 1 <= self.job_workers <= 256:
            raise SettingsError(f"RIDGELINE_JOB_WORKERS must be 1..256, got {self.job_workers}")
        if self.only is not None and self.only not in FAMILIES:
            raise SettingsError(f"RIDGELINE_ONLY must be one of {', '.join(FAMILIES)}, got {self.only!r}")
        scheme = self.resolved_database_url.split("://", 1)[0]
        if "://" not in self.resolved_database_url or scheme not in _ALLOWED_DB_SCHEMES:
            raise SettingsError(
                "RIDGELINE_DATABASE_URL must start with one of "
                f"{', '.join(s + '://' for s in _ALLOWED_DB_SCHEMES)}; got scheme {scheme!r}"
            )
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://")):
            raise SettingsError("RIDGELINE_REDIS_URL must start with redis:// or rediss://")
        for origin in self.cors_origins:
            if not _ORIGIN.match(origin):
                raise SettingsError(
                    f"RIDGELINE_CORS_ORIGINS entries must be exact origins like https://app.example.com, got {origin!r}"
                )
        if self.clamd_url is not None:
            from ridgeline.platform.scanning import Scanner

            try:
                Scanner(self.clamd_url)
            except ValueError as exc:
                raise SettingsError(f"RIDGELINE_CLAMD_URL: {exc}") from None
        if not 0 < self.clamd_timeout_s <= 3600:
            raise SettingsError(f"RIDGELINE_CLAMD_TIMEOUT_S must be in (0, 3600], got {self.clamd_timeout_s}")
        if self.signing_key_file is not None and not self.signing_key_file.is_file():
            raise SettingsError(f"RIDGELINE_SIGNING_KEY_FILE does not exist: {self.signing_key_file}")


def load_env_struct(
    cls: type[S], prefix: str, env: Mapping[str, str] | None = None, **overrides: object
) -> S:
    """Build the settings Struct ``cls`` from ``<prefix><FIELD>`` variables (``RIDGELINE_ROUTING_ASSETS``).

    Values are converted leniently (``"0.9"`` -> float, ``"1"`` -> bool); list and tuple fields are
    comma-separated. Constraints come from the Struct's annotations (``msgspec.Meta(ge=0, le=1)``) and
    from a ``validate()`` method if it has one. Any bad value raises :class:`SettingsError` naming
    the variable.
    """
    env = os.environ if env is None else env
    raw: dict[str, object] = {}
    for field in msgspec.structs.fields(cls):
        value = env.get(f"{prefix}{field.name.upper()}")
        if value is None or value == "":
            continue
        if _is_sequence(field.type):
            raw[field.name] = [part.strip() for part in value.split(",") if part.strip()]
        else:
            raw[field.name] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        out = msgspec.convert(raw, cls, strict=False, dec_hook=_decode_path)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc), prefix)) from None
    validate = getattr(out, "validate", None)
    if cls is not Settings and callable(validate):
        validate()
    return out


def _is_sequence(tp: object) -> bool:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return any(_is_sequence(a) for a in get_args(tp) if a is not type(None))
    if origin is Annotated:
        return _is_sequence(get_args(tp)[0])
    return origin in (list, tuple, frozenset, set) or tp in (list, tuple, frozenset, set)


def _decode_path(type_: type, obj: object) -> object:
    if type_ is Path and isinstance(obj, str):
        return Path(obj)
    raise NotImplementedError(f"cannot convert {obj!r} to {type_}")


def _explain(msgspec_message: str, prefix: str = "RIDGELINE_") -> str:
    # msgspec says e.g. "Expected `int`, got `str` - at `$.port`"; name the variable instead.
    if "$." in msgspec_message:
        field = msgspec_message.rsplit("$.", 1)[1].strip("`").split(".")[0].split("[")[0]
        return f"{prefix}{field.upper()}: {msgspec_message.split(' - at ')[0]}"
    return msgspec_message

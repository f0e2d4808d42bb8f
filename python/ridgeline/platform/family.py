"""How a family declares itself to the composer (``ridgeline.app`` / ``ridgeline.cli``).

A family's ``api`` package exposes ``family = Family(...)``: its route handlers, its tables (the
SQLAlchemy ``MetaData`` they live on), its job kinds, its settings Struct (read from
``RIDGELINE_<NAME>_*``), the services it builds at start-up and hands to handlers by dependency
injection, its error renderer and reason-code catalogue, and start-up/shutdown hooks. The platform
imports no family module: the composer reads these declarations and wires them into the database
(migrations), the job service and Litestar. See docs/platform.md.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
from litestar.datastructures import State

from ridgeline.platform.errors import Renderer, render_fastapi_detail
from ridgeline.platform.problems import Catalogue, ServiceUnavailable
from ridgeline.platform.settings import SettingsError, load_env_struct

if TYPE_CHECKING:
    from ridgeline.platform.context import AppContext
    from ridgeline.platform.jobs import Handler

T = TypeVar("T")
log = logging.getLogger("ridgeline.family")

Hook = Callable[["AppContext"], Awaitable[None]]


@dataclass(frozen=True)
class Provider(Generic[T]):
    """A service the family builds at start-up; handlers receive it as ``<name>: <type>``.

    ``start(ctx, settings)`` builds it (``settings`` is the family's settings Struct, or None);
    ``stop(service)`` releases it at shutdown. When ``start`` raises, the family's endpoints that
    take the service answer 503 ``service_unavailable`` in the family's error shape.
    """

    type: type[T]
    start: Callable[[AppContext, Any], Awaitable[T]]
    stop: Callable[[T], Awaitable[None]] | None = None
    name: str = "svc"


@dataclass(frozen=True)
class Family:
    """What a family contributes to the app.

    ``route_handlers`` are mounted under ``/<name>`` (or at the root with ``--only``), with the
    ``services`` as dependencies of that router. ``on_startup`` runs after migrations and after the
    services started; ``on_shutdown`` before the services stop and the database closes.
    """

    name: str
    route_handlers: Sequence[Any]
    render_error: Renderer = render_fastapi_detail
    validation_status: int = 422
    on_startup: Sequence[Hook] = field(default=())
    on_shutdown: Sequence[Hook] = field(default=())
    tags: Sequence[str] = field(default=())
    metadata: Any = None  # sqlalchemy.MetaData holding the family's tables (migrations, tooling)
    job_kinds: Mapping[str, Handler] = field(default_factory=dict)
    settings: type[msgspec.Struct] | None = None
    settings_prefix: str | None = None  # default RIDGELINE_<NAME>_
    services: Sequence[Provider[Any]] = field(default=())
    reason_codes: Catalogue | None = None
    doc_pages: Sequence[str] = field(default=())  # docs/*.md pages listing the reason codes
    # Who may call a route that declares no policy of its own: a platform.auth Policy, or a callable
    # AuthSettings -> Policy (e.g. public_unless_required(name)). None: public_unless_required(name).
    default_policy: Any = None

    @property
    def env_prefix(self) -> str:
        return self.settings_prefix or f"RIDGELINE_{self.name.upper()}_"

    def load_settings(self, env: Mapping[str, str] | None = None) -> msgspec.Struct | None:
        """The family's settings from the environment; SettingsError names a bad variable."""
        if self.settings is None:
            return None
        return load_env_struct(self.settings, self.env_prefix, env)


def validate_settings(families: Sequence[Family], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every family's settings, validated together (first bad variable raises SettingsError)."""
    out: dict[str, Any] = {}
    for fam in families:
        out[fam.name] = fam.load_settings(env)
    return out


def metadata_of(families: Sequence[Family]) -> list[Any]:
    """The distinct MetaData objects the families declare, plus the platform's (jobs, artifacts)."""
    from ridgeline.platform import artifacts as _artifacts  # noqa: F401  (platform tables)
    from ridgeline.platform import jobs as _jobs  # noqa: F401
    from ridgeline.platform import vectors as _vectors  # noqa: F401  (ai_collections, ai_vectors)
    from ridgeline.platform.auth import store as _auth  # noqa: F401  (users, keys, audit, rate limits)
    from ridgeline.platform.db import metadata

    out: list[Any] = [metadata]
    for fam in families:
        if fam.metadata is not None and all(fam.metadata is not m for m in out):
            out.append(fam.metadata)
    return out


def service_dependency(family: str, service_type: type[T]) -> Callable[..., T]:
    """A Litestar dependency callable returning the family's started service (503 when it did not)."""

    def provide(state: State) -> Any:
        svc = state["ctx"].services.get(service_type)
        if svc is None:
            raise ServiceUnavailable(family)
        return svc

    provide.__name__ = f"provide_{family}_{service_type.__name__}"
    return provide


__all__ = [
    "Family",
    "Hook",
    "Provider",
    "SettingsError",
    "metadata_of",
    "service_dependency",
    "validate_settings",
]

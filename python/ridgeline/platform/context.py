"""The services a request handler can use, built once per process and held on ``app.state.ctx``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from litestar.di import NamedDependency

from ridgeline.platform.artifacts import ArtifactStore
from ridgeline.platform.db import Database
from ridgeline.platform.errors import Renderer, render_fastapi_detail
from ridgeline.platform.jobs import JobService, make_executor
from ridgeline.platform.settings import Settings
from ridgeline.platform.signing import Signer


class AppContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_at = time.time()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings)
        self.jobs = JobService(self.db, make_executor(settings.job_workers), app=self)
        self.artifacts = ArtifactStore(self.db, settings.data_dir / "artifacts")
        self.signer = Signer.load_or_create(settings.data_dir, settings.signing_key_file)
        # Per-family objects loaded at start-up (graphs, models, caches), keyed by family name.
        self.state: dict[str, Any] = {}

    @property
    def uptime_s(self) -> float:
        return time.time() - self.started_at


# Handlers take the context as ``ctx: Ctx`` (Litestar injects the app-level dependency named "ctx").
Ctx: TypeAlias = NamedDependency[AppContext]

Hook = Callable[[AppContext], Awaitable[None]]


@dataclass(frozen=True)
class Family:
    """What a family contributes to the app: its handlers, its error shape and its life-cycle hooks.

    ``route_handlers`` are mounted under ``/<name>`` (or at the root with ``--only``). ``on_startup``
    runs after migrations (load assets, seed embedded defaults); ``on_shutdown`` before the
    database closes.
    """

    name: str
    route_handlers: Sequence[Any]
    render_error: Renderer = render_fastapi_detail
    validation_status: int = 422
    on_startup: Sequence[Hook] = field(default=())
    on_shutdown: Sequence[Hook] = field(default=())
    tags: Sequence[str] = field(default=())

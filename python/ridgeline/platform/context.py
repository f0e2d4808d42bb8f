"""The services a request handler can use, built once per process and held on ``app.state.ctx``."""

from __future__ import annotations

import time
from typing import Any, TypeAlias, TypeVar

from litestar.di import NamedDependency

from ridgeline.platform.artifacts import ArtifactStore
from ridgeline.platform.db import Database
from ridgeline.platform.family import Family, Hook, Provider
from ridgeline.platform.jobs import JobService, make_executor
from ridgeline.platform.problems import ServiceUnavailable
from ridgeline.platform.scanning import Scanner
from ridgeline.platform.settings import Settings
from ridgeline.platform.signing import Signer

T = TypeVar("T")


class AppContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_at = time.time()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings)
        self.jobs = JobService(self.db, make_executor(settings), app=self)
        self.artifacts = ArtifactStore(self.db, settings.data_dir / "artifacts")
        self.signer = Signer.load_or_create(settings.data_dir, settings.signing_key_file)
        # Malware scanning of uploads (scanning.check_upload); None when RIDGELINE_CLAMD_URL is unset.
        self.scanner = Scanner(settings.clamd_url, settings.clamd_timeout_s) if settings.clamd_url else None
        # Per-family objects loaded at start-up (graphs, models, caches), keyed by family name.
        self.state: dict[str, Any] = {}
        # Services the families declared (Family.services), keyed by their type; see service().
        self.services: dict[type, Any] = {}
        self.service_family: dict[type, str] = {}
        # Each family's validated settings Struct (Family.settings), keyed by family name.
        self.family_settings: dict[str, Any] = {}
        # Families whose start-up raised: name -> the error's one-line summary.
        self.failed: dict[str, str] = {}

    @property
    def uptime_s(self) -> float:
        return time.time() - self.started_at

    def service(self, service_type: type[T]) -> T:
        """The started service of that type (jobs and hooks use this; handlers get it injected)."""
        svc = self.services.get(service_type)
        if svc is None:
            raise ServiceUnavailable(self.service_family.get(service_type, service_type.__name__))
        return svc


# Handlers take the context as ``ctx: Ctx`` (Litestar injects the app-level dependency named "ctx").
Ctx: TypeAlias = NamedDependency[AppContext]
# ...and a family's declared service as ``svc: Service[RoutingService]`` (typed as RoutingService;
# the marker tells Litestar it is a dependency of the family's router, see Family.services).
Service = NamedDependency

__all__ = ["AppContext", "Ctx", "Family", "Hook", "Provider", "Service"]

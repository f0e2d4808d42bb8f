"""The autopack family's service: one per process (``svc: Service[AutopackService]`` in handlers,
``ctx.service(AutopackService)`` in jobs)."""

from __future__ import annotations

from ridgeline.autopack.api.runs_service import RunService
from ridgeline.autopack.settings import AutopackSettings, UnprefixedSettings, unprefixed
from ridgeline.platform.context import AppContext


class AutopackService:
    def __init__(self, ctx: AppContext, settings: AutopackSettings | None = None) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.settings = settings or AutopackSettings()
        self.contract: UnprefixedSettings = unprefixed()
        self.runs = RunService(ctx.db, self.settings, ctx.settings.data_dir)

"""The autopack family's service: one per process (``svc: Service[AutopackService]`` in handlers,
``ctx.service(AutopackService)`` in jobs)."""

from __future__ import annotations

from ridgeline.platform.context import AppContext


class AutopackService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.db = ctx.db

"""The genai family's service: one per process (``svc: Service[GenaiService]`` in handlers,
``ctx.service(GenaiService)`` in jobs)."""

from __future__ import annotations

from ridgeline.platform.context import AppContext


class GenaiService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.db = ctx.db

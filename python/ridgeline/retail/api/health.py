"""``/health``: the retail family's liveness probe."""

from __future__ import annotations

from litestar import Controller, get

from ridgeline.retail.api.schemas.sales import Health


class HealthController(Controller):
    path = "/health"
    tags = ["retail: health"]

    @get("/", summary="Liveness probe")
    async def health(self) -> Health:
        return Health(status="ok")

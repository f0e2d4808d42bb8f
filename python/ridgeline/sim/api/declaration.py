"""The sim family's HTTP layer (contract 001): ``family`` is mounted under ``/sim`` (or at the root
with ``ridgeline serve --only sim``)."""

from __future__ import annotations

from ridgeline.platform.auth.policy import public_unless_required
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_fastapi_detail
from ridgeline.sim.api import store as _store  # noqa: F401  (tables on the shared metadata)
from ridgeline.sim.api.errors import REASON_CODES
from ridgeline.sim.api.routes import ROUTES
from ridgeline.sim.api.service import SimService, batch_job, run_job


async def _start(ctx: AppContext, _settings: None) -> SimService:
    service = SimService(ctx)
    if ctx.settings.seed_defaults:  # the embedded sample: the example robots as importable assets
        await service.seed_examples()
    return service


async def _stop(service: SimService) -> None:
    await service.close()


family = Family(
    name="sim",
    route_handlers=ROUTES,
    render_error=render_fastapi_detail,
    validation_status=422,
    tags=["sim", "sim v1"],
    metadata=metadata,
    job_kinds={"run": run_job, "batch": batch_job},
    services=(Provider(SimService, _start, _stop),),
    reason_codes=REASON_CODES,
    doc_pages=("docs/sim.md",),
    default_policy=public_unless_required("sim"),  # RIDGELINE_AUTH_REQUIRE_FAMILIES
)

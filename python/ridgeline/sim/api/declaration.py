"""The sim family's declaration (contract 001): ``family`` is mounted under ``/sim`` (or at the root
with ``ridgeline serve --only sim``). Routes are collected from the module named by their URL prefix."""

from __future__ import annotations

from ridgeline.platform.auth.policy import public_unless_required
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_fastapi_detail
from ridgeline.platform.jobs import with_options
from ridgeline.sim.api import (
    assets,
    batches,
    design,
    evaluation,
    health,
    jobs,
    plan,
    projects,
    runs,
    store,  # noqa: F401  (tables on the shared metadata)
    webhooks,
)
from ridgeline.sim.api.errors import REASON_CODES
from ridgeline.sim.api.service import SimService

ROUTES = [
    *health.ROUTES,
    *runs.ROUTES,
    *projects.ROUTES,
    *assets.ROUTES,
    *design.ROUTES,
    *jobs.ROUTES,
    *batches.ROUTES,
    *evaluation.ROUTES,
    *plan.ROUTES,
]


async def _start(ctx: AppContext, _settings: None) -> SimService:
    service = SimService(ctx)
    if ctx.settings.seed_defaults:  # the embedded sample: the example robots as importable assets
        await assets.seed_examples(service)
    return service


async def _resume_webhooks(ctx: AppContext) -> None:
    """Send the webhooks a stopped process left pending (after the job service recovered its jobs)."""
    svc = ctx.services.get(SimService)
    if svc is not None:
        await webhooks.resume_pending(svc, runs.get_run)


async def _interrupt_running(ctx: AppContext) -> None:
    """The process is stopping: running rollouts end as interrupted (run_interrupted), recorded
    before the job service and the database go; their webhooks stay pending for the next process."""
    svc = ctx.services.get(SimService)
    if svc is not None:
        await svc.interrupt()


async def _stop(service: SimService) -> None:
    await service.close()


family = Family(
    name="sim",
    route_handlers=ROUTES,
    render_error=render_fastapi_detail,
    validation_status=422,
    tags=["sim", "sim v1"],
    metadata=metadata,
    # Both idempotent: rollouts are seeded, results overwrite the run rows and artifacts (by name) in place.
    # Timeouts: a run's largest config takes hours on one core; a batch is several runs plus replays.
    job_kinds={
        "run": with_options(runs.run_job, timeout_s=4 * 3600, idempotent=True),
        "batch": with_options(batches.batch_job, timeout_s=12 * 3600, idempotent=True),
    },
    services=(Provider(SimService, _start, _stop),),
    on_startup=(_resume_webhooks,),
    on_shutdown=(_interrupt_running,),
    reason_codes=REASON_CODES,
    doc_pages=("docs/sim.md",),
    default_policy=public_unless_required("sim"),  # RIDGELINE_AUTH_REQUIRE_FAMILIES
)

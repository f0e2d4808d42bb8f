"""The routing HTTP family (contract 000): routes, Pareto sets and streams, vehicles, experiments,
batches, signed runs and artifacts, oracle quality.

``family`` is mounted under ``/routing`` (or at the root with ``ridgeline serve --only routing``).
Assets come from ``RIDGELINE_ROUTING_ASSETS`` (a directory built by ``ridgeline assets build``);
without it the deterministic sample region is built on first start (``RIDGELINE_SEED_DEFAULTS=1``).
"""

from __future__ import annotations

from pathlib import Path

from ridgeline.platform.auth.policy import public_unless_required
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_reason_coded
from ridgeline.platform.jobs import with_options
from ridgeline.routing.api import (
    batch,
    departure,
    duty,
    experiments,
    oracle,
    routes,
    runs,
    scenario,
    system,
    vehicles,
)
from ridgeline.routing.api.errors import REASON_CODES
from ridgeline.routing.api.service import RoutingService
from ridgeline.routing.api.settings import RoutingSettings

# One module per URL prefix; the order is the OpenAPI document's.
HANDLERS = [
    *system.HANDLERS,
    *vehicles.HANDLERS,
    *routes.HANDLERS,
    *departure.HANDLERS,
    *duty.HANDLERS,
    *scenario.HANDLERS,
    *experiments.HANDLERS,
    *batch.HANDLERS,
    *runs.HANDLERS,
    *oracle.HANDLERS,
]


def build_family(assets_dir: Path | None = None) -> Family:
    """The routing family; ``assets_dir`` overrides ``RIDGELINE_ROUTING_ASSETS`` (tests, embedding)."""

    async def start(ctx: AppContext, settings: RoutingSettings) -> RoutingService:
        svc = RoutingService(ctx, assets_dir, settings)
        await svc.startup()
        return svc

    async def stop(svc: RoutingService) -> None:
        await svc.close()

    return Family(
        name="routing",
        route_handlers=HANDLERS,
        render_error=render_reason_coded,
        validation_status=422,
        tags=("routing",),
        metadata=metadata,
        # idempotent: pure computation; its run row (keyed by the job's run_id) is inserted once, at the end.
        # 2 h: far above a batch of the largest accepted size on the biggest assets
        job_kinds={"batch_pareto": with_options(batch.batch_job, timeout_s=2 * 3600, idempotent=True)},
        settings=RoutingSettings,
        services=(Provider(RoutingService, start, stop),),
        reason_codes=REASON_CODES,
        doc_pages=("docs/routing.md",),
        default_policy=public_unless_required("routing"),  # RIDGELINE_AUTH_REQUIRE_FAMILIES
    )


family = build_family()

__all__ = ["HANDLERS", "build_family", "family"]

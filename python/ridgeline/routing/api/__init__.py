"""The routing HTTP family (contract 000): routes, Pareto sets and streams, vehicles, experiments,
batches, signed runs and artifacts, oracle quality.

``family`` is mounted under ``/routing`` (or at the root with ``ridgeline serve --only routing``).
Assets come from ``RIDGELINE_ROUTING_ASSETS`` (a directory built by ``ridgeline assets build``);
without it the deterministic sample region is built on first start (``RIDGELINE_SEED_DEFAULTS=1``).
"""

from __future__ import annotations

from pathlib import Path

from ridgeline.platform.auth.policy import declare_default_policy, public_unless_required
from ridgeline.platform.context import AppContext, Family
from ridgeline.platform.errors import render_reason_coded
from ridgeline.routing.api import usecases as _usecases  # noqa: F401  (registers the batch job kind)
from ridgeline.routing.api.routes import HANDLERS
from ridgeline.routing.api.service import RoutingService


def build_family(assets_dir: Path | None = None) -> Family:
    """The routing family; ``assets_dir`` overrides ``RIDGELINE_ROUTING_ASSETS`` (tests, embedding)."""

    async def startup(ctx: AppContext) -> None:
        svc = RoutingService(ctx, assets_dir)
        ctx.state["routing"] = svc
        await svc.startup()

    async def shutdown(ctx: AppContext) -> None:
        svc = ctx.state.pop("routing", None)
        if svc is not None:
            await svc.close()

    return Family(
        name="routing",
        route_handlers=HANDLERS,
        render_error=render_reason_coded,
        validation_status=422,
        on_startup=(startup,),
        on_shutdown=(shutdown,),
        tags=("routing",),
    )


# Contract: public by default; RIDGELINE_AUTH_REQUIRE_FAMILIES=routing (or all) requires a credential.
declare_default_policy("routing", public_unless_required("routing"))

family = build_family()

__all__ = ["build_family", "family"]

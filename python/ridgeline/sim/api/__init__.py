"""The sim family's HTTP layer (contract 001): ``family`` is mounted under ``/sim`` (or at the root
with ``ridgeline serve --only sim``)."""

from __future__ import annotations

from ridgeline.platform.auth.policy import declare_default_policy, public_unless_required
from ridgeline.platform.context import AppContext, Family
from ridgeline.platform.errors import render_fastapi_detail
from ridgeline.sim.api import store as _store  # noqa: F401  (tables on the shared metadata)
from ridgeline.sim.api.routes import ROUTES
from ridgeline.sim.api.service import SimService


async def _startup(ctx: AppContext) -> None:
    service = SimService(ctx)
    ctx.state["sim"] = service
    if ctx.settings.seed_defaults:  # the embedded sample: the example robots as importable assets
        await service.seed_examples()


async def _shutdown(ctx: AppContext) -> None:
    service = ctx.state.pop("sim", None)
    if service is not None:
        await service.close()


# Contract: public by default; RIDGELINE_AUTH_REQUIRE_FAMILIES=sim (or all) requires a credential.
declare_default_policy("sim", public_unless_required("sim"))

family = Family(
    name="sim",
    route_handlers=ROUTES,
    render_error=render_fastapi_detail,
    validation_status=422,
    on_startup=[_startup],
    on_shutdown=[_shutdown],
    tags=["sim", "sim v1"],
)

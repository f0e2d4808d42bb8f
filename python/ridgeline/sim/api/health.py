"""Service information: ``/v1/health``, ``/api/health``, ``/api/reality-profiles``, ``/v1/scenarios``."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Response, get

import ridgeline
from ridgeline.platform.context import AppContext, Ctx, Service
from ridgeline.sim.api import schemas
from ridgeline.sim.api.service import SimService
from ridgeline.sim.api.versioning import API_VERSION, v1_headers
from ridgeline.sim.examples import SCENARIOS


async def _health(ctx: AppContext, svc: SimService) -> Response[schemas.Health]:
    ok = await ctx.db.reachable()
    body = schemas.Health(
        status="ok" if ok else "degraded",
        service="ridgeline-sim",
        version=ridgeline.__version__,
        api_version=API_VERSION,
        database="reachable" if ok else "unreachable",
        profiles=svc.profile_names,
        timestamp=datetime.now(UTC),
    )
    return Response(body, status_code=200 if ok else 503, headers=v1_headers())


@get("/v1/health", summary="Health check", tags=["sim v1"])
async def v1_health(ctx: Ctx, svc: Service[SimService]) -> Response[schemas.Health]:
    return await _health(ctx, svc)


@get("/api/health", summary="Health check", tags=["sim"])
async def api_health(ctx: Ctx, svc: Service[SimService]) -> Response[schemas.Health]:
    return await _health(ctx, svc)


@get("/api/reality-profiles", summary="Reality profiles with their parameter distributions", tags=["sim"])
async def list_profiles(svc: Service[SimService]) -> schemas.ProfileList:
    return schemas.ProfileList(profiles=svc.profiles, count=len(svc.profiles))


@get("/v1/scenarios", summary="List available scenarios", tags=["sim v1"])
async def list_scenarios() -> Response[schemas.ScenarioList]:
    items = [
        schemas.Scenario(name=s.name, description=s.description, robot=s.robot, config=s.spec)
        for s in SCENARIOS.values()
    ]
    return Response(schemas.ScenarioList(scenarios=items, count=len(items)), headers=v1_headers())


ROUTES = [v1_health, api_health, list_profiles, list_scenarios]

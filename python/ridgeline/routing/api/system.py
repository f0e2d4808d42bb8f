"""``/``, ``/health``, ``/metrics`` and the route cache (``/cache/stats``, ``DELETE /cache``)."""

from __future__ import annotations

from typing import Any

from litestar import Response, delete, get

import ridgeline
from ridgeline.platform.context import Ctx, Service
from ridgeline.platform.observability import METRICS_MEDIA_TYPE, metrics_exposition
from ridgeline.routing.api.service import RoutingService


@get("/", summary="Service, asset and DEM versions", tags=["routing: system"])
async def root(ctx: Ctx, svc: Service[RoutingService]) -> dict[str, Any]:
    info = svc.asset_info()
    return {
        "service": "ridgeline-routing",
        "version": ridgeline.__version__,
        "asset": info,
        "dem_version": info.get("dem_version"),
        "signing_key_id": ctx.signer.key_id,
        "status": "ok" if info["loaded"] else "degraded",
    }


@get(
    "/health",
    summary="Health of the routing family (503 when assets or database are unavailable)",
    tags=["routing: system"],
)
async def health(ctx: Ctx, svc: Service[RoutingService]) -> Response[dict[str, Any]]:
    reachable = await ctx.db.reachable()
    loaded = svc.planner is not None
    body = {
        "status": "ok" if (loaded and reachable) else "degraded",
        "version": ridgeline.__version__,
        "assets_loaded": loaded,
        "asset_reason_code": None if loaded else (svc.asset_error.reason_code if svc.asset_error else None),
        "database": {"reachable": reachable, "backend": ctx.db.backend},
        "uptime_s": round(ctx.uptime_s, 3),
    }
    return Response(body, status_code=200 if loaded and reachable else 503)


@get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    tags=["routing: system"],
    media_type=METRICS_MEDIA_TYPE,
)
async def metrics() -> Response[bytes]:
    body, content_type = metrics_exposition()
    return Response(body, media_type=content_type)


@get("/cache/stats", summary="Route cache statistics", tags=["routing: system"])
async def cache_stats(svc: Service[RoutingService]) -> dict[str, Any]:
    return svc.cache_stats()


@delete("/cache", summary="Clear the route cache", tags=["routing: system"], status_code=200)
async def cache_clear(svc: Service[RoutingService]) -> dict[str, Any]:
    return {"cleared": svc.clear_caches()}


HANDLERS = [root, health, metrics, cache_stats, cache_clear]

"""``/departure/optimize``: the best departure per objective across a window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import post
from litestar.params import JSONBody

from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.routing.api import convert, schemas
from ridgeline.routing.api.service import RoutingService, clock, elapsed_ms, off_loop
from ridgeline.routing.departure import scan_departures
from ridgeline.routing.planner import route_key


def compute_departures(svc: RoutingService, req: schemas.DepartureRequest) -> dict[str, Any]:
    planner = svc.require_planner()
    scan = scan_departures(
        planner,
        svc.scenario(req),
        convert.lon_lat(req.origin),
        convert.lon_lat(req.destination),
        convert.weights(req),
        req.window_start_utc,
        req.window_end_utc,
        timedelta(minutes=req.step_minutes),
        max_snap_m=req.max_snap_distance_m,
    )
    tradeoff = [
        {
            "departure_time_utc": o.departure.isoformat(),
            "route_key": route_key(o.route.arcs),
            "duration_s": round(o.route.totals.duration_s, 3),
            "money_eur": round(o.route.totals.money_eur, 4),
            "co2e_kg": round(o.route.totals.co2e_kg, 4),
            "distance_m": round(o.route.totals.distance_m, 1),
            "arrival_time_utc": (o.departure + timedelta(seconds=o.route.totals.duration_s)).isoformat(),
        }
        for o in scan.options
    ]
    best: dict[str, Any] = {}
    routes = []
    seen: dict[int, int] = {}
    for obj, i in scan.best.items():
        o = scan.options[i]
        best[obj] = {
            "departure_time_utc": o.departure.isoformat(),
            "value": round(o.route.objective_values[obj], 6),
            "index": i,
        }
        if i not in seen:
            seen[i] = len(routes)
            full = planner.describe_asset_arcs(o.priced, o.route.arcs)
            routes.append(convert.detail(full, len(routes), f"departure {o.departure.isoformat()}"))
        best[obj]["route_id"] = seen[i]
    return {
        "departures": tradeoff,
        "best": best,
        "routes": routes,
        "incidents": convert.incidents(scan.options[0].priced.incidents),
        "search": {"algorithm": "weighted-sum A* per departure", "departures": len(scan.options)},
    }


@post(
    "/departure/optimize",
    summary="Best departure per objective across a window",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
)
async def departure_optimize(
    svc: Service[RoutingService], data: JSONBody[schemas.DepartureRequest]
) -> dict[str, Any]:
    t0 = clock()
    await svc.refresh_vehicles(data.vehicle_id)
    svc.vehicle(data.vehicle_id, data.payload_kg)
    results = await off_loop(lambda: compute_departures(svc, data))
    run_id = await svc.record_run("departure", data, results, data)
    return {"run_id": run_id, "vehicle_id": data.vehicle_id, **results, "compute_ms": elapsed_ms(t0)}


HANDLERS = [departure_optimize]

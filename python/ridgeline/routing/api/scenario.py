"""``/scenario/compare``: a baseline route and variants of it, with deltas."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import post
from litestar.params import JSONBody

from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.routing.api import convert, schemas
from ridgeline.routing.api.service import RoutingService, clock, elapsed_ms, off_loop
from ridgeline.routing.planner import route_key
from ridgeline.routing.scenarios import compare_scenarios

# The fields a variant may change on the baseline request.
VARIANT_FIELDS = (
    "vehicle_id",
    "departure_time_utc",
    "weather",
    "incident_simulation",
    "cost_toggles",
    "emissions_context",
)


def _changes(v: schemas.ScenarioVariant) -> dict[str, Any]:
    return {k: getattr(v, k) for k in VARIANT_FIELDS if getattr(v, k) is not None}


def _variant_request(base: schemas.RouteRequest, changes: dict[str, Any]) -> schemas.RouteRequest:
    req = msgspec.structs.replace(base, **changes)
    if "vehicle_id" in changes:  # the baseline's payload belongs to the baseline's vehicle
        req = msgspec.structs.replace(req, payload_kg=None)
    return req


def compute_scenarios(svc: RoutingService, req: schemas.ScenarioRequest) -> dict[str, Any]:
    planner = svc.require_planner()

    def query(r: schemas.RouteRequest) -> Any:
        return convert.route_query(r, svc.vehicle(r.vehicle_id, r.payload_kg))

    changes = [_changes(v) for v in req.variants]
    cmp = compare_scenarios(
        planner,
        query(req.baseline),
        [
            (v.name, query(_variant_request(req.baseline, c)))
            for v, c in zip(req.variants, changes, strict=True)
        ],
    )
    base_route = convert.detail(cmp.baseline.route, 0, "baseline")
    routes = [base_route]
    variants = []
    for v in cmp.variants:
        r = convert.detail(v.planned.route, len(routes), v.name)
        routes.append(r)
        variants.append(
            {
                "name": v.name,
                "route_id": r["route_id"],
                "route_key": r["route_key"],
                "totals": r["totals"],
                "deltas": v.deltas,
                "same_path_as_baseline": v.same_path_as_baseline,
                "incidents": convert.incidents(v.planned.priced.incidents),
            }
        )
    return {
        "baseline": {
            "route_id": 0,
            "route_key": route_key(cmp.baseline.route.arcs),
            "totals": base_route["totals"],
        },
        "variants": variants,
        "routes": routes,
        "incidents": convert.incidents(cmp.baseline.priced.incidents),
        "scenarios": [
            {"name": v.name, "changes": msgspec.to_builtins(c)}
            for v, c in zip(req.variants, changes, strict=True)
        ],
        "search": {"algorithm": "weighted-sum A*", "scenarios": 1 + len(variants)},
    }


@post(
    "/scenario/compare",
    summary="Baseline and variants with deltas",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
)
async def scenario_compare(
    svc: Service[RoutingService], data: JSONBody[schemas.ScenarioRequest]
) -> dict[str, Any]:
    t0 = clock()
    await svc.refresh_vehicles(data.baseline.vehicle_id, *(v.vehicle_id for v in data.variants))
    svc.vehicle(data.baseline.vehicle_id, data.baseline.payload_kg)
    for v in data.variants:
        if v.vehicle_id is not None:
            svc.vehicle(v.vehicle_id)
    results = await off_loop(lambda: compute_scenarios(svc, data))
    run_id = await svc.record_run("scenario", data, results, data.baseline)
    return {"run_id": run_id, **results, "compute_ms": elapsed_ms(t0)}


HANDLERS = [scenario_compare]

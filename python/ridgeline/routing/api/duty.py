"""``/duty/chain``: a multi-stop duty under EU driving-time rules."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import post
from litestar.params import JSONBody

from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.routing.api import convert, schemas
from ridgeline.routing.api.service import RoutingService, clock, elapsed_ms, off_loop
from ridgeline.routing.duty import DutyRules, plan_duty_chain
from ridgeline.routing.planner import route_key


def compute_duty(svc: RoutingService, req: schemas.DutyRequest) -> dict[str, Any]:
    planner = svc.require_planner()
    labels = [st.label or f"stop_{i}" for i, st in enumerate(req.stops)]
    chain = plan_duty_chain(
        planner,
        svc.scenario(req),
        [convert.lon_lat(st) for st in req.stops],
        [st.service_minutes * 60 for st in req.stops],
        labels,
        convert.weights(req),
        req.start_time_utc,
        DutyRules(
            max_continuous_driving_s=req.max_continuous_driving_h * 3600,
            break_s=req.break_minutes * 60,
            max_daily_driving_s=req.max_daily_driving_h * 3600,
            daily_rest_s=req.daily_rest_h * 3600,
        ),
        max_snap_m=req.max_snap_distance_m,
    )
    schedule = chain.schedule
    for i, leg in enumerate(schedule["legs"]):
        leg["from_stop"], leg["to_stop"] = labels[i], labels[i + 1]
        leg["route_key"] = route_key(chain.legs[i].arcs)
        leg["totals"] = {k: round(float(v), 6) for k, v in msgspec.to_builtins(chain.legs[i].totals).items()}
    totals = dict(schedule["totals"])
    for k in ("distance_m", "money_eur", "co2e_kg", "energy_kwh", "fuel_l", "toll_eur"):
        totals[k] = round(sum(getattr(r.totals, k) for r in chain.legs), 6)
    return {
        "legs": schedule["legs"],
        "events": schedule["events"],
        "totals": totals,
        "end_utc": schedule["end_utc"],
        "compliant": schedule["compliant"],
        "rules": {
            "max_continuous_driving_h": req.max_continuous_driving_h,
            "break_minutes": req.break_minutes,
            "max_daily_driving_h": req.max_daily_driving_h,
            "daily_rest_h": req.daily_rest_h,
        },
        "routes": [convert.detail(chain.whole, 0, "duty")],
        "incidents": convert.incidents(chain.priced.incidents),
        "search": {"algorithm": "weighted-sum A* per leg", "legs": len(chain.legs)},
    }


@post(
    "/duty/chain",
    summary="Multi-stop duty under EU driving-time rules",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
)
async def duty_chain(svc: Service[RoutingService], data: JSONBody[schemas.DutyRequest]) -> dict[str, Any]:
    t0 = clock()
    await svc.refresh_vehicles(data.vehicle_id)
    svc.vehicle(data.vehicle_id, data.payload_kg)
    results = await off_loop(lambda: compute_duty(svc, data))
    run_id = await svc.record_run("duty", data, results, data)
    return {"run_id": run_id, "vehicle_id": data.vehicle_id, **results, "compute_ms": elapsed_ms(t0)}


HANDLERS = [duty_chain]

"""``/route``, ``/pareto`` and the Pareto streams (``/pareto/stream``, ``/api/pareto/stream``)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

import msgspec
from litestar import post
from litestar.openapi.spec import Example
from litestar.params import Body
from litestar.response import Stream

from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError
from ridgeline.routing.api import convert, schemas
from ridgeline.routing.api.service import RoutingService, clock, elapsed_ms, off_loop
from ridgeline.routing.planner import Front, ParetoResult, Planner, Priced

log = logging.getLogger("ridgeline.routing")

_ROUTE_EXAMPLE = {
    "origin": {"lat": 42.5063, "lon": 1.5218},
    "destination": {"lat": 42.567, "lon": 1.598},
    "vehicle_id": "hgv_rigid_18t",
    "weights": {"duration": 1.0, "money": 0.5, "co2e": 0.5},
    "departure_time_utc": "2026-03-02T07:30:00Z",
    "weather": {"condition": "rain"},
    "cost_toggles": {"carbon_price_eur_per_t": 90.0},
}
_PARETO_EXAMPLE = {
    "origin": {"lat": 42.5063, "lon": 1.5218},
    "destination": {"lat": 42.567, "lon": 1.598},
    "vehicle_id": "hgv_artic_44t",
    "objectives": ["duration", "money", "co2e"],
    "pareto_method": "exact",
    "epsilon": {"duration": 2400.0},
    "max_alternatives": 5,
    "incident_simulation": {"seed": 7, "count": 2, "speed_factor": 0.3},
}
RouteBody = Annotated[
    schemas.RouteRequest,
    Body(examples=[Example(summary="HGV across Andorra in the morning peak", value=_ROUTE_EXAMPLE)]),
]
ParetoBody = Annotated[
    schemas.ParetoRequest,
    Body(examples=[Example(summary="Duration/money/CO2e front, 40 min bound", value=_PARETO_EXAMPLE)]),
]


# ---- use cases ---------------------------------------------------------------------------------


def compute_route(svc: RoutingService, req: schemas.RouteRequest) -> dict[str, Any]:
    planner = svc.require_planner()
    vehicle = svc.vehicle(req.vehicle_id, req.payload_kg)
    planned = planner.plan_route(convert.route_query(req, vehicle), encoded=True)
    return {
        "routes": [convert.pre_encoded(convert.detail(planned.route, 0, "route"))],
        "incidents": convert.incidents(planned.priced.incidents),
        "warnings": convert.unused_fields(req, [vehicle], pareto=False),
        "search": {"algorithm": "weighted-sum A*", "legs": planned.legs},
    }


def _pareto_setup(svc: RoutingService, req: schemas.ParetoRequest) -> tuple[Planner, Priced, int, int]:
    planner = svc.require_planner()
    s = planner.snap(req.origin.lon, req.origin.lat, "origin", req.max_snap_distance_m)
    t = planner.snap(req.destination.lon, req.destination.lat, "destination", req.max_snap_distance_m)
    return planner, planner.price(svc.scenario(req), [s, t]), s, t


def _pareto_results(
    planner: Planner,
    p: Priced,
    res: ParetoResult,
    sols: list[Any],
    req: schemas.ParetoOptions,
    unused: list[str],
) -> dict[str, Any]:
    front: Front = planner.front(
        p, sols, min_terrain_coverage=req.min_terrain_coverage, max_alternatives=req.max_alternatives
    )
    warnings = list(unused)
    if front.dropped:
        warnings.append(
            f"{front.dropped} route(s) dropped: terrain coverage below {req.min_terrain_coverage}."
        )
    if res.truncated:
        warnings.append("The search hit its limits; the front may be incomplete.")
    # The chosen members were described (totals) by ``front``: only their geometry is added.
    routes = [
        convert.pre_encoded(convert.detail(planner.with_geometry(p, front.members[i][2], encoded=True), i))
        for i in front.chosen
    ]
    return {
        "routes": routes,
        "front": [{k: round(v, 6) for k, v in r.objective_values.items()} for _, _, r in front.members],
        "front_keys": [key for _, key, _ in front.members],
        "front_size": len(front.members),
        "truncated": bool(res.truncated),
        "epsilon_guarantee": float(res.epsilon),
        "incidents": convert.incidents(p.incidents),
        "warnings": warnings,
        "search": {
            "algorithm": res.algorithm,
            "expansions": res.expansions,
            "generated": res.generated,
            "search_seconds": round(res.search_seconds, 6),
            "status": res.status,
        },
    }


def compute_pareto(svc: RoutingService, req: schemas.ParetoRequest) -> dict[str, Any]:
    planner, p, s, t = _pareto_setup(svc, req)
    res = planner.pareto(p, s, t, convert.pareto_spec(req))
    unused = convert.unused_fields(req, [svc.vehicle(req.vehicle_id, req.payload_kg)], pareto=True)
    return _pareto_results(planner, p, res, list(res), req, unused)


# ---- /route, /pareto ---------------------------------------------------------------------------


@post(
    "/route", summary="Best route for the weights", tags=["routing: routes"], status_code=200, opt=raises(404)
)
async def route(svc: Service[RoutingService], data: RouteBody) -> schemas.RouteResponse:
    t0 = clock()
    results, run_id = await svc.answer("route", data, lambda: compute_route(svc, data))
    # The response is built from checked engine output: cast instead of re-validating every coordinate.
    return cast(
        schemas.RouteResponse,
        {
            "run_id": run_id,
            "asset": svc.asset_info(),
            "vehicle_id": data.vehicle_id,
            "departure_time_utc": data.departure_time_utc,
            "route": results["routes"][0],
            "incidents": results["incidents"],
            "warnings": results["warnings"],
            "compute_ms": elapsed_ms(t0),
        },
    )


@post("/pareto", summary="Pareto set of routes", tags=["routing: routes"], status_code=200, opt=raises(404))
async def pareto(svc: Service[RoutingService], data: ParetoBody) -> schemas.ParetoResponse:
    t0 = clock()
    convert.pareto_spec(data).check()  # refused before any lookup, exactly as the streams refuse it
    results, run_id = await svc.answer("pareto", data, lambda: compute_pareto(svc, data))
    return cast(
        schemas.ParetoResponse,
        {
            "run_id": run_id,
            "asset": svc.asset_info(),
            "vehicle_id": data.vehicle_id,
            "objectives": list(data.objectives),
            "pareto_method": data.pareto_method,
            "epsilon_guarantee": results["epsilon_guarantee"],
            "front_size": results["front_size"],
            "truncated": results["truncated"],
            "routes": results["routes"],
            "incidents": results["incidents"],
            "warnings": results["warnings"],
            "search": results["search"],
            "compute_ms": elapsed_ms(t0),
        },
    )


# ---- the streams -------------------------------------------------------------------------------


def _fatal(code: str, message: str, warnings: list[str] | None = None, **extra: Any) -> bytes:
    body = {"type": "fatal", "reason_code": code, "message": message, "warnings": warnings or [], **extra}
    return msgspec.json.encode(body) + b"\n"


def _done(run_id: str, results: dict[str, Any]) -> bytes:
    event = {
        "type": "done",
        "run_id": run_id,
        "front_size": results["front_size"],
        "truncated": results["truncated"],
        "epsilon_guarantee": results["epsilon_guarantee"],
        "selected_route_keys": [r["route_key"] for r in results["routes"]],
        "warnings": results["warnings"],
        "search": results["search"],
    }
    return msgspec.json.encode(event) + b"\n"


async def _stream_events(
    svc: RoutingService, req: schemas.ParetoRequest, setup: tuple[Planner, Priced, int, int]
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    stop = threading.Event()
    spec = convert.pareto_spec(req)
    planner, p, s, t = setup
    unused = convert.unused_fields(req, [svc.vehicle(req.vehicle_id, req.payload_kg)], pareto=True)

    def put(item: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            stream = planner.pareto_stream(p, s, t, spec)
            sols = []
            with stream:
                for sol in stream:
                    if stop.is_set():
                        return
                    sols.append(sol)
                    r = planner.describe(p, sol.arcs, full=False)
                    if r.totals.terrain_coverage < req.min_terrain_coverage:
                        continue  # dropped: no geometry needed
                    r = planner.with_geometry(p, r, encoded=True)
                    put({"type": "route", "route": convert.detail(r, len(sols) - 1)})
            planner.check_result(stream.result, req.epsilon)
            put(("final", _pareto_results(planner, p, stream.result, sols, req, unused)))
        except EngineError as exc:
            put(_fatal(exc.reason_code, exc.message, exc.warnings, **exc.extra))
        except Exception:
            log.exception("pareto stream failed")
            put(_fatal("internal_error", "Internal server error."))
        finally:
            put(None)

    # No run id here: a run exists once the search has finished and been recorded, so the id is
    # announced in ``done`` only (a stream that ends in ``fatal`` or is abandoned records nothing).
    yield (
        msgspec.json.encode(
            {
                "type": "meta",
                "asset": svc.asset_info(),
                "vehicle_id": req.vehicle_id,
                "objectives": list(spec.objectives),
                "pareto_method": req.pareto_method,
                "epsilon": req.epsilon,
                "max_alternatives": req.max_alternatives,
                "incidents": convert.incidents(p.incidents),
            }
        )
        + b"\n"
    )
    fut = loop.run_in_executor(None, work)
    try:
        while True:
            item = await queue.get()
            if item is None:
                break
            if isinstance(item, bytes):
                yield item
            elif isinstance(item, tuple):
                try:
                    # the row (hashes, signatures) is built off the loop, as for /route and /pareto
                    row = await off_loop(lambda r=item[1]: svc.run_row("pareto_stream", req, r, req))
                    await svc.commit_run(row)
                    run_id = row["id"]
                except Exception:
                    log.exception("recording the stream run failed")
                    yield _fatal("internal_error", "Could not record the run.")
                    continue
                yield _done(run_id, item[1])
            else:
                yield msgspec.json.encode(item) + b"\n"
    finally:
        stop.set()
        await fut


async def _stream(svc: RoutingService, req: schemas.ParetoRequest) -> Stream:
    """The stream refuses what ``/pareto`` refuses, the same way and before it opens: inputs no search
    can honour (422), an unknown vehicle (404) or payload over its limit (422), a missing graph (503),
    points outside the network (422). Only what the search itself finds out (``epsilon_infeasible``,
    ``no_path``, a front below the coverage requirement) arrives as a ``fatal`` event."""
    convert.pareto_spec(req).check()
    await svc.refresh_vehicles(req.vehicle_id)
    svc.vehicle(req.vehicle_id, req.payload_kg)
    setup = await off_loop(lambda: _pareto_setup(svc, req))
    return Stream(
        _stream_events(svc, req, setup),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-store"},
    )


@post(
    "/pareto/stream",
    summary="Pareto routes streamed as NDJSON (meta, route..., done | fatal)",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
    media_type="application/x-ndjson",
)
async def pareto_stream(svc: Service[RoutingService], data: ParetoBody) -> Stream:
    return await _stream(svc, data)


@post(
    "/api/pareto/stream",
    summary="Alias of /pareto/stream",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
    media_type="application/x-ndjson",
)
async def api_pareto_stream(svc: Service[RoutingService], data: ParetoBody) -> Stream:
    return await _stream(svc, data)


HANDLERS = [route, pareto, pareto_stream, api_pareto_stream]

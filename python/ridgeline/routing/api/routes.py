"""HTTP handlers of the routing family (contract 000)."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, cast

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar import route as http_route
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody, RawBody
from litestar.response import Stream

import ridgeline
from ridgeline.platform import paging
from ridgeline.platform.context import Ctx, Service
from ridgeline.platform.downloads import artifact_response
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.jobs import JobStatus
from ridgeline.platform.observability import METRICS_MEDIA_TYPE, metrics_exposition
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset
from ridgeline.platform.signing import verify
from ridgeline.routing.api import schemas as S
from ridgeline.routing.api import usecases as U
from ridgeline.routing.api.service import RoutingService, off_loop
from ridgeline.routing.api.store import now
from ridgeline.routing.assets import AssetError
from ridgeline.routing.planner import RoutingError
from ridgeline.routing.reports import ARTIFACT_MEDIA_TYPES, ARTIFACT_NAMES

log = logging.getLogger("ridgeline.routing")
T = TypeVar("T")


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
    S.RouteRequest,
    Body(examples=[Example(summary="HGV across Andorra in the morning peak", value=_ROUTE_EXAMPLE)]),
]
ParetoBody = Annotated[
    S.ParetoRequest,
    Body(examples=[Example(summary="Duration/money/CO2e front, 40 min bound", value=_PARETO_EXAMPLE)]),
]


async def guarded(fn: Callable[[], T]) -> T:
    """Runs engine work off the loop. RoutingError and AssetError are EngineErrors: the app's
    exception handler renders them in routing's shape, so nothing is translated here."""
    return await off_loop(fn)


async def guarded_async(coro: Awaitable[T]) -> T:
    return await coro


# Lists are bounded (limit/offset); the defaults return what the unbounded lists returned in practice.
Limit = paging.limit(1000)


# Large batches answer 202 with the job to poll instead of the results.
QUEUED = {202: ResponseSpec(dict[str, Any], description="Queued as a job: poll /batch/jobs/{job_id}.")}


def _ms(t0: float) -> float:
    return round((RoutingService.clock() - t0) * 1000.0, 3)


# ---- system ------------------------------------------------------------------------------------


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
    stats = svc.cache.stats()
    stats["priced_networks"] = len(svc.planner._cache) if svc.planner else 0
    return stats


@delete("/cache", summary="Clear the route cache", tags=["routing: system"], status_code=200)
async def cache_clear(svc: Service[RoutingService]) -> dict[str, Any]:
    n = svc.cache.clear()
    if svc.planner is not None:
        with svc.planner._lock:
            svc.planner._cache.clear()
    return {"cleared": n}


# ---- vehicles ----------------------------------------------------------------------------------


def _vehicle_out(v: Any) -> dict[str, Any]:
    d = msgspec.to_builtins(v)
    d["gross_mass_kg"] = v.gross_mass_kg
    return d


@get("/vehicles", summary="Built-in and custom vehicles", tags=["routing: vehicles"])
async def vehicles_list(
    svc: Service[RoutingService], limit: Limit = 1000, offset: Offset = 0
) -> dict[str, Any]:
    await svc.refresh_vehicles()
    vs = svc.all_vehicles()[offset : offset + limit]
    return {"vehicles": [_vehicle_out(v) for v in vs], "count": len(vs)}


@get("/vehicles/custom", summary="Custom vehicles", tags=["routing: vehicles"])
async def vehicles_custom(
    svc: Service[RoutingService], limit: Limit = 1000, offset: Offset = 0
) -> dict[str, Any]:
    await svc.refresh_vehicles()
    vs = sorted(svc.custom.values(), key=lambda v: v.vehicle_id)[offset : offset + limit]
    return {"vehicles": [_vehicle_out(v) for v in vs], "count": len(vs)}


@post("/vehicles/custom", summary="Create a custom vehicle", tags=["routing: vehicles"], status_code=201)
async def vehicles_create(svc: Service[RoutingService], data: JSONBody[S.VehicleIn]) -> dict[str, Any]:
    return _vehicle_out(await svc.create_vehicle(data))


@put("/vehicles/custom/{vehicle_id:str}", summary="Replace a custom vehicle", tags=["routing: vehicles"])
async def vehicles_update(
    svc: Service[RoutingService], vehicle_id: FromPath[str], data: JSONBody[S.VehicleIn]
) -> dict[str, Any]:
    return _vehicle_out(await svc.update_vehicle(vehicle_id, data))


@delete(
    "/vehicles/custom/{vehicle_id:str}",
    summary="Delete a custom vehicle",
    tags=["routing: vehicles"],
    status_code=200,
)
async def vehicles_delete(svc: Service[RoutingService], vehicle_id: FromPath[str]) -> dict[str, Any]:
    await svc.delete_vehicle(vehicle_id)
    return {"deleted": True, "vehicle_id": vehicle_id}


# ---- routing -----------------------------------------------------------------------------------


def _cache_key(kind: str, req: Any, vehicle: Any) -> str:
    """The request and the vehicle's current parameters (custom vehicles can change)."""
    return (
        f"{kind}:{msgspec.json.encode(req, order='sorted').decode()}:{msgspec.json.encode(vehicle).decode()}"
    )


async def _cached_run(
    svc: Service[RoutingService], kind: str, req: Any, compute: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    """Answer from the route cache or compute, then record the run (recorded on cache hits too)."""
    await svc.refresh_vehicles(req.vehicle_id)
    key = _cache_key(kind, req, svc.vehicle(req.vehicle_id, req.payload_kg))
    results = svc.cache.get(key)
    if results is None:
        results = await guarded(compute)
        svc.cache.put(key, results)
    run_id = await guarded_async(svc.record_run(kind, req, results, req))
    return results, run_id


async def _route(svc: Service[RoutingService], req: S.RouteRequest) -> tuple[dict[str, Any], str]:
    return await _cached_run(svc, "route", req, lambda: svc.compute_route(req))


@post(
    "/route", summary="Best route for the weights", tags=["routing: routes"], status_code=200, opt=raises(404)
)
async def route(svc: Service[RoutingService], data: RouteBody) -> S.RouteResponse:
    t0 = RoutingService.clock()
    results, run_id = await _route(svc, data)
    # The response is built from checked engine output: cast instead of re-validating every coordinate.
    return cast(
        S.RouteResponse,
        {
            "run_id": run_id,
            "asset": svc.asset_info(),
            "vehicle_id": data.vehicle_id,
            "departure_time_utc": data.departure_time_utc,
            "route": results["routes"][0],
            "incidents": results["incidents"],
            "warnings": results["warnings"],
            "compute_ms": _ms(t0),
        },
    )


async def _pareto(svc: Service[RoutingService], req: S.ParetoRequest) -> tuple[dict[str, Any], str]:
    return await _cached_run(svc, "pareto", req, lambda: svc.compute_pareto(req))


@post("/pareto", summary="Pareto set of routes", tags=["routing: routes"], status_code=200, opt=raises(404))
async def pareto(svc: Service[RoutingService], data: ParetoBody) -> S.ParetoResponse:
    t0 = RoutingService.clock()
    results, run_id = await _pareto(svc, data)
    return cast(
        S.ParetoResponse,
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
            "compute_ms": _ms(t0),
        },
    )


def _fatal(code: str, message: str, warnings: list[str] | None = None, **extra: Any) -> bytes:
    body = {"type": "fatal", "reason_code": code, "message": message, "warnings": warnings or [], **extra}
    return msgspec.json.encode(body) + b"\n"


async def _stream_events(svc: Service[RoutingService], req: S.ParetoRequest) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    stop = threading.Event()
    run_id = uuid.uuid4().hex

    def put(item: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            svc.vehicle(req.vehicle_id, req.payload_kg)
            planner, p, s, t, objectives = svc._pareto_setup(req)
            put(
                {
                    "type": "meta",
                    "run_id": run_id,
                    "asset": svc.asset_info(),
                    "vehicle_id": req.vehicle_id,
                    "objectives": list(objectives),
                    "pareto_method": req.pareto_method,
                    "epsilon": req.epsilon,
                    "max_alternatives": req.max_alternatives,
                    "incidents": [msgspec.to_builtins(i) for i in p.incidents],
                }
            )
            stream = planner.pareto_stream(
                p,
                s,
                t,
                objectives,
                method=req.pareto_method,
                approx_epsilon=req.approx_epsilon,
                bounds=req.epsilon,
            )
            sols = []
            with stream:
                for sol in stream:
                    if stop.is_set():
                        return
                    sols.append(sol)
                    r = planner.describe(p, sol.arcs)
                    if r.totals.terrain_coverage < req.min_terrain_coverage:
                        continue
                    put({"type": "route", "route": svc.detail(r, len(sols) - 1)})
            res = stream.result
            if res is None:
                raise RoutingError(422, "search_budget_exhausted", "The search stopped before completing.")
            planner._check(res, req.epsilon)
            front, routes, warnings = svc._front(planner, p, sols, req)
            if res.truncated:
                warnings.append("The search hit its limits; the front may be incomplete.")
            results = {
                "routes": routes,
                "front": [d["objectives"] for d in front],
                "front_keys": [d["route_key"] for d in front],
                "front_size": len(front),
                "truncated": bool(res.truncated),
                "epsilon_guarantee": float(res.epsilon),
                "incidents": [msgspec.to_builtins(i) for i in p.incidents],
                "warnings": warnings,
                "search": {
                    "algorithm": res.algorithm,
                    "expansions": res.expansions,
                    "generated": res.generated,
                    "search_seconds": round(res.search_seconds, 6),
                    "status": res.status,
                },
            }
            put(("final", results))
        except (RoutingError, AssetError) as exc:
            put(_fatal(exc.reason_code, exc.message, exc.warnings, **exc.extra))
        except RidgelineError as exc:
            put(_fatal(exc.reason_code, exc.message, exc.warnings, **exc.extra))
        except Exception:
            log.exception("pareto stream failed")
            put(_fatal("internal_error", "Internal server error."))
        finally:
            put(None)

    try:
        await svc.refresh_vehicles(req.vehicle_id)
    except Exception:
        log.exception("reading custom vehicles failed")
        yield _fatal("internal_error", "Internal server error.")
        return
    fut = loop.run_in_executor(None, work)
    try:
        while True:
            item = await queue.get()
            if item is None:
                break
            if isinstance(item, bytes):
                yield item
                continue
            if isinstance(item, tuple):
                results = item[1]
                try:
                    await svc.record_run("pareto_stream", req, results, req, run_id=run_id)
                except Exception:
                    log.exception("recording the stream run failed")
                    yield _fatal("internal_error", "Could not record the run.")
                    continue
                yield (
                    msgspec.json.encode(
                        {
                            "type": "done",
                            "run_id": run_id,
                            "front_size": results["front_size"],
                            "truncated": results["truncated"],
                            "epsilon_guarantee": results["epsilon_guarantee"],
                            "selected_route_keys": [r["route_key"] for r in results["routes"]],
                            "warnings": results["warnings"],
                            "search": results["search"],
                        }
                    )
                    + b"\n"
                )
                continue
            yield msgspec.json.encode(item) + b"\n"
    finally:
        stop.set()
        await fut


def _stream(svc: Service[RoutingService], req: S.ParetoRequest) -> Stream:
    return Stream(
        _stream_events(svc, req), media_type="application/x-ndjson", headers={"Cache-Control": "no-store"}
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
    return _stream(svc, data)


@post(
    "/api/pareto/stream",
    summary="Alias of /pareto/stream",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
    media_type="application/x-ndjson",
)
async def api_pareto_stream(svc: Service[RoutingService], data: ParetoBody) -> Stream:
    return _stream(svc, data)


@post(
    "/departure/optimize",
    summary="Best departure per objective across a window",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
)
async def departure_optimize(
    svc: Service[RoutingService], data: JSONBody[S.DepartureRequest]
) -> dict[str, Any]:
    t0 = RoutingService.clock()
    await svc.refresh_vehicles(data.vehicle_id)
    svc.vehicle(data.vehicle_id, data.payload_kg)
    results = await guarded(lambda: U.compute_departures(svc, data))
    run_id = await guarded_async(svc.record_run("departure", data, results, data))
    return {"run_id": run_id, "vehicle_id": data.vehicle_id, **results, "compute_ms": _ms(t0)}


@post(
    "/duty/chain",
    summary="Multi-stop duty under EU driving-time rules",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
)
async def duty_chain(svc: Service[RoutingService], data: JSONBody[S.DutyRequest]) -> dict[str, Any]:
    t0 = RoutingService.clock()
    await svc.refresh_vehicles(data.vehicle_id)
    svc.vehicle(data.vehicle_id, data.payload_kg)
    results = await guarded(lambda: U.compute_duty(svc, data))
    run_id = await guarded_async(svc.record_run("duty", data, results, data))
    return {"run_id": run_id, "vehicle_id": data.vehicle_id, **results, "compute_ms": _ms(t0)}


@post(
    "/scenario/compare",
    summary="Baseline and variants with deltas",
    tags=["routing: routes"],
    status_code=200,
    opt=raises(404),
)
async def scenario_compare(svc: Service[RoutingService], data: JSONBody[S.ScenarioRequest]) -> dict[str, Any]:
    t0 = RoutingService.clock()
    await svc.refresh_vehicles(data.baseline.vehicle_id, *(v.vehicle_id for v in data.variants))
    svc.vehicle(data.baseline.vehicle_id, data.baseline.payload_kg)
    for v in data.variants:
        if v.vehicle_id is not None:
            svc.vehicle(v.vehicle_id)
    results = await guarded(lambda: U.compute_scenarios(svc, data))
    run_id = await guarded_async(svc.record_run("scenario", data, results, data.baseline))
    return {"run_id": run_id, **results, "compute_ms": _ms(t0)}


# ---- experiments -------------------------------------------------------------------------------


def _validate_items(items: list[S.ExperimentItem]) -> None:
    for i, item in enumerate(items):
        target = S.RouteRequest if item.kind == "route" else S.ParetoRequest
        try:
            msgspec.convert(item.request, target, strict=False)
        except msgspec.ValidationError as exc:
            raise RidgelineError(
                422, "invalid_request", f"Invalid request in item {i} ({item.label}): {exc}", item_index=i
            ) from None


def _experiment_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "experiment_id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "items": row["items"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


async def _experiment(svc: Service[RoutingService], experiment_id: str) -> dict[str, Any]:
    row = await svc.store.get_experiment(experiment_id) if len(experiment_id) <= 32 else None
    if row is None:
        raise RidgelineError(
            404,
            "experiment_not_found",
            f"Experiment {experiment_id!r} does not exist.",
            experiment_id=experiment_id,
        )
    return row


@get("/experiments", summary="Saved experiments", tags=["routing: experiments"])
async def experiments_list(
    svc: Service[RoutingService], limit: Limit = 1000, offset: Offset = 0
) -> dict[str, Any]:
    rows = await svc.store.list_experiments(limit=limit, offset=offset)
    return {"experiments": [_experiment_out(r) for r in rows], "count": len(rows)}


@post(
    "/experiments",
    summary="Save an experiment (a bundle of requests)",
    tags=["routing: experiments"],
    status_code=201,
)
async def experiments_create(svc: Service[RoutingService], data: JSONBody[S.ExperimentIn]) -> dict[str, Any]:
    _validate_items(data.items)
    t = now()
    row = {
        "id": uuid.uuid4().hex,
        "name": data.name,
        "description": data.description,
        "items": msgspec.to_builtins(data.items),
        "created_at": t,
        "updated_at": t,
    }
    await svc.store.insert_experiment(row)
    return _experiment_out(row)


@get("/experiments/{experiment_id:str}", summary="One experiment", tags=["routing: experiments"])
async def experiments_get(svc: Service[RoutingService], experiment_id: FromPath[str]) -> dict[str, Any]:
    return _experiment_out(await _experiment(svc, experiment_id))


@put("/experiments/{experiment_id:str}", summary="Replace an experiment", tags=["routing: experiments"])
async def experiments_update(
    svc: Service[RoutingService], experiment_id: FromPath[str], data: JSONBody[S.ExperimentIn]
) -> dict[str, Any]:
    await _experiment(svc, experiment_id)
    _validate_items(data.items)
    await svc.store.update_experiment(
        experiment_id,
        {"name": data.name, "description": data.description, "items": msgspec.to_builtins(data.items)},
    )
    return _experiment_out(await _experiment(svc, experiment_id))


@delete(
    "/experiments/{experiment_id:str}",
    summary="Delete an experiment",
    tags=["routing: experiments"],
    status_code=200,
)
async def experiments_delete(svc: Service[RoutingService], experiment_id: FromPath[str]) -> dict[str, Any]:
    await _experiment(svc, experiment_id)
    await svc.store.delete_experiment(experiment_id)
    return {"deleted": True, "experiment_id": experiment_id}


@post(
    "/experiments/{experiment_id:str}/compare",
    summary="Run an experiment's requests side by side",
    tags=["routing: experiments"],
    status_code=200,
)
async def experiments_compare(svc: Service[RoutingService], experiment_id: FromPath[str]) -> dict[str, Any]:
    row = await _experiment(svc, experiment_id)
    out = []
    for item in row["items"]:
        entry: dict[str, Any] = {"label": item["label"], "kind": item["kind"]}
        try:
            if item["kind"] == "route":
                req = msgspec.convert(item["request"], S.RouteRequest, strict=False)
                results, run_id = await _route(svc, req)
            else:
                preq = msgspec.convert(item["request"], S.ParetoRequest, strict=False)
                results, run_id = await _pareto(svc, preq)
            entry.update(
                status="ok",
                run_id=run_id,
                routes=[{"route_key": r["route_key"], "totals": r["totals"]} for r in results["routes"]],
                best={
                    k: min(r["totals"][k] for r in results["routes"])
                    for k in ("duration_s", "money_eur", "co2e_kg", "distance_m")
                },
            )
        except RidgelineError as exc:
            entry.update(status="error", reason_code=exc.reason_code, message=exc.message)
        out.append(entry)
    return {
        "experiment_id": experiment_id,
        "name": row["name"],
        "results": out,
        "compared_at": datetime.now(UTC).isoformat(),
    }


# ---- batch -------------------------------------------------------------------------------------


@post(
    "/batch/pareto",
    summary="Pareto sets for many pairs (large batches run as jobs)",
    tags=["routing: batch"],
    status_code=200,
    opt=raises(404),
    responses=QUEUED,
)
async def batch_pareto(
    svc: Service[RoutingService], data: JSONBody[S.BatchParetoRequest]
) -> Response[dict[str, Any]]:
    await svc.refresh_vehicles(data.vehicle_id)
    status, body = await U.run_batch(svc, data)
    return Response(body, status_code=status)


@post(
    "/batch/import/csv",
    summary="Validate a CSV of pairs and run it as a batch",
    description="Body: text/csv with columns origin_lat,origin_lon,destination_lat,destination_lon[,label][,vehicle_id]. "
    "Query: objectives (comma-separated), pareto_method, max_alternatives. Bad rows give 422 csv_invalid_rows "
    "listing every problem with its line number; nothing is run or stored.",
    tags=["routing: batch"],
    status_code=200,
    opt=raises(404),
    responses=QUEUED,
)
async def batch_import_csv(
    svc: Service[RoutingService],
    request: Request[Any, Any, Any],
    body: RawBody,
) -> Response[dict[str, Any]]:
    svc.require_planner()
    q = request.query_params
    try:
        objectives = [o.strip() for o in q.get("objectives", "duration,co2e").split(",") if o.strip()]
        max_alt = int(q.get("max_alternatives", "3"))
        req_opts = msgspec.convert(
            {
                "objectives": objectives,
                "pareto_method": q.get("pareto_method", "exact"),
                "max_alternatives": max_alt,
            },
            S.ParetoOptions,
        )
    except (ValueError, msgspec.ValidationError) as exc:
        raise RidgelineError(422, "invalid_request", f"Invalid query parameters: {exc}") from None
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RidgelineError(
            422,
            "csv_invalid_rows",
            "The CSV is not UTF-8 text.",
            errors=[{"line": 1, "column": None, "message": "not UTF-8"}],
        ) from None
    await svc.refresh_vehicles()
    pairs, vehicles, errors = U.parse_csv(svc, text)
    if errors:
        raise RidgelineError(
            422,
            "csv_invalid_rows",
            f"{len(errors)} problem(s) in the CSV; nothing was run or stored.",
            errors=errors,
            rows_valid=len(pairs),
        )
    req = S.BatchParetoRequest(pairs=pairs, **{f: getattr(req_opts, f) for f in req_opts.__struct_fields__})
    status, body = await U.run_batch(svc, req, vehicles)
    body["rows"] = len(pairs)
    return Response(body, status_code=status)


@get("/batch/jobs/{job_id:str}", summary="Status of a batch job", tags=["routing: batch"])
async def batch_job_status(ctx: Ctx, job_id: FromPath[str]) -> dict[str, Any]:
    job = await ctx.jobs.get_for("routing", job_id)  # NotFound: 404 job_not_found, routing's shape
    return {
        "job_id": job.id,
        "status": str(job.status),
        "run_id": job.params.get("run_id"),
        "result": job.result,
        "error": job.error,
        "done": JobStatus(job.status).terminal,
    }


# ---- runs --------------------------------------------------------------------------------------


@get("/runs/{run_id:str}/manifest", summary="Signed run manifest", tags=["routing: runs"])
async def run_manifest(svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    return (await svc.run(run_id))["manifest"]


@get("/runs/{run_id:str}/scenario-manifest", summary="Signed scenario manifest", tags=["routing: runs"])
async def run_scenario_manifest(svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    return (await svc.run(run_id))["scenario_manifest"]


@get("/runs/{run_id:str}/provenance", summary="Where the run's inputs came from", tags=["routing: runs"])
async def run_provenance(svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    return (await svc.run(run_id))["provenance"]


def _sig(ctx: Any, run_id: str, manifest: dict[str, Any], signature: str) -> dict[str, Any]:
    from ridgeline.platform.signing import canonical_bytes

    return {
        "run_id": run_id,
        "algorithm": "Ed25519",
        "key_id": ctx.signer.key_id,
        "public_key_b64": ctx.signer.public_key_b64(),
        "signature": signature,
        "signed_sha256": sha256_hex(canonical_bytes(manifest)),
        "canonicalization": "JSON, keys sorted, no whitespace, UTF-8",
    }


@get("/runs/{run_id:str}/signature", summary="Ed25519 signature of the manifest", tags=["routing: runs"])
async def run_signature(ctx: Ctx, svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    row = await svc.run(run_id)
    return _sig(ctx, run_id, row["manifest"], row["signature"])


@get(
    "/runs/{run_id:str}/scenario-signature",
    summary="Ed25519 signature of the scenario manifest",
    tags=["routing: runs"],
)
async def run_scenario_signature(
    ctx: Ctx, svc: Service[RoutingService], run_id: FromPath[str]
) -> dict[str, Any]:
    row = await svc.run(run_id)
    return _sig(ctx, run_id, row["scenario_manifest"], row["scenario_signature"])


def _diff(a: Any, b: Any, path: str = "$") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}")
            else:
                out += _diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} (length {len(b)} != {len(a)})"]
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path]


@post(
    "/verify/signature",
    summary="Verify a manifest signature (and say what does not match)",
    tags=["routing: runs"],
    status_code=200,
    opt=raises(404),
)
async def verify_signature(
    ctx: Ctx, svc: Service[RoutingService], data: JSONBody[S.VerifyRequest]
) -> dict[str, Any]:
    stored_manifest = stored_sig = None
    if data.run_id is not None:
        row = await svc.run(data.run_id)
        stored_manifest = row["manifest"] if data.kind == "manifest" else row["scenario_manifest"]
        stored_sig = row["signature"] if data.kind == "manifest" else row["scenario_signature"]
    manifest = data.manifest if data.manifest is not None else stored_manifest
    signature = data.signature if data.signature is not None else stored_sig
    if manifest is None or signature is None:
        raise RidgelineError(422, "invalid_request", "Give run_id, or both manifest and signature.")
    key = data.public_key or ctx.signer.public_key_b64()
    check = verify(key, manifest, signature)
    mismatches: list[str] = []
    if stored_manifest is not None and data.manifest is not None:
        mismatches = _diff(stored_manifest, data.manifest)
    signature_matches_stored = (
        None if stored_sig is None or data.signature is None else (stored_sig == data.signature)
    )
    return {
        "valid": check.valid,
        "reason": check.reason,
        "run_id": data.run_id,
        "kind": data.kind,
        "key_id": ctx.signer.key_id if data.public_key is None else None,
        "mismatched_fields": mismatches,
        "signature_matches_stored": signature_matches_stored,
    }


def _artifact_out(run_id: str, a: Any) -> dict[str, Any]:
    return {
        "name": a.name,
        "sha256": a.sha256,
        "size": a.size,
        "media_type": a.media_type,
        "url": f"runs/{run_id}/artifacts/{a.name}",
    }


@get(
    "/runs/{run_id:str}/artifacts",
    summary="The run's artifacts (generated on first request)",
    tags=["routing: runs"],
)
async def run_artifacts(svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    arts = await svc.ensure_artifacts(run_id)
    return {"run_id": run_id, "artifacts": [_artifact_out(run_id, a) for a in arts]}


async def _artifact_file(
    request: Request[Any, Any, Any], ctx: Ctx, svc: RoutingService, run_id: str, name: str
) -> Response[bytes]:
    if name not in ARTIFACT_NAMES:
        raise RidgelineError(
            404, "artifact_not_found", f"No artifact {name!r}; available: {', '.join(ARTIFACT_NAMES)}."
        )
    arts = {a.name: a for a in await svc.ensure_artifacts(run_id)}
    return await artifact_response(
        request,
        ctx.artifacts,
        arts[name],
        filename=f"{run_id}-{name}",
        integrity_code="artifact_integrity_failed",
    )


def _artifact_route(name: str, media_type: str) -> Any:
    """One declared operation per artifact file (as contract 000 lists them), sharing one body."""

    async def handler(
        request: Request[Any, Any, Any], ctx: Ctx, svc: Service[RoutingService], run_id: FromPath[str]
    ) -> Response[bytes]:
        return await _artifact_file(request, ctx, svc, run_id, name)

    handler.__name__ = f"run_artifact_{name.replace('.', '_')}"
    return http_route(
        f"/runs/{{run_id:str}}/artifacts/{name}",
        http_method=["GET", "HEAD"],
        summary=f"The run's {name} ({media_type}; SHA-256 checked, ETag, If-None-Match and HEAD)",
        tags=["routing: runs"],
        media_type=media_type,
        opt=raises(409),
    )(handler)


ARTIFACT_FILE_HANDLERS = [
    _artifact_route(name, media_type) for name, media_type in ARTIFACT_MEDIA_TYPES.items()
]


# Any other name: the reason-coded 404 listing the files that exist (undocumented: not an operation).
@http_route("/runs/{run_id:str}/artifacts/{name:str}", http_method=["GET", "HEAD"], include_in_schema=False)
async def run_artifact_file(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    svc: Service[RoutingService],
    run_id: FromPath[str],
    name: FromPath[str],
) -> Response[bytes]:
    return await _artifact_file(request, ctx, svc, run_id, name)


# ---- oracle ------------------------------------------------------------------------------------


def _oracle_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "check_id": row["id"],
        "created_at": row["created_at"].isoformat(),
        "asset_name": row["asset_name"],
        "pairs": row["pairs"],
        "extremes_pass_rate": row["extremes_pass_rate"],
        "epsilon_pass_rate": row["epsilon_pass_rate"],
        "brute_force_pass_rate": row["brute_force_pass_rate"],
        "score": row["score"],
    }


@post(
    "/oracle/quality/check",
    summary="Check the engine against independent oracles and store the scores",
    tags=["routing: oracle"],
    status_code=200,
    opt=raises(404),
)
async def oracle_check(svc: Service[RoutingService], data: JSONBody[S.OracleRequest]) -> dict[str, Any]:
    await svc.refresh_vehicles(data.vehicle_id)
    svc.vehicle(data.vehicle_id)
    res = await guarded(lambda: U.compute_oracle(svc, data))
    row = {"id": uuid.uuid4().hex, "created_at": now(), **res}
    await svc.store.insert_oracle(row)
    return {**_oracle_out(row), "details": res["details"]}


@get("/oracle/quality/dashboard", summary="Oracle quality scores over time", tags=["routing: oracle"])
async def oracle_dashboard(svc: Service[RoutingService]) -> dict[str, Any]:
    rows = [_oracle_out(r) for r in await svc.store.list_oracle()]
    latest = rows[-1] if rows else None
    mean = round(sum(r["score"] for r in rows) / len(rows), 6) if rows else None
    return {"checks": rows, "count": len(rows), "latest": latest, "mean_score": mean}


@get(
    "/oracle/quality/dashboard.csv",
    summary="Oracle quality scores as CSV",
    tags=["routing: oracle"],
    media_type="text/csv",
)
async def oracle_dashboard_csv(svc: Service[RoutingService]) -> Response[bytes]:
    import csv
    import io

    rows = [_oracle_out(r) for r in await svc.store.list_oracle()]
    buf = io.StringIO()
    cols = [
        "check_id",
        "created_at",
        "asset_name",
        "pairs",
        "extremes_pass_rate",
        "epsilon_pass_rate",
        "brute_force_pass_rate",
        "score",
    ]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] for c in cols])
    return Response(buf.getvalue().encode(), media_type="text/csv")


HANDLERS = [
    root,
    health,
    metrics,
    cache_stats,
    cache_clear,
    vehicles_list,
    vehicles_custom,
    vehicles_create,
    vehicles_update,
    vehicles_delete,
    route,
    pareto,
    pareto_stream,
    api_pareto_stream,
    departure_optimize,
    duty_chain,
    scenario_compare,
    experiments_list,
    experiments_create,
    experiments_get,
    experiments_update,
    experiments_delete,
    experiments_compare,
    batch_pareto,
    batch_import_csv,
    batch_job_status,
    run_manifest,
    run_scenario_manifest,
    run_provenance,
    run_signature,
    run_scenario_signature,
    verify_signature,
    run_artifacts,
    *ARTIFACT_FILE_HANDLERS,
    run_artifact_file,
    oracle_check,
    oracle_dashboard,
    oracle_dashboard_csv,
]

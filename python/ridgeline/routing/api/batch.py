"""``/batch/pareto``, ``/batch/import/csv`` and ``/batch/jobs/{job_id}``: many pairs at once; large
batches run as ``batch_pareto`` jobs."""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, RawBody

from ridgeline.platform.context import Ctx, Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import JobContext, JobStatus
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound
from ridgeline.routing import batch
from ridgeline.routing.api import convert, schemas
from ridgeline.routing.api.service import RoutingService, off_loop, service_of

# Large batches answer 202 with the job to poll instead of the results.
QUEUED = {202: ResponseSpec(dict[str, Any], description="Queued as a job: poll /batch/jobs/{job_id}.")}


def compute_batch(
    svc: RoutingService,
    req: schemas.BatchParetoRequest,
    vehicles: list[str] | None = None,
    jctx: JobContext | None = None,
) -> dict[str, Any]:
    """Fronts for every pair (``vehicles[i]`` overrides the vehicle of pair i)."""
    planner = svc.require_planner()

    def before_chunk(fraction: float) -> None:
        if jctx is not None:
            jctx.check_cancelled()
            jctx.report_progress(fraction)

    pairs = [
        batch.BatchPair(
            origin=convert.lon_lat(p.origin),
            destination=convert.lon_lat(p.destination),
            vehicle_id=vehicles[i] if vehicles else req.vehicle_id,
        )
        for i, p in enumerate(req.pairs)
    ]
    res = batch.solve_batch(
        planner,
        pairs,
        lambda vehicle_id: svc.scenario(msgspec.structs.replace(req, vehicle_id=vehicle_id)),
        convert.pareto_spec(req),
        req.max_alternatives,
        max_snap_m=req.max_snap_distance_m,
        before_chunk=before_chunk,
    )
    entries: list[dict[str, Any]] = []
    for e, pair in zip(res.entries, req.pairs, strict=True):
        entry: dict[str, Any] = {"index": e.index, "label": pair.label, "status": e.status}
        if e.vehicle_id is not None:
            entry["vehicle_id"] = e.vehicle_id
        entries.append(entry)
    routes: list[dict[str, Any]] = []
    for i in res.order:
        e, entry = res.entries[i], entries[i]
        if e.status != "ok":
            continue
        keys = []
        for j, r in zip(e.choices, e.routes, strict=True):
            d = convert.detail(r, len(routes), f"{i}:{req.pairs[i].label or ''}:{j}")
            d["pair_index"] = i
            routes.append(d)
            keys.append(d["route_key"])
        entry.update(front_size=e.front_size, truncated=e.truncated, route_keys=keys)
    for e, entry in zip(res.entries, entries, strict=True):
        if e.status == "error":
            entry.update(reason_code=e.reason_code, message=e.message)
    used = {vehicles[i] if vehicles else req.vehicle_id for i in range(len(req.pairs))}
    return {
        "pairs": entries,
        "routes": routes,
        "incidents": [],
        "warnings": convert.unused_fields(req, [svc.vehicle(v) for v in sorted(used)], pareto=True),
        "search": {
            "algorithm": "pareto_many",
            "expansions": res.expansions,
            "pairs_solved": res.pairs_solved,
        },
    }


async def batch_job(jctx: JobContext) -> dict[str, Any]:
    svc = service_of(jctx.app)
    req = msgspec.convert(jctx.params["request"], schemas.BatchParetoRequest)
    vehicles = jctx.params.get("vehicles")
    run_id = jctx.params["run_id"]
    stored = await svc.store.get_run(run_id)  # a re-run whose first attempt stored the run: keep that one
    if stored is not None:
        results = stored["results"]
    else:
        # on the job threads, not the default pool that requests' off-loop work shares
        results = await jctx.run_blocking(lambda: compute_batch(svc, req, vehicles, jctx))
        jctx.check_cancelled()
        await svc.record_run("batch_pareto", req, results, req, run_id=run_id)
        await svc.flush()
    await svc.ensure_artifacts(run_id)
    ok = sum(1 for e in results["pairs"] if e["status"] == "ok")
    return {
        "run_id": run_id,
        "pairs": len(results["pairs"]),
        "pairs_ok": ok,
        "routes": len(results["routes"]),
    }


async def run_batch(
    svc: RoutingService, req: schemas.BatchParetoRequest, vehicles: list[str] | None = None
) -> tuple[int, dict[str, Any]]:
    for vid in set(vehicles or [req.vehicle_id]):
        svc.vehicle(vid)
    svc.require_planner()
    convert.pareto_spec(req).check()
    if len(req.pairs) > req.sync_limit:
        run_id = uuid.uuid4().hex
        job = await svc.ctx.jobs.submit(
            "routing",
            "batch_pareto",
            {"run_id": run_id, "request": msgspec.to_builtins(req), "vehicles": vehicles},
        )
        return 202, {"job_id": job.id, "run_id": run_id, "status": str(job.status), "pairs": len(req.pairs)}
    results = await off_loop(lambda: compute_batch(svc, req, vehicles))
    run_id = await svc.record_run("batch_pareto", req, results, req)
    return 200, {"run_id": run_id, **results}


CSV_REQUIRED = ("origin_lat", "origin_lon", "destination_lat", "destination_lon")
CSV_OPTIONAL = ("label", "vehicle_id")
CSV_MAX_ROWS = 2000


def _csv_rows(reader: Any, errors: list[dict[str, Any]]) -> Iterator[list[str]]:
    """The reader's rows until the end or the first malformed record (an unterminated quote, a field
    over the csv module's size limit), which becomes an error on its line instead of an exception."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(
                {"line": max(reader.line_num, 1), "column": None, "message": f"malformed CSV: {exc}"}
            )
            return
        yield row


def parse_csv(
    svc: RoutingService, text: str
) -> tuple[list[schemas.BatchPair], list[str], list[dict[str, Any]]]:
    """Pairs, vehicles and errors (each with its 1-based line number) of a CSV upload."""
    errors: list[dict[str, Any]] = []
    reader = csv.reader(io.StringIO(text))
    rows = _csv_rows(reader, errors)
    first = next(rows, None)
    if first is None:
        return [], [], errors or [{"line": 1, "column": None, "message": "the CSV is empty"}]
    header = [h.strip() for h in first]
    missing = [c for c in CSV_REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown:
        msg = []
        if missing:
            msg.append(f"missing column(s) {missing}")
        if unknown:
            msg.append(f"unknown column(s) {unknown}")
        return [], [], [{"line": 1, "column": None, "message": "; ".join(msg)}]
    col = {name: header.index(name) for name in header}
    pairs: list[schemas.BatchPair] = []
    vehicles: list[str] = []
    planner = svc.planner
    for row in rows:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(pairs) + len(errors) >= CSV_MAX_ROWS:
            errors.append({"line": line, "column": None, "message": f"more than {CSV_MAX_ROWS} rows"})
            break
        if len(row) != len(header):
            errors.append(
                {"line": line, "column": None, "message": f"expected {len(header)} fields, got {len(row)}"}
            )
            continue
        vals: dict[str, float] = {}
        bad = False
        for c in CSV_REQUIRED:
            raw = row[col[c]].strip()
            try:
                v = float(raw)
            except ValueError:
                errors.append({"line": line, "column": c, "message": f"not a number: {raw!r}"})
                bad = True
                continue
            lim = 90.0 if c.endswith("lat") else 180.0
            if not math.isfinite(v) or abs(v) > lim:
                errors.append(
                    {"line": line, "column": c, "message": f"out of range [-{lim:g}, {lim:g}]: {raw}"}
                )
                bad = True
                continue
            vals[c] = v
        label = row[col["label"]].strip() if "label" in col else ""
        if len(label) > 100:
            errors.append({"line": line, "column": "label", "message": "longer than 100 characters"})
            bad = True
        vid = row[col["vehicle_id"]].strip() if "vehicle_id" in col else ""
        vid = vid or "van_diesel"
        try:
            svc.vehicle(vid)
        except NotFound:
            errors.append({"line": line, "column": "vehicle_id", "message": f"unknown vehicle {vid!r}"})
            bad = True
        if bad:
            continue
        if planner is not None:
            for which, lat, lon in (
                ("origin", vals["origin_lat"], vals["origin_lon"]),
                ("destination", vals["destination_lat"], vals["destination_lon"]),
            ):
                dist = planner.snap_distance(lon, lat)
                if dist > planner.max_snap_m:
                    errors.append(
                        {
                            "line": line,
                            "column": f"{which}_lat",
                            "message": f"{which}_out_of_coverage: {dist:.0f} m from the network",
                        }
                    )
                    bad = True
        if bad:
            continue
        pairs.append(
            schemas.BatchPair(
                origin=schemas.Point(lat=vals["origin_lat"], lon=vals["origin_lon"]),
                destination=schemas.Point(lat=vals["destination_lat"], lon=vals["destination_lon"]),
                label=label or None,
            )
        )
        vehicles.append(vid)
    if not pairs and not errors:
        errors.append({"line": 2, "column": None, "message": "the CSV has no data rows"})
    return pairs, vehicles, errors


@post(
    "/batch/pareto",
    summary="Pareto sets for many pairs (large batches run as jobs)",
    tags=["routing: batch"],
    status_code=200,
    opt=raises(404),
    responses=QUEUED,
)
async def batch_pareto(
    svc: Service[RoutingService], data: JSONBody[schemas.BatchParetoRequest]
) -> Response[dict[str, Any]]:
    await svc.refresh_vehicles(data.vehicle_id)
    status, body = await run_batch(svc, data)
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
            schemas.ParetoOptions,
        )
    except (ValueError, msgspec.ValidationError) as exc:  # query parameters: validation, not translation
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
    pairs, vehicles, errors = parse_csv(svc, text)
    if errors:
        raise RidgelineError(
            422,
            "csv_invalid_rows",
            f"{len(errors)} problem(s) in the CSV; nothing was run or stored.",
            errors=errors,
            rows_valid=len(pairs),
        )
    req = schemas.BatchParetoRequest(
        pairs=pairs, **{f: getattr(req_opts, f) for f in req_opts.__struct_fields__}
    )
    status, out = await run_batch(svc, req, vehicles)
    out["rows"] = len(pairs)
    return Response(out, status_code=status)


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


HANDLERS = [batch_pareto, batch_import_csv, batch_job_status]

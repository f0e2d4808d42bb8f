"""Composite use cases: departure scans, duty chains, scenarios, batches, CSV import, oracle checks."""

from __future__ import annotations

import csv
import io
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec
import numpy as np

from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import JobContext
from ridgeline.routing.api import schemas as S
from ridgeline.routing.api.service import RoutingService, off_loop, route_key, service_of
from ridgeline.routing.duty import DutyRules, schedule_duty
from ridgeline.routing.oracle import check_pair, check_subgraph
from ridgeline.routing.planner import OBJECTIVES, RoutingError, select_diverse

MAX_DEPARTURES = 97
BATCH_CHUNK = 64  # pairs per native pareto_many call; a job checks for cancellation between chunks


def compute_departures(svc: RoutingService, req: S.DepartureRequest) -> dict[str, Any]:
    planner = svc.require_planner()
    if req.window_end_utc <= req.window_start_utc:
        raise RoutingError(
            422, "invalid_request", "window_end_utc must be after window_start_utc.", field="window_end_utc"
        )
    step = timedelta(minutes=req.step_minutes)
    n = int((req.window_end_utc - req.window_start_utc) / step) + 1
    if n > MAX_DEPARTURES:
        raise RoutingError(
            422,
            "invalid_request",
            f"The window has {n} departures; at most {MAX_DEPARTURES} (raise step_minutes).",
            field="step_minutes",
        )
    s = planner.snap(req.origin.lon, req.origin.lat, "origin", req.max_snap_distance_m)
    t = planner.snap(req.destination.lon, req.destination.lat, "destination", req.max_snap_distance_m)
    weights = msgspec.to_builtins(req.weights)
    rows = []
    for i in range(n):
        dep = req.window_start_utc + i * step
        p = svc.priced_for(planner, req, [s, t], dep)
        r = planner.route(p, s, t, weights)
        rows.append((dep, r, p))
    tradeoff = [
        {
            "departure_time_utc": dep.isoformat(),
            "route_key": route_key(r.arcs),
            "duration_s": round(r.totals.duration_s, 3),
            "money_eur": round(r.totals.money_eur, 4),
            "co2e_kg": round(r.totals.co2e_kg, 4),
            "distance_m": round(r.totals.distance_m, 1),
            "arrival_time_utc": (dep + timedelta(seconds=r.totals.duration_s)).isoformat(),
        }
        for dep, r, _ in rows
    ]
    best: dict[str, Any] = {}
    routes = []
    seen: dict[int, int] = {}
    for obj in OBJECTIVES:
        vals = [r.objective_values[obj] for _, r, _ in rows]
        i = int(np.argmin(vals))
        best[obj] = {"departure_time_utc": rows[i][0].isoformat(), "value": round(vals[i], 6), "index": i}
        if i not in seen:
            seen[i] = len(routes)
            full = planner.describe_asset_arcs(rows[i][2], rows[i][1].arcs)
            routes.append(svc.detail(full, len(routes), f"departure {rows[i][0].isoformat()}"))
        best[obj]["route_id"] = seen[i]
    return {
        "departures": tradeoff,
        "best": best,
        "routes": routes,
        "incidents": [msgspec.to_builtins(x) for x in rows[0][2].incidents],
        "search": {"algorithm": "weighted-sum A* per departure", "departures": n},
    }


def compute_duty(svc: RoutingService, req: S.DutyRequest) -> dict[str, Any]:
    planner = svc.require_planner()
    nodes = [
        planner.snap(st.lon, st.lat, "origin" if i == 0 else "destination", req.max_snap_distance_m)
        for i, st in enumerate(req.stops)
    ]
    rules = DutyRules(
        max_continuous_driving_s=req.max_continuous_driving_h * 3600,
        break_s=req.break_minutes * 60,
        max_daily_driving_s=req.max_daily_driving_h * 3600,
        daily_rest_s=req.daily_rest_h * 3600,
    )
    service = [st.service_minutes * 60 for st in req.stops]
    weights = msgspec.to_builtins(req.weights)
    legs = []
    driving: list[float] = []
    depart = req.start_time_utc + timedelta(seconds=service[0])
    p = None
    for i in range(len(nodes) - 1):
        p = svc.priced_for(planner, req, nodes, depart)
        r = planner.route(p, nodes[i], nodes[i + 1], weights)
        legs.append(r)
        driving.append(r.totals.duration_s)
        sched = schedule_duty(req.start_time_utc, driving, service[: i + 2], rules)
        depart = datetime.fromisoformat(sched["end_utc"])
    schedule = schedule_duty(req.start_time_utc, driving, service, rules)
    labels = [st.label or f"stop_{i}" for i, st in enumerate(req.stops)]
    for i, leg in enumerate(schedule["legs"]):
        leg["from_stop"], leg["to_stop"] = labels[i], labels[i + 1]
        leg["route_key"] = route_key(legs[i].arcs)
        leg["totals"] = {k: round(float(v), 6) for k, v in msgspec.to_builtins(legs[i].totals).items()}
    assert p is not None
    whole = planner.join(legs, p, labels)
    totals = dict(schedule["totals"])
    for k in ("distance_m", "money_eur", "co2e_kg", "energy_kwh", "fuel_l", "toll_eur"):
        totals[k] = round(sum(getattr(r.totals, k) for r in legs), 6)
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
        "routes": [svc.detail(whole, 0, "duty")],
        "incidents": [msgspec.to_builtins(x) for x in p.incidents],
        "search": {"algorithm": "weighted-sum A* per leg", "legs": len(legs)},
    }


DELTA_KEYS = ("duration_s", "distance_m", "money_eur", "co2e_kg", "energy_kwh", "toll_eur")


def compute_scenarios(svc: RoutingService, req: S.ScenarioRequest) -> dict[str, Any]:
    base = svc.compute_route(req.baseline)
    base_route = base["routes"][0]
    base_route["label"] = "baseline"
    routes = [base_route]
    variants = []
    scenarios = []
    for v in req.variants:
        changes = {
            k: getattr(v, k)
            for k in (
                "vehicle_id",
                "departure_time_utc",
                "weather",
                "incident_simulation",
                "cost_toggles",
                "emissions_context",
            )
            if getattr(v, k) is not None
        }
        vreq = msgspec.structs.replace(req.baseline, **changes)
        if "vehicle_id" in changes:
            vreq = msgspec.structs.replace(vreq, payload_kg=None)
        out = svc.compute_route(vreq)
        r = out["routes"][0]
        r["label"] = v.name
        r["route_id"] = len(routes)
        routes.append(r)
        deltas = {}
        for k in DELTA_KEYS:
            b, x = base_route["totals"][k], r["totals"][k]
            deltas[k] = {"absolute": round(x - b, 6), "percent": round((x - b) / b * 100.0, 4) if b else None}
        variants.append(
            {
                "name": v.name,
                "route_id": r["route_id"],
                "route_key": r["route_key"],
                "totals": r["totals"],
                "deltas": deltas,
                "same_path_as_baseline": r["route_key"] == base_route["route_key"],
                "incidents": out["incidents"],
            }
        )
        scenarios.append({"name": v.name, "changes": msgspec.to_builtins(changes)})
    return {
        "baseline": {"route_id": 0, "route_key": base_route["route_key"], "totals": base_route["totals"]},
        "variants": variants,
        "routes": routes,
        "incidents": base["incidents"],
        "scenarios": scenarios,
        "search": {"algorithm": "weighted-sum A*", "scenarios": 1 + len(variants)},
    }


# ---- batch ---------------------------------------------------------------------------------


def compute_batch(
    svc: RoutingService,
    req: S.BatchParetoRequest,
    vehicles: list[str] | None = None,
    jctx: JobContext | None = None,
) -> dict[str, Any]:
    """Pareto fronts for every pair (``vehicles[i]`` overrides the vehicle of pair i), solved with
    ``pareto_many`` (parallel in the native core) per vehicle."""
    planner = svc.require_planner()
    objectives = tuple(req.objectives)
    entries: list[dict[str, Any]] = []
    groups: dict[str, list[int]] = {}
    snapped: list[tuple[int, int] | None] = []
    for i, pair in enumerate(req.pairs):
        entry: dict[str, Any] = {"index": i, "label": pair.label, "status": "pending"}
        entries.append(entry)
        try:
            s = planner.snap(pair.origin.lon, pair.origin.lat, "origin", req.max_snap_distance_m)
            t = planner.snap(
                pair.destination.lon, pair.destination.lat, "destination", req.max_snap_distance_m
            )
            if s == t:
                raise RoutingError(
                    422, "origin_destination_identical", "Origin and destination snap to the same road node."
                )
            snapped.append((s, t))
            groups.setdefault(vehicles[i] if vehicles else req.vehicle_id, []).append(i)
        except RoutingError as exc:
            snapped.append(None)
            entry.update(status="error", reason_code=exc.reason_code, message=exc.message)
    routes: list[dict[str, Any]] = []
    stats = {"expansions": 0, "pairs_solved": 0}
    done = 0
    for vehicle_id, idx in groups.items():
        opts = msgspec.structs.replace(req, vehicle_id=vehicle_id)
        p = svc.priced_for(planner, opts, [])
        g = planner.graph(p, objectives)
        kw = planner._kw(objectives, req.pareto_method, req.approx_epsilon, req.epsilon, 200, 3.0)
        results = []
        for start in range(0, len(idx), BATCH_CHUNK):
            if jctx is not None:
                jctx.check_cancelled()
                jctx.report_progress(done / max(1, len(req.pairs)))
            chunk = idx[start : start + BATCH_CHUNK]
            results += g.pareto_many(np.array([snapped[i] for i in chunk], dtype=np.int64), **kw)
            done += len(chunk)
        for i, res in zip(idx, results, strict=True):
            e = entries[i]
            e["vehicle_id"] = vehicle_id
            stats["expansions"] += int(res.expansions)
            if res.status != "found" or len(res) == 0:
                code = {"no_path": "no_path", "empty_within_bounds": "epsilon_infeasible"}.get(
                    res.status, "search_budget_exhausted"
                )
                e.update(status="error", reason_code=code, message=f"search status {res.status}")
                continue
            stats["pairs_solved"] += 1
            sols = sorted(res, key=lambda sol: tuple(float(c) for c in sol.costs))
            costs = np.array([sol.costs for sol in sols])
            chosen = select_diverse(costs, req.max_alternatives)
            keys = []
            for j in chosen:
                d = svc.detail(
                    planner.describe(p, sols[j].arcs), len(routes), f"{i}:{req.pairs[i].label or ''}:{j}"
                )
                d["pair_index"] = i
                routes.append(d)
                keys.append(d["route_key"])
            e.update(status="ok", front_size=len(sols), truncated=bool(res.truncated), route_keys=keys)
    return {
        "pairs": entries,
        "routes": routes,
        "incidents": [],
        "search": {"algorithm": "pareto_many", **stats},
    }


async def batch_job(jctx: JobContext) -> dict[str, Any]:
    svc = service_of(jctx.app)
    req = msgspec.convert(jctx.params["request"], S.BatchParetoRequest)
    vehicles = jctx.params.get("vehicles")
    results = await off_loop(lambda: compute_batch(svc, req, vehicles, jctx))
    jctx.check_cancelled()
    run_id = jctx.params["run_id"]
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
    svc: RoutingService, req: S.BatchParetoRequest, vehicles: list[str] | None = None
) -> tuple[int, dict[str, Any]]:
    for vid in set(vehicles or [req.vehicle_id]):
        svc.vehicle(vid)
    svc.require_planner()
    if len(req.pairs) > req.sync_limit:
        run_id = uuid.uuid4().hex
        job = await svc.ctx.jobs.submit(
            "routing",
            "batch_pareto",
            {"run_id": run_id, "request": msgspec.to_builtins(req), "vehicles": vehicles},
        )
        return 202, {"job_id": job.id, "run_id": run_id, "status": str(job.status), "pairs": len(req.pairs)}
    results = await off_loop(lambda: compute_batch(svc, req, vehicles))  # RoutingError renders as is
    run_id = await svc.record_run("batch_pareto", req, results, req)
    return 200, {"run_id": run_id, **results}


CSV_REQUIRED = ("origin_lat", "origin_lon", "destination_lat", "destination_lon")
CSV_OPTIONAL = ("label", "vehicle_id")
CSV_MAX_ROWS = 2000


def parse_csv(svc: RoutingService, text: str) -> tuple[list[S.BatchPair], list[str], list[dict[str, Any]]]:
    """Pairs, vehicles and errors (each with its 1-based line number) of a CSV upload."""
    errors: list[dict[str, Any]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [], [{"line": 1, "column": None, "message": "the CSV is empty"}]
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
    pairs: list[S.BatchPair] = []
    vehicles: list[str] = []
    planner = svc.planner
    for row in reader:
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
        except RidgelineError:
            errors.append({"line": line, "column": "vehicle_id", "message": f"unknown vehicle {vid!r}"})
            bad = True
        if bad:
            continue
        if planner is not None:
            for which, lat, lon in (
                ("origin", vals["origin_lat"], vals["origin_lon"]),
                ("destination", vals["destination_lat"], vals["destination_lon"]),
            ):
                _, dist = planner.assets.snap(lon, lat)
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
            S.BatchPair(
                origin=S.Point(lat=vals["origin_lat"], lon=vals["origin_lon"]),
                destination=S.Point(lat=vals["destination_lat"], lon=vals["destination_lon"]),
                label=label or None,
            )
        )
        vehicles.append(vid)
    if not pairs and not errors:
        errors.append({"line": 2, "column": None, "message": "the CSV has no data rows"})
    return pairs, vehicles, errors


# ---- oracle --------------------------------------------------------------------------------


def compute_oracle(svc: RoutingService, req: S.OracleRequest) -> dict[str, Any]:
    planner = svc.require_planner()
    objectives = tuple(req.objectives)
    if len(set(objectives)) != len(objectives):
        raise RoutingError(422, "invalid_request", "objectives must be distinct.", field="objectives")
    p = planner.priced(svc.vehicle(req.vehicle_id), svc.params(planner, S.Options(vehicle_id=req.vehicle_id)))
    g = planner.graph(p, objectives)
    tail, head, costs = g.arcs()
    rng = np.random.default_rng(req.seed)
    n = g.num_nodes
    checks = []
    for _ in range(req.pairs):
        s, t = (int(x) for x in rng.choice(n, size=2, replace=False))
        checks.append(check_pair(g, tail, head, costs, s, t, req.epsilon))
    subs = [
        check_subgraph(tail, head, costs, int(rng.integers(n)), req.brute_force_nodes)
        for _ in range(req.pairs)
    ]
    ext = sum(c["extremes_ok"] for c in checks) / len(checks)
    eps = sum(c["epsilon_ok"] for c in checks) / len(checks)
    bf = sum(c["ok"] for c in subs) / len(subs)
    return {
        "asset_name": planner.assets.name,
        "pairs": req.pairs,
        "extremes_pass_rate": ext,
        "epsilon_pass_rate": eps,
        "brute_force_pass_rate": bf,
        "score": round((ext + eps + bf) / 3.0, 6),
        "details": {
            "objectives": list(objectives),
            "epsilon": req.epsilon,
            "seed": req.seed,
            "pairs": checks,
            "subgraphs": subs,
        },
    }

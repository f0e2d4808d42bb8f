"""Use cases of the routing family: assets, vehicles, routes, Pareto sets, runs and their artifacts."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import numpy as np
from prometheus_client import Counter

import ridgeline
from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import canonical_sha256
from ridgeline.routing.api import schemas as S
from ridgeline.routing.api.settings import RoutingSettings
from ridgeline.routing.api.store import RoutingStore, now
from ridgeline.routing.assets import AssetError, build_sample_assets, load_assets
from ridgeline.routing.energy import CostParams
from ridgeline.routing.planner import (
    OBJECTIVES,
    IncidentSpec,
    Planner,
    Priced,
    RouteResult,
    RoutingError,
    select_diverse,
)
from ridgeline.routing.reports import ARTIFACT_NAMES, build_artifacts
from ridgeline.routing.vehicles import BUILTIN_VEHICLES, Vehicle, VehicleError, validate_vehicle

log = logging.getLogger("ridgeline.routing")
T = TypeVar("T")

CACHE_EVENTS = Counter("ridgeline_routing_cache_total", "Route cache lookups by outcome", ["outcome"])


def route_key(arcs: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(arcs, dtype=np.int64).tobytes()).hexdigest()[:16]


class RouteCache:
    """A bounded LRU of computed results keyed by the canonical request, with hit/miss counts."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._d: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any:
        with self._lock:
            v = self._d.get(key)
            if v is None:
                self.misses += 1
                CACHE_EVENTS.labels("miss").inc()
                return None
            self._d.move_to_end(key)
            self.hits += 1
            CACHE_EVENTS.labels("hit").inc()
            return v

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.capacity:
                self._d.popitem(last=False)

    def clear(self) -> int:
        with self._lock:
            n = len(self._d)
            self._d.clear()
            self.hits = 0
            self.misses = 0
            return n

    def stats(self) -> dict[str, Any]:
        with self._lock:
            total = self.hits + self.misses
            return {
                "entries": len(self._d),
                "capacity": self.capacity,
                "hits": self.hits,
                "misses": self.misses,
                "hit_rate": round(self.hits / total, 6) if total else 0.0,
            }


def to_error(exc: RoutingError | AssetError, status: int = 503) -> RidgelineError:
    if isinstance(exc, RoutingError):
        return RidgelineError(exc.status, exc.reason_code, exc.message, warnings=exc.warnings, **exc.extra)
    return RidgelineError(status, exc.reason_code, exc.message, warnings=exc.warnings, **exc.extra)


async def off_loop(fn: Callable[[], T]) -> T:
    """Runs blocking engine work on a worker thread (native calls release the GIL)."""
    return await asyncio.get_running_loop().run_in_executor(None, fn)


class RoutingService:
    def __init__(
        self, ctx: AppContext, assets_dir: Path | None = None, settings: RoutingSettings | None = None
    ) -> None:
        self.ctx = ctx
        self.settings = settings or RoutingSettings()
        self.assets_dir = assets_dir if assets_dir is not None else self.settings.assets
        self.store = RoutingStore(ctx.db)
        self.cache = RouteCache()
        self.planner: Planner | None = None
        self.asset_error: AssetError | None = None
        self.custom: dict[str, Vehicle] = {}
        self._artifact_locks: dict[str, asyncio.Lock] = {}
        # Group commit of run records: concurrent requests' rows share one transaction, and each request
        # answers only after the transaction holding its run has committed (nothing promised is lost).
        self._pending: dict[str, dict[str, Any]] = {}
        self._committed: dict[str, asyncio.Future[None]] = {}
        self._flush_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None

    # ---- start-up --------------------------------------------------------------------------

    def trusted_keys(self) -> list[str]:
        return [self.ctx.signer.public_key_b64(), *self.settings.trusted_keys]

    def _resolve_assets(self) -> Path | None:
        if self.assets_dir is not None:
            return self.assets_dir
        if not self.ctx.settings.seed_defaults:
            return None
        sample = self.ctx.settings.data_dir / "routing" / "sample"
        sample.mkdir(parents=True, exist_ok=True)
        with (sample / ".build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (sample / "manifest.sig.json").is_file():
                log.info("building the deterministic sample routing region", extra={"path": str(sample)})
                build_sample_assets(sample, self.ctx.signer)
        return sample

    def load(self) -> None:
        try:
            path = self._resolve_assets()
            if path is None:
                raise AssetError(
                    "routing_graph_unavailable",
                    "No routing assets are configured.",
                    warnings=[
                        "Set RIDGELINE_ROUTING_ASSETS or build model assets: ridgeline assets build ..."
                    ],
                )
            assets = load_assets(
                path,
                self.trusted_keys(),
                expected_dem_version=self.settings.dem_version,
                min_terrain_coverage=self.settings.min_coverage,
            )
            assets._index()
            self.planner = Planner(assets)
            self.asset_error = None
        except AssetError as exc:
            log.warning(
                "routing assets refused", extra={"reason_code": exc.reason_code, "detail": exc.message}
            )
            self.planner = None
            self.asset_error = exc

    async def startup(self) -> None:
        await off_loop(self.load)
        for row in await self.store.list_vehicles():
            try:
                self.custom[row["vehicle_id"]] = msgspec.convert(row["spec"], Vehicle)
            except msgspec.ValidationError:
                log.warning("skipping unreadable custom vehicle", extra={"vehicle_id": row["vehicle_id"]})

    def require_planner(self) -> Planner:
        if self.planner is None:
            raise to_error(
                self.asset_error or AssetError("routing_graph_unavailable", "Routing graph is unavailable.")
            )
        return self.planner

    def asset_info(self) -> dict[str, Any]:
        if self.planner is None:
            return {
                "loaded": False,
                "reason_code": self.asset_error.reason_code if self.asset_error else None,
            }
        a = self.planner.assets
        return {
            "loaded": True,
            "name": a.name,
            "dem_version": a.dem_version,
            "builder_version": a.manifest.get("builder_version"),
            "manifest_sha256": a.manifest_sha256,
            "created_at": a.manifest.get("created_at"),
            "nodes": a.num_nodes,
            "arcs": a.num_arcs,
            "terrain_coverage": (a.manifest.get("terrain") or {}).get("coverage"),
        }

    # ---- vehicles --------------------------------------------------------------------------

    def vehicle(self, vehicle_id: str, payload_kg: float | None = None) -> Vehicle:
        v = BUILTIN_VEHICLES.get(vehicle_id) or self.custom.get(vehicle_id)
        if v is None:
            raise RidgelineError(
                404, "vehicle_not_found", f"Vehicle {vehicle_id!r} does not exist.", vehicle_id=vehicle_id
            )
        if payload_kg is not None:
            if payload_kg > v.max_payload_kg:
                raise RidgelineError(
                    422,
                    "invalid_request",
                    f"payload_kg {payload_kg:g} exceeds the vehicle's max_payload_kg {v.max_payload_kg:g}.",
                )
            v = msgspec.structs.replace(v, payload_kg=payload_kg)
        return v

    async def refresh_vehicles(self, *vehicle_ids: str | None) -> None:
        """Re-reads custom vehicles from the database (other worker processes may have changed
        them) unless every id asked for is built in. One small query."""
        if vehicle_ids and all(v is None or v in BUILTIN_VEHICLES for v in vehicle_ids):
            return
        fresh: dict[str, Vehicle] = {}
        for row in await self.store.list_vehicles():
            try:
                fresh[row["vehicle_id"]] = msgspec.convert(row["spec"], Vehicle)
            except msgspec.ValidationError:
                log.warning("skipping unreadable custom vehicle", extra={"vehicle_id": row["vehicle_id"]})
        self.custom = fresh

    def all_vehicles(self) -> list[Vehicle]:
        return [*BUILTIN_VEHICLES.values(), *sorted(self.custom.values(), key=lambda v: v.vehicle_id)]

    @staticmethod
    def vehicle_from(body: S.VehicleIn) -> Vehicle:
        v = msgspec.convert(msgspec.to_builtins(body), Vehicle)
        try:
            return validate_vehicle(v)
        except VehicleError as exc:
            raise RidgelineError(
                422, "invalid_request", f"Invalid vehicle: {exc}", field=str(exc).split(" ")[0]
            ) from None

    async def create_vehicle(self, body: S.VehicleIn) -> Vehicle:
        v = self.vehicle_from(body)
        if (
            v.vehicle_id in BUILTIN_VEHICLES
            or v.vehicle_id in self.custom
            or await self.store.get_vehicle(v.vehicle_id)
        ):
            raise RidgelineError(
                409, "vehicle_exists", f"Vehicle {v.vehicle_id!r} already exists.", vehicle_id=v.vehicle_id
            )
        await self.store.insert_vehicle(v.vehicle_id, msgspec.to_builtins(v))
        self.custom[v.vehicle_id] = v
        return v

    async def update_vehicle(self, vehicle_id: str, body: S.VehicleIn) -> Vehicle:
        if vehicle_id in BUILTIN_VEHICLES:
            raise RidgelineError(
                409, "vehicle_builtin_readonly", f"Built-in vehicle {vehicle_id!r} cannot be changed."
            )
        if body.vehicle_id != vehicle_id:
            raise RidgelineError(
                422, "invalid_request", "vehicle_id in the body must match the path.", field="vehicle_id"
            )
        v = self.vehicle_from(body)
        if not await self.store.update_vehicle(vehicle_id, msgspec.to_builtins(v)):
            raise RidgelineError(
                404,
                "vehicle_not_found",
                f"Custom vehicle {vehicle_id!r} does not exist.",
                vehicle_id=vehicle_id,
            )
        self.custom[vehicle_id] = v
        self.cache.clear()
        return v

    async def delete_vehicle(self, vehicle_id: str) -> None:
        if vehicle_id in BUILTIN_VEHICLES:
            raise RidgelineError(
                409, "vehicle_builtin_readonly", f"Built-in vehicle {vehicle_id!r} cannot be deleted."
            )
        if not await self.store.delete_vehicle(vehicle_id):
            raise RidgelineError(
                404,
                "vehicle_not_found",
                f"Custom vehicle {vehicle_id!r} does not exist.",
                vehicle_id=vehicle_id,
            )
        self.custom.pop(vehicle_id, None)
        self.cache.clear()

    # ---- scenario and search ---------------------------------------------------------------

    def params(self, planner: Planner, o: S.Options, departure: datetime | None = None) -> CostParams:
        ct = o.cost_toggles
        dep = departure if departure is not None else o.departure_time_utc
        return CostParams(
            local_seconds_of_day=planner.local_seconds(dep),
            weather=o.weather.condition,
            headwind_ms=o.weather.headwind_ms,
            risk_aversion=o.risk_aversion,
            diesel_eur_per_l=ct.diesel_price_eur_per_l,
            electricity_eur_per_kwh=ct.electricity_price_eur_per_kwh,
            driver_eur_per_h=ct.driver_cost_eur_per_hour,
            include_tolls=ct.use_tolls,
            avoid_tolls=ct.avoid_tolls,
            include_driver_cost=ct.include_driver_cost,
            carbon_eur_per_t=ct.carbon_price_eur_per_t,
            grid_intensity_g_per_kwh=o.emissions_context.grid_intensity_g_per_kwh,
        )

    @staticmethod
    def incident_spec(o: S.Options) -> IncidentSpec | None:
        sim = o.incident_simulation
        if sim is None or not sim.enabled or sim.count == 0:
            return None
        return IncidentSpec(seed=sim.seed, count=sim.count, speed_factor=sim.speed_factor)

    def priced_for(
        self, planner: Planner, o: S.Options, nodes: list[int], departure: datetime | None = None
    ) -> Priced:
        vehicle = self.vehicle(o.vehicle_id, o.payload_kg)
        return planner.priced(vehicle, self.params(planner, o, departure), self.incident_spec(o), nodes)

    @staticmethod
    def detail(r: RouteResult, route_id: int, label: str | None = None) -> dict[str, Any]:
        totals = {k: round(float(v), 6) for k, v in msgspec.to_builtins(r.totals).items()}
        legs = [
            {**leg, "totals": {k: round(float(v), 6) for k, v in leg["totals"].items()}} for leg in r.legs
        ] or [{"leg_index": 0, "from_stop": "origin", "to_stop": "destination", "totals": totals}]
        return {
            "route_id": route_id,
            "route_key": route_key(r.arcs),
            "label": label,
            "objectives": {k: round(v, 6) for k, v in r.objective_values.items()},
            "totals": totals,
            "geometry": {"type": "LineString", "coordinates": r.coordinates},
            "elevation_profile": r.profile,
            "legs": legs,
            "road_class_km": r.road_class_km,
            "node_count": int(r.nodes.size),
        }

    @staticmethod
    def coverage_check(planner: Planner, r: RouteResult, required: float) -> None:
        if r.totals.terrain_coverage < required:
            raise RoutingError(
                422,
                "terrain_dem_coverage_insufficient",
                "Terrain DEM coverage along the route is insufficient.",
                warnings=["Lower min_terrain_coverage or rebuild assets with a DEM covering the route."],
                terrain_dem_version=planner.assets.dem_version,
                terrain_coverage_required=required,
                terrain_coverage_min_observed=r.totals.terrain_coverage,
            )

    def compute_route(self, req: S.RouteRequest) -> dict[str, Any]:
        planner = self.require_planner()
        points = [
            ("origin", req.origin),
            *((f"waypoint_{i + 1}", w) for i, w in enumerate(req.waypoints)),
            ("destination", req.destination),
        ]
        nodes = []
        for name, pt in points:
            which = name if name in ("origin", "destination") else "waypoint"
            nodes.append(planner.snap(pt.lon, pt.lat, which, req.max_snap_distance_m))
        p = self.priced_for(planner, req, nodes)
        weights = msgspec.to_builtins(req.weights)
        if not any(weights.values()):
            raise RoutingError(
                422, "invalid_request", "At least one weight must be positive.", field="weights"
            )
        parts = [planner.route(p, nodes[i], nodes[i + 1], weights) for i in range(len(nodes) - 1)]
        whole = planner.join(parts, p, [n for n, _ in points])
        self.coverage_check(planner, whole, req.min_terrain_coverage)
        return {
            "routes": [self.detail(whole, 0, "route")],
            "incidents": [msgspec.to_builtins(i) for i in p.incidents],
            "warnings": [],
            "search": {"algorithm": "weighted-sum A*", "legs": len(parts)},
        }

    def _front(
        self, planner: Planner, p: Priced, sols: list[Any], req: S.ParetoOptions
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        """The canonical (sorted) front as ``{route_key, objectives}``, the routes chosen for
        diversity with full detail (``route_id`` = position in the front), and warnings."""
        warnings: list[str] = []
        described = []
        for sol in sols:
            r = planner.describe(p, sol.arcs, full=False)
            if r.totals.terrain_coverage < req.min_terrain_coverage:
                continue
            described.append((tuple(float(c) for c in sol.costs), route_key(r.arcs), r))
        dropped = len(sols) - len(described)
        if dropped:
            warnings.append(f"{dropped} route(s) dropped: terrain coverage below {req.min_terrain_coverage}.")
        if not described and sols:
            r0 = planner.describe(p, sols[0].arcs, full=False)
            self.coverage_check(planner, r0, req.min_terrain_coverage)
        described.sort(key=lambda cr: (cr[0], cr[1]))
        front = [
            {"route_key": key, "objectives": {k: round(v, 6) for k, v in r.objective_values.items()}}
            for _, key, r in described
        ]
        costs = np.array([c for c, _, _ in described]) if described else np.empty((0, len(req.objectives)))
        chosen = select_diverse(costs, req.max_alternatives) if described else []
        routes = [self.detail(planner.describe_asset_arcs(p, described[i][2].arcs), i) for i in chosen]
        return front, routes, warnings

    def _pareto_setup(self, req: S.ParetoRequest) -> tuple[Planner, Priced, int, int, tuple[str, ...]]:
        planner = self.require_planner()
        objectives = tuple(req.objectives)
        if len(set(objectives)) != len(objectives):
            raise RoutingError(422, "invalid_request", "objectives must be distinct.", field="objectives")
        if req.epsilon:
            bad = [k for k in req.epsilon if k not in OBJECTIVES]
            if bad:
                raise RoutingError(
                    422, "invalid_request", f"Unknown objective(s) in epsilon: {bad}.", field="epsilon"
                )
            if any(not (v >= 0) for v in req.epsilon.values()):
                raise RoutingError(
                    422, "invalid_request", "epsilon bounds must be non-negative numbers.", field="epsilon"
                )
            missing = [k for k in req.epsilon if k not in objectives]
            if missing:
                raise RoutingError(
                    422,
                    "invalid_request",
                    f"epsilon bounds on objectives not searched: {missing}.",
                    field="epsilon",
                )
        s = planner.snap(req.origin.lon, req.origin.lat, "origin", req.max_snap_distance_m)
        t = planner.snap(req.destination.lon, req.destination.lat, "destination", req.max_snap_distance_m)
        p = self.priced_for(planner, req, [s, t])
        return planner, p, s, t, objectives

    def compute_pareto(self, req: S.ParetoRequest) -> dict[str, Any]:
        planner, p, s, t, objectives = self._pareto_setup(req)
        res = planner.pareto(
            p,
            s,
            t,
            objectives,
            method=req.pareto_method,
            approx_epsilon=req.approx_epsilon,
            bounds=req.epsilon,
        )
        front, routes, warnings = self._front(planner, p, list(res), req)
        if res.truncated:
            warnings.append("The search hit its limits; the front may be incomplete.")
        return {
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

    # ---- runs ------------------------------------------------------------------------------

    async def record_run(
        self,
        kind: str,
        request: Any,
        results: dict[str, Any],
        options: S.Options | None,
        run_id: str | None = None,
    ) -> str:
        run_id = run_id or uuid.uuid4().hex
        planner = self.require_planner()
        created = now()
        req_builtins = msgspec.to_builtins(request)
        asset = {
            "name": planner.assets.name,
            "dem_version": planner.assets.dem_version,
            "builder_version": planner.assets.manifest.get("builder_version"),
            "manifest_sha256": planner.assets.manifest_sha256,
        }
        routes = results.get("routes") or []
        vehicle_id = options.vehicle_id if options is not None else None
        manifest = {
            "run_id": run_id,
            "kind": kind,
            "created_at": created.isoformat(),
            "service_version": ridgeline.__version__,
            "asset": asset,
            "vehicle_id": vehicle_id,
            "request_sha256": canonical_sha256(request),
            "results_sha256": canonical_sha256(results),
            "route_count": len(routes),
            "routes": [
                {
                    "route_key": r.get("route_key"),
                    "label": r.get("label"),
                    "duration_s": r["totals"]["duration_s"],
                    "distance_m": r["totals"]["distance_m"],
                    "money_eur": r["totals"]["money_eur"],
                    "co2e_kg": r["totals"]["co2e_kg"],
                }
                for r in routes
            ],
            "signing_key_id": self.ctx.signer.key_id,
        }
        scenario: dict[str, Any] = {}
        if options is not None:
            try:
                vehicle = msgspec.to_builtins(self.vehicle(options.vehicle_id, options.payload_kg))
            except RidgelineError:
                vehicle = {"vehicle_id": options.vehicle_id}
            scenario = {
                "vehicle": vehicle,
                "departure_time_utc": options.departure_time_utc.isoformat()
                if options.departure_time_utc
                else None,
                "weather": msgspec.to_builtins(options.weather),
                "incident_simulation": msgspec.to_builtins(options.incident_simulation),
                "cost_toggles": msgspec.to_builtins(options.cost_toggles),
                "emissions_context": msgspec.to_builtins(options.emissions_context),
                "risk_aversion": options.risk_aversion,
            }
        if "scenarios" in results:
            scenario["variants"] = results["scenarios"]
        scenario_manifest = {
            "run_id": run_id,
            "kind": kind,
            "created_at": created.isoformat(),
            "asset": asset,
            "scenario": scenario,
            "incidents": results.get("incidents", []),
            "scenario_sha256": canonical_sha256(scenario),
        }
        provenance = {
            "run_id": run_id,
            "asset_manifest": planner.assets.manifest,
            "asset_signature_key_id": planner.assets.signature.get("key_id"),
            "engine": dict(ridgeline.build_info()),
            "search": results.get("search"),
            "energy_model": "physical-v1 (docs/routing.md#energy-model)",
            "service_version": ridgeline.__version__,
        }
        await self._commit(
            {
                "id": run_id,
                "kind": kind,
                "request": req_builtins,
                "results": results,
                "manifest": manifest,
                "signature": self.ctx.signer.sign(manifest),
                "scenario_manifest": scenario_manifest,
                "scenario_signature": self.ctx.signer.sign(scenario_manifest),
                "provenance": provenance,
                "created_at": created,
            }
        )
        return run_id

    async def _commit(self, row: dict[str, Any]) -> None:
        """Queue the row and wait until a transaction holding it has committed (or raise)."""
        done = asyncio.get_running_loop().create_future()
        self._pending[row["id"]] = row
        self._committed[row["id"]] = done
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        await done

    async def _write_loop(self) -> None:
        # No timer: while one transaction commits, the next requests' rows gather for the next one.
        while self._pending:
            try:
                await self.flush()
            except Exception:
                log.exception("recording runs failed")

    async def flush(self) -> int:
        """Writes every pending run (one transaction); returns how many were written."""
        async with self._flush_lock:
            rows = list(self._pending.values())
            if not rows:
                return 0
            waiters = [self._committed.pop(r["id"]) for r in rows]
            for r in rows:
                self._pending.pop(r["id"], None)
            try:
                await self.store.insert_runs(rows)
            except Exception as exc:
                for w in waiters:
                    if not w.done():
                        w.set_exception(exc)
                raise
            for w in waiters:
                if not w.done():
                    w.set_result(None)
            return len(rows)

    async def close(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()

    async def count_runs(self) -> int:
        await self.flush()
        return await self.store.count_runs()

    async def run(self, run_id: str) -> dict[str, Any]:
        pending = self._pending.get(run_id)
        if pending is not None:
            return pending
        row = await self.store.get_run(run_id) if len(run_id) <= 32 else None
        if row is None:
            raise RidgelineError(404, "run_not_found", f"Run {run_id!r} does not exist.", run_id=run_id)
        return row

    async def ensure_artifacts(self, run_id: str) -> list[Any]:
        row = await self.run(run_id)
        lock = self._artifact_locks.setdefault(run_id, asyncio.Lock())
        async with lock:
            have = {a.name: a for a in await self.ctx.artifacts.list("routing", run_id)}
            if all(n in have for n in ARTIFACT_NAMES):
                return [have[n] for n in ARTIFACT_NAMES]
            files = await off_loop(lambda: build_artifacts(row))
            out = []
            for name in ARTIFACT_NAMES:
                data, media = files[name]
                out.append(await self.ctx.artifacts.put("routing", run_id, name, data, media))
        self._artifact_locks.pop(run_id, None)
        return out

    # ---- timing helper ---------------------------------------------------------------------

    @staticmethod
    def clock() -> float:
        return time.perf_counter()


def service_of(ctx: AppContext) -> RoutingService:
    """The started service (for jobs and hooks; handlers take ``svc: RoutingService`` instead)."""
    return ctx.service(RoutingService)

"""The routing family's service: assets and planner, vehicles, the route cache, runs (group commit)
and their artifacts. Handlers receive it as ``svc: Service[RoutingService]``."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from prometheus_client import Counter

import ridgeline
from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import canonical_sha256
from ridgeline.platform.jobs_redis import shared_cache
from ridgeline.platform.problems import EngineError, NotFound
from ridgeline.routing.api import convert, schemas
from ridgeline.routing.api.settings import RoutingSettings
from ridgeline.routing.api.store import RoutingStore, now
from ridgeline.routing.assets import AssetError, build_sample_assets, load_assets
from ridgeline.routing.planner import Planner, Scenario
from ridgeline.routing.reports import ARTIFACT_NAMES, build_artifacts
from ridgeline.routing.vehicles import BUILTIN_VEHICLES, Vehicle, validate_vehicle

log = logging.getLogger("ridgeline.routing")
T = TypeVar("T")

CACHE_EVENTS = Counter("ridgeline_routing_cache_total", "Route cache lookups by outcome", ["outcome"])
_CACHE_HIT, _CACHE_MISS = CACHE_EVENTS.labels("hit"), CACHE_EVENTS.labels("miss")  # resolved once


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
                _CACHE_MISS.inc()
                return None
            self._d.move_to_end(key)
            self.hits += 1
            _CACHE_HIT.inc()
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


async def off_loop(fn: Callable[[], T]) -> T:
    """Runs blocking engine work on a worker thread (native calls release the GIL). Engine errors
    are EngineErrors: the app's exception handler renders them as raised."""
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def clock() -> float:
    return time.perf_counter()


def elapsed_ms(t0: float) -> float:
    return round((clock() - t0) * 1000.0, 3)


class RoutingService:
    def __init__(
        self, ctx: AppContext, assets_dir: Path | None = None, settings: RoutingSettings | None = None
    ) -> None:
        self.ctx = ctx
        self.settings = settings or RoutingSettings()
        # The native core reads its heuristic cache budget from the environment once, at the first
        # Pareto search: a k = 3 space of the turn-expanded Andorra graph is ~1.6 MB, so the core's
        # 8 MB default kept 5 targets and a service rotating over more recomputed every query's
        # backward searches (10 ms of a 10.5 ms /pareto search on the bench's 8 pairs).
        os.environ["RIDGELINE_ROUTING_HEURISTIC_CACHE_MB"] = f"{self.settings.heuristic_cache_mb:g}"
        self.assets_dir = assets_dir if assets_dir is not None else self.settings.assets
        self.store = RoutingStore(ctx.db)
        self.cache = RouteCache()
        self.shared = shared_cache(ctx.settings, "routing")  # with Redis: results shared by all workers
        self.planner: Planner | None = None
        self.asset_error: AssetError | None = None
        self.custom: dict[str, Vehicle] = {}
        self._artifact_locks: dict[str, asyncio.Lock] = {}
        self._asset_info: tuple[Planner, dict[str, Any]] | None = None
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
            assets.spatial_index()  # built once here, not on the first request
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
            raise self.asset_error or AssetError("routing_graph_unavailable", "Routing graph is unavailable.")
        return self.planner

    def asset_info(self) -> dict[str, Any]:
        """The ``asset`` block of every answer: built once per loaded planner (treat it as read-only)."""
        if self.planner is None:
            return {
                "loaded": False,
                "reason_code": self.asset_error.reason_code if self.asset_error else None,
            }
        cached = self._asset_info
        if cached is not None and cached[0] is self.planner:
            return cached[1]
        a = self.planner.assets
        info = {
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
        self._asset_info = (self.planner, info)
        return info

    # ---- vehicles --------------------------------------------------------------------------

    def vehicle(self, vehicle_id: str, payload_kg: float | None = None) -> Vehicle:
        """A built-in or custom vehicle (404 ``vehicle_not_found``), with ``payload_kg`` when given
        (422 when above the vehicle's max payload)."""
        v = BUILTIN_VEHICLES.get(vehicle_id) or self.custom.get(vehicle_id)
        if v is None:
            raise NotFound(
                "vehicle",
                vehicle_id,
                message=f"Vehicle {vehicle_id!r} does not exist.",
                vehicle_id=vehicle_id,
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

    def scenario(self, o: schemas.Options, departure: datetime | None = None) -> Scenario:
        """The engine scenario of a request's common options (its vehicle resolved as :meth:`vehicle`)."""
        return convert.scenario(o, self.vehicle(o.vehicle_id, o.payload_kg), departure)

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

    async def create_vehicle(self, body: schemas.VehicleIn) -> Vehicle:
        v = validate_vehicle(msgspec.convert(msgspec.to_builtins(body), Vehicle))  # VehicleError: 422
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

    async def update_vehicle(self, vehicle_id: str, body: schemas.VehicleIn) -> Vehicle:
        if vehicle_id in BUILTIN_VEHICLES:
            raise RidgelineError(
                409, "vehicle_builtin_readonly", f"Built-in vehicle {vehicle_id!r} cannot be changed."
            )
        if body.vehicle_id != vehicle_id:
            raise RidgelineError(
                422, "invalid_request", "vehicle_id in the body must match the path.", field="vehicle_id"
            )
        v = validate_vehicle(msgspec.convert(msgspec.to_builtins(body), Vehicle))
        if not await self.store.update_vehicle(vehicle_id, msgspec.to_builtins(v)):
            raise self._no_custom_vehicle(vehicle_id)
        self.custom[vehicle_id] = v
        self.cache.clear()
        return v

    async def delete_vehicle(self, vehicle_id: str) -> None:
        if vehicle_id in BUILTIN_VEHICLES:
            raise RidgelineError(
                409, "vehicle_builtin_readonly", f"Built-in vehicle {vehicle_id!r} cannot be deleted."
            )
        if not await self.store.delete_vehicle(vehicle_id):
            raise self._no_custom_vehicle(vehicle_id)
        self.custom.pop(vehicle_id, None)
        self.cache.clear()

    @staticmethod
    def _no_custom_vehicle(vehicle_id: str) -> NotFound:
        return NotFound(
            "vehicle",
            vehicle_id,
            message=f"Custom vehicle {vehicle_id!r} does not exist.",
            vehicle_id=vehicle_id,
        )

    # ---- caches ----------------------------------------------------------------------------

    def cache_stats(self) -> dict[str, Any]:
        stats = self.cache.stats()
        stats["priced_networks"] = self.planner.priced_count if self.planner else 0
        return stats

    def clear_caches(self) -> int:
        """Clears the route cache and the planner's priced networks; returns the route entries dropped."""
        n = self.cache.clear()
        if self.planner is not None:
            self.planner.clear_priced()
        return n

    async def answer(
        self, kind: str, req: schemas.Options, compute: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], str]:
        """Results from the route cache or ``compute`` (off the loop), then the run recorded (on
        cache hits too). The key holds the request and the vehicle's current parameters."""
        await self.refresh_vehicles(req.vehicle_id)
        vehicle = self.vehicle(req.vehicle_id, req.payload_kg)
        canonical = msgspec.json.encode(req, order="sorted")  # the request's canonical JSON
        key = f"{kind}:{canonical.decode()}:{msgspec.json.encode(vehicle).decode()}"
        request_sha256 = hashlib.sha256(canonical).hexdigest()  # = canonical_sha256(req)
        results = self.cache.get(key)
        shared_key = f"{self.planner.assets.manifest_sha256 if self.planner else ''}:{key}"
        if results is None and self.shared is not None:
            results = await self.shared.get(shared_key)
        row: dict[str, Any] | None = None
        if results is None:
            # The run row (hashes, two signatures, JSON) is built on the same worker thread as the
            # search: the event loop only queues it, and never gives up the GIL mid-request to
            # hash or sign (hashlib releases it on large inputs; taking it back waits on the
            # threads' switch interval).
            def work() -> tuple[dict[str, Any], dict[str, Any]]:
                computed = compute()
                return computed, self.run_row(kind, req, computed, req, request_sha256=request_sha256)

            results, row = await off_loop(work)
            if self.shared is not None:
                await self.shared.put(shared_key, results)
        self.cache.put(key, results)
        if row is None:
            row = self.run_row(kind, req, results, req, request_sha256=request_sha256)
        await self._commit(row)
        return results, row["id"]

    # ---- runs ------------------------------------------------------------------------------

    async def record_run(
        self,
        kind: str,
        request: Any,
        results: dict[str, Any],
        options: schemas.Options | None,
        run_id: str | None = None,
    ) -> str:
        """Records the run (signed manifests, one group-committed row); returns its id once the
        transaction holding it has committed."""
        row = self.run_row(kind, request, results, options, run_id)
        await self._commit(row)
        return str(row["id"])

    def run_row(
        self,
        kind: str,
        request: Any,
        results: dict[str, Any],
        options: schemas.Options | None,
        run_id: str | None = None,
        *,
        request_sha256: str | None = None,
    ) -> dict[str, Any]:
        """The run's row: manifest and scenario manifest, both signed, and provenance. Plain work
        (no I/O, nothing awaited): callable on a worker thread."""
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
            "request_sha256": request_sha256 or canonical_sha256(request),
            "results_sha256": canonical_sha256(results),
            "route_count": len(routes),
            # A duty's chain totals (driving, breaks, rests, service, elapsed, money ...), as answered.
            **({"totals": results["totals"]} if isinstance(results.get("totals"), dict) else {}),
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
            except EngineError:  # the vehicle went away meanwhile (or its payload no longer fits)
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
        if self.ctx.db.backend != "sqlite":
            # msgspec.Raw (``convert.pre_encoded``) is embedded by the SQLite column's msgspec
            # encoder; other drivers serialise JSON themselves and get plain values.
            results = msgspec.json.decode(msgspec.json.encode(results))
        return {
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

    async def commit_run(self, row: dict[str, Any]) -> None:
        """Queues a :meth:`run_row` and returns once the transaction holding it has committed."""
        await self._commit(row)

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
                await self.store.insert_runs(rows, fsync=self.settings.runs_sync == "full")
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
        if self.shared is not None:
            await self.shared.close()
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
        self.store.close()

    async def count_runs(self) -> int:
        await self.flush()
        return await self.store.count_runs()

    async def run(self, run_id: str) -> dict[str, Any]:
        committing = self._committed.get(run_id)
        if committing is not None:  # recorded here, not yet committed: read it once it is
            await asyncio.shield(committing)
        row = await self.store.get_run(run_id) if len(run_id) <= 32 else None
        if row is None:
            raise NotFound("run", run_id, message=f"Run {run_id!r} does not exist.", run_id=run_id)
        return row

    async def ensure_artifacts(self, run_id: str) -> list[Any]:
        row = await self.run(run_id)
        lock = self._artifact_locks.setdefault(run_id, asyncio.Lock())
        async with lock:
            have = {a.name: a for a in await self.ctx.artifacts.list("routing", run_id)}
            if all(n in have for n in ARTIFACT_NAMES):
                return [have[n] for n in ARTIFACT_NAMES]
            places = self.planner.assets.places if self.planner is not None else None
            files = await off_loop(lambda: build_artifacts(row, places))
            out = []
            for name in ARTIFACT_NAMES:
                data, media = files[name]
                out.append(await self.ctx.artifacts.put("routing", run_id, name, data, media))
        self._artifact_locks.pop(run_id, None)
        return out


def service_of(ctx: AppContext) -> RoutingService:
    """The started service (for jobs and hooks; handlers take ``svc: RoutingService`` instead)."""
    return ctx.service(RoutingService)

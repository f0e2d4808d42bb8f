"""The routing planner: prices the network for a vehicle and scenario, searches it with the native
core and turns paths into planner-facing results (totals, geometry, elevation profile, legs).

Engine code: no HTTP, no database. Errors are :class:`RoutingError` with a stable reason code.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from ridgeline.platform.problems import EngineError
from ridgeline.routing import Graph, ParetoResult
from ridgeline.routing.assets import RoutingAssets
from ridgeline.routing.energy import ROAD_CLASSES, ArcCosts, CostParams, Incident, arc_costs
from ridgeline.routing.vehicles import Vehicle

__all__ = [
    "OBJECTIVES",
    "IncidentSpec",
    "Planner",
    "RouteResult",
    "RoutingError",
    "select_diverse",
]

OBJECTIVES = ("duration", "money", "co2e", "distance")
DEFAULT_FRONT_CAP = 200
DEFAULT_TIME_LIMIT_S = 3.0


class RoutingError(EngineError):
    """A request cannot be answered; ``reason_code`` is stable and documented (rendered as is)."""


class IncidentSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Seeded incidents: ``count`` OSM ways near the trip are slowed to ``speed_factor`` of normal."""

    seed: int = 0
    count: int = 3
    speed_factor: float = 0.3


class Totals(msgspec.Struct, kw_only=True):
    duration_s: float
    risk_adjusted_duration_s: float
    duration_stddev_s: float
    distance_m: float
    money_eur: float
    co2e_kg: float
    energy_kwh: float
    fuel_l: float
    energy_cost_eur: float
    driver_cost_eur: float
    toll_eur: float
    carbon_cost_eur: float
    ascent_m: float
    descent_m: float
    terrain_coverage: float


@dataclass
class RouteResult:
    """One route: arcs (asset arc ids), nodes, totals, geometry, profile and legs."""

    nodes: npt.NDArray[np.int64]
    arcs: npt.NDArray[np.int64]
    totals: Totals
    objective_values: dict[str, float]
    coordinates: list[list[float]]
    profile: list[list[float]]
    legs: list[dict[str, Any]] = field(default_factory=list)
    road_class_km: dict[str, float] = field(default_factory=dict)


def select_diverse(costs: npt.NDArray[np.float64], k: int) -> list[int]:
    """Indices of up to ``k`` rows chosen for diversity: every objective's best row first, then
    greedy farthest-point selection in min-max normalised objective space. Deterministic."""
    n = costs.shape[0]
    if n <= k:
        return list(range(n))
    lo, hi = costs.min(axis=0), costs.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    z = (costs - lo) / span
    chosen: list[int] = []
    for j in range(costs.shape[1]):
        i = int(np.lexsort((*tuple(costs[:, jj] for jj in reversed(range(costs.shape[1]))), costs[:, j]))[0])
        if i not in chosen and len(chosen) < k:
            chosen.append(i)
    dist = np.full(n, np.inf)
    for i in chosen:
        dist = np.minimum(dist, np.linalg.norm(z - z[i], axis=1))
    while len(chosen) < k:
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(z - z[i], axis=1))
    return sorted(chosen)


@dataclass
class Priced:
    """The network priced for one vehicle and scenario, with its search graphs."""

    costs: ArcCosts
    arc_index: npt.NDArray[np.int64]  # graph arc id -> asset arc id
    refs: dict[str, float]
    incidents: list[Incident]
    graphs: dict[tuple[str, ...], Graph] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Planner:
    """Routes on one loaded asset set. Thread-safe; priced networks are kept in a small LRU."""

    def __init__(self, assets: RoutingAssets, *, max_snap_m: float = 2000.0, priced_cache: int = 32) -> None:
        self.assets = assets
        self.max_snap_m = max_snap_m
        self._cache: OrderedDict[Any, Priced] = OrderedDict()
        self._cache_size = priced_cache
        self._lock = threading.Lock()

    # ---- scenario -----------------------------------------------------------------------

    def local_seconds(self, departure: datetime | None) -> float | None:
        if departure is None:
            return None
        off = float(self.assets.manifest.get("utc_offset_hours", 0))
        s = departure.hour * 3600 + departure.minute * 60 + departure.second + off * 3600
        return s % 86400.0

    def snap(self, lon: float, lat: float, which: str, max_snap_m: float | None = None) -> int:
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise RoutingError(422, "invalid_request", f"{which} coordinates are out of range.")
        limit = self.max_snap_m if max_snap_m is None else max_snap_m
        node, dist = self.assets.snap(lon, lat)
        if dist > limit:
            raise RoutingError(
                422,
                f"{which}_out_of_coverage",
                f"The {which} is {dist:.0f} m from the nearest road of the network (limit {limit:.0f} m).",
                warnings=[f"Network coverage: bbox {self.assets.manifest.get('bbox')}."],
                snap_distance_m=round(dist, 1),
                max_snap_distance_m=limit,
            )
        return node

    def _incidents(
        self, spec: IncidentSpec, around: Sequence[int]
    ) -> tuple[list[Incident], npt.NDArray[np.float64]]:
        a = self.assets
        slow = np.ones(a.num_arcs)
        lon = a.node_lon[np.asarray(around)]
        lat = a.node_lat[np.asarray(around)]
        pad = 0.01
        t = a.arcs["tail"]
        in_box = (
            (a.node_lon[t] >= lon.min() - pad)
            & (a.node_lon[t] <= lon.max() + pad)
            & (a.node_lat[t] >= lat.min() - pad)
            & (a.node_lat[t] <= lat.max() + pad)
        )
        ways = np.unique(a.arcs["way_id"][in_box])
        if ways.size == 0:
            ways = np.unique(a.arcs["way_id"])
        rng = np.random.default_rng(spec.seed)
        picked = rng.choice(ways, size=min(spec.count, ways.size), replace=False) if spec.count else []
        kinds = ("collision", "roadworks", "breakdown", "congestion")
        out: list[Incident] = []
        for i, way in enumerate(sorted(int(w) for w in picked)):
            mask = a.arcs["way_id"] == way
            slow[mask] *= spec.speed_factor
            first = int(np.flatnonzero(mask)[0])
            node = int(t[first])
            out.append(
                Incident(
                    incident_id=i + 1,
                    kind=kinds[int(rng.integers(len(kinds)))],
                    way_id=way,
                    lon=round(float(a.node_lon[node]), 6),
                    lat=round(float(a.node_lat[node]), 6),
                    road_class=ROAD_CLASSES[int(a.arcs["road_class"][first])][0],
                    speed_factor=spec.speed_factor,
                    arcs_affected=int(mask.sum()),
                )
            )
        return out, slow

    def priced(
        self,
        vehicle: Vehicle,
        params: CostParams,
        incidents: IncidentSpec | None = None,
        around: Sequence[int] = (),
    ) -> Priced:
        key = (
            msgspec.json.encode(vehicle),
            msgspec.json.encode(params),
            msgspec.json.encode(incidents),
            tuple(around) if incidents else (),
        )
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        found: list[Incident] = []
        slow = None
        if incidents is not None and incidents.count > 0:
            found, slow = self._incidents(incidents, around)
        costs = arc_costs(self.assets.arcs, vehicle, params, slow)
        idx = np.flatnonzero(costs.allowed).astype(np.int64)
        length = costs.distance_m[idx].sum()
        refs = {o: float(costs.objective(o)[idx].sum() / length) if length > 0 else 1.0 for o in OBJECTIVES}
        refs = {o: (v if v > 0 else 1.0) for o, v in refs.items()}
        p = Priced(costs=costs, arc_index=idx, refs=refs, incidents=found)
        with self._lock:
            self._cache[key] = p
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return p

    def graph(self, p: Priced, objectives: tuple[str, ...]) -> Graph:
        with p.lock:
            g = p.graphs.get(objectives)
            if g is None:
                a = self.assets.arcs
                cols = np.column_stack([p.costs.objective(o)[p.arc_index] for o in objectives])
                g = Graph.from_arrays(
                    a["tail"][p.arc_index], a["head"][p.arc_index], cols, n=self.assets.num_nodes
                )
                p.graphs[objectives] = g
            return g

    # ---- searches -----------------------------------------------------------------------

    def route(self, p: Priced, s: int, t: int, weights: dict[str, float]) -> RouteResult:
        """The route minimising ``sum(w_i * c_i / ref_i)`` (refs: network means per metre)."""
        if s == t:
            raise RoutingError(
                422, "origin_destination_identical", "Origin and destination snap to the same road node."
            )
        g = self.graph(p, OBJECTIVES)
        w = [float(weights.get(o, 0.0)) / p.refs[o] for o in OBJECTIVES]
        r = g.route(s, t, w)
        if r is None:
            raise RoutingError(422, "no_path", "No path connects origin and destination for this vehicle.")
        return self.describe(p, r.arcs, full=False)

    def pareto(
        self,
        p: Priced,
        s: int,
        t: int,
        objectives: tuple[str, ...],
        *,
        method: str = "exact",
        approx_epsilon: float = 0.05,
        bounds: dict[str, float] | None = None,
        max_solutions: int = DEFAULT_FRONT_CAP,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
    ) -> ParetoResult:
        if s == t:
            raise RoutingError(
                422, "origin_destination_identical", "Origin and destination snap to the same road node."
            )
        g = self.graph(p, objectives)
        res = g.pareto(
            s, t, **self._kw(objectives, method, approx_epsilon, bounds, max_solutions, time_limit)
        )
        self._check(res, bounds)
        return res

    def pareto_stream(
        self,
        p: Priced,
        s: int,
        t: int,
        objectives: tuple[str, ...],
        *,
        method: str = "exact",
        approx_epsilon: float = 0.05,
        bounds: dict[str, float] | None = None,
        max_solutions: int = DEFAULT_FRONT_CAP,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
    ) -> Any:
        if s == t:
            raise RoutingError(
                422, "origin_destination_identical", "Origin and destination snap to the same road node."
            )
        g = self.graph(p, objectives)
        return g.pareto_stream(
            s, t, **self._kw(objectives, method, approx_epsilon, bounds, max_solutions, time_limit)
        )

    @staticmethod
    def _kw(
        objectives: tuple[str, ...],
        method: str,
        approx_epsilon: float,
        bounds: dict[str, float] | None,
        max_solutions: int,
        time_limit: float,
    ) -> dict[str, Any]:
        b = None
        if bounds:
            b = [bounds.get(o) for o in objectives]
        kw: dict[str, Any] = {
            "method": method,
            "bounds": b,
            "max_solutions": max_solutions,
            "time_limit": time_limit,
        }
        if method == "epsilon":
            kw["epsilon"] = approx_epsilon
        return kw

    @staticmethod
    def _check(res: ParetoResult, bounds: dict[str, float] | None) -> None:
        if res.status == "no_path":
            raise RoutingError(422, "no_path", "No path connects origin and destination for this vehicle.")
        if res.status == "empty_within_bounds":
            raise RoutingError(
                422,
                "epsilon_infeasible",
                "No candidates satisfied epsilon constraints.",
                epsilon=bounds or {},
            )
        if res.status == "budget_exhausted" or len(res) == 0:
            raise RoutingError(
                422,
                "search_budget_exhausted",
                "The search budget ran out before any route was found.",
                warnings=["Try pareto_method='epsilon', fewer objectives or tighter epsilon bounds."],
            )

    def graph_arcs_to_assets(self, p: Priced, graph_arcs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return p.arc_index[np.asarray(graph_arcs, dtype=np.int64)]

    # ---- description --------------------------------------------------------------------

    def describe(
        self, p: Priced, graph_arcs: npt.NDArray[np.int64], profile_points: int = 200, *, full: bool = True
    ) -> RouteResult:
        arcs = self.graph_arcs_to_assets(p, graph_arcs)
        return self.describe_asset_arcs(p, arcs, profile_points, full=full)

    def describe_asset_arcs(
        self, p: Priced, arcs: npt.NDArray[np.int64], profile_points: int = 200, *, full: bool = True
    ) -> RouteResult:
        """Totals of a path; with ``full`` also its geometry, elevation profile and km per road class."""
        a = self.assets
        c = p.costs
        tail, head = a.arcs["tail"][arcs], a.arcs["head"][arcs]
        nodes = np.concatenate([tail[:1], head]) if arcs.size else np.empty(0, dtype=np.int64)
        length = c.distance_m[arcs]
        total_len = float(length.sum())
        cov = float((a.arcs["coverage"][arcs] * length).sum() / total_len) if total_len > 0 else 1.0
        totals = Totals(
            duration_s=float(c.time_s[arcs].sum()),
            risk_adjusted_duration_s=float(c.duration_obj[arcs].sum()),
            duration_stddev_s=float(c.sigma_s[arcs].sum()),
            distance_m=total_len,
            money_eur=float(c.money_eur[arcs].sum()),
            co2e_kg=float(c.co2e_kg[arcs].sum()),
            energy_kwh=float(c.energy_kwh[arcs].sum()),
            fuel_l=float(c.fuel_l[arcs].sum()),
            energy_cost_eur=float(c.energy_cost_eur[arcs].sum()),
            driver_cost_eur=float(c.driver_cost_eur[arcs].sum()),
            toll_eur=float(c.toll_eur[arcs].sum()),
            carbon_cost_eur=float(c.carbon_cost_eur[arcs].sum()),
            ascent_m=float(a.arcs["ascent_m"][arcs].sum()),
            descent_m=float(a.arcs["descent_m"][arcs].sum()),
            terrain_coverage=round(cov, 6),
        )
        values = {o: float(c.objective(o)[arcs].sum()) for o in OBJECTIVES}
        if not full:
            return RouteResult(
                nodes=nodes, arcs=arcs, totals=totals, objective_values=values, coordinates=[], profile=[]
            )
        lon = a.node_lon[nodes]
        lat = a.node_lat[nodes]
        coords = np.round(np.column_stack([lon, lat]), 6).tolist()
        dist = np.concatenate([[0.0], np.cumsum(length)])
        elev = a.node_elevation_m[nodes]
        if nodes.size > profile_points:
            pick = np.unique(np.linspace(0, nodes.size - 1, profile_points).round().astype(np.int64))
        else:
            pick = np.arange(nodes.size)
        ev = np.round(elev[pick], 1)
        profile = [
            [d, None if math.isnan(e) else e]
            for d, e in zip(np.round(dist[pick], 1).tolist(), ev.tolist(), strict=True)
        ]
        cls = a.arcs["road_class"][arcs].astype(np.int64)
        km = np.bincount(cls, weights=length, minlength=len(ROAD_CLASSES)) / 1000.0
        by_class = {ROAD_CLASSES[i][0]: round(float(v), 3) for i, v in enumerate(km) if v > 0}
        return RouteResult(
            nodes=nodes,
            arcs=arcs,
            totals=totals,
            objective_values=values,
            coordinates=coords,
            profile=profile,  # type: ignore[arg-type]
            road_class_km=by_class,
        )

    def join(self, parts: list[RouteResult], p: Priced, stops: list[str]) -> RouteResult:
        """Concatenates leg routes into one route with a per-leg breakdown."""
        arcs = np.concatenate([r.arcs for r in parts]) if parts else np.empty(0, dtype=np.int64)
        whole = self.describe_asset_arcs(p, arcs)
        whole.legs = [
            {
                "leg_index": i,
                "from_stop": stops[i],
                "to_stop": stops[i + 1],
                "totals": msgspec.to_builtins(r.totals),
            }
            for i, r in enumerate(parts)
        ]
        return whole

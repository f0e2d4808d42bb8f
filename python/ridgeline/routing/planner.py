"""The routing planner: prices the network for a vehicle and scenario, searches it with the native
core and turns paths into planner-facing results (totals, geometry, elevation profile, legs).

Engine code: no HTTP, no database. Errors are :class:`RoutingError` with a stable reason code.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import numpy.typing as npt

from ridgeline.platform.problems import EngineError
from ridgeline.routing import Graph, ParetoResult
from ridgeline.routing.assets import RoutingAssets
from ridgeline.routing.energy import CLASS_CODE, ROAD_CLASSES, ArcCosts, CostParams, Incident, arc_costs
from ridgeline.routing.graph import TurnGraph
from ridgeline.routing.turns import (
    TurnCandidates,
    TurnCosts,
    TurnGeometry,
    restrict_turns,
    turn_candidates,
    turn_costs,
    turn_geometry,
)
from ridgeline.routing.vehicles import Vehicle

__all__ = [
    "OBJECTIVES",
    "Front",
    "IncidentSpec",
    "ParetoSpec",
    "PlannedRoute",
    "Planner",
    "RouteQuery",
    "RouteResult",
    "RoutingError",
    "Scenario",
    "route_key",
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


class Scenario(msgspec.Struct, frozen=True, kw_only=True):
    """One vehicle in one set of conditions: everything that prices the network. ``params``'
    time of day is taken from ``departure`` (local time of the asset region) when pricing."""

    vehicle: Vehicle
    params: CostParams = msgspec.field(default_factory=CostParams)
    departure: datetime | None = None
    incidents: IncidentSpec | None = None

    def at(self, departure: datetime | None) -> Scenario:
        return msgspec.structs.replace(self, departure=departure)


class ParetoSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a Pareto search optimises and within which limits (``bounds``: upper bound per objective)."""

    objectives: tuple[str, ...] = ("duration", "money", "co2e")
    method: str = "exact"
    approx_epsilon: float = 0.05
    bounds: dict[str, float] | None = None
    max_solutions: int = DEFAULT_FRONT_CAP
    time_limit: float = DEFAULT_TIME_LIMIT_S

    def check(self) -> None:
        """Refuses inputs no search can honour (422 ``invalid_request``), before any search starts:
        ``Planner.pareto`` and ``Planner.pareto_stream`` call it, so both refuse the same inputs."""
        objectives = self.objectives
        unknown = [o for o in objectives if o not in OBJECTIVES]
        if unknown:
            raise RoutingError(
                422, "invalid_request", f"Unknown objective(s): {unknown}.", field="objectives"
            )
        if len(set(objectives)) != len(objectives):
            raise RoutingError(422, "invalid_request", "objectives must be distinct.", field="objectives")
        if self.method not in ("exact", "epsilon"):
            raise RoutingError(
                422, "invalid_request", "method must be 'exact' or 'epsilon'.", field="pareto_method"
            )
        if self.bounds:
            bad = [k for k in self.bounds if k not in OBJECTIVES]
            if bad:
                raise RoutingError(
                    422, "invalid_request", f"Unknown objective(s) in epsilon: {bad}.", field="epsilon"
                )
            if any(not (v >= 0) for v in self.bounds.values()):
                raise RoutingError(
                    422, "invalid_request", "epsilon bounds must be non-negative numbers.", field="epsilon"
                )
            missing = [k for k in self.bounds if k not in objectives]
            if missing:
                raise RoutingError(
                    422,
                    "invalid_request",
                    f"epsilon bounds on objectives not searched: {missing}.",
                    field="epsilon",
                )

    def search_options(self) -> dict[str, Any]:
        """Keyword arguments of ``Graph.pareto`` / ``pareto_stream`` / ``pareto_many``."""
        kw: dict[str, Any] = {
            "method": self.method,
            "bounds": [self.bounds.get(o) for o in self.objectives] if self.bounds else None,
            "max_solutions": self.max_solutions,
            "time_limit": self.time_limit,
        }
        if self.method == "epsilon":
            kw["epsilon"] = self.approx_epsilon
        return kw


class RouteQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A trip for :meth:`Planner.plan_route`: ``points`` are (lon, lat) of the origin, any
    waypoints and the destination; ``weights`` per objective (unitless, see ``Planner.route``)."""

    scenario: Scenario
    points: tuple[tuple[float, float], ...]
    weights: dict[str, float] = msgspec.field(default_factory=lambda: {"duration": 1.0})
    min_terrain_coverage: float = 0.9
    max_snap_m: float | None = None

    def stop_names(self) -> list[str]:
        n = len(self.points)
        return ["origin", *(f"waypoint_{i}" for i in range(1, n - 1)), "destination"]


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
    #: the coordinates as JSON, when described with ``with_geometry(..., encoded=True)`` (then
    #: ``coordinates`` is empty): what the HTTP layer embeds without building the lists
    coordinates_json: bytes | None = None


def sum_totals(parts: Sequence[Totals]) -> Totals:
    """The totals of routes driven one after the other: additive quantities add, the spread of the
    duration adds in quadrature (legs independent), terrain coverage is the distance-weighted mean."""
    additive = {f: float(sum(getattr(t, f) for t in parts)) for f in Totals.__struct_fields__}
    distance = additive["distance_m"]
    additive["duration_stddev_s"] = float(math.sqrt(sum(t.duration_stddev_s**2 for t in parts)))
    additive["terrain_coverage"] = (
        float(sum(t.terrain_coverage * t.distance_m for t in parts) / distance)
        if distance > 0
        else min((t.terrain_coverage for t in parts), default=1.0)
    )
    return Totals(**additive)


def route_key(arcs: npt.NDArray[np.int64]) -> str:
    """A stable id of a path: a hash of its asset arc sequence."""
    return hashlib.sha1(np.ascontiguousarray(arcs, dtype=np.int64).tobytes()).hexdigest()[:16]


@dataclass
class PlannedRoute:
    """:meth:`Planner.plan_route`'s answer: the whole route (legs per stop) and the priced network."""

    route: RouteResult
    priced: Priced
    legs: int


@dataclass
class Front:
    """A Pareto front made presentable: ``members`` (costs, route key, totals-only route) in
    canonical order (by cost vector, then key), the positions ``chosen`` for diversity, and how
    many solutions were ``dropped`` for terrain coverage."""

    members: list[tuple[tuple[float, ...], str, RouteResult]]
    chosen: list[int]
    dropped: int


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


#: Road classes HGVs only use when a stop is on them.
HGV_LOCAL_CLASSES = np.array([CLASS_CODE["service"], CLASS_CODE["living_street"]], dtype=np.int64)

#: ``ArcCosts`` arrays a route description sums (``Planner.cost_table``).
_COST_ROWS = (
    "time_s",
    "duration_obj",
    "sigma_s",
    "distance_m",
    "money_eur",
    "co2e_kg",
    "energy_kwh",
    "fuel_l",
    "energy_cost_eur",
    "driver_cost_eur",
    "toll_eur",
    "carbon_cost_eur",
    "search_money_eur",
    "search_co2e_kg",
)
_TABLE_ROWS = (*_COST_ROWS, "ascent_m", "descent_m", "coverage_m")
#: networks whose per-node coordinate JSON is kept (``Planner.coordinates_json``): ~1 MB for Andorra
_NODE_JSON_MAX_NODES = 100_000
#: the ``TurnCosts.totals`` row each objective's turn cost is (``TurnCosts.objective``; no distance)
_TURN_OBJECTIVE_ROWS = {"duration": "time_s", "money": "money_eur", "co2e": "co2e_kg"}
#: the row of each objective's value (``ArcCosts.objective``)
_OBJECTIVE_ROWS = {
    "duration": "duration_obj",
    "money": "search_money_eur",
    "co2e": "search_co2e_kg",
    "distance": "distance_m",
}


@dataclass
class Priced:
    """The network priced for one vehicle and scenario, with its search graphs."""

    costs: ArcCosts
    arc_index: npt.NDArray[np.int64]  # graph arc id -> asset arc id
    refs: dict[str, float]
    incidents: list[Incident]
    graphs: dict[tuple[Any, ...], Graph] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: per-arc quantities a route description sums, one row each (``Planner.cost_table``, lazy)
    describe_table: npt.NDArray[np.float64] | None = field(default=None, repr=False)
    #: the allowed turns and their costs when the planner searches turn-expanded graphs
    turns: TurnCosts | None = None
    #: every turn between the allowed arcs before any is forbidden (``turns.restrict_turns``)
    turn_candidates: TurnCandidates | None = field(default=None, repr=False)


class Planner:
    """Routes on one loaded asset set. Thread-safe; priced networks are kept in a small LRU.

    ``turn_costs``: search turn-expanded graphs with the turn model of ``routing.turns`` (left
    turns, U-turns, restrictions priced or forbidden); ``None`` turns it on for assets built from
    OpenStreetMap (``sources.osm`` in the manifest) and off for synthetic ones."""

    def __init__(
        self,
        assets: RoutingAssets,
        *,
        max_snap_m: float = 2000.0,
        priced_cache: int = 32,
        turn_costs: bool | None = None,
    ) -> None:
        self.assets = assets
        if turn_costs is None:
            turn_costs = "osm" in (assets.manifest.get("sources") or {})
        self.turn_costs = bool(turn_costs)
        self.max_snap_m = max_snap_m
        self._cache: OrderedDict[Any, Priced] = OrderedDict()
        self._cache_size = priced_cache
        self._lock = threading.Lock()
        #: full pricings done (arc and turn costs of the whole network): what the LRU saves
        self.pricings = 0

    # ---- priced networks ----------------------------------------------------------------

    @property
    def priced_count(self) -> int:
        """How many priced networks are kept."""
        with self._lock:
            return len(self._cache)

    def clear_priced(self) -> int:
        """Drops every priced network; returns how many there were."""
        with self._lock:
            n = len(self._cache)
            self._cache.clear()
            return n

    # ---- scenario -----------------------------------------------------------------------

    @functools.cached_property
    def timezone(self) -> tzinfo:
        """The region's time zone: the manifest's IANA ``timezone`` when it names one, else the zone
        at the centre of the asset's bbox (timezonefinder's boundary data, rules from zoneinfo, so
        DST is followed); the fixed ``utc_offset_hours`` of assets built before the builder recorded
        ``timezone`` only where no zone covers the point (sea)."""
        m = self.assets.manifest
        name = m.get("timezone")
        if not name and m.get("bbox"):
            from timezonefinder import TimezoneFinder

            x0, y0, x1, y1 = m["bbox"]
            name = TimezoneFinder().timezone_at(lng=(x0 + x1) / 2, lat=(y0 + y1) / 2)
        if name:
            return ZoneInfo(name)
        return timezone(timedelta(hours=float(m.get("utc_offset_hours", 0))))

    @functools.cached_property
    def _turn_geometry(self) -> TurnGeometry:
        """Arc bearings, junctions and minor approaches of the network (for every priced network)."""
        a = self.assets
        return turn_geometry(a.arcs, a.node_lon, a.node_lat)

    @functools.cached_property
    def _local_ways(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Per node, the id of the cluster of ``service``/``living_street`` arcs it touches (-1 when
        none), joined through local arcs only; and the mask of local arcs."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        a = self.assets.arcs
        is_local = np.isin(a["road_class"].astype(np.int64), HGV_LOCAL_CLASSES)
        n = self.assets.num_nodes
        t, h = a["tail"][is_local], a["head"][is_local]
        adj = coo_matrix((np.ones(t.size), (t, h)), shape=(n, n))
        _, labels = connected_components(adj, directed=False)
        touched = np.zeros(n, dtype=bool)
        touched[t] = True
        touched[h] = True
        return np.where(touched, labels, -1).astype(np.int64), is_local

    def _local_components(self, around: Sequence[int]) -> tuple[int, ...] | None:
        """The local-way clusters the stops are on; ``None`` (no restriction) when no stops are
        known (whole-network pricing: batches, oracles), so that no stop is cut off."""
        if not around:
            return None
        comp = self._local_ways[0]
        return tuple(sorted({int(comp[n]) for n in around if comp[n] >= 0}))

    def local_time(self, departure: datetime | None) -> tuple[float | None, bool]:
        """Local seconds of day and whether the local day is a weekend, for a departure."""
        if departure is None:
            return None, False
        if departure.tzinfo is None:
            departure = departure.replace(tzinfo=UTC)
        loc = departure.astimezone(self.timezone)
        return float(loc.hour * 3600 + loc.minute * 60 + loc.second), loc.weekday() >= 5

    def local_seconds(self, departure: datetime | None) -> float | None:
        return self.local_time(departure)[0]

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

    def snap_distance(self, lon: float, lat: float) -> float:
        """Metres from (lon, lat) to the nearest node of the network."""
        return self.assets.snap(lon, lat)[1]

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
        """The network priced for ``vehicle`` in ``params``. The pricing (arc and turn costs) is
        done once per vehicle, parameters and incidents and kept in the LRU; an HGV's access to the
        ``service``/``living_street`` ways of its stops (``around``) is applied to that as a mask
        (``_with_local_access``), not by pricing the network again per set of stops."""
        key: tuple[Any, ...] = (
            msgspec.json.encode(vehicle),
            msgspec.json.encode(params),
            msgspec.json.encode(incidents),
            tuple(around) if incidents else (),
        )
        local = self._local_components(around) if vehicle.is_hgv and params.avoid_restricted else None
        # Masked variants are entries of the same LRU (their key adds the clusters), so the number of
        # priced networks and search graphs kept is bounded as before.
        hit = self._cached(key if local is None else (*key, local))
        if hit is not None:
            return hit
        base = self._cached(key)
        if base is None:
            base = self._price_network(vehicle, params, incidents, around)
            self._keep(key, base)
        if local is None:
            return base
        p = self._with_local_access(base, local, vehicle, params)
        self._keep((*key, local), p)
        return p

    def _cached(self, key: tuple[Any, ...]) -> Priced | None:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _keep(self, key: tuple[Any, ...], p: Priced) -> None:
        with self._lock:
            self._cache[key] = p
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _price_network(
        self, vehicle: Vehicle, params: CostParams, incidents: IncidentSpec | None, around: Sequence[int]
    ) -> Priced:
        found: list[Incident] = []
        slow = None
        if incidents is not None and incidents.count > 0:
            found, slow = self._incidents(incidents, around)
        costs = arc_costs(self.assets.arcs, vehicle, params, slow)
        idx = np.flatnonzero(costs.allowed).astype(np.int64)
        p = Priced(costs=costs, arc_index=idx, refs=self._refs(costs, idx), incidents=found)
        if self.turn_costs:
            a = self.assets
            geo = self._turn_geometry
            p.turn_candidates = turn_candidates(a.arcs, idx, a.num_nodes, geo)
            p.turns = turn_costs(
                a.arcs,
                a.node_lon,
                a.node_lat,
                costs,
                idx,
                vehicle,
                params,
                a.restrictions,
                geo,
                candidates=p.turn_candidates,
            )
        with self._lock:
            self.pricings += 1
        return p

    @staticmethod
    def _refs(costs: ArcCosts, idx: npt.NDArray[np.int64]) -> dict[str, float]:
        """Per objective, its network mean per metre over the allowed arcs (weights' scale)."""
        length = costs.distance_m[idx].sum()
        refs = {o: float(costs.objective(o)[idx].sum() / length) if length > 0 else 1.0 for o in OBJECTIVES}
        return {o: (v if v > 0 else 1.0) for o, v in refs.items()}

    def _with_local_access(
        self, base: Priced, local: tuple[int, ...], vehicle: Vehicle, params: CostParams
    ) -> Priced:
        """``base`` with HGVs kept off ``service`` and ``living_street`` ways except the clusters
        ``local`` of such ways an origin, waypoint or destination is on (the truck may leave or
        reach its yard): the allowed-arc mask, the arc index and means of the allowed arcs, and the
        turns between them (``restrict_turns``: a delta of ``base``'s). What pricing with the
        stops' clusters gave; the search graphs are built per cluster set (kept with it)."""
        comp, is_local = self._local_ways
        keep = np.isin(comp[self.assets.arcs["tail"]], np.asarray(local, dtype=np.int64))
        allowed = base.costs.allowed & ~(is_local & ~keep)
        costs = dataclasses.replace(base.costs, allowed=allowed)
        idx = np.flatnonzero(allowed).astype(np.int64)
        p = Priced(
            costs=costs,
            arc_index=idx,
            refs=self._refs(costs, idx),
            incidents=base.incidents,
            describe_table=self.cost_table(base),  # per-arc sums do not depend on what is allowed
        )
        if base.turns is not None and base.turn_candidates is not None:
            a = self.assets
            p.turns, p.turn_candidates = restrict_turns(
                base.turns,
                base.turn_candidates,
                allowed,
                a.arcs,
                costs,
                vehicle,
                params,
                a.restrictions,
                self._turn_geometry,
            )
        return p

    def price(self, scenario: Scenario, around: Sequence[int] = ()) -> Priced:
        """The network priced for ``scenario`` (its departure sets the time-of-day speeds);
        incidents are placed around the nodes ``around``."""
        seconds, weekend = self.local_time(scenario.departure)
        params = msgspec.structs.replace(scenario.params, local_seconds_of_day=seconds, weekend=weekend)
        return self.priced(scenario.vehicle, params, scenario.incidents, around)

    def graph(self, p: Priced, objectives: tuple[str, ...], *, turns: bool = True) -> Graph:
        """The search graph of ``objectives``: node ids are asset node ids, arc ids index
        ``p.arc_index``. With turn costs (``turns`` and the planner's ``turn_costs``) it is the
        turn-expanded :class:`~ridgeline.routing.graph.TurnGraph`, which takes and returns the
        same ids, its costs including the turns'."""
        expand = turns and p.turns is not None
        key = (objectives, expand)
        with p.lock:
            g = p.graphs.get(key)
            if g is not None:
                return g
            base = p.graphs.get((objectives, False))
            if base is None:
                a = self.assets.arcs
                cols = np.column_stack([p.costs.objective(o)[p.arc_index] for o in objectives])
                base = Graph.from_arrays(
                    a["tail"][p.arc_index], a["head"][p.arc_index], cols, n=self.assets.num_nodes
                )
                p.graphs[(objectives, False)] = base
            if not expand or p.turns is None:
                return base
            tc = p.turns
            pos = np.full(self.assets.num_arcs, -1, dtype=np.int64)
            pos[p.arc_index] = np.arange(p.arc_index.size)
            cols = np.column_stack([tc.objective(o) for o in objectives]) if tc.size else None
            g = base.expand_turns(pos[tc.from_arc], pos[tc.to_arc], cols if cols is not None else [])
            p.graphs[key] = g
            return g

    # ---- searches -----------------------------------------------------------------------

    def route(
        self, p: Priced, s: int, t: int, weights: dict[str, float], *, after_arc: int | None = None
    ) -> RouteResult:
        """The route minimising ``sum(w_i * c_i / ref_i)`` (refs: network means per metre).

        ``after_arc`` (an asset arc ending at ``s``, e.g. the previous leg's last arc): with turn
        costs the route continues from that arc, so the turn at ``s`` is priced (and included in
        this route's totals) and a forbidden one, such as an HGV's U-turn mid-road, is not taken."""
        if s == t:
            raise RoutingError(
                422, "origin_destination_identical", "Origin and destination snap to the same road node."
            )
        g = self.graph(p, OBJECTIVES)
        w = [float(weights.get(o, 0.0)) / p.refs[o] for o in OBJECTIVES]
        prev, pos = -1, -1
        if after_arc is not None and isinstance(g, TurnGraph):
            prev = int(after_arc)
            i = int(np.searchsorted(p.arc_index, prev))  # arc_index is sorted (flatnonzero)
            pos = i if i < p.arc_index.size and int(p.arc_index[i]) == prev else -1
        r = g.route_from_arc(pos, t, w) if pos >= 0 and isinstance(g, TurnGraph) else g.route(s, t, w)
        if r is None:
            raise RoutingError(422, "no_path", "No path connects origin and destination for this vehicle.")
        out = self.describe(p, r.arcs, full=False)
        if pos >= 0 and out.arcs.size:  # the turn out of the arc the vehicle arrived on
            self.add_turns(p, np.array([prev, int(out.arcs[0])]), out.totals, out.objective_values)
        return out

    def pareto(self, p: Priced, s: int, t: int, spec: ParetoSpec) -> ParetoResult:
        spec.check()
        if s == t:
            raise RoutingError(
                422, "origin_destination_identical", "Origin and destination snap to the same road node."
            )
        res = self.graph(p, spec.objectives).pareto(s, t, **spec.search_options())
        self.check_result(res, spec.bounds)
        return res

    def pareto_stream(self, p: Priced, s: int, t: int, spec: ParetoSpec) -> Any:
        """The native stream of front members; check its ``result`` with :meth:`check_result`."""
        spec.check()
        if s == t:
            raise RoutingError(
                422, "origin_destination_identical", "Origin and destination snap to the same road node."
            )
        return self.graph(p, spec.objectives).pareto_stream(s, t, **spec.search_options())

    @staticmethod
    def check_result(res: ParetoResult | None, bounds: dict[str, float] | None) -> None:
        """Raises the reason-coded error of a search that found no route (``None``: it stopped)."""
        if res is None:
            raise RoutingError(422, "search_budget_exhausted", "The search stopped before completing.")
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

    # ---- composite searches -------------------------------------------------------------

    def plan_route(self, q: RouteQuery, *, encoded: bool = False) -> PlannedRoute:
        """The best route by weighted sum through every point (one search per leg), refused when
        its terrain coverage is below ``q.min_terrain_coverage``. ``encoded``: the coordinates as
        JSON only (:meth:`with_geometry`)."""
        names = q.stop_names()
        nodes = []
        for name, (lon, lat) in zip(names, q.points, strict=True):
            which = name if name in ("origin", "destination") else "waypoint"
            nodes.append(self.snap(lon, lat, which, q.max_snap_m))
        p = self.price(q.scenario, nodes)
        if not any(q.weights.values()):
            raise RoutingError(
                422, "invalid_request", "At least one weight must be positive.", field="weights"
            )
        parts: list[RouteResult] = []
        for i in range(len(nodes) - 1):
            # Each leg goes on from the arc the previous one arrived on (turn costs: the turn at a
            # waypoint is priced, and an HGV does not turn back there mid-road).
            prev = int(parts[-1].arcs[-1]) if parts and parts[-1].arcs.size else None
            parts.append(self.route(p, nodes[i], nodes[i + 1], q.weights, after_arc=prev))
        whole = self.join(parts, p, names, encoded=encoded)
        self.require_coverage(whole, q.min_terrain_coverage)
        return PlannedRoute(route=whole, priced=p, legs=len(parts))

    def require_coverage(self, r: RouteResult, required: float) -> None:
        """422 ``terrain_dem_coverage_insufficient`` when the route's DEM coverage is below ``required``."""
        if r.totals.terrain_coverage < required:
            raise RoutingError(
                422,
                "terrain_dem_coverage_insufficient",
                "Terrain DEM coverage along the route is insufficient.",
                warnings=["Lower min_terrain_coverage or rebuild assets with a DEM covering the route."],
                terrain_dem_version=self.assets.dem_version,
                terrain_coverage_required=required,
                terrain_coverage_min_observed=r.totals.terrain_coverage,
            )

    def front(
        self, p: Priced, sols: Sequence[Any], *, min_terrain_coverage: float, max_alternatives: int
    ) -> Front:
        """Drops solutions below the coverage requirement (422 when that leaves none), sorts the
        rest canonically and chooses up to ``max_alternatives`` of them for diversity."""
        described = []
        for sol in sols:
            r = self.describe(p, sol.arcs, full=False)
            if r.totals.terrain_coverage < min_terrain_coverage:
                continue
            described.append((tuple(float(c) for c in sol.costs), route_key(r.arcs), r))
        if not described and sols:
            self.require_coverage(self.describe(p, sols[0].arcs, full=False), min_terrain_coverage)
        described.sort(key=lambda cr: (cr[0], cr[1]))
        chosen = select_diverse(np.array([c for c, _, _ in described]), max_alternatives) if described else []
        return Front(members=described, chosen=chosen, dropped=len(sols) - len(described))

    def graph_arcs_to_assets(self, p: Priced, graph_arcs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Asset arc ids of a path of the search graph (a :class:`TurnGraph` already returns its
        paths as arcs of the node-based graph, so both map through ``p.arc_index``)."""
        return p.arc_index[np.asarray(graph_arcs, dtype=np.int64)]

    @staticmethod
    def add_turns(p: Priced, arcs: npt.NDArray[np.int64], totals: Totals, values: dict[str, float]) -> None:
        """Adds the costs of the turns between consecutive ``arcs`` (asset ids) to a route's
        ``totals`` and objective ``values``: time to the duration (and the risk-adjusted duration:
        turns add no spread), energy, fuel, CO2e, energy, driver and carbon cost to the money.
        Pairs that are no allowed turn (a waypoint's stop between legs) add nothing."""
        tc = p.turns
        if tc is None or arcs.size < 2:
            return
        i = tc.along(arcs)
        i = i[i >= 0]
        if i.size == 0:
            return
        sums = tc.totals(i)
        dt = sums["time_s"]
        totals.duration_s += dt
        totals.risk_adjusted_duration_s += dt
        totals.energy_kwh += sums["energy_kwh"]
        totals.fuel_l += sums["fuel_l"]
        totals.co2e_kg += sums["co2e_kg"]
        totals.energy_cost_eur += sums["energy_cost_eur"]
        totals.driver_cost_eur += sums["driver_cost_eur"]
        totals.carbon_cost_eur += sums["carbon_cost_eur"]
        totals.money_eur += sums["money_eur"]
        for o in values:
            # the turns add to duration, money and co2e (the objective arrays of ``TurnCosts``)
            if o in _TURN_OBJECTIVE_ROWS:
                values[o] += sums[_TURN_OBJECTIVE_ROWS[o]]

    # ---- description --------------------------------------------------------------------

    def describe(
        self, p: Priced, graph_arcs: npt.NDArray[np.int64], profile_points: int = 200, *, full: bool = True
    ) -> RouteResult:
        arcs = self.graph_arcs_to_assets(p, graph_arcs)
        return self.describe_asset_arcs(p, arcs, profile_points, full=full)

    def cost_table(self, p: Priced) -> npt.NDArray[np.float64]:
        """The per-arc quantities a description sums (rows ``_TABLE_ROWS``), built once per priced
        network: one gather and one row-wise reduction describe a path instead of ~20 NumPy calls.
        ``take`` keeps each gathered row C-contiguous, so its sum is the same pairwise summation as
        ``array[arcs].sum()``: the totals are bit-identical to summing each array (``a[:, arcs]``
        would be F-ordered and summed column by column, which is not)."""
        table = p.describe_table
        if table is None:
            c, a = p.costs, self.assets.arcs
            cols = {
                **{f: getattr(c, f) for f in _COST_ROWS},
                "ascent_m": a["ascent_m"],
                "descent_m": a["descent_m"],
                "coverage_m": a["coverage"] * c.distance_m,
            }
            table = np.stack([np.asarray(cols[r], dtype=np.float64) for r in _TABLE_ROWS])
            p.describe_table = table
        return table

    def describe_asset_arcs(
        self, p: Priced, arcs: npt.NDArray[np.int64], profile_points: int = 200, *, full: bool = True
    ) -> RouteResult:
        """Totals of a path; with ``full`` also its geometry, elevation profile and km per road class."""
        arcs = np.asarray(arcs, dtype=np.int64)
        a = self.assets
        nodes = np.concatenate([a.arcs["tail"][arcs[:1]], a.arcs["head"][arcs]])
        sums = dict(zip(_TABLE_ROWS, self.cost_table(p).take(arcs, axis=1).sum(axis=1).tolist(), strict=True))
        total_len = sums["distance_m"]
        cov = sums["coverage_m"] / total_len if total_len > 0 else 1.0
        totals = Totals(
            duration_s=sums["time_s"],
            risk_adjusted_duration_s=sums["duration_obj"],
            duration_stddev_s=sums["sigma_s"],
            distance_m=total_len,
            money_eur=sums["money_eur"],
            co2e_kg=sums["co2e_kg"],
            energy_kwh=sums["energy_kwh"],
            fuel_l=sums["fuel_l"],
            energy_cost_eur=sums["energy_cost_eur"],
            driver_cost_eur=sums["driver_cost_eur"],
            toll_eur=sums["toll_eur"],
            carbon_cost_eur=sums["carbon_cost_eur"],
            ascent_m=sums["ascent_m"],
            descent_m=sums["descent_m"],
            terrain_coverage=round(cov, 6),
        )
        values = {o: sums[_OBJECTIVE_ROWS[o]] for o in OBJECTIVES}
        self.add_turns(p, arcs, totals, values)  # turn costs (routing.turns); no-op without them
        r = RouteResult(
            nodes=nodes, arcs=arcs, totals=totals, objective_values=values, coordinates=[], profile=[]
        )
        return self.with_geometry(p, r, profile_points) if full else r

    @functools.cached_property
    def _node_coordinates(self) -> npt.NDArray[np.float64]:
        """(lon, lat) per node rounded to 6 decimals, as the geometry reports them."""
        return np.round(np.column_stack([self.assets.node_lon, self.assets.node_lat]), 6)

    @functools.cached_property
    def _node_json(self) -> list[bytes] | None:
        """Each node's ``[lon,lat]`` as JSON (what encoding its rounded coordinates gives), for
        networks up to ``_NODE_JSON_MAX_NODES`` nodes (about 70 bytes a node)."""
        if self.assets.num_nodes > _NODE_JSON_MAX_NODES:
            return None
        encode = msgspec.json.Encoder().encode
        return [encode(pt) for pt in self._node_coordinates.tolist()]

    def coordinates_json(self, nodes: npt.NDArray[np.int64]) -> bytes:
        """The JSON of ``[[lon, lat], ...]`` of ``nodes``, byte-identical to encoding the lists;
        joined from the per-node encodings (a quarter of the time of ``tolist`` + encode)."""
        per_node = self._node_json  # built on first use: ~0.3 s on Andorra (64k nodes)
        if per_node is None:
            return msgspec.json.encode(self._node_coordinates[nodes].tolist())
        return b"[" + b",".join([per_node[n] for n in nodes.tolist()]) + b"]"

    def with_geometry(
        self, p: Priced, r: RouteResult, profile_points: int = 200, *, encoded: bool = False
    ) -> RouteResult:
        """``r`` (a totals-only description, e.g. a front member) with its geometry, elevation
        profile and km per road class; the totals are reused, not summed again. ``encoded``: the
        coordinates as JSON only (``coordinates_json``)."""
        a = self.assets
        nodes, arcs = r.nodes, r.arcs
        length = p.costs.distance_m[arcs]
        coords = [] if encoded else self._node_coordinates[nodes].tolist()
        dist = np.concatenate([[0.0], np.cumsum(length)])
        elev = a.node_elevation_m[nodes]
        if nodes.size > profile_points:
            # linspace is sorted, so its distinct values (np.unique's) are where it steps
            pick = np.linspace(0, nodes.size - 1, profile_points).round().astype(np.int64)
            pick = pick[np.concatenate([[True], pick[1:] != pick[:-1]])]
        else:
            pick = np.arange(nodes.size)
        ev = np.round(elev[pick], 1)
        d = np.round(dist[pick], 1)
        profile = np.column_stack([d, ev]).tolist()
        for i in np.flatnonzero(np.isnan(ev)).tolist():  # no DEM value there: JSON null
            profile[i][1] = None
        cls = a.arcs["road_class"][arcs].astype(np.int64)
        km = np.bincount(cls, weights=length, minlength=len(ROAD_CLASSES)) / 1000.0
        by_class = {ROAD_CLASSES[i][0]: round(float(km[i]), 3) for i in np.flatnonzero(km > 0).tolist()}
        return RouteResult(
            nodes=nodes,
            arcs=arcs,
            totals=r.totals,
            objective_values=r.objective_values,
            coordinates=coords,
            profile=profile,
            legs=r.legs,
            road_class_km=by_class,
            coordinates_json=self.coordinates_json(nodes) if encoded else None,
        )

    def join(
        self, parts: list[RouteResult], p: Priced, stops: list[str], *, encoded: bool = False
    ) -> RouteResult:
        """Concatenates leg routes into one route with a per-leg breakdown. ``encoded``: the
        coordinates as JSON only (:meth:`with_geometry`)."""
        if len(parts) == 1:
            # One leg: its description is the whole route's; only the geometry is added (the
            # totals below are recomputed from the leg's exactly as for several legs).
            whole = self.with_geometry(p, parts[0], encoded=encoded)
        else:
            arcs = np.concatenate([r.arcs for r in parts]) if parts else np.empty(0, dtype=np.int64)
            whole = self.with_geometry(p, self.describe_asset_arcs(p, arcs, full=False), encoded=encoded)
        if parts:
            # Each leg was priced at the time it is driven (a duty's legs at their own departures):
            # the whole route's totals are the legs' totals added up, not the arcs re-priced at the
            # last leg's time, so the answer, the signed manifest and the reports agree.
            whole.totals = sum_totals([r.totals for r in parts])
            whole.objective_values = {
                k: float(sum(r.objective_values.get(k, 0.0) for r in parts)) for k in whole.objective_values
            }
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

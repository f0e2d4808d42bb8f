"""Turn costs: the price of each turn through a junction, for the turn-expanded search graph.

A turn is a pair of arcs ``a -> b`` with ``head(a) == tail(b)``. Its angle comes from the arcs'
geometry at the junction: every asset arc is one straight segment between consecutive way nodes, so
the bearing of the last segment in is ``a``'s bearing and of the first segment out is ``b``'s.
The signed deviation ``angle = bearing(b) - bearing(a)`` in (-180, 180] is positive for right
turns. Traffic keeps right (Andorra, Spain, France): a left turn crosses the oncoming stream.

What a turn costs on top of the arcs (docs/routing.md, "Turn costs", has the constants and sources):

* **Slowing for the turn.** The vehicle slows from its steady approach speed to the turn speed of
  the angle class and back (``energy.speed_change_loss_s``, the junction model's rates), only at
  junctions (three or more neighbouring nodes: a bend of a road is priced by its speed, not as a
  turn), and only for the share of arrivals the node's control has not already stopped or slowed
  as much (the junction delay of the arc entering the node prices those).
* **Waiting for a gap.** At an unsignalised junction, a left turn waits for a gap in the oncoming
  flow, a right turn from the minor road for one in the near-side flow: Adams' mean delay for a
  Poisson stream, ``(exp(q tc) - q tc - 1) / q``, with the critical gaps of the Highway Capacity
  Manual (heavy vehicles +1 s) and a conflicting flow rising with the time-of-day shape.
* **U-turns.** A full stop and a manoeuvre time. HGVs may not U-turn except at a dead end (no
  other way on from that arc); elsewhere the turn is left out of the graph.
* **Energy.** The kinetic energy given up is spent again accelerating (``/ eta``; an electric
  vehicle recovers ``regen_efficiency`` of it braking), the auxiliary load runs during the turn
  time; fuel, CO2e, energy cost, driver cost and carbon cost follow from the same carrier model as
  the arcs. The turn adds no travel-time spread (``sigma``) and no distance.
* **Restrictions.** OSM ``type=restriction`` relations read by the asset builder
  (``RoutingAssets.restrictions``: arc pairs and kinds) remove turns: ``no_*`` that turn, ``only_*``
  every other turn from the same arc at the via node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ridgeline.routing import energy as e
from ridgeline.routing.vehicles import Vehicle

__all__ = [
    "KINDS",
    "TurnCandidates",
    "TurnCosts",
    "TurnGeometry",
    "restrict_turns",
    "turn_angles",
    "turn_candidates",
    "turn_costs",
    "turn_geometry",
]

#: Turn classes by absolute deviation (degrees): up to 30 straight on, 60 slight, 120 a turn,
#: 165 sharp, beyond (or back along the same road) a U-turn.
STRAIGHT_DEG = 30.0
SLIGHT_DEG = 60.0
SHARP_DEG = 120.0
U_TURN_DEG = 165.0
KINDS = ("straight", "slight_right", "right", "sharp_right", "slight_left", "left", "sharp_left", "u_turn")
#: Turn speed (km/h) per class: (van, HGV). Slight 35/30, turn 20/15, sharp 12/8, U-turn 0.
TURN_SPEED_KMH = {1: (35.0, 30.0), 2: (20.0, 15.0), 3: (12.0, 8.0), 7: (0.0, 0.0)}
#: U-turn manoeuvre time (s) after the stop: van 20 s (OSRM car profile's u_turn_penalty), HGV 60 s
#: (a three-point turn at a dead end; GraphHopper's u_turn_costs example value).
U_TURN_S = (20.0, 60.0)
#: Critical gaps (s), HCM 2010 two-way stop control base values: left turn from the major road 4.1,
#: left from the minor road 7.1, right from the minor road 6.2; heavy vehicles +1.0 s.
GAP_LEFT_MAJOR_S = 4.1
GAP_LEFT_MINOR_S = 7.1
GAP_RIGHT_MINOR_S = 6.2
GAP_HGV_EXTRA_S = 1.0
#: Conflicting flow (veh/h) off-peak and at the peak (our assumption for Andorra's valley roads).
CONFLICT_OFF_PEAK_VEH_H = 200.0
CONFLICT_PEAK_VEH_H = 700.0


#: ``TurnCosts`` arrays a route's totals add (``TurnCosts.totals``)
TOTAL_ROWS = (
    "time_s",
    "energy_kwh",
    "fuel_l",
    "co2e_kg",
    "energy_cost_eur",
    "driver_cost_eur",
    "carbon_cost_eur",
    "money_eur",
)


@dataclass(frozen=True, slots=True)
class TurnCosts:
    """The allowed turns of a priced network (asset arc ids ``from_arc -> to_arc``, sorted by
    ``(from_arc, to_arc)``) and what each adds to the route's totals."""

    num_arcs: int
    from_arc: npt.NDArray[np.int64]
    to_arc: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    angle_deg: npt.NDArray[np.float64]
    time_s: npt.NDArray[np.float64]
    energy_kwh: npt.NDArray[np.float64]
    fuel_l: npt.NDArray[np.float64]
    co2e_kg: npt.NDArray[np.float64]
    energy_cost_eur: npt.NDArray[np.float64]
    driver_cost_eur: npt.NDArray[np.float64]
    carbon_cost_eur: npt.NDArray[np.float64]
    money_eur: npt.NDArray[np.float64]
    #: ``from_arc * num_arcs + to_arc`` (sorted): what ``lookup`` searches, computed once instead of
    #: once per described route (it is as long as the turn list)
    keys: npt.NDArray[np.int64] = field(init=False, repr=False, compare=False)
    #: the per-turn quantities a route's totals add (rows ``TOTAL_ROWS``); the fields of those names
    #: are views of its rows, so a path's turns are one gather and one row-wise sum (``totals``)
    table: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", self.from_arc * self.num_arcs + self.to_arc)
        table = np.stack([np.asarray(getattr(self, r), dtype=np.float64) for r in TOTAL_ROWS])
        object.__setattr__(self, "table", table)
        for i, r in enumerate(TOTAL_ROWS):
            object.__setattr__(self, r, table[i])

    def totals(self, turns: npt.NDArray[np.int64]) -> dict[str, float]:
        """The sum of each ``TOTAL_ROWS`` quantity over the turns ``turns`` (indices). ``take``
        keeps each gathered row C-contiguous, so each sum is the pairwise summation of
        ``array[turns].sum()``: the same floats as summing each array."""
        return dict(zip(TOTAL_ROWS, self.table.take(turns, axis=1).sum(axis=1).tolist(), strict=True))

    @property
    def size(self) -> int:
        return int(self.from_arc.size)

    def objective(self, name: str) -> npt.NDArray[np.float64]:
        """The per-turn cost added to objective ``name`` (turns are never negative, so the search
        arrays are the reported ones)."""
        if name == "duration":
            return self.time_s
        if name == "money":
            return self.money_eur
        if name == "co2e":
            return self.co2e_kg
        if name == "distance":
            return np.zeros(self.size)
        raise KeyError(name)

    def lookup(self, a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Index of each turn ``a[i] -> b[i]``, -1 where it is not an allowed turn."""
        key = np.asarray(a, dtype=np.int64) * self.num_arcs + np.asarray(b, dtype=np.int64)
        keys = self.keys
        if keys.size == 0:
            return np.full(key.shape, -1, dtype=np.int64)
        i = np.minimum(np.searchsorted(keys, key), keys.size - 1)
        return np.where(keys[i] == key, i, -1).astype(np.int64)

    def along(self, arcs: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The turns of a path given as consecutive asset arc ids (-1 for a pair that is no turn)."""
        arcs = np.asarray(arcs, dtype=np.int64)
        if arcs.size < 2:
            return np.empty(0, dtype=np.int64)
        return self.lookup(arcs[:-1], arcs[1:])


def _bearings(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], tail: npt.NDArray, head: npt.NDArray
) -> npt.NDArray[np.float64]:
    """Initial bearing (degrees clockwise from north) of each straight arc."""
    la0, la1 = np.radians(lat[tail]), np.radians(lat[head])
    dl = np.radians(lon[head] - lon[tail])
    y = np.sin(dl) * np.cos(la1)
    x = np.cos(la0) * np.sin(la1) - np.sin(la0) * np.cos(la1) * np.cos(dl)
    return np.degrees(np.arctan2(y, x))


@dataclass(frozen=True, slots=True)
class TurnGeometry:
    """What the turn model needs of a network that no vehicle or scenario changes: each arc's
    bearing, each node's count of neighbouring nodes (three or more: a junction) and, per arc,
    whether it enters its head node on a road of lower priority than another one there."""

    bearing: npt.NDArray[np.float64]
    neighbours: npt.NDArray[np.int64]
    minor: npt.NDArray[np.bool_]


def turn_geometry(
    network: dict[str, npt.NDArray], lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> TurnGeometry:
    tail = network["tail"].astype(np.int64)
    head = network["head"].astype(np.int64)
    n = int(lon.size)
    lo, hi = np.minimum(tail, head), np.maximum(tail, head)
    key = np.unique(lo * n + hi)
    neighbours = np.bincount(key // n, minlength=n) + np.bincount(key % n, minlength=n)
    rank = _priority(network["road_class"].astype(np.int64))
    best = np.full(n, 99, dtype=np.int64)
    np.minimum.at(best, tail, rank)
    np.minimum.at(best, head, rank)
    return TurnGeometry(
        bearing=_bearings(lon, lat, tail, head), neighbours=neighbours, minor=rank > best[head]
    )


def turn_angles(
    bearing: npt.NDArray[np.float64],
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    turn_from: npt.NDArray[np.int64],
    turn_to: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Signed deviation (degrees, right positive) and class (``KINDS`` index) of each turn, from
    the arcs' ``bearing`` (degrees clockwise from north)."""
    ang = (bearing[turn_to] - bearing[turn_from] + 180.0) % 360.0 - 180.0
    ang = np.where(ang == -180.0, 180.0, ang)
    mag = np.abs(ang)
    level = np.select([mag <= STRAIGHT_DEG, mag <= SLIGHT_DEG, mag <= SHARP_DEG], [0, 1, 2], 3)
    kind = np.where(level == 0, 0, np.where(ang > 0, level, level + 3))
    back = head[turn_to] == tail[turn_from]
    kind = np.where(back | (mag >= U_TURN_DEG), 7, kind)
    return ang, kind.astype(np.int8)


def candidate_turns(
    tail: npt.NDArray[np.int64], head: npt.NDArray[np.int64], arcs: npt.NDArray[np.int64], n: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every turn between the arcs ``arcs`` (asset ids) of a network, sorted by (from, to)."""
    arcs = np.sort(np.asarray(arcs, dtype=np.int64))
    by_tail = arcs[np.argsort(tail[arcs], kind="stable")]
    off = np.concatenate([[0], np.cumsum(np.bincount(tail[arcs], minlength=n))])
    h = head[arcs]
    count = off[h + 1] - off[h]
    frm = np.repeat(arcs, count)
    start = np.repeat(off[h], count)
    within = np.arange(frm.size) - np.repeat(np.cumsum(count) - count, count)
    to = by_tail[start + within]
    order = np.lexsort((to, frm))
    return frm[order], to[order]


def _restricted(
    restrictions: dict[str, npt.NDArray] | None,
    frm: npt.NDArray[np.int64],
    to: npt.NDArray[np.int64],
    hgv: bool,
) -> npt.NDArray[np.bool_]:
    """Turns an OSM restriction forbids: ``restriction_kind`` 0 (``no_*``) forbids the listed
    ``(from arc, to arc)``; 1 (``only_*``) every other turn from that arc at its head.
    ``restriction_hgv`` ones bind HGVs only."""
    r = restrictions or {}
    rf, rt, rk = (r.get(k) for k in ("restriction_from", "restriction_to", "restriction_kind"))
    if rf is None or rt is None or rk is None or rf.size == 0:
        return np.zeros(frm.size, dtype=bool)
    binds = np.ones(rf.size, dtype=bool) if hgv else ~r.get("restriction_hgv", np.zeros(rf.size, bool))
    rf, rt, rk = rf.astype(np.int64)[binds], rt.astype(np.int64)[binds], rk.astype(np.int64)[binds]
    m = int(max(frm.max(initial=0), to.max(initial=0), rf.max(initial=0), rt.max(initial=0))) + 1
    key = frm * m + to
    banned = np.isin(key, rf[rk == 0] * m + rt[rk == 0])
    only_from = rf[rk == 1]
    if only_from.size:
        allowed_only = np.isin(key, only_from * m + rt[rk == 1])
        banned |= np.isin(frm, only_from) & ~allowed_only
    return banned


def _stop_share(
    control: npt.NDArray[np.int64], shape: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per arc, the share of arrivals its head node's control already stops (``energy.junction_delay``)
    and the speed (m/s) the others are slowed to there (inf: not slowed)."""
    p = np.zeros(control.size)
    crawl = np.full(control.size, np.inf)
    x = e.SATURATION_OFF_PEAK + (e.SATURATION_PEAK - e.SATURATION_OFF_PEAK) * shape
    for code, green in ((1, e.SIGNAL_GREEN), (2, e.PED_SIGNAL_GREEN)):
        p[control == code] = (1.0 - green) / (1.0 - green * x)
    for code, (p0, p1, _standstill, crawl_kmh) in e._UNSIGNALISED.items():
        m = control == code
        p[m] = p0 + (p1 - p0) * shape
        if crawl_kmh >= 0:
            crawl[m] = crawl_kmh / 3.6
    return np.minimum(p, 1.0), crawl


def adams_delay_s(q_veh_s: float, gap_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Mean wait (s) for a gap of at least ``gap_s`` in a Poisson stream of ``q`` vehicles/s."""
    qt = q_veh_s * np.asarray(gap_s, dtype=np.float64)
    return np.where(gap_s > 0, (np.expm1(qt) - qt) / max(q_veh_s, 1e-9), 0.0)


@dataclass(frozen=True, slots=True)
class TurnCandidates:
    """Every turn between the allowed arcs of a network before any is forbidden, sorted by
    ``(from, to)``, with its signed angle and class (``turn_angles``): what ``turn_costs`` starts
    from, kept so that a network with fewer allowed arcs can be priced from it (``restrict_turns``)."""

    frm: npt.NDArray[np.int64]
    to: npt.NDArray[np.int64]
    ang: npt.NDArray[np.float64]
    kind: npt.NDArray[np.int8]

    def subset(self, allowed: npt.NDArray[np.bool_]) -> TurnCandidates:
        """The candidates between arcs of the mask ``allowed`` (exactly ``turn_candidates`` of
        those arcs: a filtered sorted list is the sorted list of the pairs left)."""
        sel = allowed[self.frm] & allowed[self.to]
        return TurnCandidates(frm=self.frm[sel], to=self.to[sel], ang=self.ang[sel], kind=self.kind[sel])


def turn_candidates(
    network: dict[str, npt.NDArray], allowed_arcs: npt.NDArray[np.int64], n: int, geometry: TurnGeometry
) -> TurnCandidates:
    tail = network["tail"].astype(np.int64)
    head = network["head"].astype(np.int64)
    frm, to = candidate_turns(tail, head, allowed_arcs, n)
    ang, kind = turn_angles(geometry.bearing, tail, head, frm, to)
    return TurnCandidates(frm=frm, to=to, ang=ang, kind=kind)


def _turn_rules(
    cand: TurnCandidates, num_arcs: int, vehicle: Vehicle, restrictions: dict[str, npt.NDArray] | None
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per candidate: whether the vehicle may take it, and whether its from-arc is a dead end."""
    u_turn = cand.kind == 7
    # A dead end for an arc: every way on from it is a U-turn.
    dead_end = np.bincount(cand.frm[~u_turn], minlength=num_arcs)[cand.frm] == 0
    keep = ~_restricted(restrictions, cand.frm, cand.to, vehicle.is_hgv)
    if vehicle.is_hgv:
        keep &= ~u_turn | dead_end
    return keep, dead_end


def turn_costs(
    network: dict[str, npt.NDArray],
    node_lon: npt.NDArray[np.float64],
    node_lat: npt.NDArray[np.float64],
    costs: e.ArcCosts,
    allowed_arcs: npt.NDArray[np.int64],
    vehicle: Vehicle,
    params: e.CostParams,
    restrictions: dict[str, npt.NDArray] | None = None,
    geometry: TurnGeometry | None = None,
    candidates: TurnCandidates | None = None,
) -> TurnCosts:
    """Prices every turn between the ``allowed_arcs`` (asset ids) of a network priced as ``costs``
    for ``vehicle`` in ``params`` (time of day, weather, prices), leaving out forbidden turns.
    ``geometry``: the network's :func:`turn_geometry` when the caller keeps it; ``candidates``: the
    :func:`turn_candidates` of ``allowed_arcs`` when the caller keeps them."""
    n = int(node_lon.size)
    geo = geometry if geometry is not None else turn_geometry(network, node_lon, node_lat)
    cand = candidates if candidates is not None else turn_candidates(network, allowed_arcs, n, geo)
    keep, dead_end = _turn_rules(cand, int(network["tail"].size), vehicle, restrictions)
    return _price_turns(
        network,
        costs,
        vehicle,
        params,
        geo,
        cand.frm[keep],
        cand.to[keep],
        cand.ang[keep],
        cand.kind[keep],
        dead_end[keep],
    )


def restrict_turns(
    full: TurnCosts,
    cand: TurnCandidates,
    allowed: npt.NDArray[np.bool_],
    network: dict[str, npt.NDArray],
    costs: e.ArcCosts,
    vehicle: Vehicle,
    params: e.CostParams,
    restrictions: dict[str, npt.NDArray] | None,
    geometry: TurnGeometry,
) -> tuple[TurnCosts, TurnCandidates]:
    """``turn_costs`` of the arcs of the mask ``allowed`` (a subset of the arcs ``cand`` and ``full``
    were made for, priced as ``costs``), from those: the same turns with the same prices, computed
    as a delta. A turn's price depends only on its two arcs and, for a U-turn, on whether its
    from-arc is a dead end (a property of the allowed set); so every turn kept with the same
    dead-end flag is copied from ``full`` and only the others (U-turns at arcs that became dead
    ends when their other ways on were taken away) are priced. Returns the candidates of the
    subset too."""
    m = int(network["tail"].size)
    sel = allowed[cand.frm] & allowed[cand.to]
    sub = TurnCandidates(frm=cand.frm[sel], to=cand.to[sel], ang=cand.ang[sel], kind=cand.kind[sel])
    keep_full, dead_full = _turn_rules(cand, m, vehicle, restrictions)
    keep_sub, dead_sub = _turn_rules(sub, m, vehicle, restrictions)
    where = np.flatnonzero(sel)[keep_sub]  # each kept turn of the subset among the full candidates
    row = np.cumsum(keep_full) - 1  # a kept full candidate's row in ``full``
    reuse = keep_full[where] & (dead_full[where] == dead_sub[keep_sub])
    frm, to = sub.frm[keep_sub], sub.to[keep_sub]
    fresh_at = np.flatnonzero(~reuse)
    fresh = _price_turns(
        network,
        costs,
        vehicle,
        params,
        geometry,
        frm[fresh_at],
        to[fresh_at],
        sub.ang[keep_sub][fresh_at],
        sub.kind[keep_sub][fresh_at],
        dead_sub[keep_sub][fresh_at],
    )
    src = row[where[reuse]]
    priced: dict[str, npt.NDArray] = {}
    for name in PRICE_FIELDS:
        a, b = getattr(full, name), getattr(fresh, name)
        out = np.empty(frm.size, dtype=a.dtype)
        out[reuse] = a[src]
        out[fresh_at] = b
        priced[name] = out
    return TurnCosts(num_arcs=m, from_arc=frm, to_arc=to, **priced), sub


#: the per-turn arrays of ``TurnCosts`` besides the arcs
PRICE_FIELDS = ("kind", "angle_deg", *TOTAL_ROWS)


def _price_turns(
    network: dict[str, npt.NDArray],
    costs: e.ArcCosts,
    vehicle: Vehicle,
    params: e.CostParams,
    geo: TurnGeometry,
    frm: npt.NDArray[np.int64],
    to: npt.NDArray[np.int64],
    ang: npt.NDArray[np.float64],
    kind: npt.NDArray[np.int8],
    dead_end: npt.NDArray[np.bool_],
) -> TurnCosts:
    """The costs of the turns ``frm -> to`` (kept ones, with their angle, class and whether the
    from-arc is a dead end); every value is a function of the turn alone (elementwise)."""
    head = network["head"].astype(np.int64)
    hgv = 1 if vehicle.is_hgv else 0
    # Junctions: three or more neighbouring nodes in the whole network (as the junction model).
    via = head[frm]
    junction = geo.neighbours[via] >= 3
    u_turn = kind == 7

    shape = (
        0.0
        if params.local_seconds_of_day is None
        else e.tod_shape(params.local_seconds_of_day, params.weekend)
    )
    steady = costs.steady_ms
    if steady is None:  # pragma: no cover - ArcCosts from arc_costs always carry it
        steady = costs.distance_m / np.maximum(costs.time_s, 1e-9)
    v = np.maximum(steady[frm], 0.1)
    control = (
        network["head_control"].astype(np.int64)[frm]
        if "head_control" in network
        else np.zeros(frm.size, np.int64)
    )
    p_stop, crawl = _stop_share(control, shape)
    level = np.where(kind == 7, 7, np.where(kind >= 4, kind - 3, kind))
    u = np.full(frm.size, np.inf)
    for lv, speeds in TURN_SPEED_KMH.items():
        u[level == lv] = speeds[hgv] / 3.6
    # Bends of a road (no junction) are priced by the arcs' speeds; U-turns are turns everywhere.
    u = np.where(junction | u_turn, u, np.inf)
    base = np.minimum(crawl, v)  # the speed the node's control leaves the non-stopped arrivals at
    slow = np.minimum(u, base)
    a_dec = e.DECEL_MS2[hgv]
    power = e.POWER_AVAILABLE * vehicle.power_kw * 1000.0
    mass = vehicle.gross_mass_kg
    a_acc = np.minimum(e.ACCEL_MAX_MS2[hgv], power / (mass * np.maximum(v / 2.0, 3.0)))
    extra = e.speed_change_loss_s(v, slow, a_dec, a_acc) - e.speed_change_loss_s(v, base, a_dec, a_acc)
    time_s = (1.0 - p_stop) * np.maximum(extra, 0.0)
    ke_per_kg = (1.0 - p_stop) * np.maximum(base**2 - slow**2, 0.0) / 2.0

    # Gap acceptance at unsignalised junctions (signals give the turn its phase).
    signal = (control == 1) | (control == 2)
    minor = geo.minor[frm]
    gap = np.zeros(frm.size)
    left = (kind == 5) | (kind == 6)
    right = (kind == 2) | (kind == 3)
    gap = np.where(left, np.where(minor, GAP_LEFT_MINOR_S, GAP_LEFT_MAJOR_S), gap)
    gap = np.where(right & minor, GAP_RIGHT_MINOR_S, gap)
    gap = np.where(u_turn & ~dead_end, GAP_LEFT_MINOR_S, gap)  # turning back across both streams
    gap = np.where((junction | u_turn) & ~signal & (gap > 0), gap + GAP_HGV_EXTRA_S * hgv, 0.0)
    q = (CONFLICT_OFF_PEAK_VEH_H + (CONFLICT_PEAK_VEH_H - CONFLICT_OFF_PEAK_VEH_H) * shape) / 3600.0
    time_s = time_s + adams_delay_s(q, gap) + np.where(u_turn, U_TURN_S[hgv], 0.0)

    eta = vehicle.drivetrain_efficiency
    demand_j = mass * ke_per_kg * (1.0 - vehicle.regen_efficiency * eta)
    source_j = np.maximum(demand_j, 0.0) / eta + vehicle.auxiliary_power_kw * 1000.0 * time_s
    energy_kwh = source_j / 3.6e6
    fuel_l, co2e, energy_cost = e._carrier(vehicle, params, energy_kwh)
    driver = (
        time_s / 3600.0 * params.driver_eur_per_h if params.include_driver_cost else np.zeros_like(time_s)
    )
    carbon = co2e / 1000.0 * params.carbon_eur_per_t
    return TurnCosts(
        num_arcs=int(head.size),
        from_arc=frm,
        to_arc=to,
        kind=kind,
        angle_deg=ang,
        time_s=time_s,
        energy_kwh=energy_kwh,
        fuel_l=fuel_l,
        co2e_kg=co2e,
        energy_cost_eur=energy_cost,
        driver_cost_eur=driver,
        carbon_cost_eur=carbon,
        money_eur=energy_cost + driver + carbon,
    )


def _priority(road_class: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Road hierarchy rank of each class code (lower = more important), as the junction model."""
    from ridgeline.routing.assets import _PRIORITY

    return _PRIORITY[road_class]

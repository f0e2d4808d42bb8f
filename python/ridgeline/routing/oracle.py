"""Oracle quality checks: the native search's answers against independent computations.

1. Front extremes: for every objective, the best value on the exact front equals the
   single-objective optimum from SciPy's Dijkstra (a separate implementation).
2. Epsilon guarantee: every exact-front vector is (1 + epsilon)-dominated by the epsilon front.
3. Brute force: on a small subgraph with cycles (a ball around a random node, drawn again until its
   undirected cycle rank is positive and the hardest target has a front of two or more paths), the
   exact front equals the non-dominated set of all simple paths enumerated by depth-first search.
4. Physical model: the fastest route's duration and energy equal the arc-by-arc recomputation of
   the documented model in scalar code (bisection for the climb speed, the junction and
   stop-and-go terms written out), within 1e-6.
5. Time dependence: the same for departures every 15 min through a weekday morning in the
   region's zone, arrival times non-decreasing with departure (FIFO), the peak slower than night.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt

from ridgeline.routing import Graph
from ridgeline.routing.planner import Planner, RoutingError, Scenario
from ridgeline.routing.vehicles import Vehicle

__all__ = [
    "brute_force_front",
    "check_pair",
    "check_subgraph",
    "cycle_rank",
    "dominated_by_eps",
    "nondominated",
    "quality_check",
    "sample_subgraphs",
]

REL_TOL = 1e-6
#: Pairs whose fastest route is recomputed (physics) and swept through a morning (time dependence).
PHYSICS_PAIRS = 10
TIME_PAIRS = 3


def nondominated(costs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Unique non-dominated rows, sorted lexicographically."""
    if costs.size == 0:
        return costs.reshape(0, costs.shape[1] if costs.ndim == 2 else 0)
    uniq = np.unique(np.round(costs, 9), axis=0)
    keep = []
    for i, c in enumerate(uniq):
        dom = np.all(uniq <= c, axis=1) & np.any(uniq < c, axis=1)
        if not dom.any():
            keep.append(i)
    return uniq[keep]


def dominated_by_eps(exact: npt.NDArray[np.float64], approx: npt.NDArray[np.float64], eps: float) -> bool:
    """True when every exact vector is (1 + eps)-dominated by some approximate vector."""
    if exact.size == 0:
        return approx.size == 0
    if approx.size == 0:
        return False
    for c in exact:
        if not np.any(np.all(approx <= c * (1 + eps) + 1e-9, axis=1)):
            return False
    return True


def check_pair(
    g: Graph,
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    costs: npt.NDArray[np.float64],
    s: int,
    t: int,
    eps: float,
) -> dict[str, Any]:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = g.num_nodes
    exact = g.pareto(s, t, method="exact", time_limit=10.0)
    front = exact.costs if len(exact) else np.empty((0, costs.shape[1]))
    out: dict[str, Any] = {"source": s, "target": t, "front_size": len(exact), "truncated": exact.truncated}
    ok = True
    optima = []
    for j in range(costs.shape[1]):
        # Parallel arcs: keep the cheapest per (tail, head) for this objective.
        order = np.lexsort((costs[:, j], head, tail))
        first = np.ones(order.size, dtype=bool)
        first[1:] = (tail[order][1:] != tail[order][:-1]) | (head[order][1:] != head[order][:-1])
        o = order[first]
        m = csr_matrix((costs[o, j] + 1e-300, (tail[o], head[o])), shape=(n, n))
        d = float(dijkstra(m, directed=True, indices=s)[t])
        optima.append(d)
        best = float(front[:, j].min()) if len(front) else float("inf")
        if not (np.isinf(d) and np.isinf(best)) and abs(best - d) > REL_TOL * max(1.0, abs(d)):
            ok = False
    out["dijkstra_optima"] = optima
    out["front_minima"] = [float(front[:, j].min()) for j in range(costs.shape[1])] if len(front) else []
    out["extremes_ok"] = ok and not exact.truncated
    approx = g.pareto(s, t, method="epsilon", epsilon=eps, time_limit=10.0)
    out["epsilon_front_size"] = len(approx)
    out["epsilon_ok"] = dominated_by_eps(
        front, approx.costs if len(approx) else np.empty((0, costs.shape[1])), eps
    )
    return out


class TooManyPaths(Exception):
    """The subgraph has more simple paths than the enumeration cap."""


def _adjacency(n: int, tail: npt.NDArray[np.int64]) -> list[list[int]]:
    """Arc ids leaving each of ``n`` nodes."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for i, a in enumerate(tail):
        adj[int(a)].append(i)
    return adj


def _incidence(
    tail: npt.NDArray[np.int64], head: npt.NDArray[np.int64]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Arc ids leaving and entering each node that has any."""
    out_arcs: dict[int, list[int]] = {}
    into: dict[int, list[int]] = {}
    for i in range(tail.size):
        out_arcs.setdefault(int(tail[i]), []).append(i)
        into.setdefault(int(head[i]), []).append(i)
    return out_arcs, into


class Budget:
    """Partial paths the brute force may still walk (one budget per quality check, so a request's
    cost is bounded whatever its pairs and subgraph size)."""

    def __init__(self, steps: int) -> None:
        self.left = steps


def _simple_path_costs(
    n: int,
    adj: list[list[int]],
    head: npt.NDArray[np.int64],
    costs: npt.NDArray[np.float64],
    s: int,
    cap: int | Budget,
) -> list[list[npt.NDArray[np.float64]]]:
    """The cost vector of every simple path from ``s`` to every node, by depth-first search
    (``TooManyPaths`` once the cap or the shared budget of partial paths is spent)."""
    found: list[list[npt.NDArray[np.float64]]] = [[] for _ in range(n)]
    visited = np.zeros(n, dtype=bool)
    budget = cap if isinstance(cap, Budget) else Budget(cap)

    def dfs(u: int, acc: npt.NDArray[np.float64]) -> None:
        budget.left -= 1
        if budget.left < 0:
            raise TooManyPaths
        if u != s:
            found[u].append(acc)
        visited[u] = True
        for e in adj[u]:
            v = int(head[e])
            if not visited[v]:
                dfs(v, acc + costs[e])
        visited[u] = False

    dfs(s, np.zeros(costs.shape[1]))
    return found


def brute_force_front(
    n: int,
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    costs: npt.NDArray[np.float64],
    s: int,
    t: int,
    cap: int = 1_000_000,
) -> npt.NDArray[np.float64]:
    """The non-dominated set of every simple s-t path's cost vector."""
    found = _simple_path_costs(n, _adjacency(n, tail), head, costs, s, cap)[t]
    return nondominated(np.array(found)) if found else np.empty((0, costs.shape[1]))


def _neighbours(
    out_arcs: dict[int, list[int]], into: dict[int, list[int]], tail: Any, head: Any, u: int
) -> list[int]:
    return [int(head[e]) for e in out_arcs.get(u, [])] + [int(tail[e]) for e in into.get(u, [])]


def _ball(
    out_arcs: dict[int, list[int]],
    into: dict[int, list[int]],
    tail: Any,
    head: Any,
    start: int,
    size: int,
    max_rank: int = 3,
) -> list[int]:
    """At most ``size`` nodes around ``start``: the first undirected cycle a breadth-first search from
    ``start`` closes (when it fits), then its neighbourhood breadth-first while the undirected cycle
    rank stays at most ``max_rank``. Without a cycle that fits, a breadth-first ball (over arcs in both
    directions) under the same rank limit."""
    parent = {start: -1}
    depth = {start: 0}
    queue = [start]
    cycle: list[int] = []
    q = 0
    while q < len(queue) and not cycle:
        u = queue[q]
        q += 1
        for v in _neighbours(out_arcs, into, tail, head, u):
            if v == u or v == parent[u]:
                continue
            if v in parent:  # a non-tree edge closes a cycle: the two tree paths up to their meeting node
                a, b, left, right = u, v, [u], [v]
                while a != b:
                    if depth[a] >= depth[b]:
                        a = parent[a]
                        left.append(a)
                    else:
                        b = parent[b]
                        right.append(b)
                cycle = left + right[-2::-1] if len(right) > 1 else left
                break
            parent[v], depth[v] = u, depth[u] + 1
            queue.append(v)
    order = cycle if cycle and len(cycle) <= size else [start]
    seen = set(order)
    rank = 1 if len(order) > 1 else 0
    q = 0
    # Fill breadth-first, but stop adding cycles beyond ``max_rank``: simple paths grow exponentially
    # with the cycle rank (a 40-node ball of a grid has millions), a few cycles are what the check needs.
    while q < len(order) and len(order) < size:
        for v in _neighbours(out_arcs, into, tail, head, order[q]):
            if v in seen or len(order) >= size:
                continue
            links = len({w for w in _neighbours(out_arcs, into, tail, head, v) if w in seen and w != v})
            if rank + links - 1 > max_rank:
                continue
            seen.add(v)
            order.append(v)
            rank += links - 1
        q += 1
    return order


def cycle_rank(n: int, lt: npt.NDArray[np.int64], lh: npt.NDArray[np.int64]) -> int:
    """Independent cycles of the undirected simple graph under the arcs (edges - nodes + components):
    0 for a tree, where every pair has one simple path and a front cannot have two members."""
    edges = {(min(int(a), int(b)), max(int(a), int(b))) for a, b in zip(lt, lh, strict=True) if a != b}
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    components = len({find(x) for x in range(n)})
    return len(edges) - n + components


def check_subgraph(
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    costs: npt.NDArray[np.float64],
    start: int,
    size: int,
    *,
    out_arcs: dict[int, list[int]] | None = None,
    into: dict[int, list[int]] | None = None,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """The induced subgraph on a ball of ``size`` nodes around ``start`` (a cycle when one fits): the
    native exact front between the pair of nodes with the largest brute-force front (the hardest pair,
    so a check on a cyclic subgraph compares fronts of several paths) against the non-dominated set of
    every simple path enumerated by depth-first search."""
    if out_arcs is None or into is None:
        out_arcs, into = _incidence(tail, head)
    order = _ball(out_arcs, into, tail, head, start, size)
    local = {v: i for i, v in enumerate(order)}
    sel = [e for v in order for e in out_arcs.get(v, []) if int(head[e]) in local]
    lt = np.array([local[int(tail[i])] for i in sel], dtype=np.int64)
    lh = np.array([local[int(head[i])] for i in sel], dtype=np.int64)
    lc = costs[sel]
    n = len(order)
    rank = cycle_rank(n, lt, lh)
    if n < 2 or lt.size == 0:
        return {"nodes": n, "arcs": int(lt.size), "cycle_rank": rank, "ok": True, "skipped": True}
    adj = _adjacency(n, lt)
    best, mine = (-1, -1), np.empty((0, lc.shape[1]))
    try:
        for s in range(n):
            for t, paths in enumerate(_simple_path_costs(n, adj, lh, lc, s, budget or Budget(200_000))):
                if len(paths) > mine.shape[0]:  # a front is never larger than its path count
                    front = nondominated(np.array(paths))
                    if front.shape[0] > mine.shape[0]:
                        best, mine = (s, t), front
    except TooManyPaths:  # the walk budget is spent: this check proves nothing
        return {"nodes": n, "arcs": int(lt.size), "cycle_rank": rank, "ok": True, "skipped": True}
    if best[0] < 0:  # no pair connected inside the ball
        return {"nodes": n, "arcs": int(lt.size), "cycle_rank": rank, "ok": True, "skipped": True}
    g = Graph.from_arrays(lt, lh, lc, n=n)
    native = g.pareto(best[0], best[1], method="exact")
    got = nondominated(native.costs) if len(native) else np.empty((0, lc.shape[1]))
    ok = got.shape == mine.shape and bool(np.allclose(got, mine, rtol=1e-9, atol=1e-9))
    return {
        "nodes": n,
        "arcs": int(lt.size),
        "cycle_rank": rank,
        "front_size": int(mine.shape[0]),
        "ok": ok,
        "skipped": False,
    }


def sample_subgraphs(
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    costs: npt.NDArray[np.float64],
    rng: np.random.Generator,
    count: int,
    size: int,
    *,
    attempts_per_check: int = 40,
    budget_steps: int = 3_000_000,
) -> list[dict[str, Any]]:
    """``count`` brute-force checks on subgraphs that contain a cycle and a front of two or more
    paths where the network has them (balls around random nodes, drawn until one qualifies; after
    ``attempts_per_check`` draws the last one is checked as it is, and says so). All draws share one
    budget of walked partial paths: when it is spent the remaining checks are reported skipped."""
    out_arcs, into = _incidence(tail, head)
    n = int(max(int(tail.max()), int(head.max())) + 1) if tail.size else 0
    subs = []
    budget = Budget(budget_steps)
    for _ in range(count):
        res: dict[str, Any] = {"nodes": 0, "arcs": 0, "cycle_rank": 0, "ok": True, "skipped": True}
        draws = 0
        while draws < attempts_per_check:
            if budget.left <= 0:
                break
            draws += 1
            res = check_subgraph(
                tail, head, costs, int(rng.integers(n)), size, out_arcs=out_arcs, into=into, budget=budget
            )
            if not res["skipped"] and res["cycle_rank"] > 0 and res.get("front_size", 0) > 1:
                break
        res["qualified"] = bool(not res["skipped"] and res["cycle_rank"] > 0 and res.get("front_size", 0) > 1)
        res["draws"] = draws
        subs.append(res)
    return subs


# --------------------------------------------------------------------------------------------
# 4-5. The physical model and time dependence, recomputed arc by arc in scalar code


def _climb_speed_bisect(power_w: float, mass_kg: float, grade: float, rolling: float, cda: float) -> float:
    """The speed where ``(m g (C_rr + s^+) + 0.5 rho CdA v^2) v = P``, by bisection (the engine
    uses Newton's method on arrays)."""
    from ridgeline.routing.energy import RHO_AIR, G

    lo, hi = 0.0, 200.0
    for _ in range(200):
        mid = (lo + hi) / 2
        load = (mass_kg * G * (rolling + max(grade, 0.0)) + 0.5 * RHO_AIR * cda * mid * mid) * mid
        lo, hi = (mid, hi) if load < power_w else (lo, mid)
    return (lo + hi) / 2


def _shape_at(local_s: float | None, weekend: bool) -> float:
    from ridgeline.routing import energy

    if local_s is None:
        return 0.0
    table = energy._SHAPE_WEEKEND if weekend else energy._SHAPE
    h = (local_s / 3600.0) % 24.0
    i = int(h)
    return float(table[i] + (table[(i + 1) % 24] - table[i]) * (h - i))


def _junction_reference(
    code: int, v: float, vehicle: Vehicle, mass_kg: float, shape: float
) -> tuple[float, float]:
    """Expected delay (s) and kinetic energy given up (J/kg) at a junction control, scalar."""
    from ridgeline.routing import energy as e

    if code == 0:
        return 0.0, 0.0
    hgv = 1 if vehicle.is_hgv else 0
    a_dec = e.DECEL_MS2[hgv]
    a_acc = min(
        e.ACCEL_MAX_MS2[hgv], e.POWER_AVAILABLE * vehicle.power_kw * 1000.0 / (mass_kg * max(v / 2, 3.0))
    )

    def loss(u: float) -> float:  # time lost slowing from v to u and back
        d = max(v - u, 0.0)
        return d * d / (2 * v) * (1 / a_dec + 1 / a_acc)

    if code in (1, 2):
        cycle, green = (
            (e.SIGNAL_CYCLE_S, e.SIGNAL_GREEN) if code == 1 else (e.PED_SIGNAL_CYCLE_S, e.PED_SIGNAL_GREEN)
        )
        x = e.SATURATION_OFF_PEAK + (e.SATURATION_PEAK - e.SATURATION_OFF_PEAK) * shape
        p = (1 - green) / (1 - green * x)
        return cycle * (1 - green) ** 2 / (2 * (1 - green * x)) + p * loss(0.0), p * v * v / 2
    p0, p1, standstill, crawl = e._UNSIGNALISED[code]
    p = p0 + (p1 - p0) * shape
    if crawl < 0:
        return p * (loss(0.0) + standstill), p * v * v / 2
    u = min(v, crawl / 3.6)
    return p * (loss(0.0) + standstill) + (1 - p) * loss(u), p * v * v / 2 + (1 - p) * (v * v - u * u) / 2


def reference_arc(
    arcs: dict[str, npt.NDArray], i: int, vehicle: Vehicle, local_s: float | None, weekend: bool
) -> tuple[float, float]:
    """Travel time (s) and energy drawn (kWh) of asset arc ``i`` in clear weather without wind, from
    the documented model (docs/routing.md) in scalar code, independent of ``energy.arc_costs``."""
    time_s, kwh, _ = _reference_arc_steady(arcs, i, vehicle, local_s, weekend)
    return time_s, kwh


def _reference_arc_steady(
    arcs: dict[str, npt.NDArray], i: int, vehicle: Vehicle, local_s: float | None, weekend: bool
) -> tuple[float, float, float]:
    """:func:`reference_arc` and the arc's steady (uncongested) speed in km/h."""
    import math

    from ridgeline.routing import energy as e

    length = float(arcs["length_m"][i])
    cls = int(arcs["road_class"][i])
    name, _, peak, _ = e.ROAD_CLASSES[cls]
    m = vehicle.gross_mass_kg
    cda = vehicle.drag_coefficient * vehicle.frontal_area_m2
    up, down = float(arcs["ascent_m"][i]), float(arcs["descent_m"][i])
    v = min(float(arcs["speed_kmh"][i]), vehicle.max_speed_kmh)
    if vehicle.is_hgv:
        tag = float(arcs["speed_hgv_kmh"][i]) if "speed_hgv_kmh" in arcs else math.nan
        v = min(v, tag if math.isfinite(tag) and tag > 0 else e.HGV_LIMITS_KMH.get(name, e.HGV_SPEED_CAP_KMH))
    if "speed_cond_kmh" in arcs:
        cond, over = float(arcs["speed_cond_kmh"][i]), float(arcs["speed_cond_min_t"][i])
        if math.isfinite(cond) and vehicle.gross_mass_t > over:
            v = min(v, cond)
    grade = max(-e.MAX_GRADE, min(e.MAX_GRADE, (up - down) / max(length, 0.01)))
    climb = _climb_speed_bisect(
        e.POWER_AVAILABLE * vehicle.power_kw * 1000.0, m, grade, vehicle.rolling_resistance, cda
    )
    steady = min(v, climb * 3.6)
    pull = m * e.G * (-grade - vehicle.rolling_resistance)
    if vehicle.is_hgv and pull > 0:
        steady = min(steady, vehicle.braking_kw * 1000.0 / pull * 3.6)
    steady = max(steady, e.MIN_SPEED_KMH)
    shape = _shape_at(local_s, weekend)
    speed = max(steady * (1 - (1 - peak) * shape) / 3.6, 0.5)
    code = int(arcs["head_control"][i]) if "head_control" in arcs else 0
    delay, ke = _junction_reference(code, steady / 3.6, vehicle, m, shape)
    time_s = length / speed + delay

    def u_factor(kmh: float) -> float:
        return 1 + e.STOP_GO_K * max(e.STOP_GO_VREF_KMH / max(kmh, 1.0) - 1, 0.0)

    demand = (m * e.G * vehicle.rolling_resistance + 0.5 * e.RHO_AIR * cda * (steady / 3.6) ** 2) * length
    demand += m * e.G * (up - down)
    if demand > 0:
        demand *= u_factor(speed * 3.6) / u_factor(steady)
    eta = vehicle.drivetrain_efficiency
    demand += m * ke * (1 - vehicle.regen_efficiency * eta)
    if vehicle.energy_carrier == "diesel":
        source = max(demand, 0.0) / eta
    else:
        source = demand / eta if demand >= 0 else demand * vehicle.regen_efficiency
    source += vehicle.auxiliary_power_kw * 1000.0 * time_s
    return time_s, source / 3.6e6, steady


def reference_turn(
    planner: Planner,
    a: int,
    b: int,
    vehicle: Vehicle,
    local_s: float | None,
    weekend: bool,
    allowed: npt.NDArray[np.bool_],
) -> tuple[float, float]:
    """Time (s) and energy drawn (kWh) of the turn from asset arc ``a`` into ``b`` in clear weather,
    from the documented turn model (docs/routing.md, "Turn costs") in scalar code, independent of
    ``turns.turn_costs``; ``allowed`` masks the arcs the vehicle may use (for dead ends)."""
    import math

    from ridgeline.routing import energy as e
    from ridgeline.routing import turns as T
    from ridgeline.routing.assets import _PRIORITY

    arcs = planner.assets.arcs
    lon, lat = planner.assets.node_lon, planner.assets.node_lat
    tail, head = arcs["tail"], arcs["head"]

    def bearing(i: int) -> float:
        p0, p1 = math.radians(lat[tail[i]]), math.radians(lat[head[i]])
        dl = math.radians(lon[head[i]] - lon[tail[i]])
        y = math.sin(dl) * math.cos(p1)
        x = math.cos(p0) * math.sin(p1) - math.sin(p0) * math.cos(p1) * math.cos(dl)
        return math.degrees(math.atan2(y, x))

    def deviation(i: int, j: int) -> float:
        d = (bearing(j) - bearing(i) + 180.0) % 360.0 - 180.0
        return 180.0 if d == -180.0 else d

    def is_u(i: int, j: int) -> bool:
        return bool(head[j] == tail[i]) or abs(deviation(i, j)) >= T.U_TURN_DEG

    v_node = int(head[a])
    touching = (tail == v_node) | (head == v_node)
    neighbours = set(tail[touching].tolist()) | set(head[touching].tolist())
    neighbours.discard(v_node)
    junction = len(neighbours) >= 3
    ang = deviation(a, b)
    mag = abs(ang)
    u_turn = is_u(a, b)
    onward = [int(j) for j in np.flatnonzero((tail == v_node) & allowed)]
    dead_end = not any(not is_u(a, j) for j in onward)
    hgv = 1 if vehicle.is_hgv else 0
    m = vehicle.gross_mass_kg
    shape = _shape_at(local_s, weekend)
    v = max(_reference_arc_steady(arcs, a, vehicle, local_s, weekend)[2] / 3.6, 0.1)
    code = int(arcs["head_control"][a]) if "head_control" in arcs else 0
    p_stop, crawl = 0.0, math.inf
    if code in (1, 2):
        green = e.SIGNAL_GREEN if code == 1 else e.PED_SIGNAL_GREEN
        x = e.SATURATION_OFF_PEAK + (e.SATURATION_PEAK - e.SATURATION_OFF_PEAK) * shape
        p_stop = (1 - green) / (1 - green * x)
    elif code in e._UNSIGNALISED:
        p0, p1, _, crawl_kmh = e._UNSIGNALISED[code]
        p_stop = p0 + (p1 - p0) * shape
        crawl = crawl_kmh / 3.6 if crawl_kmh >= 0 else math.inf
    if u_turn:
        u_kmh = 0.0
    elif mag <= T.STRAIGHT_DEG or not junction:
        u_kmh = math.inf
    elif mag <= T.SLIGHT_DEG:
        u_kmh = (35.0, 30.0)[hgv]
    elif mag <= T.SHARP_DEG:
        u_kmh = (20.0, 15.0)[hgv]
    else:
        u_kmh = (12.0, 8.0)[hgv]
    base = min(crawl, v)
    slow = min(u_kmh / 3.6, base)
    a_dec = e.DECEL_MS2[hgv]
    a_acc = min(e.ACCEL_MAX_MS2[hgv], e.POWER_AVAILABLE * vehicle.power_kw * 1000.0 / (m * max(v / 2, 3.0)))

    def loss(u: float) -> float:
        d = max(v - u, 0.0)
        return d * d / (2 * v) * (1 / a_dec + 1 / a_acc)

    time_s = (1 - p_stop) * max(loss(slow) - loss(base), 0.0)
    ke = (1 - p_stop) * max(base * base - slow * slow, 0.0) / 2
    rank = _PRIORITY[arcs["road_class"].astype(np.int64)]
    minor = int(rank[a]) > int(rank[touching].min())
    gap = 0.0
    if not u_turn and mag > T.SLIGHT_DEG and junction:
        if ang < 0:
            gap = 7.1 if minor else 4.1
        elif minor:
            gap = 6.2
    if u_turn and not dead_end:
        gap = 7.1
    if gap > 0 and code not in (1, 2):
        gap += 1.0 * hgv
        q = (200.0 + 500.0 * shape) / 3600.0
        time_s += (math.exp(q * gap) - q * gap - 1) / q
    if u_turn:
        time_s += (20.0, 60.0)[hgv]
    eta = vehicle.drivetrain_efficiency
    source = (
        m * ke * (1 - vehicle.regen_efficiency * eta) / eta + vehicle.auxiliary_power_kw * 1000.0 * time_s
    )
    return time_s, source / 3.6e6


def physics_check(
    planner: Planner, vehicle: Vehicle, s: int, t: int, departure: Any = None, rel_tol: float = 1e-6
) -> dict[str, Any]:
    """The fastest route's duration and energy against :func:`reference_arc` summed over its arcs."""
    from zoneinfo import ZoneInfo

    p = planner.price(Scenario(vehicle=vehicle, departure=departure), [s, t])
    r = planner.route(p, s, t, {"duration": 1.0})
    local_s, weekend = None, False
    if departure is not None:  # the local clock, from the manifest's zone (not the planner's)
        loc = departure.astimezone(ZoneInfo(str(planner.assets.manifest["timezone"])))
        local_s, weekend = loc.hour * 3600.0 + loc.minute * 60.0 + loc.second, loc.weekday() >= 5
    ref_t = ref_e = 0.0
    for i in r.arcs.tolist():
        dt, de = reference_arc(planner.assets.arcs, int(i), vehicle, local_s, weekend)
        ref_t += dt
        ref_e += de
    if p.turns is not None:  # the turns the route takes, recomputed from the documented model
        for a, b in itertools.pairwise(r.arcs.tolist()):
            dt, de = reference_turn(planner, int(a), int(b), vehicle, local_s, weekend, p.costs.allowed)
            ref_t += dt
            ref_e += de
    ok = abs(r.totals.duration_s - ref_t) <= rel_tol * max(1.0, ref_t) and abs(
        r.totals.energy_kwh - ref_e
    ) <= rel_tol * max(1.0, abs(ref_e))
    return {
        "source": s,
        "target": t,
        "departure_utc": departure.isoformat() if departure is not None else None,
        "duration_s": r.totals.duration_s,
        "reference_duration_s": ref_t,
        "energy_kwh": r.totals.energy_kwh,
        "reference_energy_kwh": ref_e,
        "ok": bool(ok),
    }


def time_dependence_check(planner: Planner, vehicle: Vehicle, s: int, t: int) -> dict[str, Any]:
    """Departures every 15 min through a weekday morning (05:30-09:30 local, on 14 January 2026):
    each route recomputed by :func:`physics_check` at its own departure, the fastest arrival
    times non-decreasing with the departure (FIFO: leaving later never arrives earlier), and the
    peak slower than the night."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(str(planner.assets.manifest["timezone"]))
    start = datetime(2026, 1, 14, 5, 30, tzinfo=zone).astimezone(UTC)
    deps = [start + timedelta(minutes=15 * k) for k in range(17)]
    rows = [physics_check(planner, vehicle, s, t, d) for d in deps]
    arrivals = [d.timestamp() + r["duration_s"] for d, r in zip(deps, rows, strict=True)]
    fifo = all(b >= a - 1e-6 for a, b in itertools.pairwise(arrivals))
    night = physics_check(planner, vehicle, s, t, datetime(2026, 1, 14, 3, 0, tzinfo=zone).astimezone(UTC))
    peak = max(r["duration_s"] for r in rows)
    recomputed = all(r["ok"] for r in rows) and night["ok"]
    return {
        "source": s,
        "target": t,
        "departures": len(deps),
        "recomputed_ok": recomputed,
        "fifo_ok": fifo,
        "peak_duration_s": peak,
        "night_duration_s": night["duration_s"],
        "peak_slower": peak > night["duration_s"],
        "ok": bool(recomputed and fifo and peak > night["duration_s"]),
    }


def quality_check(
    planner: Planner,
    vehicle: Vehicle,
    objectives: tuple[str, ...],
    *,
    pairs: int,
    seed: int,
    epsilon: float,
    brute_force_nodes: int,
) -> dict[str, Any]:
    """Checks 1-3 on ``pairs`` seeded random node pairs of the network priced for ``vehicle``
    (free flow): pass rates, their mean (``score``) and the per-pair details."""
    if len(set(objectives)) != len(objectives):
        raise RoutingError(422, "invalid_request", "objectives must be distinct.", field="objectives")
    # The node-based graph: checks 1-3 test the searches against SciPy and brute force on the
    # graph's own arcs (the turn expansion has its own brute-force tests in the native core);
    # the physics check below prices the planner's routes, turns included.
    g = planner.graph(planner.price(Scenario(vehicle=vehicle)), objectives, turns=False)
    tail, head, costs = g.arcs()
    rng = np.random.default_rng(seed)
    n = g.num_nodes
    checks = []
    for _ in range(pairs):
        s, t = (int(x) for x in rng.choice(n, size=2, replace=False))
        checks.append(check_pair(g, tail, head, costs, s, t, epsilon))
    subs = sample_subgraphs(tail, head, costs, rng, pairs, brute_force_nodes)
    physics: list[dict[str, Any]] = []
    timing: list[dict[str, Any]] = []
    for c in checks[:PHYSICS_PAIRS]:
        try:
            physics.append(physics_check(planner, vehicle, c["source"], c["target"]))
            if len(timing) < TIME_PAIRS:
                timing.append(time_dependence_check(planner, vehicle, c["source"], c["target"]))
        except RoutingError:  # no path for this vehicle: nothing to recompute
            continue
    ext = sum(c["extremes_ok"] for c in checks) / len(checks)
    eps = sum(c["epsilon_ok"] for c in checks) / len(checks)
    # A skipped check (no subgraph found, budget spent) proves nothing: it counts as not passed.
    bf = sum(c["ok"] and not c["skipped"] for c in subs) / len(subs)
    phys = sum(c["ok"] for c in physics) / len(physics) if physics else 0.0
    tdep = sum(c["ok"] for c in timing) / len(timing) if timing else 0.0
    return {
        "asset_name": planner.assets.name,
        "pairs": pairs,
        "extremes_pass_rate": ext,
        "epsilon_pass_rate": eps,
        "brute_force_pass_rate": bf,
        "score": round((ext + eps + bf + phys + tdep) / 5.0, 6),
        "details": {
            "objectives": list(objectives),
            "epsilon": epsilon,
            "seed": seed,
            "physics_pass_rate": phys,
            "time_dependence_pass_rate": tdep,
            "pairs": checks,
            "subgraphs": subs,
            "physics": physics,
            "time_dependence": timing,
        },
    }

"""Oracle quality checks: the native search's answers against independent computations.

1. Front extremes: for every objective, the best value on the exact front equals the
   single-objective optimum from SciPy's Dijkstra (a separate implementation).
2. Epsilon guarantee: every exact-front vector is (1 + epsilon)-dominated by the epsilon front.
3. Brute force: on a small subgraph with cycles (a ball around a random node, drawn again until its
   undirected cycle rank is positive and the hardest target has a front of two or more paths), the
   exact front equals the non-dominated set of all simple paths enumerated by depth-first search.
"""

from __future__ import annotations

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
    g = planner.graph(planner.price(Scenario(vehicle=vehicle)), objectives)
    tail, head, costs = g.arcs()
    rng = np.random.default_rng(seed)
    n = g.num_nodes
    checks = []
    for _ in range(pairs):
        s, t = (int(x) for x in rng.choice(n, size=2, replace=False))
        checks.append(check_pair(g, tail, head, costs, s, t, epsilon))
    subs = sample_subgraphs(tail, head, costs, rng, pairs, brute_force_nodes)
    ext = sum(c["extremes_ok"] for c in checks) / len(checks)
    eps = sum(c["epsilon_ok"] for c in checks) / len(checks)
    # A skipped check (no subgraph found, budget spent) proves nothing: it counts as not passed.
    bf = sum(c["ok"] and not c["skipped"] for c in subs) / len(subs)
    return {
        "asset_name": planner.assets.name,
        "pairs": pairs,
        "extremes_pass_rate": ext,
        "epsilon_pass_rate": eps,
        "brute_force_pass_rate": bf,
        "score": round((ext + eps + bf) / 3.0, 6),
        "details": {
            "objectives": list(objectives),
            "epsilon": epsilon,
            "seed": seed,
            "pairs": checks,
            "subgraphs": subs,
        },
    }

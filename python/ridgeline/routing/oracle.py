"""Oracle quality checks: the native search's answers against independent computations.

1. Front extremes: for every objective, the best value on the exact front equals the
   single-objective optimum from SciPy's Dijkstra (a separate implementation).
2. Epsilon guarantee: every exact-front vector is (1 + epsilon)-dominated by the epsilon front.
3. Brute force: on a small connected subgraph, the exact front equals the non-dominated set of
   all simple paths enumerated by depth-first search in Python.
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
    "dominated_by_eps",
    "nondominated",
    "quality_check",
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


def brute_force_front(
    n: int,
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    costs: npt.NDArray[np.float64],
    s: int,
    t: int,
) -> npt.NDArray[np.float64]:
    adj: list[list[int]] = [[] for _ in range(n)]
    for i, a in enumerate(tail):
        adj[int(a)].append(i)
    found: list[npt.NDArray[np.float64]] = []
    visited = np.zeros(n, dtype=bool)

    def dfs(u: int, acc: npt.NDArray[np.float64]) -> None:
        if u == t:
            found.append(acc.copy())
            return
        visited[u] = True
        for e in adj[u]:
            v = int(head[e])
            if not visited[v]:
                dfs(v, acc + costs[e])
        visited[u] = False

    dfs(s, np.zeros(costs.shape[1]))
    return nondominated(np.array(found)) if found else np.empty((0, costs.shape[1]))


def check_subgraph(
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    costs: npt.NDArray[np.float64],
    start: int,
    size: int,
) -> dict[str, Any]:
    """Grows a breadth-first ball of ``size`` nodes from ``start``, and compares the native exact
    front from ``start`` to the farthest node of the ball with brute force on the induced subgraph."""
    order = [start]
    seen = {start}
    out_arcs: dict[int, list[int]] = {}
    for i, a in enumerate(tail):
        out_arcs.setdefault(int(a), []).append(i)
    q = 0
    while q < len(order) and len(order) < size:
        u = order[q]
        q += 1
        for e in out_arcs.get(u, []):
            v = int(head[e])
            if v not in seen and len(order) < size:
                seen.add(v)
                order.append(v)
    local = {v: i for i, v in enumerate(order)}
    sel = [i for i in range(tail.size) if int(tail[i]) in local and int(head[i]) in local]
    lt = np.array([local[int(tail[i])] for i in sel], dtype=np.int64)
    lh = np.array([local[int(head[i])] for i in sel], dtype=np.int64)
    lc = costs[sel]
    s, t = 0, len(order) - 1
    if t == 0 or lt.size == 0:
        return {"nodes": len(order), "arcs": int(lt.size), "ok": True, "skipped": True}
    g = Graph.from_arrays(lt, lh, lc, n=len(order))
    native = g.pareto(s, t, method="exact")
    mine = brute_force_front(len(order), lt, lh, lc, s, t)
    got = nondominated(native.costs) if len(native) else np.empty((0, lc.shape[1]))
    ok = got.shape == mine.shape and bool(np.allclose(got, mine, rtol=1e-9, atol=1e-9))
    return {
        "nodes": len(order),
        "arcs": int(lt.size),
        "front_size": int(mine.shape[0]),
        "ok": ok,
        "skipped": False,
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
    g = planner.graph(planner.price(Scenario(vehicle=vehicle)), objectives)
    tail, head, costs = g.arcs()
    rng = np.random.default_rng(seed)
    n = g.num_nodes
    checks = []
    for _ in range(pairs):
        s, t = (int(x) for x in rng.choice(n, size=2, replace=False))
        checks.append(check_pair(g, tail, head, costs, s, t, epsilon))
    subs = [check_subgraph(tail, head, costs, int(rng.integers(n)), brute_force_nodes) for _ in range(pairs)]
    ext = sum(c["extremes_ok"] for c in checks) / len(checks)
    eps = sum(c["epsilon_ok"] for c in checks) / len(checks)
    bf = sum(c["ok"] for c in subs) / len(subs)
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

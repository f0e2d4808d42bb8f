"""Pareto search against brute force on random small graphs (hypothesis)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ridgeline.routing import Graph, ParetoResult

Arc = tuple[int, int]


@st.composite
def graphs(draw: st.DrawFn, k: int | None = None) -> tuple[int, list[Arc], np.ndarray]:
    n = draw(st.integers(2, 6))
    kk = k if k is not None else draw(st.integers(2, 4))
    m = draw(st.integers(0, 12))
    arcs = [(draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))) for _ in range(m)]
    costs = np.array(
        [[draw(st.integers(0, 5)) for _ in range(kk)] for _ in range(m)], dtype=np.float64
    ).reshape(m, kk)
    return n, arcs, costs


def build(n: int, arcs: list[Arc], costs: np.ndarray) -> Graph:
    tail = np.array([a[0] for a in arcs], dtype=np.int64)
    head = np.array([a[1] for a in arcs], dtype=np.int64)
    return Graph.from_arrays(tail, head, costs, n=n)


def simple_paths(n: int, arcs: list[Arc], s: int, t: int) -> list[list[int]]:
    out: list[list[int]] = []

    def dfs(v: int, seen: set[int], path: list[int]) -> None:
        if v == t:
            out.append(list(path))
            return
        for a, (x, y) in enumerate(arcs):
            if x == v and y not in seen:
                path.append(a)
                dfs(y, seen | {y}, path)
                path.pop()

    dfs(s, {s}, [])
    return out


def path_cost(costs: np.ndarray, path: list[int]) -> tuple[float, ...]:
    acc = np.zeros(costs.shape[1])
    for a in path:
        acc = acc + costs[a]
    return tuple(float(x) for x in acc)


def nondominated(vectors: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    uniq = sorted(set(vectors))
    return [
        v for v in uniq if not any(w != v and all(a <= b for a, b in zip(w, v, strict=True)) for w in uniq)
    ]


def check_paths(res: ParetoResult, arcs: list[Arc], costs: np.ndarray, s: int, t: int) -> None:
    for sol in res:
        assert sol.nodes[0] == s and sol.nodes[-1] == t
        assert len(sol.arcs) == len(sol.nodes) - 1
        for i, a in enumerate(sol.arcs):
            assert arcs[a] == (sol.nodes[i], sol.nodes[i + 1])
        np.testing.assert_allclose(sol.costs, path_cost(costs, list(sol.arcs)), rtol=1e-12)


def front_of(res: ParetoResult) -> list[tuple[float, ...]]:
    return sorted(tuple(float(x) for x in s.costs) for s in res)


@pytest.mark.parametrize("k", [2, 3, 4])
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_exact_front_equals_brute_force(k: int, data: st.DataObject) -> None:
    n, arcs, costs = data.draw(graphs(k))
    s, t = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    g = build(n, arcs, costs)
    paths = simple_paths(n, arcs, s, t)
    res = g.pareto(s, t, method="exact")
    check_paths(res, arcs, costs, s, t)
    assert front_of(res) == nondominated([path_cost(costs, p) for p in paths])
    assert res.status == ("found" if paths else "no_path")
    assert not res.truncated and res.epsilon == 0.0


@settings(max_examples=150, deadline=None)
@given(data=st.data(), eps=st.floats(0.0, 1.0))
def test_epsilon_front_meets_guarantee(data: st.DataObject, eps: float) -> None:
    n, arcs, costs = data.draw(graphs())
    s, t = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    g = build(n, arcs, costs)
    exact = nondominated([path_cost(costs, p) for p in simple_paths(n, arcs, s, t)])
    res = g.pareto(s, t, method="epsilon", epsilon=eps)
    check_paths(res, arcs, costs, s, t)
    assert res.epsilon == eps
    got = np.array([sol.costs for sol in res]).reshape(len(res), costs.shape[1])
    for p in exact:
        assert np.any(np.all(got <= (1 + eps) * np.array(p), axis=1)), (p, got)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_bounded_front_is_filtered_exact_front(data: st.DataObject) -> None:
    n, arcs, costs = data.draw(graphs())
    k = costs.shape[1]
    s, t = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    bounds = [data.draw(st.one_of(st.none(), st.integers(0, 15).map(float))) for _ in range(k)]
    g = build(n, arcs, costs)
    full = g.pareto(s, t)
    want = [c for c in front_of(full) if all(b is None or x <= b for x, b in zip(c, bounds, strict=True))]
    res = g.pareto(s, t, bounds=bounds)
    check_paths(res, arcs, costs, s, t)
    assert front_of(res) == want
    if full.no_path:
        assert res.no_path
    elif not want:
        assert res.empty_within_bounds and not res.no_path


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_route_is_best_weighted_point_of_front(data: st.DataObject) -> None:
    n, arcs, costs = data.draw(graphs())
    k = costs.shape[1]
    s, t = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    w = [data.draw(st.floats(0.0, 3.0)) for _ in range(k)]
    g = build(n, arcs, costs)
    front = g.pareto(s, t)
    r = g.route(s, t, weights=w)
    if front.no_path:
        assert r is None
        return
    assert r is not None
    best = min(float(np.dot(sol.costs, w)) for sol in front)
    assert r.cost == pytest.approx(best, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(r.costs, path_cost(costs, list(r.arcs)))
    assert r.nodes[0] == s and r.nodes[-1] == t
    g.prepare_landmarks(count=2, seed=s)
    a = g.route(s, t, weights=w)
    assert a is not None and a.algorithm == "alt-a*"
    assert a.cost == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_alt_route_on_real_valued_grid() -> None:
    rng = np.random.default_rng(11)
    side = 30
    tails, heads = [], []
    for r, c in itertools.product(range(side), range(side)):
        v = r * side + c
        for u in ([v + 1] if c + 1 < side else []) + ([v + side] if r + 1 < side else []):
            tails += [v, u]
            heads += [u, v]
    costs = rng.uniform(0.1, 1000.0, size=(len(tails), 3))
    g = Graph.from_arrays(tails, heads, costs)
    pairs = rng.integers(0, side * side, size=(40, 2))
    plain = [g.route(int(s), int(t), [1.0, 0.3, 0.0]) for s, t in pairs]
    g.prepare_landmarks(count=4, objectives=[0, 1])
    assert g.landmarks_memory_bytes == 2 * 4 * 2 * side * side * 4
    for (s, t), p in zip(pairs, plain, strict=True):
        a = g.route(int(s), int(t), [1.0, 0.3, 0.0])
        assert a is not None and p is not None and a.algorithm == "alt-a*"
        assert a.cost == pytest.approx(p.cost, rel=1e-12)


def test_streaming_callback_and_batch_agree(tmp_path: object) -> None:
    rng = np.random.default_rng(7)
    side = 12
    tails, heads = [], []
    for r, c in itertools.product(range(side), range(side)):
        v = r * side + c
        for u in ([v + 1] if c + 1 < side else []) + ([v + side] if r + 1 < side else []):
            tails += [v, u]
            heads += [u, v]
    costs = rng.integers(1, 20, size=(len(tails), 2)).astype(float)
    g = Graph.from_arrays(tails, heads, costs)
    full = g.pareto(0, side * side - 1)
    assert len(full) > 3
    streamed = list(g.pareto_stream(0, side * side - 1))
    assert [tuple(s.costs) for s in streamed] == [tuple(s.costs) for s in full]
    seen: list[np.ndarray] = []
    stopped = g.pareto(0, side * side - 1, callback=lambda sol: seen.append(sol.costs) or len(seen) < 2)
    assert len(seen) == 2 and stopped.truncated
    with g.pareto_stream(0, side * side - 1) as stream:
        first = next(stream)
    np.testing.assert_array_equal(first.costs, full[0].costs)
    pairs = np.array([[0, side * side - 1], [5, 77], [140, 3]])
    many = g.pareto_many(pairs)
    for (s, t), res in zip(pairs, many, strict=True):
        assert front_of(res) == front_of(g.pareto(int(s), int(t)))
    capped = g.pareto(0, side * side - 1, max_solutions=2)
    assert len(capped) == 2 and capped.truncated
    budget = g.pareto(0, side * side - 1, max_expansions=5)
    assert budget.truncated and budget.status == "budget_exhausted"
    eps = g.pareto(0, side * side - 1, method="epsilon", epsilon=0.2)
    assert len(eps) <= len(full)


def test_save_load_memory_mapped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    n, m = 50, 300
    tail, head = rng.integers(0, n, m), rng.integers(0, n, m)
    costs = rng.random((m, 3))
    coords = rng.random((n, 2))
    g = Graph.from_arrays(tail, head, costs, coords=coords)
    path = tmp_path / "g.rgraph"
    g.save(path)
    h = Graph.load(path)
    assert h.is_mapped and not g.is_mapped
    assert (h.num_nodes, h.num_arcs, h.k) == (n, m, 3)
    for a, b in zip(g.arcs(), h.arcs(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(h.coords, coords)
    for s, t in [(0, 1), (3, 40), (10, 10)]:
        assert front_of(g.pareto(s, t)) == front_of(h.pareto(s, t))


def test_time_dependent_and_risk() -> None:
    # Two routes 0->1->3 (fast off-peak, slow at peak) and 0->2->3 (steady, uncertain).
    tail, head = [0, 1, 0, 2], [1, 3, 2, 3]
    costs = np.array([[1.0, 600.0], [1.0, 600.0], [2.0, 900.0], [2.0, 900.0]])
    slots = 96
    prof = np.tile(costs[:, 1:2], (1, slots))
    prof[0, 32:40] = 1500.0  # 08:00-10:00 peak on arc 0 (FIFO: rises, then falls by 900 s in 900 s)
    var = np.array([0.0, 0.0, 1e4, 1e4])
    g = Graph.from_arrays(tail, head, costs, time_profile=prof, variance=var)
    off_peak = g.pareto(0, 3, departure=3 * 3600.0)
    assert front_of(off_peak) == [(2.0, 1200.0)]
    peak = g.pareto(0, 3, departure=8.5 * 3600.0)
    assert front_of(peak) == [(2.0, 2100.0), (4.0, 1800.0)]
    risky = g.pareto(0, 3, risk_aversion=0.05)
    assert front_of(risky) == [(2.0, 1200.0)]
    both = g.pareto(0, 3, departure=8.5 * 3600.0, risk_aversion=0.01)
    assert front_of(both) == [(2.0, 2100.0), (4.0, 2000.0)]
    r = g.route(0, 3, [0.0, 1.0], departure=8.5 * 3600.0)
    assert r is not None and r.cost == pytest.approx(1800.0)
    with pytest.raises(ValueError, match="FIFO"):
        bad = prof.copy()
        bad[0, 40] = 0.0
        bad[0, 39] = 5000.0
        Graph.from_arrays(tail, head, costs, time_profile=bad)
    plain = Graph.from_arrays(tail, head, costs)
    with pytest.raises(ValueError, match="profiles"):
        plain.pareto(0, 3, departure=0.0)
    with pytest.raises(ValueError, match="variances"):
        plain.pareto(0, 3, risk_aversion=1.0)


def test_oracle_subgraph_checks_share_one_walk_budget() -> None:
    """The brute-force checks of one quality check draw on one budget of walked partial paths: with
    the budget spent they are reported skipped (and count as not passed), instead of enumerating on."""
    from ridgeline.routing.oracle import sample_subgraphs

    side = 6
    arcs = []
    for r in range(side):
        for c in range(side):
            u = r * side + c
            if c + 1 < side:
                arcs += [(u, u + 1), (u + 1, u)]
            if r + 1 < side:
                arcs += [(u, u + side), (u + side, u)]
    tail = np.array([a for a, _ in arcs], dtype=np.int64)
    head = np.array([b for _, b in arcs], dtype=np.int64)
    costs = np.random.default_rng(3).uniform(1.0, 10.0, size=(len(arcs), 2))
    roomy = sample_subgraphs(tail, head, costs, np.random.default_rng(1), 3, 12)
    assert all(s["qualified"] and not s["skipped"] for s in roomy)
    starved = sample_subgraphs(tail, head, costs, np.random.default_rng(1), 3, 12, budget_steps=10)
    assert all(s["skipped"] and not s["qualified"] for s in starved)

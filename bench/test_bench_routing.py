"""Routing hot-path benchmarks, side by side with their peers (run: see bench/README.md).

NY weights: the DIMACS topology (PACE ``p tw``, undirected, 1-based ids) has no weights, so the
benchmark derives them deterministically with ``numpy.random.default_rng(20240601)``, per
undirected edge in file order: distance ``d = max(1, round(lognormal(mean=5.5, sigma=0.8)))``
(metres, median ~245 m), a road class speed from {30, 50, 70, 100} km/h with probabilities
{0.45, 0.30, 0.17, 0.08}, and time ``max(1, round(d / (speed / 3.6) * uniform(0.9, 1.3)))``
(seconds). Both arc directions share the edge's costs. Distance and time are thus strongly but
not perfectly correlated, as in road networks. The graph is saved once to a memory-mapped file,
and the same weights are written as DIMACS ``.gr`` files (``var/bench/NY-distance.gr``,
``NY-time.gr``) and in the map format of the BOA* C implementation (``var/bench/NY-boastar.txt``;
its queries are ``../shared/data/routing/queries/NY-queries``), so that it can be run on identical
inputs. Its reported runtime includes its two backward Dijkstras, like our per-query total.
"""

from __future__ import annotations

import lzma
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing import Dem, Graph, load_osm, write_dimacs

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE = Path(__file__).resolve().parents[1] / "var" / "bench"
QUERY_TIME_LIMIT = float(os.environ.get("RIDGELINE_BENCH_TIME_LIMIT", "60"))


def need(rel: str) -> Path:
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"{p} is absent (see ../shared/data/README.md)")
    return p


def stats_line(name: str, times: list[float], res: list) -> str:  # type: ignore[type-arg]
    t = np.array(times) * 1e3
    exp = np.array([r.expansions for r in res])
    size = np.array([len(r) for r in res])
    trunc = sum(r.truncated for r in res)
    return (
        f"{name:<34} n={len(t):>3} median={np.median(t):9.2f} ms  p95={np.percentile(t, 95):9.2f} ms  "
        f"expansions median={int(np.median(exp)):>9} p95={int(np.percentile(exp, 95)):>9}  "
        f"front median={int(np.median(size)):>5} max={size.max():>5}  truncated={trunc}"
    )


def run_queries(g: Graph, pairs: np.ndarray, **kw) -> tuple[list[float], list]:  # type: ignore[no-untyped-def, type-arg]
    times, res = [], []
    for s, t in pairs:
        t0 = time.perf_counter()
        r = g.pareto(int(s), int(t), time_limit=QUERY_TIME_LIMIT, **kw)
        times.append(time.perf_counter() - t0)
        res.append(r)
    return times, res


# ----------------------------------------------------------------------------- Andorra


@pytest.fixture(scope="module")
def andorra():  # type: ignore[no-untyped-def]
    pytest.importorskip("osmium")
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    dem = Dem.from_hgt([need("routing/dem/N42E001.hgt.zip"), need("routing/dem/N41E001.hgt.zip")])
    net = load_osm(need("routing/osm/andorra.osm.pbf"), dem)
    tail, head, costs = net.graph.arcs()
    n = net.graph.num_nodes
    _, labels = connected_components(
        csr_matrix((np.ones(tail.size), (tail, head)), shape=(n, n)), connection="strong"
    )
    big = np.flatnonzero(labels == np.bincount(labels).argmax())
    rng = np.random.default_rng(12345)
    pairs = rng.choice(big, size=(50, 2))
    g3 = net.graph
    g2 = Graph.from_arrays(tail, head, costs[:, :2], coords=net.coords)
    return g2, g3, pairs


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("method", ["exact", "epsilon"])
def test_andorra_pareto(andorra, k: int, method: str) -> None:  # type: ignore[no-untyped-def]
    g2, g3, pairs = andorra
    g = g2 if k == 2 else g3
    kw = {"method": method, "epsilon": 0.01} if method == "epsilon" else {"method": "exact"}
    times, res = run_queries(g, pairs, **kw)
    label = f"andorra k={k} {method}" + (" eps=0.01" if method == "epsilon" else "")
    print("\n" + stats_line(label, times, res) + f"  (graph n={g.num_nodes} m={g.num_arcs})")
    assert all(r.status == "found" for r in res)


# ----------------------------------------------------------------------------- NY


def read_ny() -> tuple[int, np.ndarray, np.ndarray]:
    with lzma.open(need("routing/dimacs_topology/NY.gr.xz"), "rt") as f:
        header = f.readline().split()
        assert header[:2] == ["p", "tw"], header
        n = int(header[2])
        edges = np.loadtxt(f, dtype=np.int64, comments="c")
    return n, edges[:, 0] - 1, edges[:, 1] - 1


def ny_weights(m_edges: int) -> np.ndarray:
    rng = np.random.default_rng(20240601)
    d = np.maximum(1.0, np.round(rng.lognormal(mean=5.5, sigma=0.8, size=m_edges)))
    speed = rng.choice([30.0, 50.0, 70.0, 100.0], p=[0.45, 0.30, 0.17, 0.08], size=m_edges)
    tt = np.maximum(1.0, np.round(d / (speed / 3.6) * rng.uniform(0.9, 1.3, size=m_edges)))
    return np.column_stack([d, tt])


@pytest.fixture(scope="module")
def ny():  # type: ignore[no-untyped-def]
    path = CACHE / "ny.rgraph"
    n, u, v = read_ny()
    w = ny_weights(u.size)
    tail = np.concatenate([u, v])
    head = np.concatenate([v, u])
    costs = np.vstack([w, w])
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        Graph.from_arrays(tail, head, costs, n=n).save(path)
    gr = [CACHE / "NY-distance.gr", CACHE / "NY-time.gr"]
    if not all(p.exists() for p in gr):
        # The same inputs in DIMACS form, for a side-by-side run of the BOA* C implementation.
        note = "NY topology with seeded weights (bench/test_bench_routing.py)"
        write_dimacs(Graph.load(path), gr, comment=note)
    boa_map = CACHE / "NY-boastar.txt"
    if not boa_map.exists():
        # The map format of the BOA* C implementation (jorgebaier/BOAstar, read_adjacent_table):
        # "<n> <m>" then one "<tail> <head> <cost1> <cost2>" line per arc, 1-based.
        with open(boa_map, "w") as f:
            f.write(f"{n} {tail.size}\n")
            np.savetxt(f, np.column_stack([tail + 1, head + 1, costs.astype(np.int64)]), fmt="%d")
    q = np.loadtxt(need("routing/queries/NY-queries"), dtype=np.int64) - 1
    t0 = time.perf_counter()
    g = Graph.load(path)
    load_s = time.perf_counter() - t0
    return g, q, (tail, head, costs, n), path, load_s


def test_ny_pareto(ny) -> None:  # type: ignore[no-untyped-def]
    g, q, _, _, load_s = ny
    print(
        f"\nNY graph load (mmap + validation): {load_s * 1e3:.1f} ms, n={g.num_nodes} m={g.num_arcs}; "
        f"DIMACS copies of the weights: {CACHE / 'NY-distance.gr'}, {CACHE / 'NY-time.gr'}"
    )
    times, res = run_queries(g, q, method="exact")
    heur = np.array([r.heuristic_seconds for r in res]) * 1e3
    search = np.array([r.search_seconds for r in res]) * 1e3
    print(stats_line("NY k=2 exact (BOA*)", times, res))
    print(
        f"{'':<34} heuristic (2 backward Dijkstras) median={np.median(heur):.2f} ms; "
        f"search only median={np.median(search):.2f} ms p95={np.percentile(search, 95):.2f} ms "
        f"total={search.sum() / 1e3:.2f} s"
    )
    times, res = run_queries(g, q, method="epsilon", epsilon=0.01)
    print(stats_line("NY k=2 epsilon=0.01", times, res))
    t0 = time.perf_counter()
    many = g.pareto_many(q, method="exact", time_limit=QUERY_TIME_LIMIT)
    print(
        f"NY pareto_many (50 exact, all cores): {time.perf_counter() - t0:.2f} s, "
        f"{sum(len(r) for r in many)} solutions"
    )


def test_ny_route_vs_scipy_networkx(ny, benchmark) -> None:  # type: ignore[no-untyped-def]
    scipy_graph = pytest.importorskip("scipy.sparse.csgraph")
    from scipy.sparse import csr_matrix

    nx = pytest.importorskip("networkx")
    g, q, (tail, head, costs, n), _, _ = ny
    w = costs[:, 0]
    mat = csr_matrix((w, (tail, head)), shape=(n, n))
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), w.tolist(), strict=True))

    def run() -> list[float]:
        return [g.route(int(s), int(t), [1.0, 0.0]).cost for s, t in q]  # type: ignore[union-attr]

    def timed(fn):  # type: ignore[no-untyped-def]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return out, float(np.median(times)) / len(q)

    g._lm = None  # bidirectional Dijkstra first
    bidi, bidi_s = timed(run)
    t0 = time.perf_counter()
    g.prepare_landmarks(count=8, objectives=[0])
    prep_s = time.perf_counter() - t0
    got = benchmark.pedantic(run, rounds=3, iterations=1)
    ours_s = benchmark.stats.stats.median / len(q)
    lm_mb = g.landmarks_memory_bytes / 2**20
    g._lm = None
    t0 = time.perf_counter()
    want = []
    for s, t in q:
        d = scipy_graph.dijkstra(mat, indices=int(s))
        want.append(d[int(t)])
    scipy_s = (time.perf_counter() - t0) / len(q)
    t0 = time.perf_counter()
    nxd = [nx.dijkstra_path_length(G, int(s), int(t)) for s, t in q[:10]]
    nx_s = (time.perf_counter() - t0) / 10
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(bidi, want)
    np.testing.assert_allclose(nxd, want[:10])
    benchmark.extra_info.update({"scipy_s": scipy_s, "networkx_s": nx_s, "bidirectional_s": bidi_s})
    print(
        f"\nNY route (distance), per query: ridgeline ALT A* (8 landmarks, {prep_s:.1f} s to prepare, "
        f"{lm_mb:.1f} MB) {ours_s * 1e3:.2f} ms; ridgeline bidirectional "
        f"Dijkstra {bidi_s * 1e3:.2f} ms; scipy dijkstra {scipy_s * 1e3:.2f} ms "
        f"(x{scipy_s / ours_s:.1f} vs ALT, x{scipy_s / bidi_s:.1f} vs bidirectional); "
        f"networkx {nx_s * 1e3:.2f} ms (x{nx_s / ours_s:.1f} vs ALT)"
    )


def test_ny_resident_memory(ny) -> None:  # type: ignore[no-untyped-def]
    """RSS after load, after the first query and after 100 exact queries (the 50, twice)."""
    _, q, _, path, _ = ny
    code = f"""
import time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
import numpy as np
from ridgeline.routing import Graph
r0 = rss(); t0 = time.perf_counter()
g = Graph.load({str(path)!r})
t1 = time.perf_counter(); r1 = rss()
pairs = {q.tolist()!r}
rs = []
for i in range(100):
    s, t = pairs[i % len(pairs)]
    g.pareto(s, t, time_limit=30)
    if i in (0, 9, 99):
        rs.append(rss())
print(r0, r1, *rs, (t1 - t0) * 1e3)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    r0, r1, q1, q10, q100, ms = (float(x) for x in out.split())
    print(
        f"\nNY graph resident: process {r0:.1f} MB before load, {r1:.1f} MB after load "
        f"(+{r1 - r0:.1f} MB, {ms:.1f} ms); after 1 / 10 / 100 exact queries {q1:.1f} / {q10:.1f} / "
        f"{q100:.1f} MB (growth over the 100: {q100 - r1:+.1f} MB from load, {q100 - q1:+.1f} MB from "
        "the first query)"
    )


# ----------------------------------------------------------------------------- DEM


def test_dem_sampling_vs_map_coordinates(benchmark) -> None:  # type: ignore[no-untyped-def]
    ndimage = pytest.importorskip("scipy.ndimage")
    dem = Dem.from_hgt([need("routing/dem/N42E001.hgt.zip"), need("routing/dem/N41E001.hgt.zip")])
    grid = dem.to_array().astype(np.float64)
    rng = np.random.default_rng(99)
    lon = rng.uniform(1.0, 2.0, 1_000_000)
    lat = rng.uniform(41.0, 43.0, 1_000_000)
    got = benchmark.pedantic(dem.sample, args=(lon, lat), rounds=10, iterations=1)
    ours_s = benchmark.stats.stats.median
    coords = np.vstack([(43.0 - lat) * 1200.0, (lon - 1.0) * 1200.0])  # peer gets pixel coords for free
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        want = ndimage.map_coordinates(grid, coords, order=1, mode="nearest")
        times.append(time.perf_counter() - t0)
    peer_s = float(np.median(times))
    ok = ~np.isnan(got) & ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], atol=1e-6)
    benchmark.extra_info["map_coordinates_s"] = peer_s
    print(
        f"\nDEM sampling 1M points: ridgeline {ours_s * 1e3:.2f} ms, "
        f"scipy.ndimage.map_coordinates(order=1) {peer_s * 1e3:.2f} ms (x{peer_s / ours_s:.1f})"
    )

"""Vector search: recall@10 and queries/s of the embedded HNSW index (usearch) against exact numpy
brute force and faiss-cpu HNSW with the same parameters (M=16, efConstruction=128, efSearch=64), on
real all-MiniLM-L6-v2 embeddings of a generated corpus; build time and memory.

The corpus is ``RIDGELINE_BENCH_AI_N`` generated sentences (default 20,000; the reported figure uses
100,000) plus 1,000 separately generated queries. Embedding 100k texts takes minutes on 2 cores, so the
embeddings are cached under ``var/bench/`` keyed by size and generator version.

Run: ``.venv/bin/python -m pytest bench/test_bench_ai_vectors.py -s -p no:cacheprovider``
(``RIDGELINE_BENCH_AI_N=100000`` for the full size). Figures are printed by the last test.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ridgeline.ai import VectorIndex

N = int(os.environ.get("RIDGELINE_BENCH_AI_N", "20000"))
N_QUERIES = 1000
M, EF_CONSTRUCTION, EF_SEARCH, K = 16, 128, 64, 10
CACHE = Path(__file__).resolve().parents[1] / "var" / "bench"
GENERATOR = 1  # bump when the corpus generator changes
results: dict[str, float] = {}

_TOPICS = {
    "logistics": "freight truck depot route delivery parcel pallet warehouse dock trailer shipment carrier".split(),
    "energy": "battery charging solar grid voltage inverter turbine storage kilowatt substation meter".split(),
    "retail": "store shelf price discount promotion basket checkout customer loyalty coupon stock".split(),
    "robotics": "robot arm gripper joint actuator sensor lidar controller torque servo payload".split(),
    "weather": "rain storm wind forecast temperature humidity snow frost heatwave cloud pressure".split(),
    "finance": "invoice payment refund ledger budget tax audit revenue margin account interest".split(),
    "software": "server database query cache deploy container latency bug release api endpoint".split(),
    "health": "patient clinic dose symptom therapy nurse vaccine diagnosis ward recovery blood".split(),
    "food": "bread coffee cheese recipe oven bakery flour soup espresso pastry kitchen".split(),
    "travel": "flight hotel train ticket passport airport luggage booking harbour ferry visa".split(),
}
_VERBS = (
    "needs reports delays improves reduces checks replaces schedules tracks monitors requires blocks".split()
)
_ADJ = "late early broken new cheap heavy urgent weekly faulty remote local smart quiet expensive".split()
_PLACES = "Rotterdam Leeds Lyon Porto Gdansk Zurich Bilbao Turin Tampere Ghent Aarhus Graz".split()


def _sentence(rng: random.Random) -> str:
    topic = rng.choice(list(_TOPICS))
    words = _TOPICS[topic]
    # mostly one topic, sometimes a second one mixed in, so clusters overlap like real text
    other = _TOPICS[rng.choice(list(_TOPICS))] if rng.random() < 0.3 else words
    parts = [
        rng.choice(["The", "A", "Our", "Every", "This"]),
        rng.choice(_ADJ),
        rng.choice(words),
        rng.choice(["in", "near", "at", "from"]),
        rng.choice(_PLACES),
        rng.choice(_VERBS),
        rng.choice(["a", "the", "two", "several"]),
        rng.choice(_ADJ),
        rng.choice(other),
    ]
    if rng.random() < 0.6:
        parts += [
            rng.choice(["before", "after", "during", "without"]),
            rng.choice(["the", "each"]),
            rng.choice(other),
        ]
    if rng.random() < 0.4:
        parts += [rng.choice(["on", "by"]), f"{rng.randint(1, 28)} {rng.choice(['May', 'June', 'March'])}"]
    return " ".join(parts) + "."


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [_sentence(rng) for _ in range(n)]


def embeddings(n: int, seed: int) -> np.ndarray:
    """MiniLM embeddings of ``corpus(n, seed)``, cached under var/bench/."""
    path = CACHE / f"ai_corpus_g{GENERATOR}_n{n}_s{seed}.npy"
    if path.exists():
        return np.load(path)
    from ridgeline.ai import Embedder

    texts = corpus(n, seed)
    emb = Embedder.local(threads=2)
    t0 = time.perf_counter()
    out = np.empty((n, emb.dim), dtype=np.float32)
    step = 5000
    for start in range(0, n, step):
        out[start : start + step] = emb.embed(texts[start : start + step])
        done = min(n, start + step)
        print(f"  embedded {done}/{n} ({done / (time.perf_counter() - t0):.0f} texts/s)", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, out)
    os.replace(tmp, path)
    return out


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base = embeddings(N, seed=1)
    queries = embeddings(N_QUERIES, seed=2)
    # exact top-10 by brute force: the ground truth
    truth = np.argsort(-(queries @ base.T), axis=1)[:, :K]
    return base, queries, truth


def _rss_mb() -> float:
    """Current resident set size (not the peak: the ground-truth matrix already set that)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e6


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f.tolist()) & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)])
    )


@pytest.fixture(scope="module")
def ours(data) -> VectorIndex:  # type: ignore[no-untyped-def]
    base, _, _ = data
    idx = VectorIndex(
        base.shape[1], connectivity=M, expansion_add=EF_CONSTRUCTION, expansion_search=EF_SEARCH, threads=2
    )
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    idx.upsert([str(i) for i in range(len(base))], base)
    results["ours_build_s"] = time.perf_counter() - t0
    results["ours_memory_mb"] = idx.memory_bytes / 1e6
    results["ours_rss_growth_mb"] = _rss_mb() - rss0
    return idx


def test_ours_hnsw(benchmark, data, ours: VectorIndex) -> None:  # type: ignore[no-untyped-def]
    _, queries, truth = data

    def run() -> list[list[str]]:
        return [[h.id for h in ours.search(q, K)] for q in queries]

    found = benchmark.pedantic(run, rounds=3, warmup_rounds=1, iterations=1)
    results["ours_qps"] = len(queries) / benchmark.stats.stats.median
    results["ours_recall"] = _recall(np.array([[int(i) for i in row] for row in found]), truth)
    assert results["ours_recall"] >= 0.95


def test_ours_filtered(benchmark, data, ours: VectorIndex) -> None:  # type: ignore[no-untyped-def]
    """A 10% metadata filter (graph with over-fetch) and a 0.5% one (exact over the subset)."""
    base, queries, _ = data
    n = len(base)
    ours.upsert([str(i) for i in range(n)], base, [{"shard": i % 10, "rare": i % 200 == 0} for i in range(n)])

    def run() -> int:
        got = 0
        for q in queries[:200]:
            got += len(ours.search(q, K, filter={"shard": 3}))
            got += len(ours.search(q, K, filter={"rare": True}))
        return got

    got = benchmark.pedantic(run, rounds=3, warmup_rounds=1, iterations=1)
    assert got == 200 * 2 * K
    results["ours_filtered_qps"] = 400 / benchmark.stats.stats.median


def test_numpy_brute_force(benchmark, data) -> None:  # type: ignore[no-untyped-def]
    base, queries, truth = data

    from threadpoolctl import threadpool_limits

    def run() -> np.ndarray:
        out = np.empty((len(queries), K), dtype=np.int64)
        # one query at a time, as a request would; OpenBLAS on 1 thread (4x faster than 2 on this
        # shared machine for a 100k x 384 matrix-vector product)
        with threadpool_limits(limits=1, user_api="blas"):
            for i, q in enumerate(queries):
                s = base @ q
                top = np.argpartition(-s, K)[:K]
                out[i] = top[np.argsort(-s[top])]
        return out

    found = benchmark.pedantic(run, rounds=3, warmup_rounds=1, iterations=1)
    results["numpy_qps"] = len(queries) / benchmark.stats.stats.median
    results["numpy_recall"] = _recall(found, truth)


def test_faiss_hnsw(benchmark, data) -> None:  # type: ignore[no-untyped-def]
    faiss = pytest.importorskip("faiss")
    base, queries, truth = data
    faiss.omp_set_num_threads(2)
    index = faiss.IndexHNSWFlat(base.shape[1], M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    index.add(base)
    results["faiss_build_s"] = time.perf_counter() - t0
    results["faiss_rss_growth_mb"] = _rss_mb() - rss0
    results["faiss_memory_mb"] = len(faiss.serialize_index(index)) / 1e6
    index.hnsw.efSearch = EF_SEARCH
    faiss.omp_set_num_threads(1)  # one query per call, like ours: no OpenMP fan-out per query

    def run() -> np.ndarray:
        out = np.empty((len(queries), K), dtype=np.int64)
        for i in range(len(queries)):
            _, ids = index.search(queries[i : i + 1], K)
            out[i] = ids[0]
        return out

    found = benchmark.pedantic(run, rounds=3, warmup_rounds=1, iterations=1)
    results["faiss_qps"] = len(queries) / benchmark.stats.stats.median
    results["faiss_recall"] = _recall(found, truth)


def test_report() -> None:
    r = results
    print(
        f"\nvector search, n={N} x 384 (MiniLM), {N_QUERIES} queries, k={K}, M={M} efC={EF_CONSTRUCTION} ef={EF_SEARCH}"
    )
    print(f"  load: {os.getloadavg()}")
    if "ours_qps" in r:
        print(
            f"  ours (usearch HNSW): recall@10 {r['ours_recall']:.4f}  {r['ours_qps']:.0f} q/s  build {r['ours_build_s']:.1f} s"
            f"  index memory {r['ours_memory_mb']:.0f} MB (RSS +{r['ours_rss_growth_mb']:.0f} MB)"
        )
    if "ours_filtered_qps" in r:
        print(f"  ours filtered (10% and 0.5% filters, k always met): {r['ours_filtered_qps']:.0f} q/s")
    if "numpy_qps" in r:
        print(f"  numpy brute force: recall@10 {r['numpy_recall']:.4f}  {r['numpy_qps']:.0f} q/s")
    if "faiss_qps" in r:
        print(
            f"  faiss-cpu HNSWFlat: recall@10 {r['faiss_recall']:.4f}  {r['faiss_qps']:.0f} q/s  build {r['faiss_build_s']:.1f} s"
            f"  index {r['faiss_memory_mb']:.0f} MB serialised (RSS +{r['faiss_rss_growth_mb']:.0f} MB)"
        )
    if "ours_qps" in r and "numpy_qps" in r:
        print(f"  ratio ours/numpy: {r['ours_qps'] / r['numpy_qps']:.1f}x")
    if "ours_qps" in r and "faiss_qps" in r:
        print(f"  ratio ours/faiss: {r['ours_qps'] / r['faiss_qps']:.2f}x")


if __name__ == "__main__":  # populate the embedding cache: python bench/test_bench_ai_vectors.py
    embeddings(N, seed=1)
    embeddings(N_QUERIES, seed=2)

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ridgeline.ai import VectorIndex
from ridgeline.ai.vectors.base import VectorStore, VectorStoreError


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def data() -> tuple[list[str], np.ndarray, list[dict]]:
    rng = np.random.default_rng(0)
    n = 2000
    ids = [f"doc-{i}" for i in range(n)]
    meta = [{"kb": f"kb{i % 4}", "rare": i % 500 == 0, "n": i} for i in range(n)]
    return ids, _unit(rng, n, 32), meta


def _brute(x: np.ndarray, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[int]:
    s = x @ q
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    return [int(i) for i in np.argsort(-s)[:k] if np.isfinite(s[i])]


def test_is_a_vector_store() -> None:
    assert isinstance(VectorIndex(8), VectorStore)


def test_top_k_matches_brute_force(data) -> None:
    ids, x, meta = data
    idx = VectorIndex(32, expansion_search=128)
    idx.upsert(ids, x, meta)
    assert idx.count() == 2000
    rng = np.random.default_rng(1)
    recall = []
    for q in _unit(rng, 20, 32):
        got = [int(h.id.split("-")[1]) for h in idx.search(q, 10)]
        want = _brute(x, q, 10)
        recall.append(len(set(got) & set(want)) / 10)
        hits = idx.search(q, 10)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert hits[0].score == pytest.approx(float(x[int(hits[0].id[4:])] @ q), abs=1e-5)
    assert np.mean(recall) >= 0.95


def test_selective_filter_still_returns_k(data) -> None:
    ids, x, meta = data
    idx = VectorIndex(32, exact_limit=0)  # force the graph path with over-fetch for large sets
    idx.upsert(ids, x, meta)
    q = _unit(np.random.default_rng(2), 1, 32)[0]
    rare = idx.search(q, 10, filter={"rare": True})  # 4 of 2000 match
    assert len(rare) == 4 and all(h.metadata["rare"] for h in rare)
    kb = idx.search(q, 10, filter={"kb": "kb2"})  # a quarter match: graph with over-fetch
    mask = np.array([m["kb"] == "kb2" for m in meta])
    assert [h.id for h in kb] == [ids[i] for i in _brute(x, q, 10, mask)]
    both = idx.search(q, 50, filter={"kb": ["kb1", "kb3"], "rare": False})
    assert len(both) == 50 and all(h.metadata["kb"] in ("kb1", "kb3") for h in both)
    small = VectorIndex(32)
    small.upsert(ids, x, meta)
    two = small.search(q, 5, filter={"n": [7, 1999]})
    assert sorted(h.id for h in two) == ["doc-1999", "doc-7"]
    assert small.search(q, 5, filter={"kb": "nope"}) == []


def test_threshold_drops_low_scores(data) -> None:
    ids, x, meta = data
    idx = VectorIndex(32)
    idx.upsert(ids[:100], x[:100], meta[:100])
    hits = idx.search(x[5], 10, threshold=0.999)
    assert [h.id for h in hits] == ["doc-5"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_upsert_replaces_and_delete_removes(data) -> None:
    ids, x, meta = data
    idx = VectorIndex(32)
    idx.upsert(ids[:10], x[:10], meta[:10])
    idx.upsert(["doc-3"], x[9:10], [{"kb": "moved"}])
    assert idx.count() == 10
    hits = idx.search(x[9], 2)
    assert {h.id for h in hits} == {"doc-3", "doc-9"}
    assert idx.search(x[9], 1, filter={"kb": "moved"})[0].id == "doc-3"
    # the old metadata is gone too: kb3 now holds only doc-7
    assert [h.id for h in idx.search(x[3], 5, filter={"kb": "kb3"})] == ["doc-7"]
    assert idx.delete(["doc-3", "doc-3", "missing"]) == 1
    assert idx.count() == 9 and "doc-3" not in idx
    assert all(h.id != "doc-3" for h in idx.search(x[9], 9))
    idx.upsert(["dup", "dup"], x[:2], [{"v": 1}, {"v": 2}])  # last one wins
    assert idx.get("dup")[1] == {"v": 2}
    np.testing.assert_allclose(idx.get("dup")[0], x[1], atol=1e-6)


def test_save_and_load_round_trip(tmp_path: Path, data) -> None:
    ids, x, meta = data
    path = tmp_path / "sub" / "kb.rvi"
    idx = VectorIndex(32, path=path)
    idx.upsert(ids[:500], x[:500], meta[:500])
    idx.delete(["doc-0"])
    idx.marker = {"version": 3}
    idx.save()
    assert not [p for p in path.parent.iterdir() if p.name != "kb.rvi"]  # no temp file left behind
    back = VectorIndex.load(path)
    assert back.count() == 499 and back.marker == {"version": 3}
    q = x[42]
    assert [h.id for h in back.search(q, 5)] == [h.id for h in idx.search(q, 5)]
    assert back.search(q, 3, filter={"kb": "kb2"}) == idx.search(q, 3, filter={"kb": "kb2"})
    back.upsert(["new"], x[:1])  # keys keep counting after a load, no collision
    assert back.count() == 500 and back.get("doc-499") is not None
    with pytest.raises(VectorStoreError) as err:
        VectorIndex(16, path=path)
    assert err.value.reason_code == "index_mismatch"
    path.write_bytes(b"garbage")
    with pytest.raises(VectorStoreError) as err:
        VectorIndex(32, path=path)
    assert err.value.reason_code == "index_corrupt"


def test_metrics_l2_and_ip() -> None:
    x = np.array([[1, 0], [3, 0], [0, 2]], dtype=np.float32)
    l2 = VectorIndex(2, metric="l2")
    l2.upsert(["a", "b", "c"], x)
    hits = l2.search(np.array([2.9, 0], dtype=np.float32), 3)
    assert [h.id for h in hits] == ["b", "a", "c"]
    assert hits[0].score == pytest.approx(-0.1, abs=1e-5)
    ip = VectorIndex(2, metric="ip")
    ip.upsert(["a", "b", "c"], x)
    hits = ip.search(np.array([1, 0], dtype=np.float32), 2)
    assert [h.id for h in hits] == ["b", "a"] and hits[0].score == pytest.approx(3.0)


def test_rejects_bad_input() -> None:
    idx = VectorIndex(4)
    for bad, reason in [
        (np.zeros((1, 3), np.float32), "invalid_vectors"),
        (np.zeros((1, 4), np.float32), "invalid_vectors"),  # zero vector under cosine
        (np.full((1, 4), np.nan, np.float32), "invalid_vectors"),
    ]:
        with pytest.raises(VectorStoreError) as err:
            idx.upsert(["a"], bad)
        assert err.value.reason_code == reason
    with pytest.raises(VectorStoreError) as err:
        idx.upsert([""], np.ones((1, 4), np.float32))
    assert err.value.reason_code == "invalid_id"
    with pytest.raises(VectorStoreError) as err:
        VectorIndex(4, metric="hamming")  # type: ignore[arg-type]
    assert err.value.reason_code == "invalid_metric"
    assert idx.search(np.ones(4, np.float32), 5) == []


def test_usearch_then_onnxruntime_import_does_not_crash() -> None:
    # usearch 2.26 (numkong build) segfaulted when onnxruntime was imported after it; pinned below 2.24.
    import subprocess
    import sys

    code = "import usearch.index, onnxruntime; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-500:]

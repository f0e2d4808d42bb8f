"""Qdrant (local mode) and Weaviate (in-process fake of its REST/GraphQL API) behind the same
``VectorStore`` semantics, checked against a brute-force reference that applies ``matches``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ridgeline.ai.vectors.base import Hit, VectorStore, VectorStoreError, matches
from ridgeline.ai.vectors.qdrant import QdrantStore
from ridgeline.ai.vectors.weaviate import WeaviateStore
from tests.ai.fake_weaviate import FakeWeaviate

DIM = 16
_names = itertools.count()


def make(kind: str, metric: str, dim: int = DIM, **kw) -> VectorStore:
    n = next(_names)
    if kind == "qdrant":
        return QdrantStore(f"c{n}", dim, metric)
    fake = kw.pop("fake", None) or FakeWeaviate()
    store = WeaviateStore(
        "http://weaviate.invalid:8080", f"C{n}", dim, metric, transport=fake.transport(), **kw
    )
    store.fake = fake
    return store


class Reference:
    """Exact search with the base module's semantics."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.rows: dict[str, tuple[np.ndarray, dict]] = {}

    def upsert(self, ids, vectors, metadata=None):
        for i, rid in enumerate(ids):
            self.rows[rid] = (np.asarray(vectors[i], dtype=np.float64), dict(metadata[i]) if metadata else {})

    def delete(self, ids):
        return sum(1 for rid in set(ids) if self.rows.pop(rid, None) is not None)

    def search(self, q, k=10, *, filter=None, threshold=None):
        q = np.asarray(q, dtype=np.float64)
        out = []
        for rid, (v, meta) in self.rows.items():
            if not matches(meta, filter):
                continue
            if self.metric == "cosine":
                s = float(v @ q / (np.linalg.norm(v) * np.linalg.norm(q)))
            elif self.metric == "ip":
                s = float(v @ q)
            else:
                s = -float(np.linalg.norm(v - q))
            if threshold is None or s >= threshold:
                out.append(Hit(rid, s, meta))
        out.sort(key=lambda h: -h.score)
        return out[:k]


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, DIM)).astype(np.float32)
    ids = [f"doc-{i}" for i in range(n)]
    meta = [
        {"source": f"s{i % 4}.md", "kb_id": f"k{i % 3}", "page": i % 5, "draft": i % 2 == 0} for i in range(n)
    ]
    return ids, X, meta


@pytest.fixture(params=["qdrant", "weaviate"])
def kind(request, no_network):
    return request.param


@pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
def test_same_results_as_exact_search(kind, metric):
    store, ref = make(kind, metric), Reference(metric)
    assert isinstance(store, VectorStore)
    ids, X, meta = _data(120)
    store.upsert(ids, X, meta)
    ref.upsert(ids, X, meta)
    assert store.count() == 120
    rng = np.random.default_rng(1)
    filters = [
        None,
        {"source": "s1.md"},
        {"kb_id": ["k0", "k2"]},
        {"page": 3, "draft": False},
        {"source": "nope"},
    ]
    for qi in range(6):
        q = rng.standard_normal(DIM).astype(np.float32)
        for flt in filters:
            got = store.search(q, 7, filter=flt)
            want = ref.search(q, 7, filter=flt)
            assert [h.id for h in got] == [h.id for h in want], (metric, flt, qi)
            assert np.allclose([h.score for h in got], [h.score for h in want], atol=1e-4)
            assert all(matches(h.metadata, flt) for h in got)
            assert [h.metadata for h in got] == [h.metadata for h in want]


@pytest.mark.parametrize(("metric", "threshold"), [("cosine", 0.3), ("ip", 1.5), ("l2", -5.0), ("l2", 0.5)])
def test_threshold(kind, metric, threshold):
    store, ref = make(kind, metric), Reference(metric)
    ids, X, meta = _data(80, seed=3)
    store.upsert(ids, X, meta)
    ref.upsert(ids, X, meta)
    q = X[5] + 0.1
    got = store.search(q, 50, threshold=threshold)
    want = ref.search(q, 50, threshold=threshold)
    assert [h.id for h in got] == [h.id for h in want]
    assert all(h.score >= threshold for h in got)
    if metric != "l2" or threshold < 0:
        assert got  # the threshold keeps some and drops some
        assert len(got) < 50


def test_upsert_replaces_and_delete_counts(kind):
    store = make(kind, "cosine")
    ids, X, meta = _data(10)
    store.upsert(ids, X, meta)
    store.upsert(["doc-3"], X[7:8], [{"source": "moved.md"}])  # replace vector and metadata
    assert store.count() == 10
    hits = store.search(X[7], 2)
    assert {h.id for h in hits} == {"doc-3", "doc-7"}
    assert next(h for h in hits if h.id == "doc-3").metadata == {"source": "moved.md"}
    assert store.search(X[7], 5, filter={"source": "moved.md"})[0].id == "doc-3"
    assert store.delete(["doc-3", "doc-4", "missing"]) == 2
    assert store.delete(["doc-3"]) == 0
    assert store.count() == 8
    assert "doc-4" not in {h.id for h in store.search(X[4], 10)}


def test_validation(kind):
    store = make(kind, "cosine")
    cases = [
        (lambda: store.upsert(["a"], np.zeros((1, DIM + 1), np.float32)), "dimension_mismatch"),
        (lambda: store.upsert(["a", "b"], np.zeros((1, DIM), np.float32)), "length_mismatch"),
        (lambda: store.upsert(["a"], np.ones((1, DIM), np.float32), [{}, {}]), "length_mismatch"),
        (lambda: store.upsert(["a", "a"], np.ones((2, DIM), np.float32)), "duplicate_id"),
        (lambda: store.upsert(["a"], np.full((1, DIM), np.nan, np.float32)), "invalid_vector"),
        (lambda: store.search(np.ones(DIM - 1), 3), "dimension_mismatch"),
        (lambda: store.search(np.ones(DIM), 0), "invalid_k"),
        (lambda: store.search(np.ones(DIM), 3, filter={"source": None}), "invalid_filter"),
    ]
    for fn, code in cases:
        with pytest.raises(VectorStoreError) as ei:
            fn()
        assert ei.value.reason_code == code
    assert store.count() == 0


def test_empty_list_filter_matches_nothing(kind):
    store = make(kind, "cosine")
    ids, X, meta = _data(5)
    store.upsert(ids, X, meta)
    assert store.search(X[0], 5, filter={"kb_id": []}) == []


def test_reopen_existing_collection_checks_its_config():
    from qdrant_client import QdrantClient

    client = QdrantClient(location=":memory:")
    a = QdrantStore("kb", DIM, "cosine", client=client)
    ids, X, meta = _data(4)
    a.upsert(ids, X, meta)
    b = QdrantStore("kb", DIM, "cosine", client=client)
    assert b.count() == 4
    with pytest.raises(VectorStoreError) as ei:
        QdrantStore("kb", DIM, "l2", client=client)
    assert ei.value.reason_code == "collection_mismatch"

    fake = FakeWeaviate()
    w = WeaviateStore("http://w.invalid", "Kb", DIM, transport=fake.transport())
    w.upsert(ids, X, meta)
    assert WeaviateStore("http://w.invalid", "Kb", DIM, transport=fake.transport()).count() == 4
    with pytest.raises(VectorStoreError) as ei:
        WeaviateStore("http://w.invalid", "Kb", DIM, "ip", transport=fake.transport())
    assert ei.value.reason_code == "collection_mismatch"


def test_weaviate_wire_details():
    fake = FakeWeaviate()
    store = make("weaviate", "cosine", fake=fake, api_key="wv-secret-key-123456")
    assert "wv-secret-key-123456" not in repr(store)
    cls = fake.classes[store.collection]
    assert cls["vectorizer"] == "none"
    ids, X, meta = _data(3)
    store.upsert(ids, X, meta)
    props = {p["name"]: p for p in cls["properties"]}
    assert props["m_source"]["dataType"] == ["text"] and props["m_source"]["tokenization"] == "field"
    assert props["m_page"]["dataType"] == ["int"] and props["m_draft"]["dataType"] == ["boolean"]
    assert set(fake.auth_seen) == {"Bearer wv-secret-key-123456"}
    with pytest.raises(VectorStoreError) as ei:
        store.upsert(["x"], X[:1], [{"page": "not-an-int"}])
    assert ei.value.reason_code == "metadata_type_conflict"
    with pytest.raises(VectorStoreError) as ei:
        WeaviateStore("http://w.invalid", "lowercase", DIM, transport=fake.transport())
    assert ei.value.reason_code == "invalid_collection"
    # keys that are not GraphQL names are kept (returned) but not filterable
    store.upsert(["odd"], -X[2:3], [{"a-b": 1}])
    top = store.search(-X[2], 1)[0]
    assert top.id == "odd" and top.metadata == {"a-b": 1}
    with pytest.raises(VectorStoreError) as ei:
        store.search(X[0], 1, filter={"a-b": 1})
    assert ei.value.reason_code == "invalid_filter"


def test_weaviate_server_errors_are_store_errors():
    import httpx

    def down(request):
        raise httpx.ConnectError("connection refused")

    with pytest.raises(VectorStoreError) as ei:
        WeaviateStore("http://w.invalid", "Kb", DIM, transport=httpx.MockTransport(down))
    assert ei.value.reason_code == "store_unavailable"


def test_weaviate_deletes_in_batches(monkeypatch):
    import ridgeline.ai.vectors.weaviate as wv

    monkeypatch.setattr(wv, "DELETE_BATCH", 3)
    monkeypatch.setattr(wv, "BATCH", 4)
    fake = FakeWeaviate()
    store = make("weaviate", "cosine", fake=fake)
    ids, X, meta = _data(10)
    store.upsert(ids, X, meta)
    assert store.count() == 10
    assert fake.calls.count(("POST", "/v1/batch/objects")) == 3
    assert store.delete([*ids[:8], "missing"]) == 8
    assert fake.calls.count(("DELETE", "/v1/batch/objects")) == 3
    assert store.count() == 2

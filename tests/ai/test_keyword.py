from __future__ import annotations

import numpy as np
import pytest

from ridgeline.ai import Embedder, Hit, KeywordIndex, VectorIndex, hybrid_search, reciprocal_rank_fusion
from ridgeline.ai.keyword import tokenize

DOCS = {
    "reset": "To reset your password open Settings, choose Security and follow the reset link.",
    "err": "Error code E4021 means the upload exceeded the quota for the workspace.",
    "ship": "Parcels ship from the Rotterdam depot every weekday before noon.",
    "refund": "Refunds are paid back to the original card within five business days.",
    "battery": "The robot battery lasts about six hours on a full charge.",
    "coffee": "Our cafe serves espresso, flat white and filter coffee all day.",
}


@pytest.fixture(scope="module")
def stores(embedder: Embedder) -> tuple[VectorIndex, KeywordIndex]:
    ids = list(DOCS)
    meta = [{"lang": "en", "topic": "support" if i in ("reset", "err", "refund") else "other"} for i in ids]
    vi = VectorIndex(384)
    vi.upsert(ids, embedder.embed([DOCS[i] for i in ids]), meta)
    return vi, KeywordIndex.build(ids, [DOCS[i] for i in ids], meta)


def test_bm25_scores_match_the_formula() -> None:
    texts = ["apple apple banana", "banana cherry", "cherry cherry cherry durian"]
    kw = KeywordIndex.build(["a", "b", "c"], texts, k1=1.2, b=0.75)
    n, avgdl = 3, (3 + 2 + 4) / 3
    df, tf, dl = 2, 1, 2  # "banana" in doc b
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    want = idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))
    assert kw.scores("banana")[1] == pytest.approx(want, rel=1e-5)
    hits = kw.search("cherry", 5)
    assert [h.id for h in hits] == ["c", "b"]  # higher tf wins despite the longer document
    assert kw.search("zebra") == []
    assert tokenize("The Quick, quick FOX!") == ["quick", "quick", "fox"]


def test_exact_keyword_is_found_by_bm25_not_by_vectors(stores, embedder: Embedder) -> None:
    vi, kw = stores
    assert kw.search("E4021", 1)[0].id == "err"
    # the code itself carries little meaning for the embedding model; BM25 nails it
    hits = hybrid_search("E4021", vectors=vi, keywords=kw, embedder=embedder, k=3)
    assert hits[0].id == "err"


def test_paraphrase_is_found_by_vectors_not_by_bm25(stores, embedder: Embedder) -> None:
    vi, kw = stores
    q = "I forgot my login credentials"  # no word in common with the password document
    assert all(h.id != "reset" for h in kw.search(q, 6))
    assert vi.search(embedder.embed_one(q), 1)[0].id == "reset"
    assert hybrid_search(q, vectors=vi, keywords=kw, embedder=embedder, k=1)[0].id == "reset"


def test_filters_apply_to_both_sides(stores, embedder: Embedder) -> None:
    vi, kw = stores
    hits = hybrid_search(
        "depot coffee battery", vectors=vi, keywords=kw, embedder=embedder, k=6, filter={"topic": "support"}
    )
    assert hits and all(h.metadata["topic"] == "support" for h in hits)
    assert kw.search("depot", 5, filter={"topic": "support"}) == []


def test_query_is_embedded_once(stores, embedder: Embedder) -> None:
    vi, kw = stores
    calls: list[list[str]] = []

    class Counting:
        def embed(self, texts):
            calls.append(list(texts))
            return embedder.embed(texts)

    hybrid_search("parcel shipping times", vectors=vi, keywords=kw, embedder=Counting(), k=3)
    assert calls == [["parcel shipping times"]]
    calls.clear()
    hybrid_search("x", vectors=vi, keywords=kw, query_vector=embedder.embed_one("x"), embedder=Counting())
    assert calls == []


def test_rrf_order() -> None:
    a = [Hit("x", 0.9), Hit("y", 0.8), Hit("z", 0.7)]
    b = [Hit("z", 12.0), Hit("x", 3.0), Hit("w", 1.0)]
    fused = reciprocal_rank_fusion([a, b], k=60)
    # x: 1/61 + 1/62, z: 1/63 + 1/61, y: 1/62, w: 1/63
    assert [h.id for h in fused] == ["x", "z", "y", "w"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62)
    weighted = reciprocal_rank_fusion([a, b], k=60, weights=[0.0, 1.0], limit=2)
    assert [h.id for h in weighted] == ["z", "x"]


def test_top_k_equals_the_head_of_the_full_ranking() -> None:
    import random

    rng = random.Random(4)
    words = [f"w{i}" for i in range(30)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(500)]
    kw = KeywordIndex.build([f"d{i:03d}" for i in range(500)], texts)
    for q in ("w1", "w2 w3", "w4 w4 w5 w6"):
        full = kw.search(q, 500)
        assert kw.search(q, 7) == full[:7]
        assert [h.score for h in full] == sorted((h.score for h in full), reverse=True)

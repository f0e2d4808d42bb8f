"""Keyword search (BM25) and hybrid ranking (reciprocal rank fusion of vector and keyword results).

A :class:`KeywordIndex` is immutable: it is built once from a collection's texts (one sparse matrix of
precomputed BM25 term weights, documents x terms, in CSC so a query reads only its terms' columns) and
replaced when the collection changes, never rebuilt per query.

    >>> kw = KeywordIndex.build(["d1", "d2"], ["the freight route", "robot battery"])
    >>> kw.search("freight", k=5)
    >>> hybrid_search("freight routes", vectors=idx, keywords=kw, embedder=emb, k=10)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ridgeline.ai.vectors.base import Hit, MetadataFilter, VectorStore, matches

_WORD = re.compile(r"\w+", re.UNICODE)
# A short English stop list: BM25's idf already discounts common words, this just keeps them out of
# the vocabulary and out of short queries.
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how i if in into is it its of on or that the their "
    "then there these this to was were what when where which who why will with you your".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased Unicode word tokens minus :data:`STOPWORDS`."""
    return [t for t in _WORD.findall(text.lower()) if t not in STOPWORDS]


class _Embeds(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class KeywordIndex:
    """BM25 (Okapi, Lucene's idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``) over a fixed set of texts."""

    def __init__(
        self,
        ids: list[str],
        metadata: list[dict[str, Any]],
        vocab: dict[str, int],
        weights: Any,
        *,
        k1: float,
        b: float,
        tokenizer: Callable[[str], list[str]],
        version: Any = None,
    ) -> None:
        self.ids = ids
        self.metadata = metadata
        self.vocab = vocab
        self._weights = weights  # scipy.sparse.csc_array (n_docs, n_terms), float32
        self.k1 = k1
        self.b = b
        self.tokenizer = tokenizer
        self.version = version

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        texts: Sequence[str],
        metadata: Sequence[Mapping[str, Any]] | None = None,
        *,
        k1: float = 1.5,
        b: float = 0.75,
        tokenizer: Callable[[str], list[str]] = tokenize,
        version: Any = None,
    ) -> KeywordIndex:
        from scipy import sparse

        if len(ids) != len(texts) or (metadata is not None and len(metadata) != len(ids)):
            raise ValueError("ids, texts and metadata must have the same length")
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            tokens = tokenizer(text)
            lengths[i] = len(tokens)
            for tok in tokens:
                cols.append(vocab.setdefault(tok, len(vocab)))
            rows.extend([i] * len(tokens))
        n = len(texts)
        tf = sparse.coo_array(
            (
                np.ones(len(rows), dtype=np.float32),
                (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)),
            ),
            shape=(n, len(vocab)),
        ).tocsc()  # duplicate (doc, term) entries are summed: term frequencies
        tf.sum_duplicates()
        df = np.diff(tf.indptr).astype(np.float32)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n and lengths.sum() > 0 else 1.0
        doc_of = tf.indices  # row index of every stored entry
        norm = k1 * (1.0 - b + b * lengths[doc_of] / avgdl)
        term_of = np.repeat(np.arange(len(vocab)), np.diff(tf.indptr))
        data = tf.data
        tf.data = (idf[term_of] * data * (k1 + 1.0) / (data + norm)).astype(np.float32)
        meta = [dict(m) for m in metadata] if metadata is not None else [{} for _ in ids]
        return cls(list(ids), meta, vocab, tf, k1=k1, b=b, tokenizer=tokenizer, version=version)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (float32, len(self))."""
        terms = [self.vocab[t] for t in self.tokenizer(query) if t in self.vocab]
        out = np.zeros(len(self.ids), dtype=np.float32)
        w = self._weights
        for t in terms:  # a repeated query term counts again, as in Lucene's BooleanQuery of clauses
            lo, hi = w.indptr[t], w.indptr[t + 1]
            out[w.indices[lo:hi]] += w.data[lo:hi]  # rows are unique within a column
        return out

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        filter: MetadataFilter | None = None,
        threshold: float | None = None,
    ) -> list[Hit]:
        """The ``k`` best documents containing at least one query term, best first (ties by id order)."""
        if k <= 0 or not self.ids:
            return []
        s = self.scores(query)
        nz = np.flatnonzero(s > 0)
        if not filter and len(nz) > k:
            # only k can be returned: partition first, so a common term does not sort every document
            cut = -np.partition(-s[nz], k - 1)[k - 1]
            nz = nz[s[nz] >= cut]  # keeps ties at the cut, so the id tie-break below stays exact
        order = nz[np.lexsort((nz, -s[nz]))]
        hits: list[Hit] = []
        for i in order.tolist():
            score = float(s[i])
            if threshold is not None and score < threshold:
                break
            if filter and not matches(self.metadata[i], filter):
                continue
            hits.append(Hit(id=self.ids[i], score=score, metadata=dict(self.metadata[i])))
            if len(hits) == k:
                break
        return hits


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hit]],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[Hit]:
    """Fuse ranked lists: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1 (Cormack et al. 2009).

    The fused hit keeps the metadata of its first appearance; ties break by best single rank, then id.
    """
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    fused: dict[str, float] = {}
    best: dict[str, int] = {}
    meta: dict[str, dict[str, Any]] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            fused[hit.id] = fused.get(hit.id, 0.0) + w / (k + rank)
            best[hit.id] = min(best.get(hit.id, rank), rank)
            meta.setdefault(hit.id, hit.metadata)
    order = sorted(fused, key=lambda i: (-fused[i], best[i], i))
    if limit is not None:
        order = order[:limit]
    return [Hit(id=i, score=fused[i], metadata=meta[i]) for i in order]


def hybrid_search(
    query: str,
    *,
    vectors: VectorStore,
    keywords: KeywordIndex,
    embedder: _Embeds | None = None,
    query_vector: np.ndarray | None = None,
    k: int = 10,
    fetch_k: int | None = None,
    filter: MetadataFilter | None = None,
    threshold: float | None = None,
    rrf_k: int = 60,
    weights: tuple[float, float] = (1.0, 1.0),
) -> list[Hit]:
    """Vector and BM25 results fused by RRF. The query is embedded once (pass ``query_vector`` if the
    caller already has it); each side fetches ``fetch_k`` (default ``max(4k, 20)``) candidates under
    the same ``filter``; ``threshold`` applies to the vector similarities. Scores are RRF scores."""
    if query_vector is None:
        if embedder is None:
            raise ValueError("hybrid_search needs an embedder or a query_vector")
        query_vector = embedder.embed([query])[0]
    fetch = fetch_k if fetch_k is not None else max(4 * k, 20)
    by_vector = vectors.search(query_vector, fetch, filter=filter, threshold=threshold)
    by_keyword = keywords.search(query, fetch, filter=filter)
    return reciprocal_rank_fusion([by_vector, by_keyword], k=rrf_k, weights=weights, limit=k)

"""Qdrant as a :class:`~ridgeline.ai.vectors.base.VectorStore` (qdrant-client).

``QdrantStore(collection, dim)`` runs qdrant-client's local mode in memory (no network, as the tests
use it); ``path=`` persists local mode to a directory; ``url=`` (and ``api_key=``) talks to a Qdrant
server, the only case that touches the network.

Mapping: our string ids become UUIDv5 point ids (Qdrant accepts only unsigned ints and UUIDs) and the
original id travels in the payload under ``_rid``; metadata is the rest of the payload. Metrics:
``cosine`` -> Cosine (score = cosine similarity), ``ip`` -> Dot (score = inner product), ``l2`` ->
Euclid (Qdrant reports the distance; the score here is its negation, as the base module says).
Filters are pushed down to Qdrant: equality on str/int/bool values (``MatchValue``), float equality as
a closed range, a list of str or of int as ``MatchAny``. ``None`` values in a filter are refused
(``invalid_filter``): Qdrant cannot tell a null from a missing key the way ``matches`` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ridgeline.ai.vectors.base import Hit, MetadataFilter, Metric, VectorStoreError

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

__all__ = ["QdrantStore"]

ID_KEY = "_rid"
_NS = uuid.UUID("5b0e3c1a-7d0e-4f5e-9b8e-2a6f1d2c9e11")  # fixed: point ids are stable across runs


def point_id(rid: str) -> str:
    return str(uuid.uuid5(_NS, rid))


def _check_batch(
    ids: Sequence[str], vectors: np.ndarray, metadata: Sequence[Mapping[str, Any]] | None, dim: int
) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2 or v.shape[1] != dim:
        raise VectorStoreError("dimension_mismatch", f"vectors must have shape (n, {dim}), got {v.shape}")
    if v.shape[0] != len(ids):
        raise VectorStoreError("length_mismatch", f"{len(ids)} ids for {v.shape[0]} vectors")
    if metadata is not None and len(metadata) != len(ids):
        raise VectorStoreError("length_mismatch", f"{len(ids)} ids for {len(metadata)} metadata entries")
    if len(set(ids)) != len(ids):
        raise VectorStoreError("duplicate_id", "ids in one upsert must be distinct")
    if not np.isfinite(v).all():
        raise VectorStoreError("invalid_vector", "vectors must be finite")
    for m in metadata or ():
        if ID_KEY in m:
            raise VectorStoreError("reserved_metadata_key", f"metadata key {ID_KEY!r} is reserved")
    return v


def _check_query(query: np.ndarray, dim: int, k: int) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if q.shape[0] != dim:
        raise VectorStoreError("dimension_mismatch", f"query must have {dim} components, got {q.shape[0]}")
    if k <= 0:
        raise VectorStoreError("invalid_k", f"k must be positive, got {k}")
    return q


class QdrantStore:
    """A Qdrant collection behind the ``VectorStore`` interface (created when missing)."""

    def __init__(
        self,
        collection: str,
        dim: int,
        metric: Metric = "cosine",
        *,
        client: QdrantClient | None = None,
        location: str | None = None,
        path: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        timeout: int | None = 30,
    ) -> None:
        from qdrant_client import QdrantClient
        from qdrant_client.http import models

        if metric not in ("cosine", "l2", "ip"):
            raise VectorStoreError("invalid_metric", f"metric must be cosine, l2 or ip, got {metric!r}")
        self.collection = collection
        self.dim = int(dim)
        self.metric: Metric = metric
        self._m = models
        self._url = url
        if client is None:
            if url:
                client = QdrantClient(url=url, api_key=api_key, timeout=timeout)
            elif path:
                client = QdrantClient(path=path)
            else:
                client = QdrantClient(location=location or ":memory:")
        self._client = client
        distance = {
            "cosine": models.Distance.COSINE,
            "ip": models.Distance.DOT,
            "l2": models.Distance.EUCLID,
        }[metric]
        try:
            if client.collection_exists(collection):
                params = client.get_collection(collection).config.params.vectors
                if params.size != self.dim or params.distance != distance:
                    raise VectorStoreError(
                        "collection_mismatch",
                        f"collection {collection!r} has size {params.size} and distance {params.distance}, "
                        f"not {self.dim} and {distance}",
                    )
            else:
                client.create_collection(
                    collection, vectors_config=models.VectorParams(size=self.dim, distance=distance)
                )
        except VectorStoreError:
            raise
        except Exception as exc:  # transport errors of a remote server
            raise VectorStoreError("store_unavailable", f"qdrant: {type(exc).__name__}: {exc}") from None

    def __repr__(self) -> str:
        where = self._url or "local"
        return f"QdrantStore({self.collection!r}, dim={self.dim}, metric={self.metric!r}, at={where!r})"

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadata: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        v = _check_batch(ids, vectors, metadata, self.dim)
        if not len(ids):
            return
        points = [
            self._m.PointStruct(
                id=point_id(rid),
                vector=v[i].tolist(),
                payload={**(metadata[i] if metadata else {}), ID_KEY: rid},
            )
            for i, rid in enumerate(ids)
        ]
        self._client.upsert(self.collection, points=points, wait=True)

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        pids = list(dict.fromkeys(point_id(r) for r in ids))
        present = self._client.retrieve(self.collection, ids=pids, with_payload=False, with_vectors=False)
        if present:
            self._client.delete(
                self.collection,
                points_selector=self._m.PointIdsList(points=[p.id for p in present]),
                wait=True,
            )
        return len(present)

    def count(self) -> int:
        return int(self._client.count(self.collection, exact=True).count)

    def _filter(self, flt: MetadataFilter | None) -> Any:
        if not flt:
            return None
        m = self._m
        must = []
        for key, want in flt.items():
            if key == ID_KEY:
                raise VectorStoreError("invalid_filter", f"{ID_KEY!r} is reserved")
            if isinstance(want, list | tuple | set | frozenset):
                vals = list(want)
                if all(isinstance(x, str) for x in vals) or all(
                    isinstance(x, int) and not isinstance(x, bool) for x in vals
                ):
                    must.append(m.FieldCondition(key=key, match=m.MatchAny(any=vals)))
                else:
                    raise VectorStoreError(
                        "invalid_filter", f"filter list for {key!r} must be all str or all int"
                    )
            elif want is None:
                raise VectorStoreError(
                    "invalid_filter", f"null filter for {key!r} is not supported by this store"
                )
            elif isinstance(want, float):
                must.append(m.FieldCondition(key=key, range=m.Range(gte=want, lte=want)))
            elif isinstance(want, str | int | bool):
                must.append(m.FieldCondition(key=key, match=m.MatchValue(value=want)))
            else:
                raise VectorStoreError(
                    "invalid_filter", f"unsupported filter value for {key!r}: {type(want).__name__}"
                )
        return m.Filter(must=must)

    def search(
        self,
        query: np.ndarray,
        k: int = 10,
        *,
        filter: MetadataFilter | None = None,
        threshold: float | None = None,
    ) -> list[Hit]:
        q = _check_query(query, self.dim, k)
        qf = self._filter(filter)
        if filter and any(isinstance(w, list | tuple | set | frozenset) and not w for w in filter.values()):
            return []  # `in []` matches nothing
        # Cosine/Dot scores are similarities: Qdrant applies the threshold. Euclid reports distances:
        # the threshold on the negated distance is a maximum distance.
        st = None if threshold is None else (-threshold if self.metric == "l2" else threshold)
        if self.metric == "l2" and threshold is not None and threshold > 0:
            return []  # no negated distance is positive
        res = self._client.query_points(
            self.collection, query=q.tolist(), query_filter=qf, limit=k, with_payload=True, score_threshold=st
        ).points
        hits = []
        for p in res:
            payload = dict(p.payload or {})
            rid = payload.pop(ID_KEY, str(p.id))
            score = -float(p.score) if self.metric == "l2" else float(p.score)
            if threshold is not None and score < threshold:
                continue
            hits.append(Hit(rid, score, payload))
        hits.sort(key=lambda h: -h.score)
        return hits

    def close(self) -> None:
        self._client.close()

"""The one interface every vector store implements: the embedded HNSW index, the PostgreSQL/pgvector
store, and the adapters for external stores (Qdrant, Weaviate). Callers hold a ``VectorStore`` and never
know which one it is.

Scores are similarities, higher is better (cosine similarity for ``metric="cosine"``, the negated
distance for ``"l2"``, the inner product for ``"ip"``). ``threshold`` drops hits whose score is below it.
``filter`` is an equality match on metadata keys: ``{"source": "a.md"}``; a list value matches any of
its members: ``{"kb_id": ["k1", "k2"]}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec
import numpy as np

Metric = Literal["cosine", "l2", "ip"]
MetadataFilter = Mapping[str, Any]


class Hit(msgspec.Struct, frozen=True):
    id: str
    score: float
    metadata: dict[str, Any] = {}


class VectorStoreError(Exception):
    """A store refused or failed an operation; ``reason_code`` is stable and documented."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@runtime_checkable
class VectorStore(Protocol):
    dim: int
    metric: Metric

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadata: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        """Insert or replace ``len(ids)`` vectors (float32, shape (n, dim))."""
        ...

    def delete(self, ids: Sequence[str]) -> int:
        """Remove these ids; returns how many were present."""
        ...

    def search(
        self,
        query: np.ndarray,
        k: int = 10,
        *,
        filter: MetadataFilter | None = None,
        threshold: float | None = None,
    ) -> list[Hit]:
        """The ``k`` best hits for one query vector (shape (dim,)), best first."""
        ...

    def count(self) -> int: ...


def matches(metadata: Mapping[str, Any], flt: MetadataFilter | None) -> bool:
    """The filter semantics above, for stores that filter in Python."""
    if not flt:
        return True
    for key, want in flt.items():
        have = metadata.get(key)
        if isinstance(want, list | tuple | set | frozenset):
            if have not in want:
                return False
        elif have != want:
            return False
    return True

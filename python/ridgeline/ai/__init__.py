"""``ridgeline.ai``: the AI layer as an embeddable engine (no server, no database, no network by
default): embeddings, vector and keyword search, tokenizers, chunking, extraction, providers.

Names resolve lazily (PEP 562), so ``import ridgeline.ai`` does not load onnxruntime, tokenizers or
usearch until they are used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ridgeline.ai.embeddings import Embedder, EmbeddingModelError
    from ridgeline.ai.keyword import KeywordIndex, hybrid_search, reciprocal_rank_fusion
    from ridgeline.ai.vectors.base import Hit, VectorStore, VectorStoreError
    from ridgeline.ai.vectors.hnsw import VectorIndex

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "Embedder": "ridgeline.ai.embeddings",
    "EmbeddingModelError": "ridgeline.ai.embeddings",
    "VectorIndex": "ridgeline.ai.vectors.hnsw",
    "Hit": "ridgeline.ai.vectors.base",
    "VectorStore": "ridgeline.ai.vectors.base",
    "VectorStoreError": "ridgeline.ai.vectors.base",
    "KeywordIndex": "ridgeline.ai.keyword",
    "hybrid_search": "ridgeline.ai.keyword",
    "reciprocal_rank_fusion": "ridgeline.ai.keyword",
}

__all__ = [
    "Embedder",
    "EmbeddingModelError",
    "Hit",
    "KeywordIndex",
    "VectorIndex",
    "VectorStore",
    "VectorStoreError",
    "hybrid_search",
    "reciprocal_rank_fusion",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ridgeline.ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

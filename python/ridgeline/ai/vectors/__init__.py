"""Vector stores behind one interface (:class:`~ridgeline.ai.vectors.base.VectorStore`)."""

from ridgeline.ai.vectors.base import Hit, Metric, VectorStore, VectorStoreError, matches

__all__ = ["Hit", "Metric", "VectorStore", "VectorStoreError", "matches"]

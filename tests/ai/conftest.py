from __future__ import annotations

import pytest

from ridgeline.ai.embeddings import Embedder


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """One local embedder for the session (the ONNX graph is built once into a temp data dir)."""
    return Embedder.local(data_dir=tmp_path_factory.mktemp("ai-data"), threads=2)

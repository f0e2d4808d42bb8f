"""/config: masked keys, PATCH persisted and applied live, the embedding-dimension guard (409 / force
re-index), provider health with Ollama probed live, Ollama models (502 when unreachable)."""

from __future__ import annotations

import pytest

from .conftest import db_scalar, use_openai_embeddings
from .fakes import ollama_fake, serve

pytestmark = pytest.mark.db

KEY = "sk-live-abcdefghijklmnopqrstuvwxyz0123"


def test_keys_are_masked_and_sealed_at_rest(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    base = c.get("/retail/config/ai").json()
    assert base["openai_api_key"] is None and base["openai_api_key_set"] is False
    assert base["agent_provider"] == "extractive" and base["rag_embedding_provider"] == "local"
    r = c.patch(
        "/retail/config/ai",
        json={"openai_api_key": KEY, "agent_provider": "openai", "agent_model": "gpt-4o-mini"},
    )
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    out = c.get("/retail/config/ai")
    assert KEY not in out.text
    body = out.json()
    assert (
        body["openai_api_key_set"] is True
        and body["openai_api_key"].startswith("sk-l")
        and "***" in body["openai_api_key"]
    )
    assert body["agent_provider"] == "openai" and body["agent_model"] == "gpt-4o-mini"
    stored = db_scalar(c, "SELECT value FROM retail_ai_config WHERE key = 'openai_api_key'")
    assert stored and KEY not in str(stored)
    # An empty string clears the key.
    cleared = c.patch("/retail/config/ai", json={"openai_api_key": ""}).json()
    assert cleared["openai_api_key"] is None and cleared["openai_api_key_set"] is False


def test_patch_is_seen_by_another_worker_without_restart(make_client, settings) -> None:  # type: ignore[no-untyped-def]
    a = make_client()
    b = make_client()  # a second app on the same database: another worker
    assert b.get("/retail/config/ai").json()["rag_top_k"] == 5
    assert (
        a.patch("/retail/config/ai", json={"rag_top_k": 3, "agent_require_approval": []}).status_code == 200
    )
    seen = b.get("/retail/config/ai").json()
    assert seen["rag_top_k"] == 3 and seen["agent_require_approval"] == []
    bad = a.patch("/retail/config/ai", json={"rag_chunk_size": 32, "rag_chunk_overlap": 40})
    assert bad.status_code == 422 and bad.json()["reason_code"] == "invalid_request"
    assert a.patch("/retail/config/ai", json={"nope": 1}).status_code == 422


def test_dimension_change_is_409_unless_forced_then_reindexes(make_client, fake_embeddings) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(
        "/retail/rag/index",
        json={
            "source_type": "markdown",
            "source_path": "n.md",
            "content": "# Cold\n\nDock 4 takes refrigerated freight.\n\n# Hours\n\nOpen at six.",
        },
    )
    assert r.status_code == 200 and r.json()["chunks_created"] == 2
    assert c.get("/retail/config/ai").json()["index_dimension"] == 384
    conflict = use_openai_embeddings(c, fake_embeddings, 64)
    assert conflict.status_code == 409, conflict.text
    body = conflict.json()
    assert body["reason_code"] == "embedding_dimension_conflict" and conflict.headers[
        "content-type"
    ].startswith("application/problem+json")
    assert body["current_dimension"] == 384 and body["new_dimension"] == 64 and body["indexed_chunks"] == 2
    assert c.get("/retail/config/ai").json()["rag_embedding_provider"] == "local"  # nothing applied
    assert not fake_embeddings.requests

    forced = use_openai_embeddings(c, fake_embeddings, 64, force=True)
    assert forced.status_code == 200, forced.text
    assert forced.json()["rag_embedding_provider"] == "openai" and forced.json()["index_dimension"] == 64
    assert db_scalar(c, "SELECT dim FROM ai_collections WHERE name = 'retail_rag'") == 64
    assert db_scalar(c, "SELECT count(*) FROM ai_vectors WHERE collection = 'retail_rag'") == 2
    assert c.get("/retail/rag/sources").json()["sources"][0]["embedding_dimension"] == 64
    hits = c.post(
        "/retail/rag/retrieve", json={"query": "refrigerated freight", "similarity_threshold": 0.1}
    ).json()
    assert hits["embedding_provider"] == "openai" and "refrigerated" in hits["results"][0]["content"]


def test_forced_reindex_with_a_failing_provider_changes_nothing(make_client, failing_embeddings) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    c.post(
        "/retail/rag/index",
        json={"source_type": "markdown", "source_path": "n.md", "content": "# A\n\nText."},
    )
    r = use_openai_embeddings(c, failing_embeddings, 64, force=True)
    assert r.status_code == 502 and r.json()["reason_code"] == "embedding_provider_error"
    cfg = c.get("/retail/config/ai").json()
    assert cfg["rag_embedding_provider"] == "local" and cfg["index_dimension"] == 384


def test_health_probes_ollama_live_and_clouds_by_key(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    with serve(ollama_fake()) as ollama:
        c.patch(
            "/retail/config/ai",
            json={"ollama_base_url": ollama.base_url, "anthropic_api_key": "sk-ant-123456789"},
        )
        h = {p["provider"]: p for p in c.get("/retail/config/providers/health").json()["providers"]}
        assert (
            h["ollama"]["status"] == "ok"
            and h["ollama"]["checked"] == "live"
            and "2 model" in h["ollama"]["detail"]
        )
        assert any(r.path == "/api/tags" for r in ollama.requests)
        assert h["anthropic"]["status"] == "configured" and h["anthropic"]["checked"] == "key_presence"
        assert h["openai"]["status"] == "not_configured" and h["gemini"]["status"] == "not_configured"
        assert h["local"]["status"] == "ok" and h["local"]["role"] == "embeddings"
        assert h["extractive"]["role"] == "agent"
        models = c.get("/retail/config/ollama/models")
        assert models.status_code == 200, models.text
        m = models.json()
        assert (
            m["total"] == 2
            and m["models"][0]["name"] == "llama3.2:3b"
            and m["models"][0]["family"] == "llama3.2"
        )
        assert m["base_url"] == ollama.base_url
    # The server is gone: health says unreachable, the model list is a 502.
    h = {p["provider"]: p for p in c.get("/retail/config/providers/health").json()["providers"]}
    assert h["ollama"]["status"] == "unreachable"
    gone = c.get("/retail/config/ollama/models")
    assert gone.status_code == 502 and gone.json()["reason_code"] == "ollama_unreachable"
    assert gone.headers["content-type"].startswith("application/problem+json")


def test_ollama_embeddings_are_used_when_configured(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    with serve(ollama_fake(dim=48)) as ollama:
        r = c.patch(
            "/retail/config/ai",
            json={
                "rag_embedding_provider": "ollama",
                "rag_embedding_model": "nomic-embed-text",
                "rag_embedding_dimension": 48,
                "ollama_base_url": ollama.base_url,
            },
        )
        assert r.status_code == 200, r.text
        idx = c.post(
            "/retail/rag/index",
            json={"source_type": "markdown", "source_path": "o.md", "content": "# O\n\nOllama embeds this."},
        )
        assert idx.status_code == 200, idx.text
        assert any(q.path == "/api/embed" for q in ollama.requests)
        assert c.get("/retail/config/ai").json()["index_dimension"] == 48

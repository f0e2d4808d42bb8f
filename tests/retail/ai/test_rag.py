"""/rag: index (idempotent by hash), bulk project docs, retrieve (HNSW, top-k, threshold), sources,
delete with the chunk cascade checked in the database, 502 from a failing embedding provider."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import db_scalar, use_openai_embeddings

pytestmark = pytest.mark.db

DOC = """# Warehouse handbook

## Cold chain

Dock 4 handles refrigerated freight. Chilled pallets must be unloaded within twenty minutes.

## Returns

Customer returns are accepted at dock 2 on weekdays only.

## Opening hours

The warehouse opens at 06:00 and closes at 22:00.
"""


def _index(c: Any, path: str = "handbook/warehouse.md", content: str = DOC, **extra: Any) -> Any:
    return c.post(
        "/retail/rag/index",
        json={"source_type": "markdown", "source_path": path, "content": content, **extra},
    )


def test_index_is_idempotent_and_retrieve_uses_the_local_embedder(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = _index(c, metadata={"team": "ops"})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["status"] == "indexed" and first["chunks_created"] == 4
    again = _index(c).json()
    assert again["status"] == "unchanged" and again["chunks_created"] == 0
    assert again["source_id"] == first["source_id"] and again["content_hash"] == first["content_hash"]
    assert db_scalar(c, "SELECT count(*) FROM retail_rag_chunk") == 4

    hits = c.post(
        "/retail/rag/retrieve", json={"query": "where does chilled freight arrive?", "top_k": 2}
    ).json()
    assert hits["embedding_provider"] == "local" and hits["total_chunks_searched"] == 4
    assert len(hits["results"]) == 2
    assert "refrigerated" in hits["results"][0]["content"]
    assert hits["results"][0]["metadata"]["headings"] == ["Warehouse handbook", "Cold chain"]
    assert hits["results"][0]["relevance_score"] >= hits["results"][1]["relevance_score"]
    # A threshold above every score drops everything.
    none = c.post(
        "/retail/rag/retrieve",
        json={"query": "where does chilled freight arrive?", "similarity_threshold": 0.99},
    )
    assert none.status_code == 200 and none.json()["results"] == []
    # Filters: another source only.
    _index(c, "handbook/other.md", "# Other\n\nNothing about freight here, only parking rules.")
    only = c.post(
        "/retail/rag/retrieve", json={"query": "freight", "filters": {"source_path": "handbook/other.md"}}
    ).json()
    assert {h["source_path"] for h in only["results"]} == {"handbook/other.md"}

    # Changed content replaces the chunks (no stale chunk is retrievable).
    upd = _index(c, content=DOC.replace("Dock 4", "Dock 9"), metadata={"team": "ops"}).json()
    assert upd["status"] == "updated" and upd["source_id"] == first["source_id"]
    top = c.post("/retail/rag/retrieve", json={"query": "refrigerated freight dock", "top_k": 10}).json()[
        "results"
    ]
    assert any("Dock 9" in h["content"] for h in top) and not any("Dock 4" in h["content"] for h in top)
    assert (
        db_scalar(c, "SELECT count(*) FROM retail_rag_chunk WHERE source_id = :s", s=first["source_id"]) == 4
    )

    srcs = c.get("/retail/rag/sources").json()
    assert srcs["total_sources"] == 2 and srcs["total_chunks"] == 5
    wh = next(s for s in srcs["sources"] if s["source_path"] == "handbook/warehouse.md")
    assert wh["metadata"]["team"] == "ops" and wh["embedding_dimension"] == 384 and wh["chunk_count"] == 4


def test_delete_cascades_to_chunks_and_vectors(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    sid = _index(c).json()["source_id"]
    keep = _index(c, "handbook/keep.md", "# Keep\n\nThis one stays.").json()["source_id"]
    assert db_scalar(c, "SELECT count(*) FROM ai_vectors WHERE collection = 'retail_rag'") == 5
    r = c.delete(f"/retail/rag/sources/{sid}")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "source_id": sid,
        "source_path": "handbook/warehouse.md",
        "chunks_deleted": 4,
        "deleted": True,
    }
    assert db_scalar(c, "SELECT count(*) FROM retail_rag_chunk WHERE source_id = :s", s=sid) == 0
    assert db_scalar(c, "SELECT count(*) FROM retail_rag_source WHERE id = :s", s=sid) == 0
    assert db_scalar(c, "SELECT count(*) FROM retail_rag_chunk WHERE source_id = :s", s=keep) == 1
    assert db_scalar(c, "SELECT count(*) FROM ai_vectors WHERE collection = 'retail_rag'") == 1
    hits = c.post(
        "/retail/rag/retrieve", json={"query": "refrigerated freight", "similarity_threshold": -1}
    ).json()
    assert {h["source_id"] for h in hits["results"]} == {keep}
    gone = c.delete(f"/retail/rag/sources/{sid}")
    assert gone.status_code == 404 and gone.json()["reason_code"] == "source_not_found"
    assert gone.headers["content-type"].startswith("application/problem+json")


def test_chunk_rows_cascade_at_the_database_level(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    sid = _index(c).json()["source_id"]
    from .conftest import db_exec

    # Deleting the source row with plain SQL: the foreign key removes the chunks, not our code.
    db_exec(c, "DELETE FROM retail_rag_source WHERE id = :s", s=sid)
    assert db_scalar(c, "SELECT count(*) FROM retail_rag_chunk WHERE source_id = :s", s=sid) == 0


def test_bundled_documents_and_bad_input(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post("/retail/rag/index", json={"source_type": "markdown", "source_path": "/etc/passwd"})
    assert r.status_code == 400 and r.json()["reason_code"] == "document_not_found"
    r = c.post("/retail/rag/index", json={"source_type": "markdown", "source_path": "docs/../pyproject.toml"})
    assert r.status_code == 400 and r.json()["reason_code"] == "document_not_found"
    r = c.post(
        "/retail/rag/index", json={"source_type": "openapi", "source_path": "x.json", "content": "{not json"}
    )
    assert r.status_code == 400 and r.json()["reason_code"] == "invalid_document"
    r = c.post("/retail/rag/index", json={"source_type": "pdf", "source_path": "x"})
    assert r.status_code == 422


def test_project_docs_bulk_index_with_summaries(make_client, fake_embeddings) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.retail.api.rag import bundled_paths

    c = make_client()
    assert use_openai_embeddings(c, fake_embeddings).status_code == 200
    r = c.post("/retail/rag/index/project-docs")
    assert r.status_code == 200, r.text
    out = r.json()
    paths = [f["source_path"] for f in out["files"]]
    assert (
        paths == [*bundled_paths(), "openapi.json"] and "README.md" in paths and "docs/retail-ai.md" in paths
    )
    assert out["failed"] == 0, [f["error"] for f in out["files"] if f["status"] == "failed"]
    assert out["indexed"] == out["total_files"] == len(paths)
    assert out["total_chunks"] == sum(f["chunks_created"] for f in out["files"]) > len(paths)
    spec = next(f for f in out["files"] if f["source_path"] == "openapi.json")
    assert spec["source_type"] == "openapi" and spec["chunks_created"] > 0
    again = c.post("/retail/rag/index/project-docs").json()
    assert again["unchanged"] == again["total_files"] and again["total_chunks"] == 0
    # The served OpenAPI is retrievable: its operations are in the chunks.
    hits = c.post(
        "/retail/rag/retrieve",
        json={
            "query": "POST /retail/rag/retrieve semantic search",
            "filters": {"source_type": "openapi"},
            "similarity_threshold": 0,
        },
    ).json()
    assert hits["results"] and all(h["source_type"] == "openapi" for h in hits["results"])
    assert db_scalar(c, "SELECT count(*) FROM retail_rag_chunk") == out["total_chunks"]


def test_failing_embedding_provider_is_502_and_writes_nothing(make_client, failing_embeddings) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert use_openai_embeddings(c, failing_embeddings).status_code == 200
    r = _index(c)
    assert r.status_code == 502, r.text
    body = r.json()
    assert body["reason_code"] == "embedding_provider_error" and r.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "sk-test-embeddings-0001" not in r.text
    bulk = c.post("/retail/rag/index/project-docs")
    assert bulk.status_code == 502 and bulk.json()["reason_code"] == "embedding_provider_error"
    assert c.get("/retail/rag/sources").json()["total_sources"] == 0
    assert db_scalar(c, "SELECT count(*) FROM retail_rag_chunk") == 0
    assert len(failing_embeddings.requests) >= 2

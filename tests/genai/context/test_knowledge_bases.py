"""Schema profiles, vectorization options, knowledge-base CRUD and its guards, documents (chunked by
the KB's own settings, embedded once, vectors replaced and deleted with them) and uploads."""

import pytest
import sqlalchemy as sa

from ridgeline.genai.context import store as C
from ridgeline.genai.context.service import ContextService
from tests.genai.context.conftest import MINILM, encrypt_pdf, make_pdf

pytestmark = pytest.mark.db
KBS = "/v1/context/knowledge-bases"


def _vectors(cx, kb) -> set[str]:
    from ridgeline.platform.vectors import ai_vectors

    async def ids() -> set[str]:
        async with cx.ctx.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(ai_vectors.c.id).where(ai_vectors.c.collection == f"genai.{kb['index_name']}")
            )
            return {r.id for r in rows}

    return cx.call(ids)


def _chunks(cx, doc_id) -> list[dict]:
    async def rows() -> list[dict]:
        async with cx.ctx.db.engine.connect() as conn:
            q = sa.select(C.chunks).where(C.chunks.c.document_id == doc_id).order_by(C.chunks.c.chunk_index)
            return [dict(r._mapping) for r in await conn.execute(q)]

    return cx.call(rows)


def test_schema_profiles_and_vectorization_options(cx):
    built = cx.ok("GET", "/v1/context/schema-profiles", role="admin")["schema_profiles"]
    assert {p["id"] for p in built} >= {"weaviate-chunk-text", "weaviate-minimal"}
    assert all(p["is_builtin"] and p["schema"]["vectorizer"] == "none" for p in built)
    body = {"provider_key": "weaviate_local", "name": "custom", "schema": {"properties": [
        {"name": "text", "data_type": "text"}, {"name": "lang", "data_type": "text"}]}}  # fmt: skip
    p = cx.ok("POST", "/v1/context/schema-profiles", status=201, json=body)["schema_profile"]
    assert p["is_builtin"] is False and p["schema"]["vectorizer"] == "none"
    cx.refused("POST", "/v1/context/schema-profiles", 409, "schema_profile_exists", json=body)
    cx.refused("POST", "/v1/context/schema-profiles", 422, "provider_family_not_found",
               json={**body, "provider_key": "vllm_local"})  # fmt: skip
    cx.refused("POST", "/v1/context/schema-profiles", 422, "invalid_request",
               json={**body, "name": "x", "schema": {"properties": [{"name": "lang", "data_type": "text"}]}})  # fmt: skip
    only = cx.ok("GET", "/v1/context/schema-profiles?provider_key=qdrant_local")["schema_profiles"]
    assert only == []
    opts = cx.ok("GET", "/v1/context/vectorization-options", role="admin")
    assert opts["modes"] == ["vanessa_embeddings", "self_provided"]
    assert opts["chunking"]["strategies"] == ["fixed_length"]
    emb = {e["slug"]: e for e in opts["embeddings_providers"]}
    assert emb["ridgeline-local-embeddings"]["models"][0]["id"] == MINILM
    assert any(v["slug"] == "ridgeline-embedded-vector-index" for v in opts["vector_store_providers"])


def test_create_validates_and_chunking_is_immutable(cx):
    ids = cx.ids()
    vec, emb = ids["ridgeline-embedded-vector-index"], ids["ridgeline-local-embeddings"]
    base = {"name": "k", "provider_instance_id": vec,
            "vectorization": {"mode": "vanessa_embeddings", "embedding_provider_instance_id": emb, "embedding_model_id": MINILM}}  # fmt: skip
    cx.refused(
        "POST",
        KBS,
        422,
        "chunking_invalid",
        json={**base, "chunking": {"chunk_length": 32, "chunk_overlap": 32}},
    )
    cx.refused("POST", KBS, 422, "invalid_request", json={**base, "chunking": {"strategy": "semantic"}})
    cx.refused(
        "POST",
        KBS,
        422,
        "vectorization_invalid",
        json={**base, "vectorization": {"mode": "vanessa_embeddings"}},
    )
    cx.refused("POST", KBS, 422, "vectorization_invalid",
               json={**base, "vectorization": {**base["vectorization"], "embedding_model_id": "other"}})  # fmt: skip
    cx.refused("POST", KBS, 422, "vectorization_invalid",
               json={**base, "vectorization": {"mode": "self_provided", "embedding_model_id": MINILM}})  # fmt: skip
    cx.refused("POST", KBS, 409, "binding_provider_mismatch", json={**base, "provider_instance_id": emb})
    cx.refused("POST", KBS, 404, "provider_not_found", json={**base, "provider_instance_id": "nope"})
    cx.refused(
        "POST",
        KBS,
        409,
        "schema_profile_provider_mismatch",
        json={**base, "schema_profile_id": "weaviate-minimal"},
    )
    cx.refused("POST", KBS, 404, "schema_profile_not_found", json={**base, "schema_profile_id": "nope"})
    kb = cx.make_kb("k", chunk_length=48, chunk_overlap=12)
    assert kb["chunking"] == {"strategy": "fixed_length", "chunk_length": 48, "chunk_overlap": 12}
    assert kb["eligible_for_binding"] and kb["sync_state"] == "ready" and kb["last_sync_at"] is None
    assert {"last_sync_at", "last_sync_error", "last_sync_summary", "eligible_for_binding"} <= set(kb)
    cx.refused("POST", KBS, 409, "knowledge_base_name_taken", json={**base, "chunking": {}})
    path = f"{KBS}/{kb['id']}"
    cx.refused(
        "PUT",
        path,
        409,
        "knowledge_base_immutable",
        json={"chunking": {"chunk_length": 64, "chunk_overlap": 12}},
    )
    cx.refused("PUT", path, 409, "knowledge_base_immutable", json={"provider_instance_id": emb})
    cx.refused(
        "PUT", path, 409, "knowledge_base_immutable", json={"vectorization": {"mode": "self_provided"}}
    )
    # the stored view sent back is not a change
    same = {k: kb[k] for k in ("name", "description", "chunking", "vectorization", "provider_instance_id")}
    got = cx.ok("PUT", path, json={**same, "description": "ops manuals"})["knowledge_base"]
    assert got["description"] == "ops manuals" and got["chunking"] == kb["chunking"]
    assert cx.ok("GET", path, role="admin")["knowledge_base"]["description"] == "ops manuals"
    listed = cx.ok("GET", KBS, role="admin")
    assert listed["total"] == 1 and listed["knowledge_bases"][0]["id"] == kb["id"]
    sp = cx.ok("POST", KBS, status=201, json={"name": "ext", "provider_instance_id": vec,
                                              "vectorization": {"mode": "self_provided"}})["knowledge_base"]  # fmt: skip
    cx.refused(
        "POST",
        f"{KBS}/{sp['id']}/documents",
        409,
        "knowledge_base_self_provided",
        json={"title": "t", "content": "c"},
    )
    cx.refused("POST", f"{KBS}/{sp['id']}/query", 409, "knowledge_base_self_provided", json={"query": "c"})
    cx.req("DELETE", path)
    cx.refused("GET", path, 404, "knowledge_base_not_found")


def test_documents_are_chunked_by_the_kb_config_and_vectors_follow_them(cx):
    from ridgeline.ai import chunk
    from ridgeline.ai.embeddings import model_dir

    kb = cx.make_kb("docs", chunk_length=40, chunk_overlap=10)
    text = " ".join(
        f"Line {i}: the conveyor in hall {i % 7} runs at {i * 3} metres per minute." for i in range(40)
    )
    d = cx.ok(
        "POST", f"{KBS}/{kb['id']}/documents", status=201, json={"title": "Conveyors", "content": text}
    )["document"]
    expect = chunk(text, str(model_dir() / "tokenizer.json"), 40, 10)
    rows = _chunks(cx, d["id"])
    assert d["chunk_count"] == len(expect) == len(rows) > 5
    assert [r["text"] for r in rows] == [c.text for c in expect]
    assert all(r["token_count"] <= 40 for r in rows)
    assert _vectors(cx, kb) == {r["id"] for r in rows}
    # update: fewer chunks; the stale vectors go
    short = "The pallet wrapper in hall 3 needs film of 23 micrometres."
    u = cx.ok("PUT", f"{KBS}/{kb['id']}/documents/{d['id']}", json={"content": short})["document"]
    assert u["chunk_count"] == 1 and u["title"] == "Conveyors" and u["content"] == short
    assert _vectors(cx, kb) == {f"{d['id']}:0"}
    hits = cx.ok(
        "POST",
        f"{KBS}/{kb['id']}/query",
        role="admin",
        json={"query": "pallet wrapper film", "mode": "keyword"},
    )
    assert [h["text"] for h in hits["results"]] == [short]
    listed = cx.ok("GET", f"{KBS}/{kb['id']}/documents", role="admin")
    assert listed["total"] == 1 and listed["documents"][0]["chunk_count"] == 1
    assert cx.ok("GET", f"{KBS}/{kb['id']}", role="admin")["knowledge_base"]["chunk_count"] == 1
    cx.refused("PUT", f"{KBS}/{kb['id']}/documents/nope", 404, "document_not_found", json={"title": "x"})
    cx.req("DELETE", f"{KBS}/{kb['id']}/documents/{d['id']}")
    assert _vectors(cx, kb) == set() and _chunks(cx, d["id"]) == []
    assert cx.ok("POST", f"{KBS}/{kb['id']}/query", json={"query": "pallet"})["results"] == []
    cx.refused("DELETE", f"{KBS}/{kb['id']}/documents/{d['id']}", 404, "document_not_found")


def test_query_embeds_only_the_query(cx, monkeypatch):
    """Retrieval never re-embeds chunks: one embeddings call with one text per semantic query."""
    kb = cx.make_kb("q")
    cx.ok(
        "POST",
        f"{KBS}/{kb['id']}/documents",
        status=201,
        json={"title": "t", "content": "alpha beta gamma " * 50},
    )
    calls: list[int] = []
    svc = cx.ctx.service(ContextService)
    real = svc.platform.embed

    async def spy(texts, model):
        calls.append(len(texts))
        return await real(texts, model)

    monkeypatch.setattr(svc.platform, "embed", spy)
    for mode in ("semantic", "hybrid", "keyword"):
        cx.ok("POST", f"{KBS}/{kb['id']}/query", json={"query": "beta", "mode": mode})
    assert calls == [1, 1]


def test_uploads(cx):
    kb = cx.make_kb("up")
    up = f"{KBS}/{kb['id']}/uploads"
    pdf = make_pdf(["Dock 4 closes at 18:00 on Fridays.", "Trucks over 40 t use gate B."])
    d = cx.ok("POST", up, status=201, files={"file": ("dock.pdf", pdf, "application/pdf")})["document"]
    assert d["source_type"] == "upload" and d["media_type"] == "application/pdf" and "gate B" in d["content"]
    d = cx.ok("POST", up, status=201, files={"file": ("n.md", b"# Notes\nForklifts: 3", "text/markdown")})[
        "document"
    ]
    assert d["title"] == "Notes"
    cx.refused(
        "POST", up, 422, "pdf_encrypted", files={"file": ("e.pdf", encrypt_pdf(pdf), "application/pdf")}
    )
    cx.refused(
        "POST",
        up,
        422,
        "pdf_no_text_layer",
        files={"file": ("s.pdf", make_pdf([""], image=True), "application/pdf")},
    )
    cx.refused(
        "POST",
        up,
        415,
        "document_unsupported",
        files={"file": ("a.exe", b"MZ\x00\x01", "application/octet-stream")},
    )
    cx.refused(
        "POST",
        up,
        415,
        "document_unsupported",
        files={"file": ("a.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "text/plain")},
    )
    cx.refused(
        "POST", up, 422, "document_unreadable", files={"file": ("a.json", b"{not json", "application/json")}
    )
    cx.refused(
        "POST",
        up,
        413,
        "upload_too_large",
        files={"file": ("big.txt", b"a" * (256 * 1024 + 1), "text/plain")},
    )
    assert cx.ok("GET", f"{KBS}/{kb['id']}/documents")["total"] == 2


def test_a_weaviate_kb_takes_a_builtin_profile_and_a_class_name(cx):
    from tests.genai.platform.conftest import unused_url

    wv = cx.ok("POST", "/v1/platform/providers", status=201,
               json={"provider_key": "weaviate_local", "slug": "wv", "endpoint_url": unused_url()})["provider"]  # fmt: skip
    emb = cx.ids()["ridgeline-local-embeddings"]
    kb = cx.ok("POST", KBS, status=201, json={
        "name": "w", "provider_instance_id": wv["id"], "schema_profile_id": "weaviate-chunk-text",
        "vectorization": {"mode": "vanessa_embeddings", "embedding_provider_instance_id": emb, "embedding_model_id": MINILM}})["knowledge_base"]  # fmt: skip
    assert kb["index_name"].startswith("Kb_") and kb["provider_resource_id"] == kb["index_name"]
    assert kb["schema"]["vectorizer"] == "none" and kb["schema_profile_id"] == "weaviate-chunk-text"
    cx.refused("POST", KBS, 422, "invalid_request", json={
        "name": "w2", "provider_instance_id": wv["id"], "schema": {"properties": [{"name": "text", "data_type": "text"}],
                                                                   "vectorizer": "text2vec-openai"},
        "vectorization": {"mode": "self_provided"}})  # fmt: skip


def test_an_upload_sent_again_with_its_idempotency_key_is_the_same_document(cx):
    kb = cx.make_kb("idem")
    up = f"{KBS}/{kb['id']}/uploads"
    note = {"file": ("gate.txt", b"Gate C opens at 06:00.", "text/plain")}
    first = cx.ok("POST", up, status=201, files=note, headers={"Idempotency-Key": "k-1"})["document"]
    again = cx.ok("POST", up, status=201, files=note, headers={"Idempotency-Key": "k-1"})["document"]
    assert again["id"] == first["id"] and again["content"] == "Gate C opens at 06:00."
    assert cx.ok("GET", f"{KBS}/{kb['id']}/documents")["total"] == 1
    assert len(_chunks(cx, first["id"])) == first["chunk_count"] > 0
    # the same key for another file is refused and changes nothing
    other = {"file": ("gate.txt", b"Gate C opens at 07:00.", "text/plain")}
    cx.refused("POST", up, 422, "idempotency_key_reused", files=other, headers={"Idempotency-Key": "k-1"})
    docs = cx.ok("GET", f"{KBS}/{kb['id']}/documents")
    assert docs["total"] == 1 and docs["documents"][0]["content_hash"] == first["content_hash"]
    # another key, or none, is another document
    cx.ok("POST", up, status=201, files=note, headers={"Idempotency-Key": "k-2"})
    cx.ok("POST", up, status=201, files=note)
    assert cx.ok("GET", f"{KBS}/{kb['id']}/documents")["total"] == 3

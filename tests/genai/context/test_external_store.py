"""A knowledge base on a Qdrant provider: the same document and retrieval paths against an external
store. The store is qdrant-client's own local mode (``location=":memory:"``, the real client and
its query engine, no server), handed out where the control plane would connect to the provider's URL.
The keyword side of hybrid retrieval is the KB's cached BM25 index, built once per content version."""

import pytest

from ridgeline.genai.context.service import ContextService
from ridgeline.genai.runtime import PlatformService
from tests.genai.context.conftest import MINILM
from tests.genai.platform.conftest import unused_url

pytestmark = pytest.mark.db
KBS = "/v1/context/knowledge-bases"


@pytest.fixture
def qdrant(cx, monkeypatch):
    from ridgeline.ai.vectors.qdrant import QdrantStore

    stores: dict[str, QdrantStore] = {}

    async def vector_store(self, a, index, dim, metric="cosine"):
        assert a.family.adapter == "qdrant"
        if index not in stores:
            stores[index] = QdrantStore(index, dim, metric, location=":memory:")
        return stores[index]

    monkeypatch.setattr(PlatformService, "vector_store", vector_store)
    return stores


def test_documents_and_retrieval_on_a_qdrant_kb(cx, qdrant):
    prov = cx.ok("POST", "/v1/platform/providers", status=201,
                 json={"provider_key": "qdrant_local", "slug": "qd", "endpoint_url": unused_url()})["provider"]  # fmt: skip
    ids = cx.ids()
    kb = cx.ok("POST", KBS, status=201, json={
        "name": "q", "provider_instance_id": prov["id"],
        "vectorization": {"mode": "vanessa_embeddings", "embedding_provider_instance_id": ids["ridgeline-local-embeddings"],
                          "embedding_model_id": MINILM},
        "chunking": {"chunk_length": 32, "chunk_overlap": 4}})["knowledge_base"]  # fmt: skip
    kid = kb["id"]
    a = cx.ok("POST", f"{KBS}/{kid}/documents", status=201, json={"title": "Scanner", "content":
              "Error code E4021 means the handheld scanner lost its network link. Restart the access point."})["document"]  # fmt: skip
    cx.ok("POST", f"{KBS}/{kid}/documents", status=201, json={"title": "Batteries", "content":
          "Forklift batteries charge overnight in bay 7; a full charge takes eight hours."})  # fmt: skip
    store = qdrant[kb["index_name"]]
    assert store.count() == a["chunk_count"] + 1
    # the active deployment must serve the KB from its provider
    cx.refused("POST", f"{KBS}/{kid}/query", 409, "knowledge_base_provider_mismatch", json={"query": "E4021"})
    dep = cx.deployment("local-default")
    res = {"ref_type": "knowledge_base", "knowledge_base_id": kid, "provider_resource_id": kb["index_name"],
           "provider_instance_id": prov["id"]}  # fmt: skip
    # the binding check reads the KB's own provider, not the one the resource claims
    vec = ids["ridgeline-embedded-vector-index"]
    cx.refused("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/vector_store", 409,
               "knowledge_base_provider_mismatch",
               json={"provider_id": vec, "resources": [{**res, "provider_instance_id": vec}]})  # fmt: skip
    cx.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/vector_store",
          json={"provider_id": prov["id"], "resources": [res], "default_resource_id": kid})  # fmt: skip
    for mode in ("keyword", "hybrid"):
        hits = cx.ok("POST", f"{KBS}/{kid}/query", json={"query": "what is E4021", "mode": mode})["results"]
        assert hits[0]["title"] == "Scanner", (mode, hits)
    hits = cx.ok(
        "POST",
        f"{KBS}/{kid}/query",
        json={"query": "how long does charging take", "mode": "semantic", "top_k": 1},
    )["results"]
    assert hits[0]["title"] == "Batteries"
    svc = cx.ctx.service(ContextService)
    built = svc._keyword[kid]
    cx.ok("POST", f"{KBS}/{kid}/query", json={"query": "scanner", "mode": "keyword"})
    assert svc._keyword[kid] is built  # not rebuilt per query
    cx.ok("PUT", f"{KBS}/{kid}/documents/{a['id']}", json={"content": "The label printer uses 62 mm rolls."})
    hits = cx.ok("POST", f"{KBS}/{kid}/query", json={"query": "E4021", "mode": "keyword"})["results"]
    assert hits == []  # the old text is gone from the rebuilt keyword index and the store
    assert store.count() == 2
    cx.req("DELETE", f"{KBS}/{kid}/documents/{a['id']}")
    assert store.count() == 1


def test_cloud_embeddings_target_uses_tiktoken_and_must_match_the_deployment(cx):
    cx.add_model("e-cloud", task="embeddings", origin="cloud", provider_model_id="text-embedding-3-small")
    cloud = cx.ok("POST", "/v1/platform/providers", status=201, json={
        "provider_key": "openai_compatible_cloud_embeddings", "slug": "oa", "endpoint_url": unused_url()})["provider"]  # fmt: skip
    ids = cx.ids()
    kb = cx.ok("POST", KBS, status=201, json={
        "name": "c", "provider_instance_id": ids["ridgeline-embedded-vector-index"],
        "vectorization": {"mode": "vanessa_embeddings", "embedding_provider_instance_id": cloud["id"],
                          "embedding_model_id": "e-cloud"}})["knowledge_base"]  # fmt: skip
    svc = cx.ctx.service(ContextService)
    tok = svc._tokenizers[(cloud["id"], "e-cloud")]
    assert type(tok).__name__ == "TiktokenTokenizer" and tok.name == "cl100k_base"
    cx.refused(
        "POST", f"{KBS}/{kb['id']}/query", 409, "knowledge_base_embeddings_mismatch", json={"query": "x"}
    )
    # a local managed model without a tokenizer.json in its managed path cannot chunk
    cx.add_model("e-local", task="embeddings", origin="local")
    vllm = cx.ok("POST", "/v1/platform/providers", status=201, json={
        "provider_key": "vllm_embeddings_local", "slug": "ve", "endpoint_url": unused_url()})["provider"]  # fmt: skip
    cx.refused("POST", KBS, 409, "tokenizer_unavailable", json={
        "name": "l", "provider_instance_id": ids["ridgeline-embedded-vector-index"],
        "vectorization": {"mode": "vanessa_embeddings", "embedding_provider_instance_id": vllm["id"],
                          "embedding_model_id": "e-local"}})  # fmt: skip

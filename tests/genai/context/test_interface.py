"""The interface other genai modules use: ContextService.retrieve and bindable_knowledge_bases."""

import pytest

from ridgeline.genai.context.retrieval import KnowledgeBaseSummary, RetrievedChunk
from ridgeline.genai.context.service import ContextService

pytestmark = pytest.mark.db

TEXT = ("Forklift batteries are charged in bay 7 overnight. "
        "Cold-chain pallets must stay below four degrees. "
        "Error code E4021 means the scanner lost its network link.")  # fmt: skip


def _svc(cx) -> ContextService:
    return cx.ctx.service(ContextService)


def test_retrieve_returns_chunks_and_checks_state_at_call_time(cx):
    kb = cx.make_kb("ops", chunk_length=16, chunk_overlap=0)
    cx.ok(
        "POST",
        f"/v1/context/knowledge-bases/{kb['id']}/documents",
        status=201,
        json={"title": "Ops", "content": TEXT},
    )
    svc = _svc(cx)
    for mode in ("semantic", "keyword", "hybrid"):
        hits = cx.call(svc.retrieve, kb["id"], "what does E4021 mean", top_k=3, mode=mode)
        assert hits and all(isinstance(h, RetrievedChunk) for h in hits)
        assert "E4021" in hits[0].text or mode == "semantic"
        assert hits[0].title == "Ops" and hits[0].chunk_id.startswith(hits[0].document_id + ":")
    hits = cx.call(svc.retrieve, kb["id"], "battery charging", top_k=1, mode="semantic")
    assert "bay 7" in hits[0].text
    with pytest.raises(Exception) as err:
        cx.call(svc.retrieve, "nope", "x")
    assert err.value.reason_code == "knowledge_base_not_found" and err.value.status == 404
    cx.ok("PUT", f"/v1/context/knowledge-bases/{kb['id']}", json={"lifecycle_state": "archived"})
    with pytest.raises(Exception) as err:
        cx.call(svc.retrieve, kb["id"], "x")
    assert err.value.reason_code == "knowledge_base_not_ready" and err.value.status == 409
    cx.refused("POST", f"/v1/context/knowledge-bases/{kb['id']}/query", 409, "knowledge_base_not_ready",
               json={"query": "x"})  # fmt: skip


def test_bindable_knowledge_bases_lists_active_ready_and_filters_by_deployment(cx):
    a = cx.make_kb("a")
    b = cx.make_kb("b")
    cx.ok("PUT", f"/v1/context/knowledge-bases/{b['id']}", json={"lifecycle_state": "archived"})
    svc = _svc(cx)
    got = cx.call(svc.bindable_knowledge_bases)
    assert [k.id for k in got] == [a["id"]] and isinstance(got[0], KnowledgeBaseSummary)
    assert (
        got[0].ready
        and got[0].status == "active"
        and got[0].provider_instance_id == a["provider_instance_id"]
    )
    dep = cx.deployment("local-default")
    assert cx.call(svc.bindable_knowledge_bases, dep["id"]) == []
    vec = cx.ids()["ridgeline-embedded-vector-index"]
    res = {"ref_type": "knowledge_base", "knowledge_base_id": a["id"], "provider_resource_id": a["index_name"],
           "provider_instance_id": vec}  # fmt: skip
    cx.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/vector_store",
          json={"provider_id": vec, "resources": [res], "default_resource_id": a["id"]})  # fmt: skip
    assert [k.id for k in cx.call(svc.bindable_knowledge_bases, dep["id"])] == [a["id"]]
    # the binding check refuses an archived managed KB, and a managed KB named with another index
    bad = {**res, "knowledge_base_id": b["id"], "provider_resource_id": b["index_name"]}
    cx.refused("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/vector_store", 409, "knowledge_base_not_ready",
               json={"provider_id": vec, "resources": [bad]})  # fmt: skip
    cx.refused("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/vector_store", 422, "binding_resource_invalid",
               json={"provider_id": vec, "resources": [{**res, "provider_resource_id": "other"}]})  # fmt: skip
    # a bound KB cannot be deleted
    cx.refused("DELETE", f"/v1/context/knowledge-bases/{a['id']}", 409, "knowledge_base_bound")

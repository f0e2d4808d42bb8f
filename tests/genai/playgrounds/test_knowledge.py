"""Knowledge sessions: the bound knowledge base must be active, ready and bound to the active
deployment (checked at request time), retrieval goes through the context service, and the answer
returns and stores its sources; options list the deployment-bound knowledge bases."""

from __future__ import annotations

import pytest

from tests.genai.playgrounds.conftest import sse_events

pytestmark = pytest.mark.db

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
TEXT = ("Forklift batteries are charged in bay 7 overnight. "
        "Cold-chain pallets must stay below four degrees. "
        "Error code E4021 means the scanner lost its network link.")  # fmt: skip


def _kb(app, name="ops"):
    ids = {p["slug"]: p["id"] for p in app.ok("GET", "/v1/platform/providers")["providers"]}
    body = {"name": name, "provider_instance_id": ids["ridgeline-embedded-vector-index"],
            "vectorization": {"mode": "vanessa_embeddings", "embedding_provider_instance_id": ids["ridgeline-local-embeddings"],
                              "embedding_model_id": MINILM},
            "chunking": {"strategy": "fixed_length", "chunk_length": 16, "chunk_overlap": 0}}  # fmt: skip
    kb = app.ok("POST", "/v1/context/knowledge-bases", status=201, json=body)["knowledge_base"]
    app.ok("POST", f"/v1/context/knowledge-bases/{kb['id']}/documents", status=201,
           json={"title": "Ops manual", "content": TEXT})  # fmt: skip
    return kb, ids["ridgeline-embedded-vector-index"]


def _bind(app, kb, vec):
    dep = app.deployment("local-default")
    res = {"ref_type": "knowledge_base", "knowledge_base_id": kb["id"], "provider_resource_id": kb["index_name"],
           "provider_instance_id": vec}  # fmt: skip
    app.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/vector_store",
           json={"provider_id": vec, "resources": [res], "default_resource_id": kb["id"]})  # fmt: skip


def test_knowledge_session_retrieves_and_returns_sources(app):
    kb, vec = _kb(app)
    binding = {"knowledge_base_id": kb["id"], "top_k": 2, "mode": "hybrid"}
    # not bound to the active deployment yet: neither offered nor accepted
    assert app.ok("GET", "/v1/playgrounds/options", role="user")["knowledge_bases"] == []
    app.refused("POST", "/v1/playgrounds/sessions", 409, "playground_knowledge_base_unavailable", role="user",
                json={"playground_kind": "knowledge", "knowledge_binding": binding})  # fmt: skip
    _bind(app, kb, vec)
    offered = app.ok("GET", "/v1/playgrounds/options", role="user")["knowledge_bases"]
    assert [(k["id"], k["ready"]) for k in offered] == [(kb["id"], True)]
    s = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201,
               json={"playground_kind": "knowledge", "knowledge_binding": binding,
                     "assistant_ref": "agent.knowledge_chat"})  # fmt: skip
    assert s["knowledge_binding"] == {**binding, "threshold": None}
    r = app.ok("POST", f"/v1/playgrounds/sessions/{s['id']}/messages", role="user",
               json={"content": "What does error code E4021 mean?"})  # fmt: skip
    assert 1 <= len(r["sources"]) <= 2
    top = r["sources"][0]
    assert "E4021" in top["text"] and top["title"] == "Ops manual" and top["index"] == 1
    assert top["knowledge_base_id"] == kb["id"] and top["chunk_id"].startswith(top["document_id"])
    # the extractive default answers from the retrieved passage
    answer = r["assistant_message"]["content"]
    assert "Error code E4021 means the scanner lost its network" in answer and "[1]" in answer
    stored = app.ok("GET", f"/v1/playgrounds/sessions/{s['id']}", role="user")["messages"]
    assert stored[1]["sources"] == r["sources"] and stored[0]["sources"] == []
    # the stream carries the same sources in its start event
    events = sse_events(app.req("POST", f"/v1/playgrounds/sessions/{s['id']}/messages/stream", "user",
                                json={"content": "Where are forklift batteries charged?"}).text)  # fmt: skip
    assert events[0][0] == "start" and "bay 7" in events[0][1]["sources"][0]["text"]
    assert (
        events[-1][0] == "done" and events[-1][1]["assistant_message"]["sources"] == events[0][1]["sources"]
    )


def test_knowledge_base_state_is_checked_at_request_time(app):
    kb, vec = _kb(app)
    _bind(app, kb, vec)
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201,
                 json={"playground_kind": "knowledge", "knowledge_binding": {"knowledge_base_id": kb["id"]}})["id"]  # fmt: skip
    # the deployment stops binding it: the session's next message is refused, nothing stored
    dep = app.deployment("local-default")
    app.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/vector_store",
           json={"provider_id": vec, "resources": []})  # fmt: skip
    app.refused("POST", f"/v1/playgrounds/sessions/{sid}/messages", 409, "playground_knowledge_base_unavailable",
                role="user", json={"content": "E4021?"})  # fmt: skip
    app.refused("POST", f"/v1/playgrounds/sessions/{sid}/messages/stream", 409,
                "playground_knowledge_base_unavailable", role="user", json={"content": "E4021?"})  # fmt: skip
    assert app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")["messages"] == []
    # a patch checks what it changes: a rename still works, re-pointing at the unbound KB does not
    assert (
        app.ok("PATCH", f"/v1/playgrounds/sessions/{sid}", role="user", json={"title": "still mine"})["title"]
        == "still mine"
    )
    app.refused("PATCH", f"/v1/playgrounds/sessions/{sid}", 409, "playground_knowledge_base_unavailable", role="user",
                json={"knowledge_binding": {"knowledge_base_id": kb["id"], "top_k": 3}})  # fmt: skip

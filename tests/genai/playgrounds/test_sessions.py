"""Playground sessions: the canonical model for both kinds, owner-only access, messages through the
control plane's inference path (assistant instructions, model membership, history), options."""

from __future__ import annotations

import pytest

from tests.genai.playgrounds.conftest import cloud_deployment

pytestmark = pytest.mark.db

X = "pgs_" + "0" * 20
ROUTES = [
    ("GET", "/v1/playgrounds/sessions", None),
    ("POST", "/v1/playgrounds/sessions", {"playground_kind": "chat"}),
    ("GET", f"/v1/playgrounds/sessions/{X}", None),
    ("PATCH", f"/v1/playgrounds/sessions/{X}", {"title": "t"}),
    ("DELETE", f"/v1/playgrounds/sessions/{X}", None),
    ("POST", f"/v1/playgrounds/sessions/{X}/messages", {"content": "hi"}),
    ("POST", f"/v1/playgrounds/sessions/{X}/messages/stream", {"content": "hi"}),
    ("GET", "/v1/playgrounds/options", None),
]


def test_every_route_refuses_anonymous_callers(app):
    for method, path, body in ROUTES:
        kw = {"json": body} if body is not None else {}
        app.refused(method, path, 401, "not_authenticated", role=None, **kw)


def test_sessions_are_owner_only(app):
    s = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201, json={"title": "mine"})
    sid = s["id"]
    assert (s["playground_kind"], s["title"], s["messages"], s["knowledge_binding"]) == (
        "chat",
        "mine",
        [],
        None,
    )
    assert app.ok("GET", "/v1/playgrounds/sessions", role="user")["total"] == 1
    for role in ("user2", "admin", "superadmin"):
        assert app.ok("GET", "/v1/playgrounds/sessions", role=role)["sessions"] == []
        for method, path, body in ROUTES[2:7]:
            kw = {"json": body} if body is not None else {}
            app.refused(method, path.replace(X, sid), 404, "playground_session_not_found", role=role, **kw)
    # nothing the others tried changed or answered it
    got = app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")
    assert got["title"] == "mine" and got["messages"] == []
    assert app.ok("DELETE", f"/v1/playgrounds/sessions/{sid}", role="user") == {"id": sid, "deleted": True}
    app.refused("GET", f"/v1/playgrounds/sessions/{sid}", 404, "playground_session_not_found", role="user")


def test_chat_messages_are_persisted_through_the_default_deployment(app):
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201, json={})["id"]
    r = app.ok("POST", f"/v1/playgrounds/sessions/{sid}/messages", role="user",
               json={"content": "What does the extractive provider do?"})  # fmt: skip
    assert (
        r["model"] == "ridgeline-extractive-1"
        and r["provider"]["provider_key"] == "ridgeline_extractive_chat"
    )
    assert r["user_message"]["role"] == "user" and r["assistant_message"]["role"] == "assistant"
    assert r["assistant_message"]["metadata"]["status"] == "complete" and r["sources"] == []
    s = app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")
    assert [m["role"] for m in s["messages"]] == ["user", "assistant"] and s["message_count"] == 2
    assert [m["seq"] for m in s["messages"]] == [1, 2]
    assert s["messages"][0]["content"] == "What does the extractive provider do?"


def test_kind_rules_and_patch(app):
    app.refused("POST", "/v1/playgrounds/sessions", 422, "playground_session_invalid", role="user",
                json={"playground_kind": "knowledge"})  # fmt: skip
    app.refused("POST", "/v1/playgrounds/sessions", 422, "playground_session_invalid", role="user",
                json={"playground_kind": "chat", "knowledge_binding": {"knowledge_base_id": "kb1"}})  # fmt: skip
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201, json={})["id"]
    # the kind is fixed at creation: not a PATCH field
    r = app.req("PATCH", f"/v1/playgrounds/sessions/{sid}", "user", json={"playground_kind": "knowledge"})
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request"
    app.refused("PATCH", f"/v1/playgrounds/sessions/{sid}", 422, "playground_session_invalid", role="user",
                json={"knowledge_binding": {"knowledge_base_id": "kb1"}})  # fmt: skip
    p = app.ok("PATCH", f"/v1/playgrounds/sessions/{sid}", role="user",
               json={"title": "renamed", "assistant_ref": "agent.knowledge_chat"})  # fmt: skip
    assert (p["title"], p["assistant_ref"]) == ("renamed", "agent.knowledge_chat")
    p = app.ok("PATCH", f"/v1/playgrounds/sessions/{sid}", role="user", json={"assistant_ref": None})
    assert (p["title"], p["assistant_ref"]) == ("renamed", None)


def test_assistant_model_and_history_reach_the_provider(app, streaming_runtime):
    rt = streaming_runtime
    cloud_deployment(app, rt)
    # a user's own agent, written through the registry, is an assistant for that user only
    r = app.req("POST", "/v1/registry/agents", "user", json={"id": "agent.pirate", "spec": {
        "name": "Pirate", "instructions": "Talk like a pirate.", "model_ref": "gpt-b"}})  # fmt: skip
    assert r.status_code == 201, r.text
    app.refused("POST", "/v1/playgrounds/sessions", 404, "catalog_agent_not_found", role="user2",
                json={"assistant_ref": "agent.pirate"})  # fmt: skip
    app.refused("POST", "/v1/playgrounds/sessions", 404, "catalog_agent_not_found", role="user",
                json={"assistant_ref": "agent.nobody"})  # fmt: skip
    app.refused("POST", "/v1/playgrounds/sessions", 409, "model_not_in_binding", role="user",
                json={"model_selection": {"model_id": "ridgeline-extractive-1"}})  # fmt: skip
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201,
                 json={"assistant_ref": "agent.pirate", "model_selection": {"temperature": 0.3}})["id"]  # fmt: skip
    first = app.ok("POST", f"/v1/playgrounds/sessions/{sid}/messages", role="user", json={"content": "ahoy"})
    assert first["model"] == "gpt-b" and first["runtime_model_id"] == "gpt-b-2026"  # the assistant's model
    assert first["assistant_message"]["content"] == "Echo: ahoy"
    body = rt.bodies[-1]
    assert body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    assert body["temperature"] == 0.3
    app.ok("POST", f"/v1/playgrounds/sessions/{sid}/messages", role="user", json={"content": "again"})
    sent = [(m["role"], m["content"]) for m in rt.bodies[-1]["messages"]]
    assert sent == [("system", "Talk like a pirate."), ("user", "ahoy"), ("assistant", "Echo: ahoy"),
                    ("user", "again")]  # fmt: skip
    # the session's own selection wins over the assistant's model
    app.ok(
        "PATCH",
        f"/v1/playgrounds/sessions/{sid}",
        role="user",
        json={"model_selection": {"model_id": "gpt-a"}},
    )
    assert (
        app.ok("POST", f"/v1/playgrounds/sessions/{sid}/messages", role="user", json={"content": "x"})[
            "model"
        ]
        == "gpt-a"
    )
    # an assistant deactivated later is refused at message time
    r = app.req("POST", "/v1/registry/agents", "user", json={"id": "agent.pirate", "spec": {
        "name": "Pirate", "instructions": "Talk like a pirate.", "status": "inactive"}})  # fmt: skip
    assert r.status_code == 201, r.text
    app.refused("POST", f"/v1/playgrounds/sessions/{sid}/messages", 409, "agent_inactive", role="user",
                json={"content": "y"})  # fmt: skip
    assert app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")["message_count"] == 6


def test_upstream_failure_stores_nothing(app, streaming_runtime):
    cloud_deployment(app, streaming_runtime)
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201,
                 json={"model_selection": {"model_id": "broken"}})["id"]  # fmt: skip
    app.refused("POST", f"/v1/playgrounds/sessions/{sid}/messages", 503, "provider_upstream_error", role="user",
                json={"content": "x"})  # fmt: skip
    assert app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")["messages"] == []


def test_options_list_binding_models_and_assistants(app, streaming_runtime):
    o = app.ok("GET", "/v1/playgrounds/options", role="user")
    assert [m["id"] for m in o["models"]] == ["ridgeline-extractive-1"] and o[
        "default_model_id"
    ] == "ridgeline-extractive-1"
    assert "agent.knowledge_chat" in [a["id"] for a in o["assistants"]]
    assert o["playground_kinds"] == ["chat", "knowledge"] and o["deployment"]["slug"] == "local-default"
    d = cloud_deployment(app, streaming_runtime)
    o = app.ok("GET", "/v1/playgrounds/options", role="user")
    assert o["deployment"]["id"] == d["id"]
    assert [(m["id"], m["is_default"]) for m in o["models"]] == [
        ("gpt-a", True), ("gpt-b", False), ("endless", False), ("broken", False)]  # fmt: skip
    # offline: the cloud binding is fail-closed, so nothing is offered and the reason is named
    app.set_mode_unchecked("offline")
    o = app.ok("GET", "/v1/playgrounds/options", role="user")
    assert o["models"] == [] and o["runtime_issue"]["reason_code"] == "offline_provider_blocked"
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201, json={})["id"]
    app.refused("POST", f"/v1/playgrounds/sessions/{sid}/messages", 409, "offline_provider_blocked", role="user",
                json={"content": "x"})  # fmt: skip

"""Registry (versions, tool constraints, ownership) and the typed catalog (superadmin CRUD writing a
registry version per create/update, validate, delete by owner or superadmin, platform agents
protected)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.genai.catalog.conftest import ANON, SUPER_ONLY, P, reason, refused

pytestmark = pytest.mark.db

TOOL = {
    "name": "Lookup",
    "transport": "mcp",
    "connection_profile_ref": "default",
    "tool_name": "lookup",
    "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
}


def test_bootstrap_entities(app, tokens) -> None:  # type: ignore[no-untyped-def]
    tools = app.get(P + "/v1/catalog/tools", headers=tokens["super"]).json()
    by_id = {t["id"]: t for t in tools["tools"]}
    assert set(by_id) >= {"tool.web_search", "tool.python_exec"}
    assert by_id["tool.web_search"]["transport"] == "mcp" and by_id["tool.web_search"]["online_only"] is True
    assert by_id["tool.python_exec"]["transport"] == "sandbox_http"
    assert {t["connection_profile_ref"] for t in by_id.values()} == {"default"}
    agent = app.get(P + "/v1/catalog/agents/agent.knowledge_chat", headers=tokens["super"]).json()
    assert agent["classification"] == "platform" and agent["owner_id"] is None and agent["version"] == 1


def test_registry_versions_and_tool_constraints(app, tokens) -> None:  # type: ignore[no-untyped-def]
    r = app.post(P + "/v1/registry/tools", json={"id": "tool.lookup", "spec": TOOL}, headers=tokens["user"])
    assert r.status_code == 201, r.text
    assert (
        r.json()["version"] == 1 and r.json()["owner_id"] == tokens.ids["user"] and r.json()["kind"] == "tool"
    )
    r = app.post(
        P + "/v1/registry/tools",
        json={"id": "tool.lookup", "spec": {**TOOL, "name": "Lookup 2"}},
        headers=tokens["user"],
    )
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["spec"]["name"] == "Lookup 2"
    # The typed catalog resolves the current version.
    got = app.get(P + "/v1/catalog/tools/tool.lookup", headers=tokens["super"]).json()
    assert got["version"] == 2 and got["name"] == "Lookup 2"
    for bad, word in (
        ({**TOOL, "transport": "http"}, "transport"),
        ({**TOOL, "connection_profile_ref": "other"}, "connection_profile_ref"),
        ({k: v for k, v in TOOL.items() if k != "tool_name"}, "tool_name"),
        ({**TOOL, "tool_name": "two words"}, "tool_name"),
        ({**TOOL, "transport": "sandbox_http", "tool_name": 5}, "tool_name"),
        ({**TOOL, "input_schema": {"type": "array"}}, "input_schema"),
    ):
        r = app.post(P + "/v1/registry/tools", json={"id": "tool.bad", "spec": bad}, headers=tokens["user"])
        assert r.status_code == 422 and reason(r) == "registry_spec_invalid", r.text
        assert any(word in e for e in r.json()["errors"])
    r = app.post(P + "/v1/registry/tools", json={"id": "Not An Id", "spec": TOOL}, headers=tokens["user"])
    assert r.status_code == 422 and reason(r) == "registry_spec_invalid"


def test_registry_models_and_agents(app, tokens) -> None:  # type: ignore[no-untyped-def]
    r = app.post(
        P + "/v1/registry/models",
        json={"id": "model.chat_small", "spec": {"name": "Small chat"}},
        headers=tokens["user"],
    )
    assert r.status_code == 201 and r.json()["kind"] == "model"
    r = app.post(
        P + "/v1/registry/models",
        json={"id": "model.bad", "spec": {"name": "x", "task": "dance"}},
        headers=tokens["user"],
    )
    assert r.status_code == 422 and reason(r) == "registry_spec_invalid"
    r = app.post(
        P + "/v1/registry/agents", json={"id": "agent.mine", "spec": {"name": "Mine"}}, headers=tokens["user"]
    )
    assert r.status_code == 201 and r.json()["version"] == 1
    r = app.post(
        P + "/v1/registry/agents",
        json={"id": "agent.mine", "spec": {"name": "Mine", "max_tool_steps": 99}},
        headers=tokens["user"],
    )
    assert r.status_code == 422 and reason(r) == "registry_spec_invalid"
    # Only a superadmin publishes platform agents.
    spec = {"name": "Sneaky", "classification": "platform"}
    r = app.post(P + "/v1/registry/agents", json={"id": "agent.sneaky", "spec": spec}, headers=tokens["user"])
    assert r.status_code == 422 and reason(r) == "registry_spec_invalid"


def test_registry_ownership(app, tokens) -> None:  # type: ignore[no-untyped-def]
    assert (
        app.post(
            P + "/v1/registry/tools", json={"id": "tool.owned", "spec": TOOL}, headers=tokens["user"]
        ).status_code
        == 201
    )
    r = app.post(P + "/v1/registry/tools", json={"id": "tool.owned", "spec": TOOL}, headers=tokens["user2"])
    assert r.status_code == 403 and reason(r) == "registry_entity_not_owned"
    r = app.post(P + "/v1/registry/tools", json={"id": "tool.owned", "spec": TOOL}, headers=tokens["admin"])
    assert r.status_code == 403 and reason(r) == "registry_entity_not_owned"
    r = app.post(P + "/v1/registry/tools", json={"id": "tool.owned", "spec": TOOL}, headers=tokens["super"])
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["owner_id"] == tokens.ids["user"]
    # Platform entities: only a superadmin writes versions; a platform agent stays platform.
    spec = {"name": "Knowledge chat", "instructions": "Be brief."}
    r = app.post(
        P + "/v1/registry/agents", json={"id": "agent.knowledge_chat", "spec": spec}, headers=tokens["user"]
    )
    assert r.status_code == 403 and reason(r) == "registry_entity_not_owned"
    r = app.post(
        P + "/v1/registry/agents", json={"id": "agent.knowledge_chat", "spec": spec}, headers=tokens["super"]
    )
    assert (
        r.status_code == 201 and r.json()["version"] == 2 and r.json()["spec"]["classification"] == "platform"
    )


def test_registry_roles(app, tokens) -> None:  # type: ignore[no-untyped-def]
    for kind in ("models", "agents", "tools"):
        refused(app, tokens, "POST", f"/v1/registry/{kind}", ANON, json={"id": "x.y", "spec": {}})


def test_catalog_agents_crud_writes_registry_versions(app, tokens) -> None:  # type: ignore[no-untyped-def]
    s = tokens["super"]
    body = {"id": "agent.helper", "name": "Helper", "instructions": "Help.", "tool_refs": ["tool.web_search"]}
    r = app.post(P + "/v1/catalog/agents", json=body, headers=s)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["version"] == 1 and a["classification"] == "user" and a["owner_id"] == tokens.ids["super"]
    dt.datetime.fromisoformat(a["created_at"])
    r = app.post(P + "/v1/catalog/agents", json=body, headers=s)
    assert r.status_code == 409 and reason(r) == "catalog_agent_exists"
    upd = {"name": "Helper", "instructions": "Help more.", "tool_refs": [], "status": "draft"}
    r = app.put(P + "/v1/catalog/agents/agent.helper", json=upd, headers=s)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["status"] == "draft"
    assert r.json()["classification"] == "user"  # fixed at creation
    # The registry holds the new version: a registry write by the owner makes version 3.
    r = app.post(
        P + "/v1/registry/agents", json={"id": "agent.helper", "spec": {"name": "Helper"}}, headers=s
    )
    assert r.status_code == 201 and r.json()["version"] == 3
    listed = app.get(P + "/v1/catalog/agents", headers=s).json()
    assert {a["id"] for a in listed["agents"]} == {"agent.knowledge_chat", "agent.helper"} and listed[
        "total"
    ] == 2
    only_platform = app.get(P + "/v1/catalog/agents?classification=platform", headers=s).json()
    assert [a["id"] for a in only_platform["agents"]] == ["agent.knowledge_chat"]
    r = app.get(P + "/v1/catalog/agents/agent.none", headers=s)
    assert r.status_code == 404 and reason(r) == "catalog_agent_not_found"
    r = app.put(P + "/v1/catalog/agents/agent.none", json=upd, headers=s)
    assert r.status_code == 404 and reason(r) == "catalog_agent_not_found"
    r = app.post(
        P + "/v1/catalog/agents", json={"id": "agent.x", "name": "X", "max_tool_steps": 9}, headers=s
    )
    assert r.status_code == 422


def test_platform_agent_edit_and_deactivate_but_never_delete(app, tokens) -> None:  # type: ignore[no-untyped-def]
    s = tokens["super"]
    upd = {"name": "Knowledge chat", "status": "inactive"}
    r = app.put(P + "/v1/catalog/agents/agent.knowledge_chat", json=upd, headers=s)
    assert (
        r.status_code == 200 and r.json()["status"] == "inactive" and r.json()["classification"] == "platform"
    )
    r = app.delete(P + "/v1/catalog/agents/agent.knowledge_chat", headers=s)
    assert r.status_code == 409 and reason(r) == "catalog_platform_agent_protected"
    r = app.delete(P + "/v1/catalog/agents/agent.knowledge_chat", headers=tokens["user"])
    assert r.status_code == 403 and reason(r) == "not_owner"
    assert app.get(P + "/v1/catalog/agents/agent.knowledge_chat", headers=s).status_code == 200


def test_user_agents_deleted_by_owner_or_superadmin(app, tokens) -> None:  # type: ignore[no-untyped-def]
    for name in ("a1", "a2"):
        r = app.post(
            P + "/v1/registry/agents",
            json={"id": f"agent.{name}", "spec": {"name": name}},
            headers=tokens["user"],
        )
        assert r.status_code == 201
    refused(app, tokens, "DELETE", "/v1/catalog/agents/agent.a1", {"none": 401, "user2": 403, "admin": 403})
    r = app.delete(P + "/v1/catalog/agents/agent.a1", headers=tokens["user"])
    assert r.status_code == 200 and r.json() == {"id": "agent.a1", "deleted": True}
    r = app.delete(P + "/v1/catalog/agents/agent.a1", headers=tokens["user"])
    assert r.status_code == 404 and reason(r) == "catalog_agent_not_found"
    r = app.delete(P + "/v1/catalog/agents/agent.a2", headers=tokens["super"])
    assert r.status_code == 200
    assert app.get(P + "/v1/catalog/agents/agent.a2", headers=tokens["super"]).status_code == 404


def test_validate_agent(app, tokens) -> None:  # type: ignore[no-untyped-def]
    s = tokens["super"]
    body = {
        "id": "agent.v",
        "name": "V",
        "tool_refs": ["tool.web_search", "tool.missing"],
        "model_ref": "model.none",
    }
    assert app.post(P + "/v1/catalog/agents", json=body, headers=s).status_code == 201
    r = app.post(P + "/v1/catalog/agents/agent.v/validate", headers=s)
    assert r.status_code == 200
    v = r.json()
    assert v["valid"] is False and v["version"] == 1
    assert any("tool.missing" in e for e in v["errors"]) and any("model.none" in e for e in v["errors"])
    _insert_model(app, "mo-1", bindable=False)
    upd = {"name": "V", "tool_refs": ["tool.web_search"], "model_ref": "mo-1"}
    assert app.put(P + "/v1/catalog/agents/agent.v", json=upd, headers=s).status_code == 200
    v = app.post(P + "/v1/catalog/agents/agent.v/validate", headers=s).json()
    assert v["valid"] is False and any("not active" in e for e in v["errors"])
    _insert_model(app, "mo-2", bindable=True)
    upd["model_ref"] = "mo-2"
    assert app.put(P + "/v1/catalog/agents/agent.v", json=upd, headers=s).status_code == 200
    v = app.post(P + "/v1/catalog/agents/agent.v/validate", headers=s).json()
    assert v == {"id": "agent.v", "kind": "agent", "version": 3, "valid": True, "errors": [], "warnings": []}
    r = app.post(P + "/v1/catalog/agents/agent.none/validate", headers=s)
    assert r.status_code == 404 and reason(r) == "catalog_agent_not_found"


def _insert_model(app: Any, model_id: str, *, bindable: bool) -> None:
    import sqlalchemy as sa

    from ridgeline.genai.api.store import models

    db = app.app.state["ctx"].db
    at = dt.datetime.now(dt.UTC)

    async def go() -> None:
        async with db.begin() as conn:
            await conn.execute(
                sa.insert(models).values(
                    id=model_id,
                    name=model_id,
                    task="llm_inference",
                    origin="local",
                    lifecycle_state="active" if bindable else "registered",
                    is_validation_current=bindable,
                    last_validation_status="success" if bindable else None,
                    metadata={},
                    created_at=at,
                    updated_at=at,
                )
            )

    app.blocking_portal.call(go)


def test_catalog_tools(app, tokens) -> None:  # type: ignore[no-untyped-def]
    s = tokens["super"]
    r = app.post(P + "/v1/catalog/tools", json={"id": "tool.lookup", **TOOL}, headers=s)
    assert r.status_code == 201 and r.json()["version"] == 1
    r = app.post(P + "/v1/catalog/tools", json={"id": "tool.lookup", **TOOL}, headers=s)
    assert r.status_code == 409 and reason(r) == "catalog_tool_exists"
    r = app.post(P + "/v1/catalog/tools", json={"id": "tool.x", **TOOL, "transport": "http"}, headers=s)
    assert r.status_code == 422 and reason(r) == "invalid_request"
    r = app.post(
        P + "/v1/catalog/tools", json={"id": "tool.x", **TOOL, "connection_profile_ref": "prod"}, headers=s
    )
    assert r.status_code == 422
    r = app.post(
        P + "/v1/catalog/tools",
        json={"id": "tool.x", **{k: v for k, v in TOOL.items() if k != "tool_name"}},
        headers=s,
    )
    assert r.status_code == 422 and reason(r) == "registry_spec_invalid"
    r = app.put(P + "/v1/catalog/tools/tool.lookup", json={**TOOL, "online_only": True}, headers=s)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["online_only"] is True
    r = app.put(P + "/v1/catalog/tools/tool.none", json=TOOL, headers=s)
    assert r.status_code == 404 and reason(r) == "catalog_tool_not_found"
    assert app.get(P + "/v1/catalog/tools/tool.lookup", headers=s).json()["version"] == 2
    r = app.get(P + "/v1/catalog/tools/tool.none", headers=s)
    assert r.status_code == 404 and reason(r) == "catalog_tool_not_found"
    mcp_only = app.get(P + "/v1/catalog/tools?transport=mcp", headers=s).json()
    assert {t["id"] for t in mcp_only["tools"]} == {"tool.web_search", "tool.lookup"}
    v = app.post(P + "/v1/catalog/tools/tool.lookup/validate", headers=s).json()
    assert v["valid"] is True and v["version"] == 2 and any("online only" in w for w in v["warnings"])
    r = app.post(P + "/v1/catalog/tools/tool.none/validate", headers=s)
    assert r.status_code == 404 and reason(r) == "catalog_tool_not_found"
    # A registry write breaking the constraints leaves a version that validate reports.
    assert (
        app.post(
            P + "/v1/catalog/agents",
            json={"id": "agent.t", "name": "T", "tool_refs": ["tool.lookup"]},
            headers=s,
        ).status_code
        == 201
    )
    v = app.post(P + "/v1/catalog/tools/tool.lookup/validate", headers=s).json()
    assert not any("no agent" in w for w in v["warnings"])


def test_catalog_roles(app, tokens) -> None:  # type: ignore[no-untyped-def]
    agent = {"id": "agent.r", "name": "R"}
    tool = {"id": "tool.r", **TOOL}
    for method, path, kw in (
        ("GET", "/v1/catalog/agents", {}),
        ("POST", "/v1/catalog/agents", {"json": agent}),
        ("GET", "/v1/catalog/agents/agent.knowledge_chat", {}),
        ("PUT", "/v1/catalog/agents/agent.knowledge_chat", {"json": {"name": "K"}}),
        ("POST", "/v1/catalog/agents/agent.knowledge_chat/validate", {}),
        ("GET", "/v1/catalog/tools", {}),
        ("POST", "/v1/catalog/tools", {"json": tool}),
        ("GET", "/v1/catalog/tools/tool.web_search", {}),
        ("PUT", "/v1/catalog/tools/tool.web_search", {"json": TOOL}),
        ("POST", "/v1/catalog/tools/tool.web_search/validate", {}),
    ):
        refused(app, tokens, method, path, SUPER_ONLY, **kw)
    # Nothing was written by the refused calls.
    assert (
        app.get(P + "/v1/catalog/agents/agent.knowledge_chat", headers=tokens["super"]).json()["version"] == 1
    )

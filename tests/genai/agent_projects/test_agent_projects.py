"""Agent projects: owner rules on every route, structured validation, publish compiling into a
catalog-managed agent (a new registry version each time), and the agent id guard."""

from __future__ import annotations

import pytest

from tests.genai.playgrounds.conftest import App, make_app, second_user  # noqa: F401  (fixtures)

pytestmark = pytest.mark.db

X = "agp_" + "0" * 20


@pytest.fixture
def app(make_app) -> App:  # type: ignore[no-untyped-def]  # noqa: F811
    a = make_app()
    second_user(a)
    return a


def workflow(tool: str | None = "tool.python_exec") -> dict:
    nodes = [
        {"id": "answer", "type": "llm", "instructions": "Answer briefly."},
        {"id": "out", "type": "output"},
    ]
    edges = [{"from": "answer", "to": "out"}]
    if tool:
        nodes.insert(1, {"id": "run", "type": "tool", "tool_ref": tool})
        edges = [{"from": "answer", "to": "run"}, {"from": "run", "to": "out"}]
    return {"entry": "answer", "nodes": nodes, "edges": edges}


def project(name: str = "Helper", tool: str | None = "tool.python_exec", **kw) -> dict:
    policy = {"allowed_tools": [tool] if tool else [], "max_tool_steps": 2}
    return {"name": name, "workflow_definition": workflow(tool), "tool_policy": policy, **kw}


def test_routes_refuse_anonymous_and_other_users(app):
    routes = [("GET", f"/v1/agent-projects/{X}", None), ("PUT", f"/v1/agent-projects/{X}", {"name": "n"}),
              ("POST", f"/v1/agent-projects/{X}/validate", None), ("POST", f"/v1/agent-projects/{X}/publish", None)]  # fmt: skip
    for method, path, body in [
        ("GET", "/v1/agent-projects", None),
        ("POST", "/v1/agent-projects", {"name": "n"}),
        *routes,
    ]:
        kw = {"json": body} if body is not None else {}
        app.refused(method, path, 401, "not_authenticated", role=None, **kw)
    pid = app.ok("POST", "/v1/agent-projects", role="user", status=201, json=project())["id"]
    for role in ("user2", "admin"):
        for method, path, body in routes:
            kw = {"json": body} if body is not None else {}
            app.refused(method, path.replace(X, pid), 403, "not_owner", role=role, **kw)
        assert app.ok("GET", "/v1/agent-projects", role=role)["projects"] == []
    app.refused("GET", "/v1/agent-projects?show=all", 403, "insufficient_role", role="admin")
    # a superadmin may read and act on any project; a missing one is a 404
    assert app.ok("GET", f"/v1/agent-projects/{pid}")["owner_id"] is not None
    assert [p["id"] for p in app.ok("GET", "/v1/agent-projects?show=all")["projects"]] == [pid]
    app.refused("GET", f"/v1/agent-projects/{X}", 404, "agent_project_not_found")


def test_validate_reports_structured_errors(app):
    bad = {"name": "Broken", "tool_policy": {"allowed_tools": ["tool.nope"], "max_tool_steps": 0},
           "workflow_definition": {"entry": "a", "nodes": [
               {"id": "a", "type": "llm", "instructions": "x", "tool_ref": "tool.python_exec"},
               {"id": "a", "type": "output"},
               {"id": "t", "type": "tool", "tool_ref": "tool.web_search"},
               {"id": "lost", "type": "llm"},
               {"id": "k", "type": "retrieval"}],
               "edges": [{"from": "a", "to": "t"}, {"from": "t", "to": "ghost"}, {"from": "t", "to": "t"}]}}  # fmt: skip
    pid = app.ok("POST", "/v1/agent-projects", role="user", status=201, json=bad)["id"]
    v = app.ok("POST", f"/v1/agent-projects/{pid}/validate", role="user")
    assert v["valid"] is False and v["compiled"] is None and v["revision"] == 1
    codes = {(e["path"], e["code"]) for e in v["errors"]}
    W = "workflow_definition"
    for expected in [
        (f"{W}.nodes[1].id", "duplicate_node_id"),
        (f"{W}.nodes[0].tool_ref", "field_not_allowed"),
        (f"{W}.edges[1].to", "unknown_node"),
        (f"{W}.edges[2]", "self_loop"),
        (f"{W}.nodes[3]", "unreachable_node"),
        (f"{W}.nodes[2].tool_ref", "tool_not_allowed"),
        (f"{W}.nodes[4].knowledge_base_id", "missing_knowledge_base_id"),
        ("tool_policy.allowed_tools[0]", "unknown_tool"),
        ("tool_policy.max_tool_steps", "no_tool_steps"),
    ]:
        assert expected in codes, (expected, sorted(codes))
    assert all(set(e) == {"path", "code", "message"} for e in v["errors"])
    assert app.ok("GET", f"/v1/agent-projects/{pid}", role="user")["last_validation"]["valid"] is False
    # a cycle, and an online-only tool the policy forbids
    cyc = project(
        tool="tool.web_search",
        tool_policy={"allowed_tools": ["tool.web_search"], "allow_online_tools": False},
    )
    cyc["workflow_definition"]["edges"].append({"from": "run", "to": "answer"})
    pid2 = app.ok("POST", "/v1/agent-projects", role="user", status=201, json=cyc)["id"]
    codes = {e["code"] for e in app.ok("POST", f"/v1/agent-projects/{pid2}/validate", role="user")["errors"]}
    assert "cycle" in codes
    cyc["workflow_definition"]["edges"].pop()
    app.ok("PUT", f"/v1/agent-projects/{pid2}", role="user", json=cyc)
    errors = app.ok("POST", f"/v1/agent-projects/{pid2}/validate", role="user")["errors"]
    assert [e["code"] for e in errors] == ["online_tool_not_allowed"]
    # publish refuses an invalid project with the same errors
    r = app.refused("POST", f"/v1/agent-projects/{pid}/publish", 422, "agent_project_invalid", role="user")
    assert "duplicate_node_id" in {e["code"] for e in r["errors"]}


def test_publish_compiles_a_catalog_agent_with_a_new_version_each_time(app):
    p = app.ok("POST", "/v1/agent-projects", role="user", status=201,
               json=project(description="Runs code", agent_id="agent.helper"))  # fmt: skip
    assert (p["agent_id"], p["revision"], p["published"]) == ("agent.helper", 1, None)
    v = app.ok("POST", f"/v1/agent-projects/{p['id']}/validate", role="user")
    assert v["valid"] is True and v["errors"] == [] and v["compiled"]["tool_refs"] == ["tool.python_exec"]
    out = app.ok("POST", f"/v1/agent-projects/{p['id']}/publish", role="user")
    agent = out["agent"]
    assert (agent["id"], agent["version"], agent["classification"], agent["status"]) == (
        "agent.helper",
        1,
        "user",
        "active",
    )
    assert (agent["instructions"], agent["tool_refs"], agent["max_tool_steps"]) == (
        "Answer briefly.",
        ["tool.python_exec"],
        2,
    )
    assert out["project"]["published"] == {**out["project"]["published"], "agent_id": "agent.helper", "version": 1,
                                           "revision": 1, "current": True}  # fmt: skip
    # the typed catalog (superadmin surface) sees it, and so does the registry with the workflow
    cat = app.ok("GET", "/v1/catalog/agents/agent.helper")
    assert (
        cat["version"] == 1
        and cat["owner_id"] == out["project"]["owner_id"]
        and cat["description"] == "Runs code"
    )
    assert app.ok("POST", "/v1/catalog/agents/agent.helper/validate")["valid"] is True
    # an update is a new revision; the next publish a new registry version
    upd = project(name="Helper 2", tool=None)
    p2 = app.ok("PUT", f"/v1/agent-projects/{p['id']}", role="user", json=upd)
    assert p2["revision"] == 2 and p2["published"]["current"] is False and p2["last_validation"] is None
    out2 = app.ok("POST", f"/v1/agent-projects/{p['id']}/publish", role="user")
    assert (out2["agent"]["version"], out2["agent"]["name"], out2["agent"]["tool_refs"]) == (
        2,
        "Helper 2",
        [],
    )
    assert out2["agent"]["max_tool_steps"] == 0
    assert app.ok("GET", "/v1/catalog/agents/agent.helper")["version"] == 2
    # the owner's published agent is an assistant the playground offers that owner
    assert "agent.helper" in [
        a["id"] for a in app.ok("GET", "/v1/playgrounds/options", role="user")["assistants"]
    ]
    assert "agent.helper" not in [
        a["id"] for a in app.ok("GET", "/v1/playgrounds/options", role="user2")["assistants"]
    ]


def test_agent_id_must_be_free_for_the_owner(app):
    app.refused("POST", "/v1/agent-projects", 409, "agent_project_target_taken", role="user",
                json=project(agent_id="agent.knowledge_chat"))  # fmt: skip
    p = app.ok("POST", "/v1/agent-projects", role="user", status=201, json=project(agent_id="agent.shared"))
    app.ok("POST", f"/v1/agent-projects/{p['id']}/publish", role="user")
    app.refused("POST", "/v1/agent-projects", 409, "agent_project_target_taken", role="user2",
                json=project(agent_id="agent.shared"))  # fmt: skip
    # two projects of one owner may publish the same agent; another owner's agent appearing later is refused
    q = app.ok("POST", "/v1/agent-projects", role="user2", status=201, json=project(agent_id="agent.later"))
    r = app.req("POST", "/v1/registry/agents", "user", json={"id": "agent.later", "spec": {"name": "mine"}})
    assert r.status_code == 201
    app.refused(
        "POST", f"/v1/agent-projects/{q['id']}/publish", 409, "agent_project_target_taken", role="user2"
    )
    app.refused(
        "POST", "/v1/agent-projects", 422, "invalid_request", role="user", json=project(agent_id="tool.x")
    )


def test_retrieval_nodes_need_an_active_ready_knowledge_base(app):
    from tests.genai.playgrounds.test_knowledge import _kb

    kb, _ = _kb(app, "handbook")
    wf = workflow(tool=None)
    wf["nodes"].insert(0, {"id": "look", "type": "retrieval", "knowledge_base_id": kb["id"], "top_k": 3})
    wf["entry"] = "look"
    wf["edges"].insert(0, {"from": "look", "to": "answer"})
    body = {"name": "Handbook", "workflow_definition": wf, "tool_policy": {"allowed_tools": []}}
    pid = app.ok("POST", "/v1/agent-projects", role="user", status=201, json=body)["id"]
    v = app.ok("POST", f"/v1/agent-projects/{pid}/validate", role="user")
    assert v["valid"] is True and v["compiled"]["knowledge_base_ids"] == [kb["id"]]
    app.ok("PUT", f"/v1/context/knowledge-bases/{kb['id']}", json={"lifecycle_state": "archived"})
    errors = app.ok("POST", f"/v1/agent-projects/{pid}/validate", role="user")["errors"]
    assert [(e["path"], e["code"]) for e in errors] == [
        ("workflow_definition.nodes[0].knowledge_base_id", "knowledge_base_unavailable")]  # fmt: skip

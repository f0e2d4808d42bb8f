"""Stored policy rules take effect: ``agent.execute`` and ``tool.use`` on agent executions and
``model.inference`` on inference/generation, refused with 403 ``policy_denied``; priority order,
deny-before-allow, subjects by role and by user, glob patterns, conditions and disabled rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ridgeline.genai.api.executions import SETTINGS_KEY, SNAPSHOT_KEY, ExecutionSettings
from tests.genai.catalog.conftest import P, reason
from tests.genai.catalog.servers import agent_engine

pytestmark = pytest.mark.db

TOKEN = "engine-test-token-policy"
BODY = {"agent_id": "agent.knowledge_chat", "input": {"message": "When?", "context": ["It opens at 07:00."]}}


@pytest.fixture(scope="module")
def engine() -> Iterator[str]:
    with agent_engine(TOKEN) as url:
        yield url


def _wire(app: Any, engine: str) -> None:
    state = app.app.state["ctx"].state
    state[SETTINGS_KEY] = ExecutionSettings(agent_engine_url=engine, agent_engine_service_token=TOKEN)

    async def snapshot(svc: Any) -> dict[str, Any]:
        return {"runtime_profile": "online", "capabilities": {}}

    state[SNAPSHOT_KEY] = snapshot


def rule(app: Any, tokens: Any, **body: Any) -> dict[str, Any]:
    r = app.post(P + "/v1/policy/rules", json=body, headers=tokens["super"])
    assert r.status_code == 201, r.text
    return r.json()


def execute(app: Any, tokens: Any, who: str, agent_id: str = "agent.knowledge_chat") -> Any:
    return app.post(P + "/v1/agent-executions", json={**BODY, "agent_id": agent_id}, headers=tokens[who])


def test_agent_execute_rules(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    _wire(app, engine)
    assert execute(app, tokens, "user").status_code == 201  # no rule: the route's role decides
    rule(app, tokens, name="disabled", effect="deny", subjects=["*"], actions=["*"], enabled=False)
    assert execute(app, tokens, "user").status_code == 201
    deny = rule(app, tokens, name="no-agents-for-users", effect="deny", subjects=["role:user"],
                actions=["agent.*"], resources=["agent.knowledge_*"])  # fmt: skip
    r = execute(app, tokens, "user")
    assert r.status_code == 403 and reason(r) == "policy_denied", r.text
    body = r.json()
    assert (body["rule_id"], body["action"], body["resource"]) == (
        deny["id"],
        "agent.execute",
        "agent.knowledge_chat",
    )
    assert execute(app, tokens, "super").status_code == 201  # role:user does not name a superadmin
    # an allow of a lower priority number wins for that one user; an equal-priority deny beats an allow
    rule(app, tokens, name="user2-may", effect="allow", subjects=[f"user:{tokens.ids['user2']}"],
         actions=["agent.execute"], priority=10)  # fmt: skip
    assert execute(app, tokens, "user2").status_code == 201
    assert reason(execute(app, tokens, "user")) == "policy_denied"
    rule(
        app,
        tokens,
        name="admin-allow",
        effect="allow",
        subjects=["role:admin"],
        actions=["agent.execute"],
        priority=5,
    )
    rule(
        app,
        tokens,
        name="admin-deny",
        effect="deny",
        subjects=["role:admin"],
        actions=["agent.execute"],
        priority=5,
    )
    r = execute(app, tokens, "admin")
    assert r.status_code == 403 and r.json()["rule_name"] == "admin-deny"
    # conditions: on the agent's classification (agent.knowledge_chat is a platform agent)
    rule(app, tokens, name="super-no-platform", effect="deny", subjects=["role:superadmin"], actions=["agent.execute"],
         conditions={"agent_classification": ["platform"]})  # fmt: skip
    r = execute(app, tokens, "super")
    assert r.status_code == 403 and r.json()["rule_name"] == "super-no-platform"
    rule(app, tokens, name="cond-unknown", effect="deny", subjects=["user:nobody-else"], actions=["*"],
         conditions={"no_such_attribute": 1})  # fmt: skip
    listed = app.get(P + "/v1/policy/rules", headers=tokens["super"]).json()
    assert listed["total"] == 7


def test_tool_use_rules(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    _wire(app, engine)
    agent = {
        "id": "agent.coder",
        "spec": {"name": "Coder", "tool_refs": ["tool.web_search", "tool.python_exec"]},
    }
    assert app.post(P + "/v1/registry/agents", json=agent, headers=tokens["user"]).status_code == 201
    rule(app, tokens, name="no-code", effect="deny", subjects=["*"], actions=["tool.use"], resources=["tool.python_exec"],
         conditions={"transport": "sandbox_http"})  # fmt: skip
    r = execute(app, tokens, "user", "agent.coder")
    assert r.status_code == 403 and reason(r) == "policy_denied"
    assert (r.json()["action"], r.json()["resource"]) == ("tool.use", "tool.python_exec")
    # an agent without that tool still runs
    assert execute(app, tokens, "user").status_code == 201


def test_model_inference_rules(app, tokens) -> None:  # type: ignore[no-untyped-def]
    def gen(who: str) -> Any:
        return app.post(P + "/v1/models/generate", json={"prompt": "hello"}, headers=tokens[who])

    assert gen("user").status_code == 200  # the default deployment's extractive chat
    rule(app, tokens, name="cloud-only-deny", effect="deny", subjects=["*"], actions=["model.inference"],
         conditions={"provider_origin": "cloud"})  # fmt: skip
    assert gen("user").status_code == 200  # the condition does not hold for a local provider
    rule(app, tokens, name="no-inference-for-users", effect="deny", subjects=["role:user"],
         actions=["model.inference"], resources=["ridgeline-extractive-*"])  # fmt: skip
    for path, body in (("/v1/models/generate", {"prompt": "x"}),
                       ("/v1/models/inference", {"messages": [{"role": "user", "content": "x"}]})):  # fmt: skip
        r = app.post(P + path, json=body, headers=tokens["user"])
        assert r.status_code == 403 and reason(r) == "policy_denied", r.text
        assert (r.json()["action"], r.json()["resource"]) == ("model.inference", "ridgeline-extractive-1")
    assert gen("admin").status_code == 200

"""Agent executions: the backend proxy against the real ``ridgeline agent-engine`` process on
loopback, tool dispatch over MCP and the sandbox, and every refusal (transport failure -> 503
``EXEC_UPSTREAM_UNAVAILABLE``, the backend never running the agent itself)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ridgeline.genai.api import executions
from ridgeline.genai.api.executions import SETTINGS_KEY, SNAPSHOT_KEY, ExecutionSettings
from tests.ai.fakes import serve
from tests.genai.catalog.conftest import ANON, P, reason, refused
from tests.genai.catalog.servers import (
    McpCalls,
    agent_engine,
    mcp_app,
    sandbox_app,
    scripted_llm,
    serve_asgi,
)
from tests.netutil import free_port

pytestmark = pytest.mark.db

TOKEN = "engine-test-token-5b1f"
CONTEXT = ["The north gate opens at 07:00 on weekdays.", "Parcels are collected from the loading bay."]


@pytest.fixture(scope="module")
def engine() -> Iterator[str]:
    with agent_engine(TOKEN) as url:
        yield url


def ctx_state(app: Any) -> dict[str, Any]:
    return app.app.state["ctx"].state


def use_engine(app: Any, url: str, **overrides: Any) -> None:
    fields = {"agent_engine_url": url, "agent_engine_service_token": TOKEN, **overrides}
    ctx_state(app)[SETTINGS_KEY] = ExecutionSettings(**fields)


def use_snapshot(app: Any, snapshot: dict[str, Any]) -> list[Any]:
    seen: list[Any] = []

    async def fn(svc: Any) -> dict[str, Any]:
        seen.append(svc)
        return snapshot

    ctx_state(app)[SNAPSHOT_KEY] = fn
    return seen


def run(app: Any, tokens: Any, agent_id: str = "agent.knowledge_chat", who: str = "user", **kw: Any) -> Any:
    body = {"agent_id": agent_id, "input": {"message": "When does the north gate open?", "context": CONTEXT}}
    return app.post(
        P + "/v1/agent-executions", json=body, headers={**tokens[who], **kw.pop("headers", {})}, **kw
    )


def test_knowledge_chat_runs_on_the_engine_with_the_snapshot(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    use_engine(app, engine)
    seen = use_snapshot(app, {"runtime_profile": "online", "capabilities": {}})
    r = run(app, tokens, headers={"X-Request-Id": "req-exec-0001"})
    assert r.status_code == 201, r.text
    rec = r.json()
    assert seen, "the execution-scoped snapshot function was not called"
    assert (
        rec["status"] == "succeeded"
        and rec["agent_id"] == "agent.knowledge_chat"
        and rec["agent_version"] == 1
    )
    assert rec["requested_by"] == tokens.ids["user"]
    assert rec["request_id"] == "req-exec-0001"  # X-Request-Id reached the engine
    # The offline extractive provider quoted the matching context sentence.
    assert "07:00" in rec["output"]["content"] and rec["output"]["metadata"]["extractive"] is True
    got = app.get(P + f"/v1/agent-executions/{rec['id']}", headers=tokens["user"])
    assert got.status_code == 200 and got.json()["id"] == rec["id"]
    assert got.json()["output"] == rec["output"]
    # Another user does not see it; a superadmin does.
    other = app.get(P + f"/v1/agent-executions/{rec['id']}", headers=tokens["user2"])
    assert other.status_code == 404 and reason(other) == "execution_not_found"
    assert app.get(P + f"/v1/agent-executions/{rec['id']}", headers=tokens["super"]).status_code == 200
    missing = app.get(P + "/v1/agent-executions/exec_nope", headers=tokens["user"])
    assert missing.status_code == 404 and reason(missing) == "execution_not_found"


def test_roles(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    use_engine(app, engine)
    refused(
        app,
        tokens,
        "POST",
        "/v1/agent-executions",
        ANON,
        json={"agent_id": "agent.knowledge_chat", "input": {"message": "x"}},
    )
    refused(app, tokens, "GET", "/v1/agent-executions/exec_x", ANON)


def test_tools_dispatch_over_mcp_and_the_sandbox(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    use_engine(app, engine)
    calls = McpCalls()
    agent = {
        "id": "agent.researcher",
        "spec": {
            "name": "Researcher",
            "tool_refs": ["tool.web_search", "tool.python_exec"],
            "max_tool_steps": 2,
        },
    }
    assert app.post(P + "/v1/registry/agents", json=agent, headers=tokens["user"]).status_code == 201
    with (
        serve(scripted_llm()) as llm,
        serve(sandbox_app()) as sandbox,
        serve_asgi(mcp_app(calls), lifespan="on") as mcp,
    ):
        use_snapshot(
            app,
            {
                "runtime_profile": "online",
                "capabilities": {
                    "llm_inference": {
                        "provider": {
                            "id": "p-llm",
                            "provider_key": "vllm_local",
                            "provider_origin": "local",
                            "endpoint_url": llm.base_url,
                        },
                        "default_resource": {"id": "m1", "runtime_model_id": "fake-chat"},
                    },
                    "mcp_runtime": {
                        "provider": {"provider_key": "mcp_gateway_local", "endpoint_url": mcp + "/mcp"}
                    },
                    "sandbox_execution": {
                        "provider": {"provider_key": "sandbox_local", "endpoint_url": sandbox.base_url}
                    },
                },
            },
        )
        r = run(app, tokens, agent_id="agent.researcher")
        assert r.status_code == 201, r.text
        rec = r.json()
        sandbox_requests = [q.json() for q in sandbox.requests]
        llm_requests = [q.json() for q in llm.requests]
    assert rec["status"] == "succeeded", rec
    assert calls == [("web_search", {"query": "ridgeline"})]  # the MCP server really got the call
    assert sandbox_requests == [
        {"language": "python", "code": "print(1+1)", "dry_run": False, "timeout_s": 30.0}
    ]
    trace = {t["tool_id"]: t for t in rec["tool_calls"]}
    assert trace["tool.web_search"]["ok"] and trace["tool.web_search"]["transport"] == "mcp"
    assert trace["tool.python_exec"]["ok"] and trace["tool.python_exec"]["transport"] == "sandbox_http"
    assert rec["output"]["content"] == (
        "Answer: Top result for ridgeline: Ridgeline ships an agent engine. | ran 10 characters of python"
    )
    assert rec["runtime"]["model"] == "fake-chat"
    assert llm_requests[0]["model"] == "fake-chat" and {
        t["function"]["name"] for t in llm_requests[0]["tools"]
    } == {
        "web_search",
        "python_exec",
    }


def test_offline_profile_blocks_cloud_llm_and_online_only_tools(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    use_engine(app, engine)
    use_snapshot(
        app,
        {
            "runtime_profile": "offline",
            "capabilities": {
                "llm_inference": {
                    "provider": {
                        "provider_key": "openai_compatible_cloud_llm",
                        "provider_origin": "cloud",
                        "endpoint_url": "http://127.0.0.1:9",
                    },
                },
            },
        },
    )
    r = run(app, tokens)
    assert r.status_code == 409 and reason(r) == "offline_provider_blocked"
    calls = McpCalls()
    agent = {
        "id": "agent.searcher",
        "spec": {"name": "Searcher", "tool_refs": ["tool.web_search"], "max_tool_steps": 1},
    }
    assert app.post(P + "/v1/registry/agents", json=agent, headers=tokens["user"]).status_code == 201
    with serve(scripted_llm()) as llm, serve_asgi(mcp_app(calls), lifespan="on") as mcp:
        use_snapshot(
            app,
            {
                "runtime_profile": "offline",
                "capabilities": {
                    "llm_inference": {
                        "provider": {"provider_key": "vllm_local", "endpoint_url": llm.base_url},
                        "default_resource_id": "m",
                    },
                    "mcp_runtime": {
                        "provider": {"provider_key": "mcp_gateway_local", "endpoint_url": mcp + "/mcp"}
                    },
                },
            },
        )
        r = run(app, tokens, agent_id="agent.searcher")
    assert r.status_code == 201, r.text
    trace = r.json()["tool_calls"]
    assert calls == []  # web_search is online only: not called while offline
    search = [t for t in trace if t["tool_name"] == "web_search"]
    assert len(search) == 1 and not search[0]["ok"] and "offline_provider_blocked" in search[0]["error"]
    # python_exec is not among this agent's tools: offered none, the engine refuses the model's call.
    assert [t["error"] for t in trace if t["tool_name"] == "python_exec"] == ["unknown tool"]


def test_transport_failure_is_503_exec_upstream_unavailable(app, tokens) -> None:  # type: ignore[no-untyped-def]
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    use_snapshot(app, {"capabilities": {}})
    use_engine(app, dead, agent_execution_fallback=True)
    r = run(app, tokens)
    assert r.status_code == 503 and reason(r) == "EXEC_UPSTREAM_UNAVAILABLE"
    assert r.headers["retry-after"] == "5"
    first = r.json()["detail"]
    again = run(app, tokens)
    assert again.json()["detail"] == first  # deterministic
    got = app.get(P + "/v1/agent-executions/exec_1", headers=tokens["user"])
    assert got.status_code == 503 and reason(got) == "EXEC_UPSTREAM_UNAVAILABLE"
    use_engine(app, dead, agent_execution_fallback=False)
    r = run(app, tokens)
    assert r.status_code == 503 and reason(r) == "EXEC_UPSTREAM_ERROR" and r.json()["cause"] == "ConnectError"


def test_engine_disabled_and_agent_refusals(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    use_snapshot(app, {"capabilities": {}})
    use_engine(app, engine, agent_execution_via_engine=False)
    r = run(app, tokens)
    assert r.status_code == 503 and reason(r) == "EXEC_ENGINE_DISABLED"
    use_engine(app, engine)
    r = run(app, tokens, agent_id="agent.nope")
    assert r.status_code == 404 and reason(r) == "catalog_agent_not_found"
    spec = {"name": "Sleeper", "status": "inactive"}
    assert (
        app.post(
            P + "/v1/registry/agents", json={"id": "agent.sleeper", "spec": spec}, headers=tokens["user"]
        ).status_code
        == 201
    )
    r = run(app, tokens, agent_id="agent.sleeper")
    assert r.status_code == 409 and reason(r) == "agent_inactive"
    r = app.post(
        P + "/v1/agent-executions",
        json={"agent_id": "agent.knowledge_chat", "input": {}},
        headers=tokens["user"],
    )
    assert r.status_code == 422


def test_a_wrong_service_token_is_refused_by_the_engine(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    use_snapshot(app, {"capabilities": {}})
    use_engine(app, engine, agent_engine_service_token="wrong-token")
    r = run(app, tokens)
    assert r.status_code == 503 and reason(r) == "EXEC_UPSTREAM_ERROR" and r.json()["upstream_status"] == 401
    # The engine itself: no token, wrong token -> 401 invalid_service_token.
    for headers in ({}, {"X-Service-Token": "nope"}):
        direct = httpx.post(engine + "/v1/internal/agent-executions", json={}, headers=headers, timeout=10)
        assert direct.status_code == 401 and direct.json()["reason_code"] == "invalid_service_token"
        direct = httpx.get(engine + "/v1/internal/agent-executions/x", headers=headers, timeout=10)
        assert direct.status_code == 401


def test_default_snapshot_function() -> None:
    """Without an override the proxy sends the control plane's snapshot of the active bindings."""

    class Svc:
        class ctx:
            state: dict[str, Any] = {}

    assert executions.snapshot_function(Svc()) is executions._control_plane_snapshot  # type: ignore[arg-type]


def test_the_engine_refuses_to_start_without_a_service_token() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "AGENT_ENGINE_SERVICE_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "ridgeline.cli", "agent-engine", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "AGENT_ENGINE_SERVICE_TOKEN" in proc.stderr


def test_the_default_install_runs_on_the_control_planes_own_snapshot(app, tokens, engine) -> None:  # type: ignore[no-untyped-def]
    """No snapshot override: the proxy sends the control plane's snapshot of the active local-default
    deployment (embedded extractive chat), and the engine answers from it end to end."""
    use_engine(app, engine)
    r = run(app, tokens)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["status"] == "succeeded", rec
    assert "07:00" in rec["output"]["content"]

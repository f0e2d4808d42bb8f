"""/agents: sessions, history in the database, chat with real retail tools (offline deterministic
selection, and a configured OpenAI-compatible model choosing the tools), HITL approval, close,
expiry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.retail.test_forecast_api import _ingest

from .fakes import chat_app, serve

pytestmark = pytest.mark.db


def _expire(c: Any, sid: str) -> None:
    import sqlalchemy as sa

    from ridgeline.retail.api.ai_store import agent_sessions

    ctx = c.app.state["ctx"]

    async def call() -> None:
        async with ctx.db.begin() as conn:
            await conn.execute(
                sa.update(agent_sessions)
                .where(agent_sessions.c.id == sid)
                .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
            )

    c.blocking_portal.call(call)


def _session(c: Any, agent_type: str = "experiment") -> str:
    r = c.post("/retail/agents/sessions", json={"agent_type": agent_type})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active" and r.json()["agent_type"] == agent_type
    return r.json()["session_id"]


def _chat(c: Any, sid: str, message: str) -> Any:
    return c.post(f"/retail/agents/sessions/{sid}/chat", json={"message": message})


def test_offline_experiment_agent_runs_real_backtest_and_training(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    s, p, _ = _ingest(c)
    sid = _session(c)
    r = _chat(c, sid, f"Backtest naive and seasonal_naive for store {s} product {p}, which model is best?")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["tool_selection"] == "deterministic" and out["provider"] == "extractive"
    assert out["message"].startswith("[offline:")
    [call] = out["tool_calls"]
    assert call["tool_name"] == "run_backtest" and call["status"] == "ok"
    assert call["arguments"] == {"store_id": s, "product_id": p, "model_types": ["seasonal_naive", "naive"]}
    res = call["result"]
    assert {m["model_type"] for m in res["models"]} == {"naive", "seasonal_naive"}
    assert (
        res["winner"] == res["models"][0]["model_type"]
        and 0 <= res["models"][0]["wape"] <= res["models"][1]["wape"]
    )
    # The same backtest through the HTTP endpoint gives the same WAPE: the tool called the engine.
    direct = c.post(
        "/retail/backtesting/run",
        json={
            "store_id": s,
            "product_id": p,
            "models": [{"model_type": "seasonal_naive"}, {"model_type": "naive"}],
            "horizon": 14,
            "n_folds": 3,
        },
    ).json()
    wapes = {m["model_type"]: m["metrics"]["wape"] for m in direct["summary"]}
    assert {m["model_type"]: m["wape"] for m in res["models"]} == pytest.approx(wapes)
    assert f"Winner: {res['winner']}" in out["message"]

    t = _chat(c, sid, f"train a moving_average model for store {s} product {p}").json()
    [train] = t["tool_calls"]
    assert train["tool_name"] == "train_model" and train["result"]["status"] == "success"
    run_id = train["result"]["run_id"]
    assert c.get(f"/retail/registry/runs/{run_id}").json()["model_type"] == "moving_average"

    sim = _chat(c, sid, f"simulate a price +10% scenario on run {run_id}").json()
    [sc] = sim["tool_calls"]
    assert sc["tool_name"] == "simulate_scenario" and sc["arguments"]["price_change_pct"] == 10.0
    assert sc["status"] == "ok" and sc["result"]["baseline_total"] > 0

    detail = c.get(f"/retail/agents/sessions/{sid}").json()
    roles = [m["role"] for m in detail["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"] * 3
    assert detail["messages"][1]["tool_calls"][0]["name"] == "run_backtest"
    assert detail["tool_calls_count"] == 3 and detail["total_tokens_used"] > 0


def test_approval_gate_pauses_until_approved_or_rejected(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    s, p, _ = _ingest(c)
    run_id = c.post(
        "/retail/forecasting/train", json={"store_id": s, "product_id": p, "config": {"model_type": "naive"}}
    ).json()["run_id"]
    sid = _session(c)
    r = _chat(c, sid, f"set alias champion-1 to run {run_id}").json()
    assert r["pending_approval"]["tool_name"] == "create_alias"
    assert r["tool_calls"] == [
        {
            "tool_call_id": r["pending_approval"]["tool_call_id"],
            "tool_name": "create_alias",
            "arguments": {"alias_name": "champion-1", "run_id": run_id},
            "result": None,
            "duration_ms": None,
            "status": "pending_approval",
        }
    ]
    assert c.get("/retail/registry/aliases/champion-1").status_code == 404  # not run yet
    # The pending call is stored: a fresh read (another worker, a reconnect) sees it.
    assert (
        c.get(f"/retail/agents/sessions/{sid}").json()["pending_approval"]["tool_call_id"]
        == r["pending_approval"]["tool_call_id"]
    )
    busy = _chat(c, sid, "anything else")
    assert busy.status_code == 409 and busy.json()["reason_code"] == "approval_pending"
    wrong = c.post(
        f"/retail/agents/sessions/{sid}/approve", json={"tool_call_id": "call_nope", "approved": True}
    )
    assert wrong.status_code == 409 and wrong.json()["reason_code"] == "no_pending_approval"
    ok = c.post(
        f"/retail/agents/sessions/{sid}/approve",
        json={"tool_call_id": r["pending_approval"]["tool_call_id"], "approved": True},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["pending_approval"] is None and ok.json()["tool_calls"][0]["status"] == "ok"
    assert c.get("/retail/registry/aliases/champion-1").json()["run_id"] == run_id
    again = c.post(
        f"/retail/agents/sessions/{sid}/approve",
        json={"tool_call_id": r["pending_approval"]["tool_call_id"], "approved": True},
    )
    assert again.status_code == 409 and again.json()["reason_code"] == "no_pending_approval"

    r2 = _chat(c, sid, f"set alias champion-2 to run {run_id}").json()
    no = c.post(
        f"/retail/agents/sessions/{sid}/approve",
        json={
            "tool_call_id": r2["pending_approval"]["tool_call_id"],
            "approved": False,
            "reason": "not today",
        },
    ).json()
    assert no["tool_calls"][0]["status"] == "rejected" and "rejected" in no["message"]
    assert c.get("/retail/registry/aliases/champion-2").status_code == 404


def test_no_gate_when_approval_list_is_empty(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    s, p, _ = _ingest(c)
    run_id = c.post(
        "/retail/forecasting/train", json={"store_id": s, "product_id": p, "config": {"model_type": "naive"}}
    ).json()["run_id"]
    c.patch("/retail/config/ai", json={"agent_require_approval": []})
    sid = _session(c)
    r = _chat(c, sid, f"set alias fast-1 to run {run_id}").json()
    assert r["pending_approval"] is None and r["tool_calls"][0]["status"] == "ok"
    assert c.get("/retail/registry/aliases/fast-1").status_code == 200


def test_session_lifecycle_errors(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    missing = _chat(c, "0" * 32, "hi")
    assert missing.status_code == 404 and missing.json()["reason_code"] == "session_not_found"
    assert c.get(f"/retail/agents/sessions/{'0' * 32}").status_code == 404
    assert c.post("/retail/agents/sessions", json={"agent_type": "pirate"}).status_code == 422
    sid = _session(c)
    closed = c.delete(f"/retail/agents/sessions/{sid}")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    r = _chat(c, sid, "hi")
    assert r.status_code == 409 and r.json()["reason_code"] == "session_closed"
    sid2 = _session(c)
    _expire(c, sid2)
    assert c.get(f"/retail/agents/sessions/{sid2}").json()["status"] == "expired"
    exp = _chat(c, sid2, "hi")
    assert exp.status_code == 410 and exp.json()["reason_code"] == "session_expired"


def test_offline_rag_assistant_retrieves_and_cites(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    c.post(
        "/retail/rag/index",
        json={
            "source_type": "markdown",
            "source_path": "ops/docks.md",
            "content": "# Docks\n\nDock 4 handles refrigerated freight.\n\n# Parking\n\nVisitors park at the north gate.",
        },
    )
    sid = _session(c, "rag_assistant")
    r = _chat(c, sid, "Which dock handles refrigerated freight?").json()
    assert r["tool_selection"] == "deterministic"
    assert r["tool_calls"][0]["tool_name"] == "retrieve_context"
    assert r["tool_calls"][0]["result"]["results"][0]["source_path"] == "ops/docks.md"
    assert "Dock 4 handles refrigerated freight." in r["message"] and "Sources: ops/docks.md" in r["message"]


def test_configured_model_chooses_the_tools(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    s, p, _ = _ingest(c)
    plan = [
        {
            "tool": "run_backtest",
            "arguments": {"store_id": s, "product_id": p, "model_types": ["naive", "moving_average"]},
        },
        {"text": "The backtest says: {tool}"},
    ]
    with serve(chat_app(plan)) as llm:
        c.patch(
            "/retail/config/ai",
            json={
                "agent_provider": "openai",
                "agent_model": "gpt-4o-mini",
                "openai_base_url": f"{llm.base_url}/v1",
                "openai_api_key": "sk-agent-test-1",
            },
        )
        sid = _session(c)
        r = _chat(c, sid, "How good are the simple models on my best series?")
        assert r.status_code == 200, r.text
        out = r.json()
        assert (
            out["tool_selection"] == "model" and out["provider"] == "openai" and out["model"] == "gpt-4o-mini"
        )
        assert out["tool_calls"][0]["tool_name"] == "run_backtest" and out["tool_calls"][0]["status"] == "ok"
        assert {m["model_type"] for m in out["tool_calls"][0]["result"]["models"]} == {
            "naive",
            "moving_average",
        }
        assert out["message"].startswith("The backtest says:") and "wape" in out["message"]
        assert out["tokens_used"] == 50  # the fake reports 25 per request, two requests
        first, second = llm.requests
        assert {t["function"]["name"] for t in first.json()["tools"]} >= {
            "run_backtest",
            "train_model",
            "simulate_scenario",
        }
        assert first.headers["authorization"] == "Bearer sk-agent-test-1"
        assert second.json()["messages"][-1]["role"] == "tool"
    # The provider is gone: a 502 in the family's shape.
    down = _chat(c, sid, "again")
    assert down.status_code == 502 and down.json()["reason_code"] == "llm_provider_error"


@pytest.mark.parametrize("kind", ["anthropic", "gemini", "ollama"])
def test_other_providers_choose_tools_over_their_own_wire_protocols(make_client, kind: str) -> None:  # type: ignore[no-untyped-def]
    """The AI layer's fakes speak each provider's protocol and call the first tool offered
    (``list_series``), then answer ``Result: <tool output>``."""
    from tests.ai import fakes as ai_fakes

    from .fakes import _PerRequestDisconnect

    make = {
        "anthropic": ai_fakes.anthropic_app,
        "gemini": ai_fakes.gemini_app,
        "ollama": ai_fakes.ollama_app,
    }[kind]
    c = make_client()
    _ingest(c)
    with serve(_PerRequestDisconnect(make().handler)) as llm:
        cfg: dict[str, Any] = {"agent_provider": kind, "agent_model": "m-1"}
        if kind == "anthropic":
            cfg.update(anthropic_base_url=llm.base_url, anthropic_api_key="sk-ant-test-1")
        elif kind == "gemini":
            cfg.update(google_base_url=f"{llm.base_url}/v1beta", google_api_key="g-test-1")
        else:
            cfg.update(ollama_base_url=llm.base_url)
        assert c.patch("/retail/config/ai", json=cfg).status_code == 200
        sid = _session(c)
        r = _chat(c, sid, "what data do we have?")
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["tool_selection"] == "model" and out["provider"] == kind
        assert [t["tool_name"] for t in out["tool_calls"]] == ["list_series"]
        assert out["tool_calls"][0]["result"]["series"][0]["days"] == 200
        assert out["message"].startswith("Result: ") and '"series"' in out["message"]
        assert len(llm.requests) == 2

"""The agent engine keeps its execution records in its own SQLite database: a record made through
the backend proxy is still served after the real ``ridgeline agent-engine`` process is stopped and
started again on the same database; the newest ``AGENT_ENGINE_MAX_RECORDS`` are kept."""

from __future__ import annotations

import pytest

from ridgeline.genai.agent_engine.app import RecordStore
from ridgeline.genai.api.executions import SETTINGS_KEY, SNAPSHOT_KEY, ExecutionSettings
from tests.genai.catalog.conftest import P, reason
from tests.genai.catalog.servers import agent_engine

pytestmark = pytest.mark.db

TOKEN = "engine-test-token-persist"
BODY = {"agent_id": "agent.knowledge_chat", "input": {"message": "When?", "context": ["It opens at 07:00."]}}


def _point(app, url: str) -> None:  # type: ignore[no-untyped-def]
    state = app.app.state["ctx"].state
    state[SETTINGS_KEY] = ExecutionSettings(agent_engine_url=url, agent_engine_service_token=TOKEN)

    async def snapshot(svc):  # type: ignore[no-untyped-def]
        return {"runtime_profile": "online", "capabilities": {}}

    state[SNAPSHOT_KEY] = snapshot


def test_records_survive_an_engine_restart(app, tokens, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "engine" / "agent-engine.db")
    with agent_engine(TOKEN, db_path=db) as url:
        _point(app, url)
        r = app.post(P + "/v1/agent-executions", json=BODY, headers=tokens["user"])
        assert r.status_code == 201, r.text
        rec = r.json()
    with agent_engine(TOKEN, db_path=db) as url:  # a new process on the same database
        _point(app, url)
        got = app.get(P + f"/v1/agent-executions/{rec['id']}", headers=tokens["user"])
        assert got.status_code == 200, got.text
        assert got.json() == rec
        other = app.get(P + f"/v1/agent-executions/{rec['id']}", headers=tokens["user2"])
        assert other.status_code == 404 and reason(other) == "execution_not_found"
    with agent_engine(TOKEN) as url:  # another database does not have it
        _point(app, url)
        r = app.get(P + f"/v1/agent-executions/{rec['id']}", headers=tokens["user"])
        assert r.status_code == 404 and reason(r) == "execution_not_found"


def test_retention_keeps_the_newest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    async def run() -> None:
        store = RecordStore(str(tmp_path / "r.db"))
        for i in range(5):
            await store.put({"id": f"e{i}", "created_at": "2026-12-01T00:00:00Z", "n": i}, keep=3)
        assert [await store.get(f"e{i}") is not None for i in range(5)] == [False, False, True, True, True]
        assert (await store.get("e4"))["n"] == 4  # type: ignore[index]
        store.close()

    asyncio.run(run())

"""The two WebSocket protocols over a served app (uvicorn on loopback, a real WebSocket client), and
the demo pipeline's one-at-a-time lease across workers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from .fakes import chat_app, serve, served

pytestmark = pytest.mark.db


@pytest.fixture
def app_and_url(settings) -> Iterator[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    from ridgeline.app import create_app

    app = create_app(settings)
    with served(app) as hostport:
        yield app, hostport


def _http(hostport: str):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.Client(base_url=f"http://{hostport}", timeout=120, trust_env=False)


def _recv(ws: Any) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=120))


def _until(ws: Any, last: set[str]) -> list[dict[str, Any]]:
    frames = []
    while True:
        f = _recv(ws)
        frames.append(f)
        if f["event_type"] in last:
            return frames


def _ingest_http(h: Any) -> tuple[int, int]:
    from tests.retail.test_forecast_api import _ingest

    s, p, _ = _ingest(h)
    return s, p


def test_agents_stream_frames(app_and_url, make_client) -> None:  # type: ignore[no-untyped-def]
    _, hp = app_and_url
    with _http(hp) as h:
        s, p = _ingest_http(h)
        sid = h.post("/retail/agents/sessions", json={"agent_type": "experiment"}).json()["session_id"]
        run_id = h.post(
            "/retail/forecasting/train",
            json={"store_id": s, "product_id": p, "config": {"model_type": "naive"}},
        ).json()["run_id"]
        with connect(f"ws://{hp}/retail/agents/stream", open_timeout=30) as ws:
            # A missing field is a recoverable error; the connection stays open.
            ws.send(json.dumps({"session_id": sid}))
            err = _recv(ws)
            assert err["event_type"] == "error" and err["data"]["recoverable"] is True
            assert err["data"]["error_type"] == "validation_error" and set(err) == {
                "event_type",
                "data",
                "timestamp",
            }
            ws.send("not json")
            assert _recv(ws)["data"]["recoverable"] is True

            ws.send(json.dumps({"session_id": sid, "message": f"backtest naive for store {s} product {p}"}))
            frames = _until(ws, {"complete", "error"})
            kinds = [f["event_type"] for f in frames]
            assert kinds[0] == "tool_call_start" and kinds[1] == "tool_call_end" and kinds[-1] == "complete"
            assert set(kinds[2:-1]) == {"text_delta"} and len(kinds) > 4
            start, end, done = frames[0]["data"], frames[1]["data"], frames[-1]["data"]
            assert start["tool_name"] == "run_backtest" and start["arguments"]["store_id"] == s
            assert end["tool_call_id"] == start["tool_call_id"] and end["duration_ms"] > 0
            assert end["result"]["winner"] == "naive"
            text = "".join(f["data"]["delta"] for f in frames if f["event_type"] == "text_delta")
            assert text == done["message"] and done["tool_calls_count"] == 1 and done["tokens_used"] > 0
            assert all(datetime.fromisoformat(f["timestamp"]).tzinfo is not None for f in frames)

            # A gated tool: approval_required, no complete; REST approve releases it (after a reconnect).
            ws.send(json.dumps({"session_id": sid, "message": f"set alias ws-champ to run {run_id}"}))
            gate = _recv(ws)
            assert gate["event_type"] == "approval_required" and gate["data"]["tool_name"] == "create_alias"
        ok = h.post(
            f"/retail/agents/sessions/{sid}/approve",
            json={"tool_call_id": gate["data"]["tool_call_id"], "approved": True},
        )
        assert ok.status_code == 200 and ok.json()["tool_calls"][0]["status"] == "ok"
        assert h.get("/retail/registry/aliases/ws-champ").json()["run_id"] == run_id

        with connect(f"ws://{hp}/retail/agents/stream", open_timeout=30) as ws:
            ws.send(json.dumps({"session_id": "f" * 32, "message": "hi"}))
            nf = _recv(ws)
            assert nf["event_type"] == "error" and nf["data"] == {
                "error": nf["data"]["error"],
                "error_type": "session_not_found",
                "recoverable": False,
            }
            # Several messages per connection: the same socket serves the next one.
            ws.send(json.dumps({"session_id": sid, "message": "list the series"}))
            more = _until(ws, {"complete", "error"})
            assert more[-1]["event_type"] == "complete" and more[0]["data"]["tool_name"] == "list_series"
        h.delete(f"/retail/agents/sessions/{sid}")
        with connect(f"ws://{hp}/retail/agents/stream", open_timeout=30) as ws:
            ws.send(json.dumps({"session_id": sid, "message": "hi"}))
            closed = _recv(ws)
            assert closed["data"]["error_type"] == "session_closed" and closed["data"]["recoverable"] is False
        sid2 = h.post("/retail/agents/sessions", json={"agent_type": "experiment"}).json()["session_id"]
        from .test_agents import _expire

        _expire(make_client(), sid2)  # another app on the same database moves its expiry into the past
        with connect(f"ws://{hp}/retail/agents/stream", open_timeout=30) as ws:
            ws.send(json.dumps({"session_id": sid2, "message": "hi"}))
            expired = _recv(ws)
            assert (
                expired["data"]["error_type"] == "session_expired" and expired["data"]["recoverable"] is False
            )


def test_agents_stream_forwards_model_deltas(app_and_url) -> None:  # type: ignore[no-untyped-def]
    _, hp = app_and_url
    with serve(chat_app([{"text": "Hello from the model, streamed word by word."}])) as llm, _http(hp) as h:
        h.patch(
            "/retail/config/ai",
            json={
                "agent_provider": "openai",
                "agent_model": "gpt-4o-mini",
                "openai_base_url": f"{llm.base_url}/v1",
            },
        )
        sid = h.post("/retail/agents/sessions", json={"agent_type": "rag_assistant"}).json()["session_id"]
        with connect(f"ws://{hp}/retail/agents/stream", open_timeout=30) as ws:
            ws.send(json.dumps({"session_id": sid, "message": "hi"}))
            frames = _until(ws, {"complete", "error"})
        deltas = [f["data"]["delta"] for f in frames if f["event_type"] == "text_delta"]
        assert deltas == ["Hello ", "from ", "the ", "model, ", "streamed ", "word ", "by ", "word."]
        assert frames[-1]["data"] == {"message": "".join(deltas), "tokens_used": 25, "tool_calls_count": 0}


STEPS = ["seed_data", "select_series", "backtest", "train_winner", "register_alias", "verify_artifact"]


def test_demo_stream_runs_the_pipeline(app_and_url) -> None:  # type: ignore[no-untyped-def]
    _, hp = app_and_url
    with connect(f"ws://{hp}/retail/demo/stream", open_timeout=30) as ws:
        ws.send(json.dumps({"seed": 7, "skip_seed": False}))
        frames = _until(ws, {"pipeline_complete", "error"})
        with pytest.raises(ConnectionClosedOK):  # the server closes after the final event
            ws.recv(timeout=30)
    kinds = [(f["event_type"], f["step_name"]) for f in frames]
    expected = [(k, s) for s in STEPS for k in ("step_start", "step_complete")] + [
        ("pipeline_complete", "pipeline")
    ]
    assert kinds == expected
    for f in frames:
        assert set(f) == {
            "event_type",
            "step_name",
            "step_index",
            "total_steps",
            "status",
            "detail",
            "duration_ms",
            "data",
            "timestamp",
        }
        assert f["total_steps"] == 6
        if f["event_type"] == "step_start":
            assert f["status"] is None
    done = {f["step_name"]: f for f in frames if f["event_type"] == "step_complete"}
    assert all(done[s]["status"] == "pass" for s in STEPS), {
        s: (done[s]["status"], done[s]["detail"]) for s in STEPS
    }
    bt = done["backtest"]["data"]
    assert set(bt["per_model"]) == {"naive", "seasonal_naive", "moving_average"}
    assert bt["winner"] == min(bt["per_model"], key=lambda m: bt["per_model"][m])
    final = frames[-1]["data"]
    assert (
        final["winner_model_type"] == bt["winner"] and final["winner_wape"] == bt["per_model"][bt["winner"]]
    )
    assert (
        final["winning_run_id"]
        == done["register_alias"]["data"]["run_id"]
        == done["train_winner"]["data"]["run_id"]
    )
    assert final["alias"] == "demo-champion" and final["wall_clock_s"] > 0
    with _http(hp) as h:
        assert h.get("/retail/registry/aliases/demo-champion").json()["run_id"] == final["winning_run_id"]
        # skip_seed (the default) with data present: the seed step is skipped.
        r = h.post("/retail/demo/run", json={})
        assert r.status_code == 200, r.text
        res = r.json()
        assert res["success"] is True and res["steps"][0]["status"] == "skip" and res["total_steps"] == 6
        assert [s["step_name"] for s in res["steps"]] == STEPS
        assert h.get("/retail/demo/stream").status_code in (400, 404, 405, 426)  # WebSocket only

    with connect(f"ws://{hp}/retail/demo/stream", open_timeout=30) as ws:
        ws.send(json.dumps({"seed": "many"}))
        bad = _recv(ws)
        assert bad["event_type"] == "error" and bad["data"]["error_type"] == "validation_error"


def _hold_lease(client: Any, holder: str = "other-worker", minutes: int = 5) -> None:
    """Write the lease row as another worker would (through a TestClient's loop on the same database)."""
    import sqlalchemy as sa

    from ridgeline.retail.api.ai_store import demo_lease

    ctx = client.app.state["ctx"]
    now = datetime.now(UTC)

    async def put() -> None:
        async with ctx.db.begin() as conn:
            await conn.execute(sa.delete(demo_lease))
            await conn.execute(
                sa.insert(demo_lease).values(
                    name="demo", holder=holder, acquired_at=now, expires_at=now + timedelta(minutes=minutes)
                )
            )

    client.blocking_portal.call(put)


def test_one_pipeline_at_a_time_across_workers(settings, make_client) -> None:  # type: ignore[no-untyped-def]
    """The lease is a database row: a run held by another process (another app on the same database)
    makes this one answer 409 on POST and one error event on the stream."""
    from ridgeline.app import create_app

    worker_a = make_client()
    holder = make_client()
    app_b = create_app(settings)
    with served(app_b) as hp:
        _hold_lease(holder)  # a third process holds the lease
        busy = worker_a.post("/retail/demo/run", json={})
        assert busy.status_code == 409 and busy.json()["reason_code"] == "demo_already_running"
        assert busy.headers["content-type"].startswith("application/problem+json")
        with connect(f"ws://{hp}/retail/demo/stream", open_timeout=30) as ws:
            ws.send("{}")
            err = _recv(ws)
            assert err["event_type"] == "error" and err["data"]["error_type"] == "demo_already_running"
            with pytest.raises(ConnectionClosedOK):
                ws.recv(timeout=30)
        # An expired lease (its holder died) is taken over.
        _hold_lease(holder, minutes=-1)
        r = worker_a.post("/retail/demo/run", json={"skip_seed": False})
        assert r.status_code == 200 and r.json()["success"] is True


def test_post_while_a_streamed_run_is_in_flight_is_409(app_and_url, make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from ridgeline.retail.api import demo

    release = demo.release

    async def slow_release(ctx: Any, holder: str) -> None:
        await asyncio.sleep(0.5)  # a slow commit: pipeline_complete must still follow the release
        await release(ctx, holder)

    monkeypatch.setattr(demo, "release", slow_release)
    _, hp = app_and_url
    other = make_client()  # another app on the same database
    with connect(f"ws://{hp}/retail/demo/stream", open_timeout=30) as ws:
        ws.send(json.dumps({"skip_seed": False}))
        first = _recv(ws)
        assert first["event_type"] == "step_start" and first["step_name"] == "seed_data"
        busy = other.post("/retail/demo/run", json={})
        assert busy.status_code == 409 and busy.json()["reason_code"] == "demo_already_running"
        frames = _until(ws, {"pipeline_complete", "error"})
        assert frames[-1]["event_type"] == "pipeline_complete"
    # Released at the end: the next run goes through.
    assert other.post("/retail/demo/run", json={}).status_code == 200

"""``/messages/stream``: Server-Sent Events in order (start, token..., done | error), the turn stored
however the stream ends, refusals before the stream opens, and a client disconnect cancelling the
upstream call (against a real server on loopback, since the test client cannot disconnect)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.genai.catalog.servers import serve_asgi
from tests.genai.playgrounds.conftest import cloud_deployment, sse_events

pytestmark = pytest.mark.db


def _stream(app, sid, body, role="user"):
    return app.req("POST", f"/v1/playgrounds/sessions/{sid}/messages/stream", role, json=body)


def test_stream_sends_tokens_then_done_and_stores_the_turn(app, streaming_runtime):
    cloud_deployment(app, streaming_runtime)
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201, json={})["id"]
    r = _stream(app, sid, {"content": "hello there friend"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [e for e, _ in events]
    assert names[0] == "start" and names[-1] == "done" and set(names[1:-1]) == {"token"}
    start = events[0][1]
    assert (start["session_id"], start["model"], start["runtime_model_id"]) == (sid, "gpt-a", "gpt-a-2026")
    tokens = [d["delta"] for e, d in events if e == "token"]
    assert tokens == ["Echo: ", "hello ", "there ", "friend"]  # one event per provider chunk
    done = events[-1][1]
    assert done["assistant_message"]["content"] == "Echo: hello there friend"
    assert done["finish_reason"] == "stop" and done["usage"] == {"input_tokens": 4, "output_tokens": 3}
    assert streaming_runtime.bodies[-1]["stream"] is True
    s = app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")
    assert [(m["role"], m["content"]) for m in s["messages"]] == [
        ("user", "hello there friend"), ("assistant", "Echo: hello there friend")]  # fmt: skip
    assert s["messages"][1]["metadata"]["status"] == "complete"


def test_stream_through_the_extractive_default(app):
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201, json={})["id"]
    events = sse_events(_stream(app, sid, {"content": "anything"}).text)
    assert events[0][0] == "start" and events[-1][0] == "done"
    assert events[0][1]["provider"]["provider_key"] == "ridgeline_extractive_chat"
    text = "".join(d["delta"] for e, d in events if e == "token")
    assert events[-1][1]["assistant_message"]["content"] == text


def test_refusals_come_before_the_stream_opens(app, streaming_runtime):
    cloud_deployment(app, streaming_runtime)
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201, json={})["id"]
    app.refused("POST", f"/v1/playgrounds/sessions/{sid}/messages/stream", 404, "playground_session_not_found",
                role="user2", json={"content": "x"})  # fmt: skip
    app.ok(
        "PATCH",
        f"/v1/playgrounds/sessions/{sid}",
        role="user",
        json={"model_selection": {"model_id": "gpt-b"}},
    )
    app.set_mode_unchecked("offline")
    app.refused("POST", f"/v1/playgrounds/sessions/{sid}/messages/stream", 409, "offline_provider_blocked",
                role="user", json={"content": "x"})  # fmt: skip
    assert app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")["messages"] == []


def test_upstream_failure_after_open_is_an_error_event(app, streaming_runtime):
    cloud_deployment(app, streaming_runtime)
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201,
                 json={"model_selection": {"model_id": "broken"}})["id"]  # fmt: skip
    events = sse_events(_stream(app, sid, {"content": "x"}).text)
    assert [e for e, _ in events] == ["start", "error"]
    assert events[1][1]["reason_code"] == "provider_upstream_error"
    assert events[1][1]["assistant_message"]["metadata"]["status"] == "failed"


def test_client_disconnect_cancels_the_upstream_call(app, streaming_runtime, settings):
    """The upstream streams forever (a word every 20 ms); the client reads the first token and
    leaves. The fake provider must see its client go away, and the turn is stored as interrupted."""
    from litestar import Litestar

    from ridgeline.app import create_app
    from ridgeline.genai.api import family
    from ridgeline.platform.auth.settings import AuthSettings

    rt = streaming_runtime
    cloud_deployment(app, rt)
    sid = app.ok("POST", "/v1/playgrounds/sessions", role="user", status=201,
                 json={"model_selection": {"model_id": "endless"}})["id"]  # fmt: skip
    served: Litestar = create_app(
        settings, families=[family], auth_settings=AuthSettings(password_profile="test")
    )
    rt.disconnected.clear()
    with serve_asgi(served, lifespan="on") as base:
        url = f"{base}/genai/v1/playgrounds/sessions/{sid}/messages/stream"
        got: list[str] = []
        with httpx.Client(timeout=10) as client:
            with client.stream("POST", url, headers=app.h["user"], json={"content": "go"}) as resp:
                assert resp.status_code == 200
                for line in resp.iter_lines():
                    got.append(line)
                    if line.startswith("event: token"):
                        break
        # the client is gone: the upstream call must be cancelled, long before it would end
        assert rt.disconnected.wait(5), "the provider's stream was not cancelled"
        assert not rt.finished.is_set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            msgs = app.ok("GET", f"/v1/playgrounds/sessions/{sid}", role="user")["messages"]
            if msgs:
                break
            time.sleep(0.05)
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert msgs[1]["metadata"]["status"] == "interrupted" and msgs[1]["content"].startswith("w0 ")
    assert "event: start" in got

"""The active-binding resolution on the dispatch path is cached per worker and keyed by the
control-plane version counter: no control-plane statement per request, and a write made through
another worker's service is seen at its next check."""

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.db


def _bind_runtime(app, runtime):
    app.add_model("loc-1", name="Qwen small", runtime_model_id="qwen2.5-0.5b-instruct")
    runtime.loaded = ["qwen2.5-0.5b-instruct"]
    p = app.ok("POST", "/v1/platform/providers", status=201,
               json={"provider_key": "vllm_local", "slug": "vl", "endpoint_url": runtime.base_url})["provider"]  # fmt: skip
    dep = app.deployment("local-default")
    app.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/llm_inference",
           json={"provider_id": p["id"], "resources": [{"id": "loc-1"}], "default_resource_id": "loc-1"})  # fmt: skip
    return p


def _count_genai_statements(app):
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "genai_" in statement:
            seen.append(statement)

    sa.event.listen(app.ctx.db.engine.sync_engine, "before_cursor_execute", listener)
    return seen, lambda: sa.event.remove(app.ctx.db.engine.sync_engine, "before_cursor_execute", listener)


def test_dispatch_reads_no_control_plane_rows_per_request(make_app, runtime):
    app = make_app(GENAI_RESOLUTION_RECHECK_S="60")
    _bind_runtime(app, runtime)
    assert app.ok("POST", "/v1/models/generate", role="user", json={"prompt": "a"})["text"] == "Hello a"
    seen, stop = _count_genai_statements(app)
    try:
        for i in range(20):
            r = app.ok("POST", "/v1/models/inference", role="user",
                       json={"messages": [{"role": "user", "content": f"m{i}"}]})  # fmt: skip
            assert r["output"]["content"] == f"m{i}".join(["Hello ", ""])
    finally:
        stop()
    assert seen == []
    # a write in this worker takes effect at once, whatever the re-check interval
    p = app.provider("vl")
    app.ok("PUT", f"/v1/platform/providers/{p['id']}", json={"enabled": False})
    app.refused("POST", "/v1/models/generate", 409, "provider_unreachable", role="user", json={"prompt": "a"})


def test_a_write_through_another_worker_is_seen(make_app, runtime):
    a = make_app()  # re-checks the version counter on every dispatch (the conftest default: 0 s)
    p = _bind_runtime(a, runtime)
    assert a.ok("POST", "/v1/models/generate", role="user", json={"prompt": "a"})["text"] == "Hello a"
    b = make_app(GENAI_RESOLUTION_RECHECK_S="0")  # a second worker on the same database
    b.ok("PUT", f"/v1/platform/providers/{p['id']}", json={"enabled": False})
    a.refused("POST", "/v1/models/generate", 409, "provider_unreachable", role="user", json={"prompt": "a"})
    b.ok("PUT", f"/v1/platform/providers/{p['id']}", json={"enabled": True})
    assert a.ok("POST", "/v1/models/generate", role="user", json={"prompt": "b"})["text"] == "Hello b"
    b.ok("PUT", "/v1/runtime/profile", json={"mode": "offline"})  # a local binding: allowed offline
    dep = b.deployment("local-default")
    chat = b.provider("ridgeline-extractive-chat")
    b.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/llm_inference",
         json={"provider_id": chat["id"], "resources": [{"id": "ridgeline-extractive-1", "ref_type": "builtin_model"}],
               "default_resource_id": "ridgeline-extractive-1"})  # fmt: skip
    r = a.ok("POST", "/v1/models/generate", role="user", json={"prompt": "c"})
    assert r["provider"]["provider_key"] == "ridgeline_extractive_chat"

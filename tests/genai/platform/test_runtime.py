"""Inference through the active binding (membership, default, runtime model ids), the offline
fail-closed paths, the proof routes, the runtime snapshot and bootstrap seeding."""

import pytest

from ridgeline.genai.runtime import platform_runtime_snapshot
from tests.genai.platform.conftest import FakeSandbox, serve

pytestmark = pytest.mark.db


def _cloud_deployment(app, rt, slug="cloud"):
    """A deployment whose llm_inference is an OpenAI-compatible cloud provider (a fake on loopback)."""
    app.add_model("gpt-a", origin="cloud", provider_model_id="gpt-a-2026")
    app.add_model("gpt-b", origin="cloud", provider_model_id="gpt-b-2026")
    rt.loaded = ["gpt-a-2026", "gpt-b-2026"]
    app.add_credential("cred-c", "sk-cloud-key-000000000000000")
    p = app.ok("POST", "/v1/platform/providers", status=201,
               json={"provider_key": "openai_compatible_cloud_llm", "slug": f"{slug}-llm", "endpoint_url": rt.base_url + "/v1",
                     "secret_refs": {"api_key": "modelops://credential/cred-c"}})["provider"]  # fmt: skip
    base = app.deployment("local-default")
    bindings = {b["capability"]: {"provider_id": b["provider_id"], "resources": b["resources"],
                                  "default_resource_id": b["default_resource_id"]} for b in base["bindings"]}  # fmt: skip
    bindings["llm_inference"] = {"provider_id": p["id"], "resources": [{"id": "gpt-a"}, {"id": "gpt-b"}],
                                 "default_resource_id": "gpt-a"}  # fmt: skip
    d = app.ok("POST", "/v1/platform/deployments", status=201, json={"slug": slug, "bindings": bindings})[
        "deployment"
    ]
    return p, d


def test_inference_enforces_active_binding_membership(app, runtime):
    p, d = _cloud_deployment(app, runtime)
    app.ok("POST", f"/v1/platform/deployments/{d['id']}/activate")
    msgs = [{"role": "user", "content": "there"}]
    r = app.ok("POST", "/v1/models/inference", role="user", json={"messages": msgs})
    assert (r["model"], r["runtime_model_id"], r["output"]["content"]) == (
        "gpt-a",
        "gpt-a-2026",
        "Hello there",
    )
    assert r["provider"]["provider_origin"] == "cloud" and r["usage"] == {
        "input_tokens": 3,
        "output_tokens": 2,
    }
    assert runtime.requests[-1].headers["authorization"] == "Bearer sk-cloud-key-000000000000000"
    r = app.ok("POST", "/v1/models/generate", role="user", json={"prompt": "you", "model": "gpt-b"})
    assert (r["model"], r["text"]) == ("gpt-b", "Hello you")
    app.add_model("gpt-c", origin="cloud", provider_model_id="gpt-c")
    app.refused("POST", "/v1/models/inference", 409, "model_not_in_binding", role="user",
                json={"messages": msgs, "model": "gpt-c"})  # fmt: skip
    app.refused("POST", "/v1/models/generate", 409, "model_not_in_binding", role="user",
                json={"prompt": "x", "model": "ridgeline-extractive-1"})  # fmt: skip
    # no default: omitted model is refused
    app.ok("PUT", f"/v1/platform/deployments/{d['id']}/bindings/llm_inference",
           json={"provider_id": p["id"], "resources": [{"id": "gpt-a"}]})  # fmt: skip
    app.refused(
        "POST", "/v1/models/generate", 409, "binding_default_missing", role="user", json={"prompt": "x"}
    )
    app.ok("PUT", f"/v1/platform/providers/{p['id']}", json={"enabled": False})
    app.refused("POST", "/v1/models/generate", 409, "provider_unreachable", role="user",
                json={"prompt": "x", "model": "gpt-a"})  # fmt: skip


def test_local_runtime_model_id_comes_from_the_inventory(app, runtime):
    app.add_model("loc-1", name="Qwen small", runtime_model_id="qwen2.5-0.5b-instruct")
    runtime.loaded = ["qwen2.5-0.5b-instruct"]
    p = app.ok("POST", "/v1/platform/providers", status=201,
               json={"provider_key": "vllm_local", "slug": "vl", "endpoint_url": runtime.base_url})["provider"]  # fmt: skip
    dep = app.deployment("local-default")
    app.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/llm_inference",
           json={"provider_id": p["id"], "resources": [{"id": "loc-1"}], "default_resource_id": "loc-1"})  # fmt: skip
    r = app.ok("POST", "/v1/models/generate", role="user", json={"prompt": "a"})
    assert r["runtime_model_id"] == "qwen2.5-0.5b-instruct" and r["text"] == "Hello a"
    runtime.loaded = []
    app.ok("PATCH", f"/v1/platform/deployments/{dep['id']}", json={"description": "x"})
    app.ok("PUT", f"/v1/platform/providers/{p['id']}", json={"description": "bump"})  # new provider version
    app.refused(
        "POST", "/v1/models/generate", 409, "runtime_model_unavailable", role="user", json={"prompt": "a"}
    )


def test_offline_is_fail_closed_on_every_path(app, runtime):
    p, d = _cloud_deployment(app, runtime)
    app.ok("PUT", "/v1/runtime/profile", json={"mode": "offline"})
    # 1. cloud provider validation
    app.refused("POST", f"/v1/platform/providers/{p['id']}/validate", 409, "offline_provider_blocked")
    # 2. deployment activation
    app.refused("POST", f"/v1/platform/deployments/{d['id']}/activate", 409, "offline_provider_blocked")
    # local providers still validate and local deployments still activate offline
    chat = app.provider("ridgeline-extractive-chat")
    assert (
        app.ok("POST", f"/v1/platform/providers/{chat['id']}/validate")["validation"]["status"] == "success"
    )
    app.ok("PUT", "/v1/runtime/profile", json={"mode": "online"})
    app.ok("POST", f"/v1/platform/deployments/{d['id']}/activate")
    # 3. switching to offline while a cloud binding is active
    app.refused("PUT", "/v1/runtime/profile", 409, "offline_provider_blocked", json={"mode": "offline"})
    assert app.ok("GET", "/v1/runtime/profile")["mode"] == "online"
    # an active deployment cannot gain a cloud binding while offline either (checked below after the switch)
    app.set_mode_unchecked("offline")  # the profile as another process left it
    # 4. active runtime resolution (the snapshot agent executions use)
    with pytest.raises(Exception) as err:
        app.call(platform_runtime_snapshot, app.platform)
    assert getattr(err.value, "reason_code", None) == "offline_provider_blocked"
    # 5. adapter dispatch
    n = len(runtime.requests)
    app.refused("POST", "/v1/models/inference", 409, "offline_provider_blocked", role="user",
                json={"messages": [{"role": "user", "content": "x"}]})  # fmt: skip
    app.refused(
        "POST", "/v1/models/generate", 409, "offline_provider_blocked", role="user", json={"prompt": "x"}
    )
    assert len(runtime.requests) == n  # nothing reached the cloud provider
    caps = {
        c["capability"]: c for c in app.ok("GET", "/v1/platform/capabilities", role="user")["capabilities"]
    }
    assert (
        caps["llm_inference"]["active_provider"] is None and caps["embeddings"]["active_provider"] is not None
    )
    app.refused("PUT", f"/v1/platform/deployments/{d['id']}/bindings/llm_inference", 409, "offline_provider_blocked",
                json={"provider_id": p["id"], "resources": [{"id": "gpt-b"}], "default_resource_id": "gpt-b"})  # fmt: skip


def test_proof_routes_run_through_the_default_bindings(app):
    e = app.ok("POST", "/v1/platform/embeddings", json={"texts": ["refrigerated freight", "dock hours"]})
    assert (
        e["dimension"] == 384
        and e["count"] == 2
        and e["provider"]["provider_key"] == "ridgeline_local_embeddings"
    )
    ens = app.ok("POST", "/v1/platform/vector/indexes/ensure", json={})
    assert (ens["index_name"], ens["dimension"], ens["count"]) == ("default", 384, 0)
    docs = [{"id": "d1", "text": "Dock 4 handles refrigerated freight.", "metadata": {"site": "bern"}},
            {"id": "d2", "text": "The canteen serves lunch at noon.", "metadata": {"site": "basel"}}]  # fmt: skip
    up = app.ok("POST", "/v1/platform/vector/documents/upsert", json={"documents": docs})
    assert up["upserted"] == 2 and up["count"] == 2
    hits = app.ok("POST", "/v1/platform/vector/query", json={"query": "cold storage trucks", "top_k": 2})[
        "hits"
    ]
    assert [h["id"] for h in hits] == ["d1", "d2"] and hits[0]["metadata"]["site"] == "bern"
    hits = app.ok(
        "POST", "/v1/platform/vector/query", json={"query": "cold storage", "filter": {"site": "basel"}}
    )["hits"]
    assert [h["id"] for h in hits] == ["d2"]
    assert app.ok("POST", "/v1/platform/vector/documents/delete", json={"ids": ["d1", "zz"]})["deleted"] == 1
    assert [h["id"] for h in app.ok("POST", "/v1/platform/vector/query", json={"query": "dock"})["hits"]] == [
        "d2"
    ]
    app.refused(
        "POST",
        "/v1/platform/vector/query",
        409,
        "index_not_bound",
        json={"query": "x", "index_name": "other"},
    )
    app.refused(
        "POST", "/v1/platform/embeddings", 409, "model_not_in_binding", json={"texts": ["a"], "model": "zz"}
    )


def test_proof_routes_use_an_openai_compatible_embeddings_binding(app, runtime):
    app.add_model("emb-x", task="embeddings", runtime_model_id="bge-small")
    runtime.loaded = ["bge-small"]
    p = app.ok("POST", "/v1/platform/providers", status=201,
               json={"provider_key": "vllm_embeddings_local", "slug": "er", "endpoint_url": runtime.base_url})["provider"]  # fmt: skip
    dep = app.deployment("local-default")
    app.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/embeddings",
           json={"provider_id": p["id"], "resources": [{"id": "emb-x"}], "default_resource_id": "emb-x"})  # fmt: skip
    e = app.ok("POST", "/v1/platform/embeddings", json={"texts": ["a"]})
    assert e["dimension"] == 8 and e["runtime_model_id"] == "bge-small"
    app.ok("POST", "/v1/platform/vector/indexes/ensure", json={"index_name": "default"})
    app.ok("POST", "/v1/platform/vector/documents/upsert", json={"documents": [{"id": "x", "text": "a"}]})
    assert (
        app.ok("POST", "/v1/platform/vector/query", json={"query": "a", "top_k": 1})["hits"][0]["id"] == "x"
    )


def test_snapshot_serialises_bindings_and_tool_runtimes(make_app, mcp_server):
    with serve(FakeSandbox()) as sb:
        app = make_app(MCP_GATEWAY_URL=mcp_server, SANDBOX_URL=sb.base_url)
        snap = app.call(platform_runtime_snapshot, app.platform)
    assert snap["deployment"]["slug"] == "local-default" and snap["runtime_mode"] == "online"
    caps = snap["capabilities"]
    assert set(caps) == {"llm_inference", "embeddings", "vector_store", "mcp_runtime", "sandbox_execution"}
    llm = caps["llm_inference"]
    assert (
        llm["default_resource_id"] == "ridgeline-extractive-1"
        and llm["default_resource"]["id"] == "ridgeline-extractive-1"
    )
    assert llm["resource_policy"]["allowed_resource_ids"] == ["ridgeline-extractive-1"]
    assert caps["mcp_runtime"]["provider"]["mcp_url"] == mcp_server
    assert caps["sandbox_execution"]["provider"]["execute_url"] == sb.base_url + "/v1/executions"
    assert "secrets" not in caps["llm_inference"]["provider"]


def test_bootstrap_from_environment(make_app, runtime):
    app = make_app(LLM_URL=runtime.base_url, LLAMA_CPP_URL=runtime.base_url, QDRANT_URL="http://127.0.0.1:9",
                   WEAVIATE_URL="http://127.0.0.1:8")  # fmt: skip
    deps = {d["slug"]: d for d in app.ok("GET", "/v1/platform/deployments")["deployments"]}
    assert set(deps) == {"local-default", "local-llama-cpp", "local-qdrant"}
    assert deps["local-default"]["is_active"]
    by_cap = {b["capability"]: b["provider"]["provider_key"] for b in deps["local-default"]["bindings"]}
    assert by_cap == {"llm_inference": "vllm_local", "embeddings": "ridgeline_local_embeddings",
                      "vector_store": "weaviate_local"}  # fmt: skip
    assert {b["capability"]: b["provider"]["provider_key"] for b in deps["local-llama-cpp"]["bindings"]}[
        "llm_inference"
    ] == "llama_cpp_local"
    assert {b["capability"]: b["provider"]["provider_key"] for b in deps["local-qdrant"]["bindings"]}[
        "vector_store"
    ] == "qdrant_local"
    slugs = {p["slug"] for p in app.ok("GET", "/v1/platform/providers")["providers"]}
    assert "sandbox-local" not in slugs and "mcp-gateway-local" not in slugs


def test_bootstrap_without_optional_urls_seeds_only_local_default(app):
    assert [d["slug"] for d in app.ok("GET", "/v1/platform/deployments")["deployments"]] == ["local-default"]


def test_bootstrap_on_restart_keeps_what_operators_changed(make_app):
    first = make_app()
    d = first.ok("POST", f"/v1/platform/deployments/{first.deployment('local-default')['id']}/clone", status=201,
                 json={"slug": "mine"})["deployment"]  # fmt: skip
    first.ok("POST", f"/v1/platform/deployments/{d['id']}/activate")
    first.ok(
        "PATCH",
        f"/v1/platform/deployments/{first.deployment('local-default')['id']}",
        json={"display_name": "Renamed"},
    )
    first.client.__exit__(None, None, None)
    first.client._closed_by_test = True
    again = make_app()  # same database: a restart
    deps = {x["slug"]: x for x in again.ok("GET", "/v1/platform/deployments")["deployments"]}
    assert deps["mine"]["is_active"] is True and deps["local-default"]["is_active"] is False
    assert deps["local-default"]["display_name"] == "Renamed"
    assert (
        len(
            [
                p
                for p in again.ok("GET", "/v1/platform/providers")["providers"]
                if p["slug"] == "ridgeline-local-embeddings"
            ]
        )
        == 1
    )
    assert again.ok("GET", "/v1/platform/activation-audit")["total"] == 2


def test_snapshot_secrets_only_on_request(app, runtime):
    _p, d = _cloud_deployment(app, runtime)
    app.ok("POST", f"/v1/platform/deployments/{d['id']}/activate")
    plain = app.call(platform_runtime_snapshot, app.platform)
    assert "secrets" not in plain["capabilities"]["llm_inference"]["provider"]
    assert "sk-cloud-key" not in str(plain)
    full = app.call(lambda: platform_runtime_snapshot(app.platform, include_secrets=True))
    assert full["capabilities"]["llm_inference"]["provider"]["secrets"] == {
        "api_key": "sk-cloud-key-000000000000000"
    }
    assert full["capabilities"]["llm_inference"]["provider"]["openai_base_url"] == runtime.base_url + "/v1"
    assert full["capabilities"]["llm_inference"]["resource_policy"]["allowed_resource_ids"] == [
        "gpt-a",
        "gpt-b",
    ]


def test_bootstrap_prefers_the_inference_runtime_url_and_seeds_the_embeddings_runtime(make_app):
    app = make_app(LLM_URL="http://127.0.0.1:7", LLM_INFERENCE_RUNTIME_URL="http://127.0.0.1:6",
                   LLM_EMBEDDINGS_RUNTIME_URL="http://127.0.0.1:5")  # fmt: skip
    assert app.provider("vllm-local")["endpoint_url"] == "http://127.0.0.1:6"
    dep = app.deployment("local-default")
    by_cap = {b["capability"]: b for b in dep["bindings"]}
    assert by_cap["embeddings"]["provider"]["provider_key"] == "vllm_embeddings_local"
    assert by_cap["vector_store"]["provider"]["provider_key"] == "ridgeline_embedded_vector_index"
    # external runtimes are bound without models until a superadmin picks them: readiness says so
    assert by_cap["llm_inference"]["configuration_status"]["issues"] == [
        "no_resources",
        "no_default_resource",
    ]
    assert dep["configuration_status"]["state"] == "incomplete"


def test_bootstrap_deployments_survive_workers_seeding_at_once(app, monkeypatch):
    """Two workers starting together both read "no local-default", then both insert it. The loser used to
    fail the whole genai family in its worker (503 on every genai route there; found by the soak). Here
    this worker's read is made to miss the row another worker has just committed."""
    import contextlib

    from ridgeline.genai import bootstrap as B

    svc = app.platform
    existing = app.deployment("local-default")["id"]
    real_write = svc.write

    class _Missed:
        def scalar(self) -> None:
            return None

    class _Conn:  # the worker's connection, whose first read (the slug lookup) misses the other's insert
        def __init__(self, conn):  # type: ignore[no-untyped-def]
            self._conn, self._first = conn, True

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self._conn, name)

        async def execute(self, stmt, *a, **k):  # type: ignore[no-untyped-def]
            if self._first:
                self._first = False
                return _Missed()
            return await self._conn.execute(stmt, *a, **k)

    @contextlib.asynccontextmanager
    async def write_that_reads_too_early():  # type: ignore[no-untyped-def]
        async with real_write() as conn:
            yield _Conn(conn)

    monkeypatch.setattr(svc, "write", write_that_reads_too_early)
    assert app.call(B._ensure_deployment, svc, "local-default", "Local default", {}) == existing
    slugs = [d["slug"] for d in app.ok("GET", "/v1/platform/deployments")["deployments"]]
    assert slugs.count("local-default") == 1

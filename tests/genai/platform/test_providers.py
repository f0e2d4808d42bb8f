"""Provider families, instances, validation against real (fake) servers, secrets, the loaded-model slot."""

import pytest

from tests.genai.platform.conftest import FakeRuntime, FakeSandbox, ready_server, serve, unused_url

pytestmark = pytest.mark.db


def _create(app, **body):
    return app.ok("POST", "/v1/platform/providers", status=201, json=body)["provider"]


def test_families_have_fixed_origins_and_embedded_families(app):
    fams = {
        f["provider_key"]: f for f in app.ok("GET", "/v1/platform/provider-families")["provider_families"]
    }
    for key in (
        "vllm_local",
        "llama_cpp_local",
        "weaviate_local",
        "qdrant_local",
        "mcp_gateway_local",
        "sandbox_local",
    ):
        assert fams[key]["provider_origin"] == "local"
    assert fams["openai_compatible_cloud_llm"]["provider_origin"] == "cloud"
    assert fams["openai_compatible_cloud_embeddings"]["provider_origin"] == "cloud"
    assert [k for k, f in fams.items() if f["provider_origin"] == "cloud"] == [
        "openai_compatible_cloud_llm", "openai_compatible_cloud_embeddings"]  # fmt: skip
    embedded = {k: f["capability"] for k, f in fams.items() if f["embedded"]}
    assert embedded == {"ridgeline_local_embeddings": "embeddings", "ridgeline_embedded_vector_index": "vector_store",
                        "ridgeline_extractive_chat": "llm_inference"}  # fmt: skip
    caps = {c["capability"] for c in app.ok("GET", "/v1/platform/capabilities", role="user")["capabilities"]}
    assert caps == {"llm_inference", "embeddings", "vector_store", "mcp_runtime", "sandbox_execution"}


def test_crud_origin_not_editable_slug_and_family_checks(app):
    p = _create(
        app, provider_key="openai_compatible_cloud_llm", slug="cloud-a", endpoint_url="http://127.0.0.1:9/v1"
    )
    assert p["provider_origin"] == "cloud" and p["capability"] == "llm_inference"
    app.refused("POST", "/v1/platform/providers", 409, "provider_slug_taken",
                json={"provider_key": "vllm_local", "slug": "cloud-a", "endpoint_url": "http://127.0.0.1:9"})  # fmt: skip
    app.refused("POST", "/v1/platform/providers", 422, "provider_family_not_found",
                json={"provider_key": "nope", "slug": "x", "endpoint_url": "http://127.0.0.1:9"})  # fmt: skip
    app.refused("POST", "/v1/platform/providers", 422, "provider_endpoint_required",
                json={"provider_key": "vllm_local", "slug": "x"})  # fmt: skip
    # provider_origin / provider_key are not fields of an update: refused, not ignored
    app.refused(
        "PUT", f"/v1/platform/providers/{p['id']}", 422, "invalid_request", json={"provider_origin": "local"}
    )
    app.refused(
        "PUT",
        f"/v1/platform/providers/{p['id']}",
        422,
        "invalid_request",
        json={"provider_key": "vllm_local"},
    )
    up = app.ok(
        "PUT", f"/v1/platform/providers/{p['id']}", json={"display_name": "Cloud A", "enabled": False}
    )["provider"]
    assert up["display_name"] == "Cloud A" and up["enabled"] is False and up["provider_origin"] == "cloud"
    app.refused(
        "PUT", "/v1/platform/providers/missing", 404, "provider_not_found", json={"display_name": "x"}
    )
    assert app.ok("DELETE", f"/v1/platform/providers/{p['id']}")["deleted"] is True
    app.refused("DELETE", f"/v1/platform/providers/{p['id']}", 404, "provider_not_found")


def test_bound_provider_cannot_be_deleted(app):
    emb = app.provider("ridgeline-local-embeddings")
    body = app.refused("DELETE", f"/v1/platform/providers/{emb['id']}", 409, "provider_in_use")
    assert body["deployments"] == ["local-default"]


def test_openai_compatible_validation_with_a_modelops_credential_never_returned(app):
    secret = "sk-test-abcdefghijklmnopqrstuvwxyz"
    app.add_credential("cred-1", secret)
    with serve(FakeRuntime(loaded=["m-a"], api_key=secret)) as rt:
        p = _create(app, provider_key="vllm_local", slug="rt", endpoint_url=rt.base_url,
                    secret_refs={"api_key": "modelops://credential/cred-1"})  # fmt: skip
        v = app.ok("POST", f"/v1/platform/providers/{p['id']}/validate")
        assert v["validation"]["status"] == "success", v
        assert v["validation"]["advertised_models"] == ["m-a"]
        assert rt.requests[-1].headers["authorization"] == f"Bearer {secret}"
        # a wrong literal key: reachable but refused
        app.ok(
            "PUT",
            f"/v1/platform/providers/{p['id']}",
            json={"secret_refs": {"api_key": "sk-wrong-key-0000000000"}},
        )
        v = app.ok("POST", f"/v1/platform/providers/{p['id']}/validate")["validation"]
        assert v["status"] == "failure" and v["reachable"] is True
    listing = app.client.get("/genai/v1/platform/providers", headers=app.h["superadmin"]).text
    assert secret not in listing and "sk-wrong-key-0000000000" not in listing
    assert app.provider("rt")["secret_refs"]["api_key"]["kind"] == "value"
    app.refused("POST", "/v1/platform/providers", 422, "secret_ref_invalid",
                json={"provider_key": "vllm_local", "slug": "bad", "endpoint_url": "http://127.0.0.1:9",
                      "secret_refs": {"api_key": "modelops://elsewhere/1"}})  # fmt: skip


def test_unreachable_provider_fails_validation(app):
    p = _create(app, provider_key="vllm_local", slug="down", endpoint_url=unused_url())
    v = app.ok("POST", f"/v1/platform/providers/{p['id']}/validate")["validation"]
    assert v["status"] == "failure" and v["reachable"] is False
    assert app.provider("down")["last_validation"]["status"] == "failure"


def test_vector_store_readiness(app):
    with serve(ready_server("/v1/.well-known/ready")) as w, serve(ready_server("/readyz", 503)) as q:
        pw = _create(app, provider_key="weaviate_local", slug="w", endpoint_url=w.base_url)
        pq = _create(app, provider_key="qdrant_local", slug="q", endpoint_url=q.base_url)
        assert (
            app.ok("POST", f"/v1/platform/providers/{pw['id']}/validate")["validation"]["status"] == "success"
        )
        vq = app.ok("POST", f"/v1/platform/providers/{pq['id']}/validate")["validation"]
        assert vq["status"] == "failure" and vq["reachable"] is True and "503" in vq["detail"]


def test_sandbox_dry_run(app):
    with serve(FakeSandbox()) as sb:
        p = _create(app, provider_key="sandbox_local", slug="sb", endpoint_url=sb.base_url)
        v = app.ok("POST", f"/v1/platform/providers/{p['id']}/validate")["validation"]
        assert v["status"] == "success" and v["dry_run"]["dry_run"] is True
        assert sb.requests[-1].json()["dry_run"] is True


def test_mcp_gateway_invoke_readiness(app, mcp_server):
    p = _create(app, provider_key="mcp_gateway_local", slug="mcp", endpoint_url=mcp_server,
                config={"required_tools": ["web_search"]})  # fmt: skip
    v = app.ok("POST", f"/v1/platform/providers/{p['id']}/validate")["validation"]
    assert v["status"] == "success", v
    assert v["tools"] == ["web_search"]
    app.ok("PUT", f"/v1/platform/providers/{p['id']}", json={"config": {"required_tools": ["python_exec"]}})
    v = app.ok("POST", f"/v1/platform/providers/{p['id']}/validate")["validation"]
    assert v["status"] == "failure" and v["reachable"] is True


def test_loaded_model_slot_is_applied_to_the_runtime(app, runtime):
    app.add_model("mm-1", runtime_model_id="qwen-0.5b")
    app.add_model("mm-2", runtime_model_id="phi-mini")
    app.add_model("emb-1", task="embeddings")
    p = _create(app, provider_key="llama_cpp_local", slug="llama", endpoint_url=runtime.base_url)
    assert p["loaded_model"]["state"] == "empty"
    r = app.ok("POST", f"/v1/platform/providers/{p['id']}/loaded-model", json={"managed_model_id": "mm-1"})
    assert r["provider"]["loaded_model"] == {**r["provider"]["loaded_model"], "state": "loaded",
                                             "managed_model_id": "mm-1", "runtime_model_id": "qwen-0.5b"}  # fmt: skip
    assert runtime.loaded == ["qwen-0.5b"] and r["advertised_models"] == ["qwen-0.5b"]
    app.ok("POST", f"/v1/platform/providers/{p['id']}/loaded-model", json={"managed_model_id": "mm-2"})
    assert runtime.loaded == ["phi-mini"]
    app.refused("POST", f"/v1/platform/providers/{p['id']}/loaded-model", 409, "model_capability_mismatch",
                json={"managed_model_id": "emb-1"})  # fmt: skip
    app.refused("POST", f"/v1/platform/providers/{p['id']}/loaded-model", 404, "binding_model_not_found",
                json={"managed_model_id": "nope"})  # fmt: skip
    r = app.ok("DELETE", f"/v1/platform/providers/{p['id']}/loaded-model")
    assert r["provider"]["loaded_model"]["state"] == "empty" and runtime.loaded == []
    chat = app.provider("ridgeline-extractive-chat")
    app.refused("POST", f"/v1/platform/providers/{chat['id']}/loaded-model", 409, "provider_slot_unsupported",
                json={"managed_model_id": "mm-1"})  # fmt: skip
    down = _create(app, provider_key="vllm_local", slug="down", endpoint_url=unused_url())
    app.refused("POST", f"/v1/platform/providers/{down['id']}/loaded-model", 409, "provider_unreachable",
                json={"managed_model_id": "mm-1"})  # fmt: skip


def test_unresolvable_credential_ref_is_a_conflict_at_use(app):
    p = _create(app, provider_key="vllm_local", slug="r", endpoint_url=unused_url(),
                secret_refs={"api_key": "modelops://credential/gone"})  # fmt: skip
    assert p["secret_refs"]["api_key"] == {"name": "api_key", "kind": "modelops_credential",
                                           "ref": "modelops://credential/gone", "credential_id": "gone"}  # fmt: skip
    body = app.refused("POST", f"/v1/platform/providers/{p['id']}/validate", 409, "secret_ref_unresolvable")
    assert body["name"] == "api_key"


def test_sealed_refs_are_bound_to_their_row(app):
    """A sealed secret map copied onto another provider row does not open there."""
    import sqlalchemy as sa

    from ridgeline.genai.api.platform_store import providers

    a = _create(
        app,
        provider_key="vllm_local",
        slug="a",
        endpoint_url=unused_url(),
        secret_refs={"api_key": "sk-aaaa"},
    )
    b = _create(app, provider_key="vllm_local", slug="b", endpoint_url=unused_url())

    async def copy() -> None:
        async with app.ctx.db.begin() as conn:
            sealed = (
                await conn.execute(sa.select(providers.c.secret_refs_sealed).where(providers.c.id == a["id"]))
            ).scalar()
            await conn.execute(
                providers.update().where(providers.c.id == b["id"]).values(secret_refs_sealed=sealed)
            )

    app.client.blocking_portal.call(copy)
    row = app.call(app.platform.get_provider, a["id"])
    assert "sk-aaaa" not in str(row)

    async def resolve(pid: str) -> dict:
        async with app.ctx.db.engine.connect() as conn:
            return await app.platform.resolve_secrets(await app.platform._provider(conn, pid))

    assert app.call(resolve, a["id"]) == {"api_key": "sk-aaaa"}
    with pytest.raises(Exception, match="authenticate"):
        app.call(resolve, b["id"])

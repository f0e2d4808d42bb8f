"""Deployments: bindings saved per capability, identity patched apart, clone, delete, activation
with provider preflight, configuration_status, activation audit, ModelOps/KB binding rules."""

import pytest

from tests.genai.platform.conftest import unused_url

pytestmark = pytest.mark.db


def _ids(app):
    return {s: app.provider(s)["id"] for s in ("ridgeline-extractive-chat", "ridgeline-local-embeddings",
                                               "ridgeline-embedded-vector-index")}  # fmt: skip


def _bindings(ids, **over):
    b = {
        "llm_inference": {"provider_id": ids["ridgeline-extractive-chat"]},
        "embeddings": {"provider_id": ids["ridgeline-local-embeddings"]},
        "vector_store": {"provider_id": ids["ridgeline-embedded-vector-index"]},
    }
    b.update(over)
    return b


def _kb(pid, kb="kb-1", index="kb_1"):
    return {
        "ref_type": "knowledge_base",
        "knowledge_base_id": kb,
        "provider_resource_id": index,
        "provider_instance_id": pid,
    }


def test_create_incomplete_then_complete_binding_by_binding(app):
    ids = _ids(app)
    d = app.ok(
        "POST", "/v1/platform/deployments", status=201, json={"slug": "d1", "bindings": _bindings(ids)}
    )["deployment"]
    assert d["configuration_status"]["state"] == "incomplete"
    assert set(d["configuration_status"]["incomplete_capabilities"]) == {
        "llm_inference",
        "embeddings",
        "vector_store",
    }
    assert all(
        b["configuration_status"]["issues"] == ["no_resources", "no_default_resource"] for b in d["bindings"]
    )
    app.add_model("m1", bindable=True)
    app.add_model("m2", bindable=False)
    app.add_model("e1", task="embeddings")
    vllm = app.ok("POST", "/v1/platform/providers", status=201,
                  json={"provider_key": "vllm_local", "slug": "v", "endpoint_url": unused_url()})["provider"]  # fmt: skip
    path = f"/v1/platform/deployments/{d['id']}/bindings"
    app.refused("PUT", f"{path}/llm_inference", 409, "model_not_bindable",
                json={"provider_id": vllm["id"], "resources": [{"id": "m2"}]})  # fmt: skip
    app.refused("PUT", f"{path}/llm_inference", 409, "model_capability_mismatch",
                json={"provider_id": vllm["id"], "resources": [{"id": "e1"}]})  # fmt: skip
    app.refused("PUT", f"{path}/llm_inference", 404, "binding_model_not_found",
                json={"provider_id": vllm["id"], "resources": [{"id": "zz"}]})  # fmt: skip
    app.refused("PUT", f"{path}/llm_inference", 422, "binding_resource_invalid",
                json={"provider_id": vllm["id"], "resources": [{"id": "m1"}], "default_resource_id": "other"})  # fmt: skip
    app.refused("PUT", f"{path}/llm_inference", 409, "binding_provider_mismatch",
                json={"provider_id": ids["ridgeline-local-embeddings"]})  # fmt: skip
    app.refused("PUT", f"{path}/llm_inference", 422, "binding_provider_required", json={"provider_id": None})
    app.refused("PUT", f"{path}/nope", 404, "capability_not_found", json={"provider_id": vllm["id"]})
    d = app.ok("PUT", f"{path}/llm_inference",
               json={"provider_id": vllm["id"], "resources": [{"id": "m1"}], "default_resource_id": "m1"})["deployment"]  # fmt: skip
    llm = next(b for b in d["bindings"] if b["capability"] == "llm_inference")
    assert llm["configuration_status"]["state"] == "ready" and llm["default_resource"]["id"] == "m1"
    # the other bindings were left as they were (capability-local saves)
    assert (
        next(b for b in d["bindings"] if b["capability"] == "embeddings")["provider_id"]
        == ids["ridgeline-local-embeddings"]
    )
    # vector bindings: knowledge_base refs on the deployment's own vector_store provider only
    vec = ids["ridgeline-embedded-vector-index"]
    app.refused("PUT", f"{path}/vector_store", 422, "binding_resource_invalid",
                json={"provider_id": vec, "resources": [{"ref_type": "managed_model", "id": "m1"}]})  # fmt: skip
    app.refused("PUT", f"{path}/vector_store", 409, "knowledge_base_provider_mismatch",
                json={"provider_id": vec, "resources": [_kb("another-provider")]})  # fmt: skip
    app.refused("PUT", f"{path}/vector_store", 422, "binding_resource_invalid",
                json={"provider_id": vec, "resources": [{"ref_type": "knowledge_base", "knowledge_base_id": "k"}]})  # fmt: skip
    d = app.ok("PUT", f"{path}/vector_store",
               json={"provider_id": vec, "resources": [_kb(vec)], "default_resource_id": "kb-1"})["deployment"]  # fmt: skip
    d = app.ok("PUT", f"{path}/embeddings", json={"provider_id": ids["ridgeline-local-embeddings"],
               "resources": [{"ref_type": "builtin_model", "id": "sentence-transformers/all-MiniLM-L6-v2"}],
               "default_resource_id": "sentence-transformers/all-MiniLM-L6-v2"})["deployment"]  # fmt: skip
    assert d["configuration_status"]["state"] == "ready", d["configuration_status"]


def test_create_requires_the_required_capabilities(app):
    ids = _ids(app)
    b = _bindings(ids)
    del b["vector_store"]
    app.refused(
        "POST",
        "/v1/platform/deployments",
        422,
        "binding_provider_required",
        json={"slug": "x", "bindings": b},
    )
    app.refused("POST", "/v1/platform/deployments", 409, "deployment_slug_taken",
                json={"slug": "local-default", "bindings": _bindings(ids)})  # fmt: skip
    app.refused("POST", "/v1/platform/deployments", 404, "provider_not_found",
                json={"slug": "y", "bindings": _bindings(ids, embeddings={"provider_id": "nope"})})  # fmt: skip


def test_patch_identity_put_clone_delete(app):
    ids = _ids(app)
    d = app.ok(
        "POST", "/v1/platform/deployments", status=201, json={"slug": "d1", "bindings": _bindings(ids)}
    )["deployment"]
    p = app.ok(
        "PATCH", f"/v1/platform/deployments/{d['id']}", json={"display_name": "D One", "description": "x"}
    )["deployment"]
    assert (p["slug"], p["display_name"], p["description"]) == ("d1", "D One", "x") and len(
        p["bindings"]
    ) == 3
    app.refused(
        "PATCH",
        f"/v1/platform/deployments/{d['id']}",
        409,
        "deployment_slug_taken",
        json={"slug": "local-default"},
    )
    app.refused("PATCH", "/v1/platform/deployments/nope", 404, "deployment_not_found", json={"slug": "q"})
    c = app.ok("POST", f"/v1/platform/deployments/{d['id']}/clone", status=201, json={"slug": "d1-copy"})[
        "deployment"
    ]
    assert c["is_active"] is False and [b["provider_id"] for b in c["bindings"]] == [
        b["provider_id"] for b in p["bindings"]
    ]
    r = app.ok("PUT", f"/v1/platform/deployments/{c['id']}", json={"slug": "d2", "display_name": "Two",
               "bindings": _bindings(ids)})["deployment"]  # fmt: skip
    assert r["slug"] == "d2" and r["display_name"] == "Two"
    assert app.ok("DELETE", f"/v1/platform/deployments/{c['id']}")["deleted"] is True
    app.refused("DELETE", f"/v1/platform/deployments/{c['id']}", 404, "deployment_not_found")
    active = app.deployment("local-default")
    app.refused("DELETE", f"/v1/platform/deployments/{active['id']}", 409, "deployment_active")


def test_activation_preflight_and_audit(app):
    ids = _ids(app)
    down = app.ok("POST", "/v1/platform/providers", status=201,
                  json={"provider_key": "vllm_local", "slug": "down", "endpoint_url": unused_url()})["provider"]  # fmt: skip
    d = app.ok("POST", "/v1/platform/deployments", status=201,
               json={"slug": "bad", "bindings": _bindings(ids, llm_inference={"provider_id": down["id"]})})["deployment"]  # fmt: skip
    body = app.refused(
        "POST", f"/v1/platform/deployments/{d['id']}/activate", 409, "deployment_preflight_failed"
    )
    assert [p["capability"] for p in body["preflight"] if p["status"] == "failure"] == ["llm_inference"]
    assert app.deployment("local-default")["is_active"] is True
    good = app.ok(
        "POST", "/v1/platform/deployments", status=201, json={"slug": "good", "bindings": _bindings(ids)}
    )["deployment"]
    r = app.ok("POST", f"/v1/platform/deployments/{good['id']}/activate")
    # incomplete resources are readiness metadata, not a block
    assert (
        r["deployment"]["is_active"] is True
        and r["deployment"]["configuration_status"]["state"] == "incomplete"
    )
    assert all(p["status"] == "success" for p in r["preflight"])
    assert app.deployment("local-default")["is_active"] is False
    audit = app.ok("GET", "/v1/platform/activation-audit")
    assert audit["total"] == 2
    latest = audit["items"][0]
    assert (
        latest["deployment_slug"] == "good"
        and latest["previous_deployment_id"] == app.deployment("local-default")["id"]
    )
    assert latest["activated_by"] is not None and audit["items"][1]["activated_by"] == "bootstrap"
    app.refused("POST", "/v1/platform/deployments/nope/activate", 404, "deployment_not_found")


def test_remaining_refusals_and_audit_paging(app):
    ids = _ids(app)
    d = app.ok(
        "POST", "/v1/platform/deployments", status=201, json={"slug": "d1", "bindings": _bindings(ids)}
    )["deployment"]
    app.refused(
        "PUT",
        "/v1/platform/deployments/nope",
        404,
        "deployment_not_found",
        json={"slug": "q", "bindings": _bindings(ids)},
    )
    app.refused("PUT", f"/v1/platform/deployments/{d['id']}", 409, "deployment_slug_taken",
                json={"slug": "local-default", "bindings": _bindings(ids)})  # fmt: skip
    app.refused("PUT", "/v1/platform/deployments/nope/bindings/embeddings", 404, "deployment_not_found",
                json={"provider_id": ids["ridgeline-local-embeddings"]})  # fmt: skip
    app.refused(
        "POST", "/v1/platform/deployments/nope/clone", 404, "deployment_not_found", json={"slug": "c"}
    )
    app.refused(
        "POST", f"/v1/platform/deployments/{d['id']}/clone", 409, "deployment_slug_taken", json={"slug": "d1"}
    )
    app.refused("POST", "/v1/platform/providers/nope/validate", 404, "provider_not_found")
    app.refused("DELETE", "/v1/platform/providers/nope/loaded-model", 404, "provider_not_found")
    app.refused("PUT", f"/v1/platform/providers/{ids['ridgeline-local-embeddings']}", 409, "provider_slug_taken",
                json={"slug": "ridgeline-extractive-chat"})  # fmt: skip
    for _ in range(2):
        app.ok("POST", f"/v1/platform/deployments/{d['id']}/activate")
    page = app.ok("GET", "/v1/platform/activation-audit", params={"limit": 1, "offset": 1})
    assert page["total"] == 3 and len(page["items"]) == 1 and page["items"][0]["deployment_slug"] == "d1"
    app.refused("GET", "/v1/platform/activation-audit", 422, "invalid_request", params={"limit": 0})
    # optional capabilities can be bound and cleared; required ones cannot be cleared
    with_sandbox = app.ok("POST", "/v1/platform/providers", status=201,
                          json={"provider_key": "sandbox_local", "slug": "sb", "endpoint_url": unused_url()})["provider"]  # fmt: skip
    path = f"/v1/platform/deployments/{d['id']}/bindings/sandbox_execution"
    dep = app.ok("PUT", path, json={"provider_id": with_sandbox["id"]})["deployment"]
    assert "sandbox_execution" in {b["capability"] for b in dep["bindings"]}
    dep = app.ok("PUT", path, json={"provider_id": None})["deployment"]
    assert "sandbox_execution" not in {b["capability"] for b in dep["bindings"]}


def test_model_usage_for_modelops(app, runtime):
    from ridgeline.genai.runtime import model_bindings

    app.add_model("m1", runtime_model_id="r1")
    vllm = app.ok("POST", "/v1/platform/providers", status=201,
                  json={"provider_key": "vllm_local", "slug": "v", "endpoint_url": runtime.base_url})["provider"]  # fmt: skip
    assert app.call(model_bindings, app.ctx.db, "m1") == {"bindings": [], "loaded_in": [], "bound": False}
    dep = app.deployment("local-default")
    app.ok("PUT", f"/v1/platform/deployments/{dep['id']}/bindings/llm_inference",
           json={"provider_id": vllm["id"], "resources": [{"id": "m1"}], "default_resource_id": "m1"})  # fmt: skip
    app.ok("POST", f"/v1/platform/providers/{vllm['id']}/loaded-model", json={"managed_model_id": "m1"})
    use = app.call(model_bindings, app.ctx.db, "m1")
    assert use["bound"] is True
    assert use["bindings"] == [{"deployment_id": dep["id"], "deployment_slug": "local-default", "is_active": True,
                                "capability": "llm_inference", "is_default": True}]  # fmt: skip
    assert use["loaded_in"] == [{"provider_id": vllm["id"], "provider_slug": "v", "state": "loaded"}]

"""test-runtimes and test: a ModelOps test runs only when the selected runtime really serves the model
(slot holds it and the runtime advertises it through /v1/models); a fake OpenAI-compatible runtime
on loopback plays llama.cpp."""

from __future__ import annotations

from typing import Any

import pytest

from ridgeline.genai.modelops_runtimes import RuntimeProvider
from tests.genai.modelops.conftest import App, FakeServer, managed_dir, provider
from tests.netutil import free_port

pytestmark = pytest.mark.db


def local_llm(app: App, settings: Any) -> dict[str, Any]:
    d = managed_dir(settings)
    r = app.req(
        "POST",
        "/v1/modelops/models",
        json={"name": "tiny-llm", "task": "llm_inference", "origin": "local", "local_path": str(d)},
    )
    assert r.status_code == 201, r.text
    return r.json()


def use(hooks: Any, *providers: RuntimeProvider) -> None:
    async def list_providers(_conn: Any) -> list[RuntimeProvider]:
        return list(providers)

    hooks.list_providers = list_providers


def test_test_runs_only_when_the_runtime_serves_the_model(
    app: App, settings: Any, hooks: Any, runtime: FakeServer
) -> None:
    m = local_llm(app, settings)
    other = app.req(
        "POST",
        "/v1/modelops/models",
        json={
            "name": "other",
            "task": "llm_inference",
            "origin": "local",
            "local_path": str(managed_dir(settings, "acme--other")),
        },
    ).json()
    path = f"/v1/modelops/models/{m['id']}/test"

    def refused(cause: str) -> None:
        r = app.req("POST", path, json={"provider_id": "llama"})
        assert r.status_code == 409, r.text
        assert r.json()["reason_code"] == "modelops_runtime_not_serving" and r.json()["cause"] == cause

    runtime.loaded = ["/models/tiny-llm.gguf"]  # advertised, but the slot is empty
    use(hooks, provider("llama", runtime.url))
    refused("slot_empty")
    use(hooks, provider("llama", runtime.url, loaded=other["id"]))
    refused("slot_holds_other_model")
    runtime.loaded = ["/models/other.gguf"]
    use(hooks, provider("llama", runtime.url, loaded=m["id"]))
    refused("model_not_advertised")
    assert not [r for r in runtime.requests if r[0] == "POST"]  # nothing was dispatched

    runtime.loaded = ["/models/tiny-llm.gguf"]
    r = app.req("POST", path, json={"provider_id": "llama", "prompt": "hi"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["status"] == "success" and t["runtime_model_id"] == "/models/tiny-llm.gguf"
    assert t["output"]["content"] == "OK"
    hist = app.req("GET", f"/v1/modelops/models/{m['id']}/tests").json()["items"]
    assert [h["id"] for h in hist] == [t["id"]]


def test_test_runtimes_reports_slot_loaded_model_and_advertised_entries(
    app: App, settings: Any, hooks: Any, runtime: FakeServer
) -> None:
    m = local_llm(app, settings)
    runtime.loaded = ["/models/tiny-llm.gguf", "/models/else.gguf"]
    use(
        hooks,
        provider("llama", runtime.url, loaded=m["id"]),
        provider("idle", runtime.url),
        provider("embed", runtime.url, capability="embeddings"),  # incompatible: not listed
        provider(
            "cloud", "http://127.0.0.1:9", origin="cloud", family="openai_compatible_cloud_llm"
        ),  # not local
    )
    body = app.req("GET", f"/v1/modelops/models/{m['id']}/test-runtimes").json()
    by_id = {i["provider_id"]: i for i in body["items"]}
    assert set(by_id) == {"llama", "idle"}
    llama = by_id["llama"]
    assert (
        llama["slot_state"] == "loaded"
        and llama["loaded_model_id"] == m["id"]
        and llama["loaded_model_name"] == "tiny-llm"
    )
    assert llama["runtime_model_id"] == "/models/tiny-llm.gguf" and llama["serves_model"] is True
    assert [(e["id"], e["matches_model"]) for e in llama["advertised"]] == [
        ("/models/tiny-llm.gguf", True),
        ("/models/else.gguf", False),
    ]
    assert llama["advertised"][0]["owned_by"] == "llamacpp"
    idle = by_id["idle"]
    assert idle["slot_state"] == "empty" and idle["serves_model"] is False and idle["reason"] == "slot_empty"


def test_unreachable_runtime(app: App, settings: Any, hooks: Any) -> None:
    m = local_llm(app, settings)
    port = free_port()  # a port nobody listens on
    use(hooks, provider("llama", f"http://127.0.0.1:{port}", loaded=m["id"]))
    r = app.req("POST", f"/v1/modelops/models/{m['id']}/test", json={"provider_id": "llama"})
    assert r.status_code == 409 and r.json()["cause"] == "runtime_unreachable"
    item = app.req("GET", f"/v1/modelops/models/{m['id']}/test-runtimes").json()["items"][0]
    assert item["reachable"] is False and item["reason"] == "runtime_unreachable"


def test_unknown_and_incompatible_runtimes(app: App, settings: Any, hooks: Any, runtime: FakeServer) -> None:
    m = local_llm(app, settings)
    use(hooks, provider("embed", runtime.url, capability="embeddings"))
    r = app.req("POST", f"/v1/modelops/models/{m['id']}/test", json={"provider_id": "nope"})
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_runtime_not_found"
    r = app.req("POST", f"/v1/modelops/models/{m['id']}/test", json={"provider_id": "embed"})
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_runtime_incompatible"
    assert r.json()["cause"] == "capability_mismatch"


def test_embeddings_model_test(app: App, hooks: Any, runtime: FakeServer) -> None:
    m = app.req(
        "POST",
        "/v1/modelops/models",
        json={"name": "all-MiniLM-L6-v2", "task": "embeddings", "origin": "local", "source": "bundled"},
    ).json()
    runtime.loaded = ["sentence-transformers/all-MiniLM-L6-v2"]
    use(
        hooks,
        provider("emb", runtime.url, capability="embeddings", loaded=m["id"], family="local_embeddings"),
    )
    r = app.req(
        "POST", f"/v1/modelops/models/{m['id']}/test", json={"provider_id": "emb", "texts": ["a", "b"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"vectors": 2, "dimensions": 3}


def test_cloud_test_is_blocked_offline_and_uses_the_credential_online(
    app: App, hooks: Any, runtime: FakeServer
) -> None:
    cred = app.req(
        "POST",
        "/v1/modelops/credentials",
        json={"name": "k", "provider": "openai", "secret": "sk-cloud-0123456789abcdef"},
    ).json()
    m = app.req(
        "POST",
        "/v1/modelops/models",
        json={
            "name": "gpt",
            "task": "llm_inference",
            "origin": "cloud",
            "provider_family": "openai_compatible_cloud_llm",
            "provider_model_id": "gpt-4o-mini",
            "credential_id": cred["id"],
        },
    ).json()
    runtime.loaded = ["gpt-4o-mini"]
    use(hooks, provider("cloud", runtime.url + "/v1", origin="cloud", family="openai_compatible_cloud_llm"))

    async def offline(_conn: Any) -> bool:
        return True

    hooks.runtime_offline = offline
    r = app.req("POST", f"/v1/modelops/models/{m['id']}/test", json={"provider_id": "cloud"})
    assert r.status_code == 409 and r.json()["reason_code"] == "offline_provider_blocked"
    assert runtime.requests == []

    hooks.runtime_offline = type(hooks)().runtime_offline
    r = app.req("POST", f"/v1/modelops/models/{m['id']}/test", json={"provider_id": "cloud"})
    assert r.status_code == 200 and r.json()["status"] == "success", r.text
    assert {{k.lower(): v for k, v in h.items()}.get("authorization") for _m, _p, h in runtime.requests} == {
        "Bearer sk-cloud-0123456789abcdef"
    }

"""ModelOps models: life cycle, validation history, visibility and sharing, bound-model refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.genai.modelops.conftest import App, managed_dir

pytestmark = pytest.mark.db

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def create(app: App, who: str = "root", **body: Any) -> Any:
    return app.req("POST", "/v1/modelops/models", who, json=body)


def bundled(app: App, **extra: Any) -> dict[str, Any]:
    r = create(app, name="minilm", task="embeddings", origin="local", source="bundled", **extra)
    assert r.status_code == 201, r.text
    return r.json()


def test_life_cycle_of_the_bundled_embedding_model(app: App) -> None:
    m = bundled(app)
    assert m["lifecycle_state"] == "draft" and m["source_id"] == MINILM and m["local_path"]
    mid = m["id"]
    r = app.req("POST", f"/v1/modelops/models/{mid}/activate")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_invalid_transition"
    assert app.req("POST", f"/v1/modelops/models/{mid}/register").json()["lifecycle_state"] == "registered"
    r = app.req("POST", f"/v1/modelops/models/{mid}/activate")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_validation_required"

    v = app.req("POST", f"/v1/modelops/models/{mid}/validate")
    assert v.status_code == 200, v.text
    body = v.json()
    assert body["validation"]["status"] == "success"
    assert {c["name"] for c in body["validation"]["checks"]} >= {
        "path_exists",
        "weights_present",
        "hash_verified",
    }
    assert (
        body["model"]["is_validation_current"] is True
        and body["model"]["last_validation_status"] == "success"
    )

    assert app.req("POST", f"/v1/modelops/models/{mid}/activate").json()["lifecycle_state"] == "active"
    r = app.req("POST", f"/v1/modelops/models/{mid}/unregister")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_invalid_transition"
    assert app.req("POST", f"/v1/modelops/models/{mid}/deactivate").json()["lifecycle_state"] == "inactive"
    un = app.req("POST", f"/v1/modelops/models/{mid}/unregister").json()
    assert un["lifecycle_state"] == "unregistered" and un["is_validation_current"] is False
    assert app.req("POST", f"/v1/modelops/models/{mid}/register").json()["lifecycle_state"] == "registered"
    r = app.req("POST", f"/v1/modelops/models/{mid}/activate")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_validation_required"

    hist = app.req("GET", f"/v1/modelops/models/{mid}/validations").json()
    assert [h["status"] for h in hist["items"]] == ["success"]
    usage = app.req("GET", f"/v1/modelops/models/{mid}/usage").json()
    assert usage["bound"] is False and usage["validations"]["count"] == 1

    assert app.req("DELETE", f"/v1/modelops/models/{mid}").status_code == 200
    r = app.req("GET", f"/v1/modelops/models/{mid}")
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_model_not_found"


def test_validation_fails_for_a_local_model_without_weights(app: App, settings: Any) -> None:
    d = managed_dir(settings, "acme--empty", gguf=False)
    (d / "model.safetensors").unlink()
    m = create(app, name="empty", task="llm_inference", origin="local", local_path=str(d)).json()
    v = app.req("POST", f"/v1/modelops/models/{m['id']}/validate").json()
    assert v["validation"]["status"] == "failure"
    assert {c["name"]: c["ok"] for c in v["validation"]["checks"]}["weights_present"] is False
    app.req("POST", f"/v1/modelops/models/{m['id']}/register")
    r = app.req("POST", f"/v1/modelops/models/{m['id']}/activate")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_validation_required"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"origin": "cloud", "task": "llm_inference"}, "modelops_invalid_model"),  # no provider_model_id
        ({"origin": "local", "task": "llm_inference", "local_path": "/etc"}, "modelops_invalid_model"),
        ({"origin": "local", "task": "llm_inference"}, "modelops_invalid_model"),
        (
            {"origin": "local", "task": "llm_inference", "source": "huggingface", "source_id": "x/y"},
            "modelops_invalid_model",
        ),
    ],
)
def test_create_refusals(app: App, body: dict[str, Any], code: str) -> None:
    r = create(app, name="m", **body)
    assert r.status_code == 422 and r.json()["reason_code"] == code


def test_cloud_model_with_unknown_credential_is_404(app: App) -> None:
    r = create(
        app,
        name="gpt",
        task="llm_inference",
        origin="cloud",
        provider_family="openai_compatible_cloud_llm",
        provider_model_id="gpt-4o-mini",
        credential_id="cred_nope",
    )
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_credential_not_found"


def test_cloud_model_validates_with_its_credential(app: App) -> None:
    cred = app.req(
        "POST",
        "/v1/modelops/credentials",
        json={"name": "k", "provider": "openai", "secret": "sk-test-0123456789abcdef"},
    ).json()
    m = create(
        app,
        name="gpt",
        task="llm_inference",
        origin="cloud",
        provider_family="openai_compatible_cloud_llm",
        provider_model_id="gpt-4o-mini",
        credential_id=cred["id"],
    ).json()
    v = app.req("POST", f"/v1/modelops/models/{m['id']}/validate").json()
    assert v["validation"]["status"] == "success"
    assert {c["name"] for c in v["validation"]["checks"]} == {
        "provider_model_id",
        "provider_family",
        "credential",
    }


def test_bound_model_cannot_be_deleted_deactivated_or_unregistered(app: App, hooks: Any) -> None:
    m = bundled(app)
    mid = m["id"]
    for step in ("register", "validate", "activate"):
        assert app.req("POST", f"/v1/modelops/models/{mid}/{step}").status_code == 200

    async def bindings_of(_conn: Any, model_id: str) -> list[dict[str, Any]]:
        if model_id != mid:
            return []
        return [
            {
                "deployment_id": "dep1",
                "deployment_slug": "local-default",
                "capability": "embeddings",
                "is_default": True,
            }
        ]

    hooks.bindings_of = bindings_of
    for method, path in (("DELETE", ""), ("POST", "/deactivate")):
        r = app.req(method, f"/v1/modelops/models/{mid}{path}")
        assert r.status_code == 409, r.text
        assert r.json()["reason_code"] == "modelops_model_bound" and "local-default" in r.json()["detail"]
    usage = app.req("GET", f"/v1/modelops/models/{mid}/usage").json()
    assert usage["bound"] is True and usage["bindings"][0]["deployment_slug"] == "local-default"
    hooks.bindings_of = type(hooks)().bindings_of
    assert app.req("POST", f"/v1/modelops/models/{mid}/deactivate").status_code == 200
    hooks.bindings_of = bindings_of
    r = app.req("POST", f"/v1/modelops/models/{mid}/unregister")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_model_bound"


def test_visibility_and_sharing(app: App) -> None:
    private = bundled(app)
    ids = lambda who: {m["id"] for m in app.req("GET", "/v1/modelops/models", who).json()["items"]}  # noqa: E731
    assert private["id"] in ids("root")
    assert private["id"] not in ids("uma") and private["id"] not in ids("adam")
    r = app.req("GET", f"/v1/modelops/models/{private['id']}", "uma")
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_model_not_found"
    r = app.req("GET", f"/v1/modelops/models/{private['id']}/validations", "uma")
    assert r.status_code == 404

    r = app.req(
        "PUT",
        "/v1/modelops/sharing",
        json={"model_id": private["id"], "visibility": "shared", "user_ids": [app.user_ids["uma"]]},
    )
    assert r.status_code == 200 and r.json()["user_ids"] == [app.user_ids["uma"]]
    assert private["id"] in ids("uma") and private["id"] not in ids("ulf")
    assert app.req("GET", f"/v1/modelops/models/{private['id']}", "uma").status_code == 200

    app.req(
        "PUT",
        "/v1/modelops/sharing",
        json={"model_id": private["id"], "visibility": "shared", "roles": ["admin"]},
    )
    assert private["id"] in ids("adam") and private["id"] not in ids("uma")

    app.req("PUT", "/v1/modelops/sharing", json={"model_id": private["id"], "visibility": "public"})
    assert private["id"] in ids("ulf")
    got = app.req("GET", "/v1/modelops/sharing", params={"model_id": private["id"]}).json()["items"]
    assert got == [
        {
            "model_id": private["id"],
            "name": "minilm",
            "visibility": "public",
            "owner_id": app.user_ids["root"],
            "user_ids": [],
            "roles": [],
        }
    ]

    r = app.req(
        "PUT",
        "/v1/modelops/sharing",
        json={"model_id": private["id"], "visibility": "public", "user_ids": ["u"]},
    )
    assert r.status_code == 422 and r.json()["reason_code"] == "modelops_invalid_model"
    r = app.req("PUT", "/v1/modelops/sharing", json={"model_id": "mdl_nope", "visibility": "public"})
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_model_not_found"


def test_list_filters_and_paging(app: App) -> None:
    a = bundled(app)
    b = create(app, name="gpt", task="llm_inference", origin="cloud", provider_model_id="gpt-4o-mini").json()
    page = app.req("GET", "/v1/modelops/models", params={"page_size": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert [
        m["id"] for m in app.req("GET", "/v1/modelops/models", params={"task": "embeddings"}).json()["items"]
    ] == [a["id"]]
    assert [
        m["id"] for m in app.req("GET", "/v1/modelops/models", params={"origin": "cloud"}).json()["items"]
    ] == [b["id"]]


def test_unknown_model_is_404_on_every_model_route(app: App) -> None:
    for method, suffix in [
        ("GET", ""),
        ("POST", "/register"),
        ("POST", "/validate"),
        ("GET", "/tests"),
        ("GET", "/test-runtimes"),
        ("POST", "/activate"),
        ("POST", "/deactivate"),
        ("POST", "/unregister"),
        ("DELETE", ""),
        ("GET", "/usage"),
        ("GET", "/validations"),
    ]:
        r = app.req(method, f"/v1/modelops/models/mdl_nope{suffix}")
        assert r.status_code == 404, (method, suffix, r.text)
        assert r.json()["reason_code"] == "modelops_model_not_found"

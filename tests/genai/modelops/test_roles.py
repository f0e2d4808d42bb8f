"""Every ModelOps endpoint refuses each role it must: anonymous callers everywhere (401), users and
admins on the superadmin routes (403, ``insufficient_role``). Reads of models are for any signed-in
user (limited to what they may see, tested in test_models)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.genai.modelops.conftest import App

pytestmark = pytest.mark.db

M = "/v1/modelops/models/{mid}"
SUPERADMIN_ROUTES = [
    (
        "POST",
        "/v1/modelops/models",
        {"name": "m", "task": "llm_inference", "origin": "cloud", "provider_model_id": "x"},
    ),
    ("POST", M + "/register", None),
    ("POST", M + "/validate", None),
    ("GET", M + "/test-runtimes", None),
    ("POST", M + "/test", {"provider_id": "p"}),
    ("POST", M + "/activate", None),
    ("POST", M + "/deactivate", None),
    ("POST", M + "/unregister", None),
    ("DELETE", M, None),
    ("GET", M + "/usage", None),
    ("GET", "/v1/modelops/credentials", None),
    ("POST", "/v1/modelops/credentials", {"name": "k", "provider": "openai", "secret": "s"}),
    ("DELETE", "/v1/modelops/credentials/cred_x", None),
    ("POST", "/v1/modelops/catalog", {"name": "c", "task": "embeddings", "origin": "local"}),
    ("GET", "/v1/modelops/sharing", None),
    ("PUT", "/v1/modelops/sharing", {"model_id": "{mid}", "visibility": "public"}),
    ("GET", "/v1/modelops/discovery/huggingface", None),
    ("GET", "/v1/modelops/discovery/huggingface/acme/tiny", None),
    ("POST", "/v1/modelops/downloads", {"source_id": "acme/tiny"}),
    ("GET", "/v1/modelops/downloads", None),
    ("GET", "/v1/modelops/downloads/dl_x", None),
    ("POST", "/v1/modelops/downloads/dl_x/cancel", None),
]
AUTHENTICATED_ROUTES = [
    ("GET", "/v1/modelops/models", None),
    ("GET", M, None),
    ("GET", M + "/tests", None),
    ("GET", M + "/validations", None),
    ("GET", "/v1/modelops/catalog", None),
]


def _fill(value: Any, mid: str) -> Any:
    if isinstance(value, str):
        return value.replace("{mid}", mid)
    if isinstance(value, dict):
        return {k: _fill(v, mid) for k, v in value.items()}
    return value


@pytest.fixture
def public_model(app: App) -> str:
    r = app.req(
        "POST",
        "/v1/modelops/models",
        json={
            "name": "pub",
            "task": "llm_inference",
            "origin": "cloud",
            "provider_model_id": "x",
            "visibility": "public",
        },
    )
    return r.json()["id"]


def test_superadmin_routes_refuse_anonymous_users_and_admins(app: App, public_model: str) -> None:
    for method, path, body in SUPERADMIN_ROUTES:
        url, data = _fill(path, public_model), _fill(body, public_model)
        r = app.req(method, url, None, json=data)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["reason_code"] == "not_authenticated" and "Bearer" in r.headers["www-authenticate"]
        for who in ("uma", "adam"):
            r = app.req(method, url, who, json=data)
            assert r.status_code == 403, (who, method, path, r.text)
            assert r.json()["reason_code"] == "insufficient_role"
        r = app.req(method, url, "root", json=data)
        assert r.status_code not in (401, 403), (method, path, r.text)


def test_authenticated_routes_refuse_anonymous_only(app: App, public_model: str) -> None:
    for method, path, body in AUTHENTICATED_ROUTES:
        url = _fill(path, public_model)
        r = app.req(method, url, None, json=body)
        assert r.status_code == 401, (method, path, r.text)
        for who in ("uma", "adam", "root"):
            r = app.req(method, url, who, json=body)
            assert r.status_code == 200, (who, method, path, r.text)


def test_every_modelops_route_is_covered() -> None:
    from ridgeline.genai.api.modelops import ROUTES

    declared = {(m, h.paths and next(iter(h.paths))) for h in ROUTES for m in h.http_methods}
    covered = {
        (m, p.replace("{mid}", "{model_id:str}")) for m, p, _ in SUPERADMIN_ROUTES + AUTHENTICATED_ROUTES
    }
    covered = {
        (
            m,
            p.replace("credentials/cred_x", "credentials/{credential_id:str}")
            .replace("downloads/dl_x", "downloads/{download_id:str}")
            .replace("huggingface/acme/tiny", "huggingface/{source_id:path}"),
        )
        for m, p in covered
    }
    assert declared == covered

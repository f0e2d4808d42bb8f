"""Every control-plane endpoint with each role it must refuse: 401 anonymous, 403 a lower role."""

import pytest

pytestmark = pytest.mark.db

X = "0" * 8
SUPER_ONLY = [
    ("PUT", "/v1/runtime/profile", {"mode": "online"}),
    ("GET", "/v1/platform/provider-families", None),
    ("GET", "/v1/platform/providers", None),
    ("POST", "/v1/platform/providers", {"provider_key": "sandbox_local", "slug": "s", "endpoint_url": "http://127.0.0.1:9"}),
    ("PUT", f"/v1/platform/providers/{X}", {"display_name": "x"}),
    ("DELETE", f"/v1/platform/providers/{X}", None),
    ("POST", f"/v1/platform/providers/{X}/validate", None),
    ("POST", f"/v1/platform/providers/{X}/loaded-model", {"managed_model_id": "m"}),
    ("DELETE", f"/v1/platform/providers/{X}/loaded-model", None),
    ("GET", "/v1/platform/deployments", None),
    ("GET", "/v1/platform/activation-audit", None),
    ("POST", "/v1/platform/deployments", {"slug": "d"}),
    ("PATCH", f"/v1/platform/deployments/{X}", {"display_name": "x"}),
    ("PUT", f"/v1/platform/deployments/{X}", {"slug": "d"}),
    ("PUT", f"/v1/platform/deployments/{X}/bindings/llm_inference", {"provider_id": X}),
    ("POST", f"/v1/platform/deployments/{X}/clone", {"slug": "d2"}),
    ("DELETE", f"/v1/platform/deployments/{X}", None),
    ("POST", f"/v1/platform/deployments/{X}/activate", None),
    ("POST", "/v1/platform/embeddings", {"texts": ["a"]}),
    ("POST", "/v1/platform/vector/indexes/ensure", {}),
    ("POST", "/v1/platform/vector/documents/upsert", {"documents": [{"id": "a", "text": "a"}]}),
    ("POST", "/v1/platform/vector/query", {"query": "a"}),
    ("POST", "/v1/platform/vector/documents/delete", {"ids": ["a"]}),
]  # fmt: skip
SIGNED_IN = [
    ("GET", "/v1/runtime/profile", None),
    ("GET", "/v1/platform/capabilities", None),
    ("POST", "/v1/models/inference", {"messages": [{"role": "user", "content": "hi"}]}),
    ("POST", "/v1/models/generate", {"prompt": "hi"}),
]


def test_superadmin_routes_refuse_anonymous_user_and_admin(app):
    for method, path, body in SUPER_ONLY:
        kw = {"json": body} if body is not None else {}
        app.refused(method, path, 401, "not_authenticated", role=None, **kw)
        for role in ("user", "admin"):
            r = app.req(method, path, role, **kw)
            assert r.status_code == 403, (method, path, role, r.text)
            assert r.json()["reason_code"] == "insufficient_role"


def test_signed_in_routes_refuse_anonymous_and_serve_a_user(app):
    for method, path, body in SIGNED_IN:
        kw = {"json": body} if body is not None else {}
        app.refused(method, path, 401, "not_authenticated", role=None, **kw)
        r = app.req(method, path, "user", **kw)
        assert r.status_code == 200, (method, path, r.text)


def test_runtime_profile_is_read_only_for_non_superadmins(app):
    assert app.ok("GET", "/v1/runtime/profile", role="user")["can_edit"] is False
    assert app.ok("GET", "/v1/runtime/profile", role="admin")["can_edit"] is False
    assert app.ok("GET", "/v1/runtime/profile")["can_edit"] is True
    app.refused(
        "PUT", "/v1/runtime/profile", 403, "insufficient_role", role="admin", json={"mode": "offline"}
    )
    assert app.ok("PUT", "/v1/runtime/profile", json={"mode": "offline"})["mode"] == "offline"
    assert app.ok("GET", "/v1/runtime/profile", role="user")["mode"] == "offline"

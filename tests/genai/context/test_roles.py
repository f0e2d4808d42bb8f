"""Every /v1/context endpoint with each role it must refuse: 401 anonymous, 403 a lower role; and
each admin endpoint serves an admin."""

import pytest

pytestmark = pytest.mark.db

X = "0" * 8
KB = f"/v1/context/knowledge-bases/{X}"
SUPER_ONLY = [
    ("POST", "/v1/context/schema-profiles", {"provider_key": "weaviate_local", "name": "p",
                                             "schema": {"properties": [{"name": "text", "data_type": "text"}]}}),
    ("POST", "/v1/context/knowledge-bases", {"name": "k", "provider_instance_id": X,
                                             "vectorization": {"mode": "self_provided"}}),
    ("PUT", KB, {"name": "k2"}),
    ("DELETE", KB, None),
    ("POST", f"{KB}/resync", None),
    ("POST", f"{KB}/sources", {"path": "/tmp"}),
    ("PUT", f"{KB}/sources/{X}", {"display_name": "s"}),
    ("DELETE", f"{KB}/sources/{X}", None),
    ("POST", f"{KB}/sources/{X}/sync", None),
    ("POST", f"{KB}/documents", {"title": "t", "content": "c"}),
    ("PUT", f"{KB}/documents/{X}", {"title": "t"}),
    ("DELETE", f"{KB}/documents/{X}", None),
]  # fmt: skip
ADMIN = [
    ("GET", "/v1/context/schema-profiles", None, 200),
    ("GET", "/v1/context/vectorization-options", None, 200),
    ("GET", "/v1/context/knowledge-bases", None, 200),
    ("GET", KB, None, 404),
    ("POST", f"{KB}/query", {"query": "q"}, 404),
    ("GET", f"{KB}/sources", None, 404),
    ("GET", f"{KB}/sync-runs", None, 404),
    ("GET", f"{KB}/documents", None, 404),
]


def test_superadmin_routes_refuse_anonymous_user_and_admin(cx):
    for method, path, body in SUPER_ONLY:
        kw = {"json": body} if body is not None else {}
        cx.refused(method, path, 401, "not_authenticated", role=None, **kw)
        for role in ("user", "admin"):
            cx.refused(method, path, 403, "insufficient_role", role=role, **kw)
    upload = {"files": {"file": ("a.txt", b"hello", "text/plain")}}
    cx.refused("POST", f"{KB}/uploads", 401, "not_authenticated", role=None, **upload)
    for role in ("user", "admin"):
        cx.refused("POST", f"{KB}/uploads", 403, "insufficient_role", role=role, **upload)
    cx.refused("POST", f"{KB}/uploads", 404, "knowledge_base_not_found", **upload)


def test_admin_routes_refuse_anonymous_and_user_and_serve_an_admin(cx):
    for method, path, body, status in ADMIN:
        kw = {"json": body} if body is not None else {}
        cx.refused(method, path, 401, "not_authenticated", role=None, **kw)
        cx.refused(method, path, 403, "insufficient_role", role="user", **kw)
        r = cx.req(method, path, "admin", **kw)
        assert r.status_code == status, (method, path, r.text)
        if status == 404:
            assert r.json()["reason_code"] == "knowledge_base_not_found"

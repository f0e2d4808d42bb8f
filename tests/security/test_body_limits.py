"""Request body size limits (ASVS 5.0 V5.2.1, V4 / V13 resource limits; docs/security.md).

Every route takes the app-wide limit, Litestar's default ``request_max_body_size`` of 10 MB, unless it
is one of the few documented upload routes that set their own. An over-limit body on an ordinary JSON
route is refused with 413 ``payload_too_large`` in the family's own error shape, before the body is
read (an announced Content-Length) or as soon as the streamed bytes pass the limit (chunked)."""

from __future__ import annotations

from typing import Any

import pytest

DEFAULT_LIMIT = 10_000_000  # litestar.Litestar(request_max_body_size=...) default, not overridden

# family -> an ordinary JSON route of it
ROUTES = {
    "routing": "/routing/route",
    "sim": "/sim/v1/runs",
    "retail": "/retail/scenarios/simulate",
    "autopack": "/autopack/research/sessions",
    "genai": "/genai/v1/quotes",
}

# Routes allowed another limit, with the reason (docs/security.md "Request size limits").
OVERRIDES = {
    "/sim/api/assets/import": 64 * 1024 * 1024,  # URDF/mesh/USD uploads; MAX_UPLOAD
    "/retail/ingest/sales-daily": None,  # streamed; RETAIL_INGEST_MAX_MB on the decompressed bytes
    "/genai/v1/context/knowledge-bases/{kb_id:str}/uploads": 1 << 30,  # CONTEXT_UPLOAD_MAX_BYTES enforced
    "/autopack/files/upload": None,  # streamed; the upload limit is enforced while streaming
    "/autopack/telegram/webhook": 64 * 1024,  # a Telegram Update is small
}


def _body(size: int) -> bytes:
    """Valid JSON of exactly ``size`` bytes: without the limit it would reach validation (422)."""
    head, tail = b'{"padding": "', b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def _reason(family: str, r: Any) -> str:
    body = r.json()
    if family == "routing":  # contract 000: {"detail": {"reason_code", ...}}
        return body["detail"]["reason_code"]
    if family == "retail":  # contract 002: RFC 7807
        assert r.headers["content-type"].startswith("application/problem+json")
        assert body["status"] == 413
    return body["reason_code"]  # FastAPI-style contracts 001, 003, 004


@pytest.mark.parametrize("family", sorted(ROUTES))
def test_over_limit_json_body_is_413_in_the_familys_shape(family_client, family: str) -> None:  # type: ignore[no-untyped-def]
    client, bearer = family_client(family)
    headers = {**bearer, "content-type": "application/json"}
    r = client.post(ROUTES[family], content=_body(DEFAULT_LIMIT + 1), headers=headers)
    assert r.status_code == 413, r.text[:300]
    assert _reason(family, r) == "payload_too_large"
    assert "request_id" in r.text
    # At the limit the body is read and goes on to validation, so the 413 above is the size limit.
    r = client.post(ROUTES[family], content=_body(DEFAULT_LIMIT), headers=headers)
    assert r.status_code != 413, r.text[:300]


def test_a_chunked_body_is_cut_off_at_the_limit_too(family_client) -> None:  # type: ignore[no-untyped-def]
    client, bearer = family_client("routing")
    body = _body(DEFAULT_LIMIT + 1)

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: sent chunked
        for i in range(0, len(body), 1 << 20):
            yield body[i : i + (1 << 20)]

    r = client.post(
        ROUTES["routing"], content=chunks(), headers={**bearer, "content-type": "application/json"}
    )
    assert r.status_code == 413, r.text[:300]
    assert r.json()["detail"]["reason_code"] == "payload_too_large"


def test_only_the_documented_upload_routes_change_the_limit(make_client) -> None:  # type: ignore[no-untyped-def]
    from litestar.routes import HTTPRoute

    client = make_client()
    assert client.app.request_max_body_size == DEFAULT_LIMIT
    found: dict[str, int | None] = {}
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            limit = handler.resolve_request_max_body_size()
            if limit != DEFAULT_LIMIT:
                found[route.path] = limit
    assert found == OVERRIDES


def test_the_telegram_webhook_keeps_its_64_kib_limit(family_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.autopack.api.telegram import MAX_UPDATE_BYTES, SECRET_HEADER

    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "hook-secret-audit")
    client, _ = family_client("autopack")
    headers = {SECRET_HEADER: "hook-secret-audit", "content-type": "application/json"}
    path = "/autopack/telegram/webhook"
    r = client.post(path, content=_body(MAX_UPDATE_BYTES + 1), headers=headers)
    assert r.status_code == 413 and r.json()["reason_code"] == "payload_too_large", r.text[:300]
    r = client.post(path, content=_body(MAX_UPDATE_BYTES), headers=headers)
    assert r.status_code != 413, r.text[:300]

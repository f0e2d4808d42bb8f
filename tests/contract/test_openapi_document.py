"""The OpenAPI document of each family declares its errors in the family's shape (fast, no traffic)."""

from __future__ import annotations

from typing import Any

import pytest

from ridgeline.app import available_families

# family -> (error media type, error schema component)
_SHAPES = {
    "routing": ("application/json", "ReasonCodedError"),
    "retail": ("application/problem+json", "ProblemDetails"),
}
_DEFAULT_SHAPE = ("application/json", "DetailError")
# Root operations of the platform itself (no family behind them, so no 503 for a family that failed).
_PLATFORM_PATHS = {
    "/signing-key",
    "/metrics",
    "/openapi.json",
    "/auth/login",
    "/auth/register",
    "/auth/me",
    "/.well-known/jwks.json",
}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items() if m in methods]


@pytest.mark.parametrize("family", available_families())
def test_every_operation_declares_its_errors_in_the_family_shape(make_client: Any, family: str) -> None:
    doc = make_client(only=family).get("/openapi.json").json()
    media_type, component = _SHAPES.get(family, _DEFAULT_SHAPE)
    ops = _operations(doc)
    assert ops
    for method, path, op in ops:
        responses = op["responses"]
        has_inputs = bool(op.get("parameters") or op.get("requestBody"))
        if has_inputs:
            assert "422" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if op.get("requestBody"):
            assert "400" in responses, (method, path)
        if path not in _PLATFORM_PATHS:
            assert "503" in responses, (method, path)
        for status, response in responses.items():
            if int(status) < 400:
                continue
            if path == "/health" and status == "503":
                continue  # health answers 503 with its own health body
            content = response["content"]
            assert list(content) == [media_type], (method, path, status)
            schema = content[media_type]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{component}"}, (method, path, status)
            assert content[media_type].get("examples"), (method, path, status)
            # Litestar's generic ValidationException body is never what these apps answer
            assert response["description"] != "Bad request syntax or unsupported method", (method, path)


def test_routing_artifacts_are_one_operation_per_file_with_its_media_type(make_client: Any) -> None:
    if "routing" not in available_families():
        pytest.skip("routing not in this build")
    doc = make_client(only="routing").get("/openapi.json").json()
    expected = {
        "results.json": "application/json",
        "results.csv": "text/csv",
        "metadata.json": "application/json",
        "routes.geojson": "application/geo+json",
        "results_summary.csv": "text/csv",
        "report.pdf": "application/pdf",
    }
    for name, media_type in expected.items():
        op = doc["paths"][f"/runs/{{run_id}}/artifacts/{name}"]["get"]
        assert list(op["responses"]["200"]["content"]) == [media_type], name
        assert "409" in op["responses"], name
    assert "/runs/{run_id}/artifacts/{name}" not in doc["paths"]


def test_unknown_routing_artifact_is_still_a_reason_coded_404(make_client: Any) -> None:
    if "routing" not in available_families():
        pytest.skip("routing not in this build")
    r = make_client(only="routing").get("/runs/abc/artifacts/secrets.txt")
    assert r.status_code == 404
    assert r.json()["detail"]["reason_code"] == "artifact_not_found"


def test_streams_and_files_declare_their_media_types(make_client: Any) -> None:
    if "routing" not in available_families():
        pytest.skip("routing not in this build")
    doc = make_client(only="routing").get("/openapi.json").json()
    assert list(doc["paths"]["/pareto/stream"]["post"]["responses"]["200"]["content"]) == [
        "application/x-ndjson"
    ]
    assert list(doc["paths"]["/oracle/quality/dashboard.csv"]["get"]["responses"]["200"]["content"]) == [
        "text/csv"
    ]
    metrics = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert [m.split(";")[0] for m in metrics] == ["text/plain"]

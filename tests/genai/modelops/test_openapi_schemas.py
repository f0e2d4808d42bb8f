"""ModelOps responses are typed (msgspec Structs): the OpenAPI document gives every ModelOps route
(models, validations, tests, test runtimes, usage, credentials, catalog, sharing, discovery,
downloads) a specific response schema, not a generic object. A route that answers one of two
shapes (discovery: the hub or the local model cache) has a oneOf whose every branch has the fields."""

from typing import Any

import pytest

ROUTES = [
    ("get", "/v1/modelops/models", {"items", "page", "page_size", "total"}),
    ("post", "/v1/modelops/models", {"id", "lifecycle_state", "is_validation_current"}),
    ("get", "/v1/modelops/models/{model_id}", {"id", "task", "origin", "lifecycle_state", "visibility"}),
    ("post", "/v1/modelops/models/{model_id}/activate", {"lifecycle_state", "last_validation_status"}),
    ("delete", "/v1/modelops/models/{model_id}", {"id", "deleted"}),
    ("post", "/v1/modelops/models/{model_id}/validate", {"validation", "model"}),
    ("get", "/v1/modelops/models/{model_id}/validations", {"items", "limit", "offset"}),
    ("get", "/v1/modelops/credentials", {"items"}),
    ("post", "/v1/modelops/credentials", {"id", "secret_masked", "secret_ref"}),
    ("get", "/v1/modelops/sharing", {"items"}),
    ("put", "/v1/modelops/sharing", {"model_id", "visibility", "user_ids", "roles"}),
    ("post", "/v1/modelops/downloads", {"id", "status", "bytes_done", "progress", "files"}),
    ("get", "/v1/modelops/downloads", {"items", "limit", "offset"}),
    ("get", "/v1/modelops/downloads/{download_id}", {"status", "job_state", "resumed_bytes"}),
    ("post", "/v1/modelops/downloads/{download_id}/cancel", {"status", "job_state"}),
    ("get", "/v1/modelops/models/{model_id}/tests", {"items", "limit", "offset"}),
    ("get", "/v1/modelops/models/{model_id}/test-runtimes", {"model_id", "task", "items"}),
    (
        "post",
        "/v1/modelops/models/{model_id}/test",
        {"id", "provider_id", "runtime_model_id", "status", "output"},
    ),
    (
        "get",
        "/v1/modelops/models/{model_id}/usage",
        {"bound", "bindings", "tests", "validations", "loaded_in"},
    ),
    ("get", "/v1/modelops/catalog", {"items"}),
    ("post", "/v1/modelops/catalog", {"id", "task", "origin", "builtin", "created_at"}),
    ("get", "/v1/modelops/discovery/huggingface", {"mode", "hub", "remote_disabled_reason", "items"}),
    ("get", "/v1/modelops/discovery/huggingface/{source_id}", {"mode", "source_id", "files", "total_size"}),
]

# nested schemas: (component, fields) for the structures inside those answers
NESTED = [
    ("RuntimeReport", {"slot_state", "loaded_model_id", "runtime_model_id", "advertised", "serves_model"}),
    ("AdvertisedEntry", {"id", "owned_by", "matches_model"}),
    ("ModelTestOutput", {"content", "finish_reason", "usage", "vectors", "dimensions", "reason_code"}),
    ("UsageBinding", {"deployment_id", "deployment_slug", "capability", "is_default"}),
    ("HubModel", {"source_id", "pipeline_tag", "task", "downloads", "gated"}),
    ("CachedModel", {"source_id", "source", "local_path", "files", "total_size"}),
]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@pytest.fixture(scope="module")
def doc(tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from ridgeline.app import create_app
    from ridgeline.genai.api import family
    from ridgeline.platform.settings import Settings

    s = Settings(data_dir=tmp_path_factory.mktemp("openapi"), only="genai")
    return create_app(s, families=[family]).openapi_schema.to_schema()


@pytest.mark.parametrize(("method", "path", "fields"), ROUTES)
def test_response_schema_is_specific(doc, method, path, fields) -> None:  # type: ignore[no-untyped-def]
    op = doc["paths"][path][method]
    ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
    schema = ok["content"]["application/json"]["schema"]
    branches = schema.get("oneOf") or [schema]
    for branch in branches:
        resolved = _resolve(doc, branch)
        assert fields <= set(resolved.get("properties", {})), (path, resolved)


@pytest.mark.parametrize(("name", "fields"), NESTED)
def test_nested_schemas_are_specific(doc, name, fields) -> None:  # type: ignore[no-untyped-def]
    assert fields <= set(doc["components"]["schemas"][name]["properties"]), name

"""ModelOps responses are typed (msgspec Structs): the OpenAPI document gives the model, credential
and download routes specific response schemas, not a generic object."""

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
    schema = _resolve(doc, ok["content"]["application/json"]["schema"])
    assert fields <= set(schema.get("properties", {})), (path, schema)

"""No secret in the OpenAPI document of the whole service: no key, token or private key in any example,
default or description, and no example or default at all on a field that holds a secret."""

import json
import re
from typing import Any

import pytest

pytestmark = pytest.mark.db

SECRET_SHAPES = {
    "ridgeline API key": re.compile(r"rk_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}"),
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."),
    "OpenAI-style key": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    "PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Telegram bot token": re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
}
SECRET_FIELD = re.compile(r"(password|secret|token|api_key|apikey|private_key)$", re.IGNORECASE)


def _walk(node: Any, path: str = "$"):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}")
            if k == "properties" and isinstance(v, dict):
                for name, schema in v.items():
                    if SECRET_FIELD.search(name) and isinstance(schema, dict):
                        yield (f"{path}.properties.{name}", schema)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def test_openapi_holds_no_secret(make_client) -> None:  # type: ignore[no-untyped-def]
    r = make_client().get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    text = json.dumps(doc)
    assert len(doc["paths"]) > 200  # every family is mounted, so the scan covers the whole service
    assert not _shapes(text), _shapes(text)
    assert not _leaks(doc), _leaks(doc)[:5]


def _shapes(text: str) -> dict[str, list[str]]:
    return {name: rx.findall(text)[:3] for name, rx in SECRET_SHAPES.items() if rx.search(text)}


def _leaks(doc: Any) -> list[tuple[str, dict[str, Any]]]:
    """Secret-named string fields that carry an example or a default."""
    keys = ("example", "examples", "default")
    return [
        (where, {k: schema[k] for k in keys if schema.get(k) not in (None, "")})
        for where, schema in _walk(doc)
        if any(schema.get(k) not in (None, "") for k in keys)
        and schema.get("type") in ("string", None)
        and not isinstance(schema.get("default"), bool)
    ]


def test_the_scan_sees_planted_secrets() -> None:
    planted = {
        "components": {"schemas": {"X": {"properties": {"api_key": {"type": "string", "example": "k"}}}}}
    }
    assert _leaks(planted) == [("$.components.schemas.X.properties.api_key", {"example": "k"})]
    assert set(_shapes("Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjM0NSJ9.c2ln")) == {"JWT"}
    assert set(_shapes("key rk_0123456789abcdef_" + "A" * 43)) == {"ridgeline API key"}

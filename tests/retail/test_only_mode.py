"""``ridgeline serve --only retail``: the family at the root, with its own /health shape."""

from __future__ import annotations

import pytest

from ridgeline.retail.api import family


def test_family_is_problem_json_with_hooks() -> None:
    assert family.name == "retail" and family.on_startup


@pytest.mark.db
def test_only_retail_serves_at_root(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(only="retail")
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert client.get("/dimensions/stores").json()["stores"] == []
    missing = client.get("/dimensions/stores/1")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert missing.json()["instance"] == "/dimensions/stores/1"


@pytest.mark.db
def test_mounted_under_prefix(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    assert client.get("/retail/health").json() == {"status": "ok"}
    assert client.get("/health").json()["status"] == "ok"

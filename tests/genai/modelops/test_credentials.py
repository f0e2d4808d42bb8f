"""ModelOps credentials (sealed at rest, masked in every response) and the model catalog."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from ridgeline.genai.api import modelops_store as ms
from ridgeline.genai.api.store import credentials
from ridgeline.platform.auth.secrets import SecretError, mask
from tests.genai.modelops.conftest import App

pytestmark = pytest.mark.db

SECRET = "sk-live-abcdefghijklmnopqrstuvwxyz0123"


def test_credential_is_sealed_and_masked_everywhere(app: App) -> None:
    r = app.req(
        "POST", "/v1/modelops/credentials", json={"name": "openai", "provider": "openai", "secret": SECRET}
    )
    assert r.status_code == 201, r.text
    assert SECRET not in r.text
    cred = r.json()
    assert cred["secret_masked"] == mask(SECRET)
    assert cred["secret_ref"] == f"modelops://credential/{cred['id']}"
    listed = app.req("GET", "/v1/modelops/credentials")
    assert SECRET not in listed.text
    assert listed.json()["items"][0]["secret_masked"] == mask(SECRET)

    async def stored() -> Any:
        async with app.client.app.state["ctx"].db.engine.connect() as conn:
            return (await conn.execute(sa.select(credentials))).one()

    row = app.call(stored)
    assert SECRET.encode() not in bytes(row.secret_sealed)
    box = app.client.app.state["auth"].secrets
    assert box.open(bytes(row.secret_sealed).decode(), f"genai:credential:{cred['id']}").decode() == SECRET
    with pytest.raises(SecretError):  # bound to its row: another id's associated data does not open it
        box.open(bytes(row.secret_sealed).decode(), "genai:credential:other")

    async def resolve() -> Any:
        async with app.client.app.state["ctx"].db.engine.connect() as conn:
            return await ms.resolve_credential(conn, box, cred["id"]), await ms.resolve_credential(
                conn, box, "nope"
            )

    assert app.call(resolve) == (SECRET, None)


def test_credential_in_use_cannot_be_deleted(app: App, hooks: Any) -> None:
    cred = app.req(
        "POST", "/v1/modelops/credentials", json={"name": "k", "provider": "openai", "secret": SECRET}
    ).json()
    m = app.req(
        "POST",
        "/v1/modelops/models",
        json={
            "name": "gpt",
            "task": "llm_inference",
            "origin": "cloud",
            "provider_model_id": "gpt-4o",
            "credential_id": cred["id"],
        },
    ).json()
    r = app.req("DELETE", f"/v1/modelops/credentials/{cred['id']}")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_credential_in_use"
    assert app.req("DELETE", f"/v1/modelops/models/{m['id']}").status_code == 200

    async def referenced(_conn: Any, credential_id: str) -> bool:
        return credential_id == cred["id"]

    hooks.credential_referenced = referenced
    r = app.req("DELETE", f"/v1/modelops/credentials/{cred['id']}")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_credential_in_use"
    hooks.credential_referenced = type(hooks)().credential_referenced
    assert app.req("DELETE", f"/v1/modelops/credentials/{cred['id']}").json() == {
        "id": cred["id"],
        "deleted": True,
    }
    r = app.req("DELETE", f"/v1/modelops/credentials/{cred['id']}")
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_credential_not_found"
    assert app.req("GET", "/v1/modelops/credentials").json()["items"] == []


def test_catalog_lists_builtins_and_added_entries(app: App) -> None:
    items = app.req("GET", "/v1/modelops/catalog", "uma").json()["items"]
    builtin = {i["id"]: i for i in items}
    assert builtin["builtin:local-embeddings"]["source_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert builtin["builtin:extractive"]["task"] == "llm_inference"
    r = app.req(
        "POST",
        "/v1/modelops/catalog",
        json={
            "name": "Llama 3.2 1B",
            "task": "llm_inference",
            "origin": "local",
            "source": "huggingface",
            "source_id": "meta-llama/Llama-3.2-1B-Instruct",
        },
    )
    assert r.status_code == 201, r.text
    got = app.req("GET", "/v1/modelops/catalog", params={"task": "llm_inference"}).json()["items"]
    assert [i["name"] for i in got] == ["ridgeline-extractive-1", "Llama 3.2 1B"]
    r = app.req(
        "POST", "/v1/modelops/catalog", json={"name": "x", "task": "llm_inference", "origin": "cloud"}
    )
    assert r.status_code == 422 and r.json()["reason_code"] == "modelops_invalid_model"
    r = app.req(
        "POST",
        "/v1/modelops/catalog",
        json={
            "name": "x",
            "task": "llm_inference",
            "origin": "local",
            "source": "huggingface",
            "source_id": "../etc",
        },
    )
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request"

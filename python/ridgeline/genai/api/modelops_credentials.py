"""``/v1/modelops/credentials``, ``/v1/modelops/catalog``, ``/v1/modelops/sharing``.

Credentials are sealed with the platform's secrets box (AES-256-GCM, associated data
``genai:credential:<id>``) and only ever shown masked (``mask()``: ``sk-p****#1a2b3c4d``). The
catalog is the list of model templates operators start from (the bundled local embeddings model and
the offline extractive responder are built in; superadmins add entries). Sharing sets a model's
visibility (private, shared, public) and, for shared models, the users and roles it is shared with.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Request, delete, get, post, put
from litestar.params import JSONBody, Parameter, PathParameter

from ridgeline.genai import hub
from ridgeline.genai.api import modelops_store as ms
from ridgeline.genai.api.modelops_common import TAGS, authenticated, caller, err, require_model, superadmin
from ridgeline.genai.api.modelops_schemas import (
    CatalogEntry,
    CatalogList,
    CreatedCredential,
    CredentialList,
    Deleted,
    Sharing,
    SharingList,
    typed,
)
from ridgeline.genai.api.service import GenaiService
from ridgeline.genai.api.store import credentials, models
from ridgeline.genai.modelops_runtimes import HOOKS
from ridgeline.platform.auth import Role
from ridgeline.platform.context import Service

ShortStr = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CredentialCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    provider: ShortStr
    secret: Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]

    def __repr__(self) -> str:  # never print the secret
        return f"CredentialCreate(name={self.name!r}, provider={self.provider!r}, secret=****)"


@get("/v1/modelops/credentials", summary="Saved credentials (masked)", tags=TAGS, opt=superadmin())
async def list_credentials(svc: Service[GenaiService]) -> CredentialList:
    async with svc.db.engine.connect() as conn:
        rows = await conn.execute(sa.select(credentials).order_by(credentials.c.created_at, credentials.c.id))
        return typed({"items": [ms.credential_view(ms.row_dict(r)) for r in rows]}, CredentialList)


@post(
    "/v1/modelops/credentials",
    summary="Save a credential (sealed at rest)",
    tags=TAGS,
    status_code=201,
    opt=superadmin(),
)
async def create_credential(
    request: Request[Any, Any, Any], svc: Service[GenaiService], data: JSONBody[CredentialCreate]
) -> CreatedCredential:
    uid, _ = caller(request)
    async with svc.db.begin() as conn:
        row = await ms.insert_credential(
            conn,
            svc.ctx.auth.secrets,
            name=data.name,
            provider=data.provider,
            secret=data.secret,
            owner_id=uid,
        )
    return typed(
        {**ms.credential_view(row), "secret_ref": f"modelops://credential/{row['id']}"}, CreatedCredential
    )


@delete(
    "/v1/modelops/credentials/{credential_id:str}",
    summary="Delete a credential (refused while used)",
    tags=TAGS,
    status_code=200,
    opt=superadmin(409),
)
async def delete_credential(
    svc: Service[GenaiService], credential_id: Annotated[str, PathParameter(max_length=64)]
) -> Deleted:
    async with svc.db.begin() as conn:
        if await ms.get_credential(conn, credential_id) is None:
            raise err("modelops_credential_not_found", credential_id=credential_id)
        users = [
            r.id
            for r in await conn.execute(sa.select(models.c.id).where(models.c.credential_id == credential_id))
        ]
        if await HOOKS.credential_referenced(conn, credential_id):
            users.append("a platform provider's secret_refs")
        if users:
            raise err("modelops_credential_in_use", users=", ".join(users))
        await conn.execute(credentials.delete().where(credentials.c.id == credential_id))
    return Deleted(id=credential_id, deleted=True)


# ---------------------------------------------------------------- catalog


class CatalogCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    task: Literal["llm_inference", "embeddings"]
    origin: Literal["local", "cloud"]
    provider_family: ShortStr | None = None
    provider_model_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    source: Literal["manual", "huggingface"] = "manual"
    source_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    metadata: dict[str, Any] = {}


def _builtin_catalog() -> list[dict[str, Any]]:
    out = []
    bundled = hub.bundled_model()
    if bundled is not None:
        out.append(
            {
                "id": "builtin:local-embeddings",
                "name": bundled["name"],
                "task": "embeddings",
                "origin": "local",
                "provider_family": "local_embeddings",
                "provider_model_id": None,
                "source": "bundled",
                "source_id": bundled["source_id"],
                "description": "The AI layer's bundled all-MiniLM-L6-v2 (384-d), offline.",
                "metadata": {"license": bundled["license"], "dimensions": 384},
                "builtin": True,
                "created_by": None,
                "created_at": None,
            }
        )
    out.append(
        {
            "id": "builtin:extractive",
            "name": "ridgeline-extractive-1",
            "task": "llm_inference",
            "origin": "local",
            "provider_family": "local_extractive_chat",
            "provider_model_id": "ridgeline-extractive-1",
            "source": "bundled",
            "source_id": None,
            "description": "The AI layer's offline extractive responder (quotes context; not generative).",
            "metadata": {"generative": False},
            "builtin": True,
            "created_by": None,
            "created_at": None,
        }
    )
    return out


@get(
    "/v1/modelops/catalog",
    summary="Model catalog (built-in and added entries)",
    tags=TAGS,
    opt=authenticated(),
)
async def list_catalog(
    svc: Service[GenaiService],
    task: Annotated[Literal["llm_inference", "embeddings"] | None, Parameter()] = None,
) -> CatalogList:
    async with svc.db.engine.connect() as conn:
        rows = [
            {**ms.row_dict(r), "builtin": False}
            for r in await conn.execute(
                sa.select(ms.catalog).order_by(ms.catalog.c.created_at, ms.catalog.c.id)
            )
        ]
    items = _builtin_catalog() + rows
    if task:
        items = [i for i in items if i["task"] == task]
    return typed({"items": items}, CatalogList)


@post("/v1/modelops/catalog", summary="Add a catalog entry", tags=TAGS, status_code=201, opt=superadmin())
async def create_catalog_entry(
    request: Request[Any, Any, Any], svc: Service[GenaiService], data: JSONBody[CatalogCreate]
) -> CatalogEntry:
    uid, _ = caller(request)
    if data.origin == "cloud" and not data.provider_model_id:
        raise err("modelops_invalid_model", detail="a cloud catalog entry needs provider_model_id")
    if data.source == "huggingface":
        if not data.source_id:
            raise err("modelops_invalid_model", detail="a huggingface catalog entry needs source_id")
        hub.check_source_id(data.source_id)
    row = {
        "id": ms.new_id("cat"),
        **msgspec.structs.asdict(data),
        "created_by": uid,
        "created_at": ms.now(),
    }
    async with svc.db.begin() as conn:
        await conn.execute(ms.catalog.insert().values(**row))
    return typed({**row, "builtin": False}, CatalogEntry)


# ---------------------------------------------------------------- sharing


class SharingUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model_id: ShortStr
    visibility: Literal["private", "shared", "public"]
    user_ids: Annotated[list[ShortStr], msgspec.Meta(max_length=500)] = []
    roles: Annotated[list[Literal["user", "admin", "superadmin"]], msgspec.Meta(max_length=3)] = []


@get("/v1/modelops/sharing", summary="Visibility and shares of every model", tags=TAGS, opt=superadmin(404))
async def get_sharing(
    svc: Service[GenaiService], model_id: Annotated[str | None, Parameter(max_length=64)] = None
) -> SharingList:
    async with svc.db.engine.connect() as conn:
        q = sa.select(models.c.id, models.c.name, models.c.visibility, models.c.owner_id).order_by(
            models.c.created_at, models.c.id
        )
        if model_id is not None:
            q = q.where(models.c.id == model_id)
        rows = list(await conn.execute(q))
        if model_id is not None and not rows:
            raise err("modelops_model_not_found", model_id=model_id)
        grants = await ms.shares_of(conn, [r.id for r in rows])
    return SharingList(
        items=[
            Sharing(model_id=r.id, name=r.name, visibility=r.visibility, owner_id=r.owner_id, **grants[r.id])
            for r in rows
        ]
    )


@put("/v1/modelops/sharing", summary="Set a model's visibility and shares", tags=TAGS, opt=superadmin(404))
async def put_sharing(svc: Service[GenaiService], data: JSONBody[SharingUpdate]) -> Sharing:
    if data.visibility != "shared" and (data.user_ids or data.roles):
        raise err("modelops_invalid_model", detail="user_ids and roles apply only to visibility 'shared'")
    async with svc.db.begin() as conn:
        m = await require_model(conn, data.model_id)
        await ms.update_model(conn, data.model_id, visibility=data.visibility)
        await ms.replace_shares(conn, data.model_id, data.user_ids, [Role(r).value for r in data.roles])
        grants = await ms.shares_of(conn, [data.model_id])
    return Sharing(
        model_id=data.model_id,
        name=m["name"],
        visibility=data.visibility,
        owner_id=m["owner_id"],
        **grants[data.model_id],
    )


ROUTES = [
    list_credentials,
    create_credential,
    delete_credential,
    list_catalog,
    create_catalog_entry,
    get_sharing,
    put_sharing,
]

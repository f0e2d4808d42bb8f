"""Registry: ``POST /v1/registry/models``, ``/agents``, ``/tools`` (contract 004; the seed names no
role, so any signed-in user). Each call stores the body's ``spec`` as the next version of the
``(kind, id)`` entity (version 1 when new) and answers 201 with the entity at that version.

A new entity is owned by its caller; a later version may be written by its owner or a superadmin
(403 ``registry_entity_not_owned`` otherwise). Platform entities (the bootstrap tools and
``agent.knowledge_chat``) are owned by no one: only a superadmin writes their versions, and only a
superadmin may publish an agent with ``classification: "platform"``. Specs are checked by
:mod:`ridgeline.genai.registry` (422 ``registry_spec_invalid`` listing each problem).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.params import JSONBody

from ridgeline.genai import registry
from ridgeline.genai.api.catalog_store import caller, catalog_of
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises

EntityId = Annotated[
    str, msgspec.Meta(min_length=3, max_length=128, description="<kind>.<name>, e.g. tool.web_search")
]


class RegistryWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: EntityId
    spec: dict[str, Any]


class RegistryEntity(msgspec.Struct, kw_only=True):
    kind: str
    id: str
    version: int
    owner_id: str | None
    spec: dict[str, Any]
    created_at: str
    updated_at: str


async def publish(
    svc: GenaiService, request: Request[Any, Any, Any], kind: registry.Kind, body: RegistryWrite
) -> dict[str, Any]:
    user_id, is_super = caller(request)
    problems = [p for p in (registry.entity_id_error(body.id),) if p]
    problems += registry.spec_errors(kind, body.spec)
    if kind == "agent" and body.spec.get("classification") == "platform" and not is_super:
        problems.append("only a superadmin may publish a platform agent")
    if problems:
        raise registry.RegistryError(kind, problems)
    store = await catalog_of(svc)
    exists, owner = await store.owner_of(kind, body.id)
    if exists and not is_super and owner != user_id:
        raise RidgelineError(
            403,
            "registry_entity_not_owned",
            f"The {kind} {body.id!r} belongs to another owner."
            if owner
            else f"The {kind} {body.id!r} is a platform entity.",
            kind=kind,
            id=body.id,
        )
    if kind == "agent" and exists:
        current = await store.get(kind, body.id)
        # A platform agent stays one: it is protected from deletion by its classification.
        if current is not None and current.spec.get("classification") == "platform":
            body.spec["classification"] = "platform"
    owner_id = None if (kind == "agent" and body.spec.get("classification") == "platform") else user_id
    entity = await store.write_version(kind, body.id, body.spec, actor=user_id, owner_id=owner_id)
    return entity.view()


_OPT = {**raises(403, 409), **Policy.bearer().opt()}


@post("/v1/registry/models", status_code=201, opt=_OPT, tags=["registry"])
async def registry_models(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[RegistryWrite]
) -> RegistryEntity:
    return msgspec.convert(await publish(svc, request, "model", data), RegistryEntity)


@post("/v1/registry/agents", status_code=201, opt=_OPT, tags=["registry"])
async def registry_agents(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[RegistryWrite]
) -> RegistryEntity:
    return msgspec.convert(await publish(svc, request, "agent", data), RegistryEntity)


@post("/v1/registry/tools", status_code=201, opt=_OPT, tags=["registry"])
async def registry_tools(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[RegistryWrite]
) -> RegistryEntity:
    return msgspec.convert(await publish(svc, request, "tool", data), RegistryEntity)


ROUTES = [registry_models, registry_agents, registry_tools]

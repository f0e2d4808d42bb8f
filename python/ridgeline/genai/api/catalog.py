"""Typed catalog: ``/v1/catalog/agents`` and ``/v1/catalog/tools`` (contract 004), the superadmin
management surface over the registry. Every create and update writes one new registry version, so
runtime consumers keep resolving from the registry while operators work with typed fields.

Agents are ``platform`` or ``user``. A platform agent (``agent.knowledge_chat``) can be edited or
deactivated by publishing a version with ``status: "inactive"``, never deleted (409
``catalog_platform_agent_protected``); a user agent is deleted by its owner or a superadmin.
``classification`` is fixed at creation. ``validate`` checks a stored entity against the registry
(spec rules, referenced tools and model) and answers 200 with ``valid`` and the problems found.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Request, delete, get, post, put
from litestar.params import FromQuery, JSONBody, PathParameter

from ridgeline.genai import registry
from ridgeline.genai.api import store as shared
from ridgeline.genai.api.catalog_store import CatalogStore, Entity, caller, catalog_of
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform.auth import Role
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound

Text = Annotated[str, msgspec.Meta(max_length=20000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
EntityId = Annotated[
    str, msgspec.Meta(min_length=3, max_length=128, description="<kind>.<name>, e.g. agent.support")
]
PathId = Annotated[str, PathParameter(min_length=1, max_length=128)]
Status = Literal["active", "draft", "inactive"]


class AgentFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Text = ""
    instructions: Text = ""
    model_ref: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    tool_refs: Annotated[list[Ref], msgspec.Meta(max_length=32)] = []
    max_tool_steps: Annotated[int, msgspec.Meta(ge=0, le=registry.MAX_TOOL_STEPS)] = 4
    status: Status = "active"


class AgentCreate(AgentFields, kw_only=True, forbid_unknown_fields=True):
    id: EntityId
    classification: Literal["platform", "user"] = "user"


class ToolFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Text = ""
    transport: Literal["mcp", "sandbox_http"]
    connection_profile_ref: Literal["default"] = "default"
    tool_name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    input_schema: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})
    online_only: bool = False
    status: Status = "active"


class ToolCreate(ToolFields, kw_only=True, forbid_unknown_fields=True):
    id: EntityId


class AgentList(msgspec.Struct, kw_only=True):
    agents: list[registry.CatalogAgent]
    total: int


class ToolList(msgspec.Struct, kw_only=True):
    tools: list[registry.CatalogTool]
    total: int


class Validation(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    version: int
    valid: bool
    errors: list[str]
    warnings: list[str]


class Deleted(msgspec.Struct, kw_only=True):
    id: str
    deleted: bool


def _spec(fields: msgspec.Struct, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {k: v for k, v in msgspec.to_builtins(fields).items() if k != "id"}
    spec.update(extra or {})
    return spec


async def _entity(store: CatalogStore, kind: str, entity_id: str) -> Entity:
    entity = await store.get(kind, entity_id)
    if entity is None:
        raise NotFound(f"catalog_{kind}", entity_id, message=f"No {kind} {entity_id!r}.", id=entity_id)
    return entity


def _id_check(kind: str, entity_id: str, spec: dict[str, Any]) -> None:
    problems = [p for p in (registry.entity_id_error(entity_id),) if p] + registry.spec_errors(kind, spec)  # type: ignore[arg-type]
    if problems:
        raise registry.RegistryError(kind, problems)


_SUPER = Policy.role(Role.SUPERADMIN).opt()


# ---- agents ------------------------------------------------------------------------------------------
@get("/v1/catalog/agents", opt=_SUPER, tags=["catalog"])
async def list_agents(
    svc: Service[GenaiService],
    status: FromQuery[Status | None] = None,
    classification: FromQuery[Literal["platform", "user"] | None] = None,
) -> AgentList:
    store = await catalog_of(svc)
    items = [e.typed() for e in await store.list("agent")]
    items = [a for a in items if (status is None or a.get("status") == status)]
    items = [a for a in items if (classification is None or a.get("classification") == classification)]
    return AgentList(agents=msgspec.convert(items, list[registry.CatalogAgent]), total=len(items))


@post("/v1/catalog/agents", status_code=201, opt={**raises(409), **_SUPER}, tags=["catalog"])
async def create_agent(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[AgentCreate]
) -> registry.CatalogAgent:
    spec = _spec(data, {"classification": data.classification})
    _id_check("agent", data.id, spec)
    user_id, _ = caller(request)
    store = await catalog_of(svc)
    owner = None if data.classification == "platform" else user_id
    entity = await store.write_version("agent", data.id, spec, actor=user_id, owner_id=owner, create=True)
    return msgspec.convert(entity.typed(), registry.CatalogAgent)


@get("/v1/catalog/agents/{agent_id:str}", opt=_SUPER, tags=["catalog"])
async def get_agent(svc: Service[GenaiService], agent_id: PathId) -> registry.CatalogAgent:
    return msgspec.convert(
        (await _entity(await catalog_of(svc), "agent", agent_id)).typed(), registry.CatalogAgent
    )


@put("/v1/catalog/agents/{agent_id:str}", opt={**raises(409), **_SUPER}, tags=["catalog"])
async def update_agent(
    svc: Service[GenaiService], request: Request[Any, Any, Any], agent_id: PathId, data: JSONBody[AgentFields]
) -> registry.CatalogAgent:
    store = await catalog_of(svc)
    current = await _entity(store, "agent", agent_id)
    spec = _spec(data, {"classification": current.spec.get("classification", "user")})
    _id_check("agent", agent_id, spec)
    user_id, _ = caller(request)
    entity = await store.write_version(
        "agent", agent_id, spec, actor=user_id, owner_id=current.owner_id, create=False
    )
    return msgspec.convert(entity.typed(), registry.CatalogAgent)


async def _agent_owner(connection: Any) -> str | None:
    """The owner check of DELETE: a platform agent's owner is a name no user id equals, so only a
    superadmin gets past the guard (and then the 409); None (no such agent) leaves the 404 to the
    handler."""
    svc = connection.app.state["ctx"].service(GenaiService)
    store = await catalog_of(svc)
    entity = await store.get("agent", connection.path_params["agent_id"])
    if entity is None:
        return None
    if entity.spec.get("classification") == "platform" or entity.owner_id is None:
        return f"platform:{entity.id}"
    return entity.owner_id


@delete(
    "/v1/catalog/agents/{agent_id:str}",
    status_code=200,
    opt={**raises(409), **Policy.owner_or_role(Role.SUPERADMIN, _agent_owner).opt()},
    tags=["catalog"],
)
async def delete_agent(svc: Service[GenaiService], agent_id: PathId) -> Deleted:
    store = await catalog_of(svc)
    entity = await _entity(store, "agent", agent_id)
    if entity.spec.get("classification") == "platform":
        raise RidgelineError(
            409,
            "catalog_platform_agent_protected",
            f"Platform agent {agent_id!r} cannot be deleted; publish an inactive version instead.",
            id=agent_id,
        )
    await store.delete("agent", agent_id)
    return Deleted(id=agent_id, deleted=True)


async def _model_ref_problem(svc: GenaiService, store: CatalogStore, ref: str) -> str | None:
    if await store.get("model", ref) is not None:
        return None
    async with svc.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(shared.models.c.id).where(shared.models.c.id == ref))).first()
        if row is None:
            return f"model_ref {ref!r} is neither a registry model nor a ModelOps model"
        ok = (
            await conn.execute(
                sa.select(shared.models.c.id).where(shared.models.c.id == ref, shared.BINDABLE_MODEL)
            )
        ).first()
    return None if ok else f"ModelOps model {ref!r} is not active with a current successful validation"


@post("/v1/catalog/agents/{agent_id:str}/validate", status_code=200, opt=_SUPER, tags=["catalog"])
async def validate_agent(svc: Service[GenaiService], agent_id: PathId) -> Validation:
    store = await catalog_of(svc)
    entity = await _entity(store, "agent", agent_id)
    errors = registry.spec_errors("agent", entity.spec)
    warnings: list[str] = []
    refs = [r for r in entity.spec.get("tool_refs", []) if isinstance(r, str)]
    for ref in refs:
        tool = await store.get("tool", ref)
        if tool is None:
            errors.append(f"tool_refs: no tool {ref!r} in the registry")
            continue
        errors += [f"tool {ref!r}: {p}" for p in registry.spec_errors("tool", tool.spec)]
        if tool.spec.get("status", "active") != "active":
            warnings.append(f"tool {ref!r} is {tool.spec.get('status')}: the engine will not offer it")
    if refs and entity.spec.get("max_tool_steps", 4) == 0:
        warnings.append("max_tool_steps is 0: the agent's tools will never be called")
    model_ref = entity.spec.get("model_ref")
    if isinstance(model_ref, str) and model_ref:
        problem = await _model_ref_problem(svc, store, model_ref)
        if problem:
            errors.append(problem)
    if entity.spec.get("status", "active") != "active":
        warnings.append(f"the agent is {entity.spec.get('status')}: executions are refused")
    return Validation(
        id=agent_id, kind="agent", version=entity.version, valid=not errors, errors=errors, warnings=warnings
    )


# ---- tools -------------------------------------------------------------------------------------------
@get("/v1/catalog/tools", opt=_SUPER, tags=["catalog"])
async def list_tools(
    svc: Service[GenaiService],
    transport: FromQuery[Literal["mcp", "sandbox_http"] | None] = None,
    status: FromQuery[Status | None] = None,
) -> ToolList:
    store = await catalog_of(svc)
    items = [e.typed() for e in await store.list("tool")]
    items = [t for t in items if (transport is None or t.get("transport") == transport)]
    items = [t for t in items if (status is None or t.get("status") == status)]
    return ToolList(tools=msgspec.convert(items, list[registry.CatalogTool]), total=len(items))


@post("/v1/catalog/tools", status_code=201, opt={**raises(409), **_SUPER}, tags=["catalog"])
async def create_tool(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[ToolCreate]
) -> registry.CatalogTool:
    spec = _spec(data)
    _id_check("tool", data.id, spec)
    user_id, _ = caller(request)
    store = await catalog_of(svc)
    entity = await store.write_version("tool", data.id, spec, actor=user_id, owner_id=user_id, create=True)
    return msgspec.convert(entity.typed(), registry.CatalogTool)


@get("/v1/catalog/tools/{tool_id:str}", opt=_SUPER, tags=["catalog"])
async def get_tool(svc: Service[GenaiService], tool_id: PathId) -> registry.CatalogTool:
    return msgspec.convert(
        (await _entity(await catalog_of(svc), "tool", tool_id)).typed(), registry.CatalogTool
    )


@put("/v1/catalog/tools/{tool_id:str}", opt={**raises(409), **_SUPER}, tags=["catalog"])
async def update_tool(
    svc: Service[GenaiService], request: Request[Any, Any, Any], tool_id: PathId, data: JSONBody[ToolFields]
) -> registry.CatalogTool:
    store = await catalog_of(svc)
    current = await _entity(store, "tool", tool_id)
    spec = _spec(data)
    _id_check("tool", tool_id, spec)
    user_id, _ = caller(request)
    entity = await store.write_version(
        "tool", tool_id, spec, actor=user_id, owner_id=current.owner_id, create=False
    )
    return msgspec.convert(entity.typed(), registry.CatalogTool)


@post("/v1/catalog/tools/{tool_id:str}/validate", status_code=200, opt=_SUPER, tags=["catalog"])
async def validate_tool(svc: Service[GenaiService], tool_id: PathId) -> Validation:
    store = await catalog_of(svc)
    entity = await _entity(store, "tool", tool_id)
    errors = registry.spec_errors("tool", entity.spec)
    warnings: list[str] = []
    if entity.spec.get("online_only"):
        warnings.append("online only: not called while the runtime profile is offline")
    users = [a.id for a in await store.list("agent") if tool_id in (a.spec.get("tool_refs") or [])]
    if not users:
        warnings.append("no agent references this tool")
    return Validation(
        id=tool_id, kind="tool", version=entity.version, valid=not errors, errors=errors, warnings=warnings
    )


ROUTES = [
    list_agents,
    create_agent,
    get_agent,
    update_agent,
    delete_agent,
    validate_agent,
    list_tools,
    create_tool,
    get_tool,
    update_tool,
    validate_tool,
]

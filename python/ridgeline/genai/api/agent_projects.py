"""``/v1/agent-projects`` (contract 004): the builder-facing authoring surface of agents.

A project holds a ``workflow_definition`` (a graph of ``llm``, ``tool``, ``retrieval`` and ``output``
nodes from an ``entry``) and a ``tool_policy`` (which tools it may use, how many tool rounds,
whether online-only tools are allowed). Drafts are stored as written; ``validate`` answers 200 with
structured errors and warnings (``{path, code, message}``); ``publish`` compiles a valid project into
a catalog-managed agent, writing a new registry version of ``agent_id`` through the catalog store,
so the typed catalog and the agent engine see it like any other agent.

Owner rules: a project belongs to its creator. Reads, updates, validation and publish are the
owner's or a superadmin's (anyone else gets 403 ``not_owner``); the list shows the caller's own
projects (``show=all``: every project, superadmins only). ``agent_id`` is fixed at creation; it must
not be a platform agent or another owner's agent (409 ``agent_project_target_taken``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put
from litestar.params import FromQuery, JSONBody, PathParameter

from ridgeline.genai import registry
from ridgeline.genai.api.agent_projects_store import AgentProjectStore, project_view
from ridgeline.genai.api.catalog import _model_ref_problem
from ridgeline.genai.api.catalog_store import CatalogStore, caller, catalog_of, now
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform import paging
from ridgeline.platform.auth import Role
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Page, page_window
from ridgeline.platform.problems import EngineError

E = REASON_CODES.error
TAGS = ["agent-projects"]
ProjectId = Annotated[str, PathParameter(min_length=1, max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=20000)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
NodeId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
AgentId = Annotated[
    str, msgspec.Meta(min_length=3, max_length=128, description="agent.<name>; default agent.project_<id>")
]
MAX_NODES = 64


class Node(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``llm``: ``instructions`` and an optional ``model_ref``; ``tool``: ``tool_ref`` (a registry
    tool); ``retrieval``: ``knowledge_base_id`` and ``top_k``; ``output``: the end of a path."""

    id: NodeId
    type: Literal["llm", "tool", "retrieval", "output"]
    instructions: Text | None = None
    model_ref: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    tool_ref: Ref | None = None
    knowledge_base_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    top_k: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None


class Edge(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    source: Annotated[str, msgspec.Meta(max_length=64)] = msgspec.field(name="from")
    target: Annotated[str, msgspec.Meta(max_length=64)] = msgspec.field(name="to")


class Workflow(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Literal[1] = 1
    entry: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    nodes: Annotated[list[Node], msgspec.Meta(max_length=MAX_NODES)] = []
    edges: Annotated[list[Edge], msgspec.Meta(max_length=4 * MAX_NODES)] = []


class ToolPolicy(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    allowed_tools: Annotated[list[Ref], msgspec.Meta(max_length=registry.MAX_TOOL_REFS)] = []
    max_tool_steps: Annotated[int, msgspec.Meta(ge=0, le=registry.MAX_TOOL_STEPS)] = 4
    allow_online_tools: bool = True


class ProjectUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Text = ""
    workflow_definition: Workflow = msgspec.field(default_factory=Workflow)
    tool_policy: ToolPolicy = msgspec.field(default_factory=ToolPolicy)


class ProjectCreate(ProjectUpdate, kw_only=True, forbid_unknown_fields=True):
    agent_id: AgentId | None = None


# ---- validation and compilation ------------------------------------------------------------------


class Findings:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.warnings: list[dict[str, str]] = []

    def error(self, path: str, code: str, message: str) -> None:
        self.errors.append({"path": path, "code": code, "message": message})

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append({"path": path, "code": code, "message": message})


_TYPE_FIELDS = {"llm": ("instructions", "model_ref"), "tool": ("tool_ref",),
                "retrieval": ("knowledge_base_id", "top_k"), "output": ()}  # fmt: skip
_ALL_FIELDS = ("instructions", "model_ref", "tool_ref", "knowledge_base_id", "top_k")


def _graph(wf: dict[str, Any], f: Findings) -> list[str]:
    """Structural checks; returns the nodes in topological order from the entry (empty when the
    graph is unusable)."""
    W = "workflow_definition"
    nodes = wf.get("nodes") or []
    if not nodes:
        f.error(f"{W}.nodes", "workflow_empty", "the workflow has no nodes")
        return []
    ids: dict[str, int] = {}
    for i, n in enumerate(nodes):
        if n["id"] in ids:
            f.error(f"{W}.nodes[{i}].id", "duplicate_node_id", f"node id {n['id']!r} is used twice")
        ids.setdefault(n["id"], i)
        for k in _ALL_FIELDS:
            if n.get(k) is not None and k not in _TYPE_FIELDS[n["type"]]:
                f.error(f"{W}.nodes[{i}].{k}", "field_not_allowed", f"a {n['type']} node takes no {k}")
    succ: dict[str, list[str]] = {n: [] for n in ids}
    seen: set[tuple[str, str]] = set()
    for j, e in enumerate(wf.get("edges") or []):
        a, b = e["from"], e["to"]
        bad = False
        for end, name in (("from", a), ("to", b)):
            if name not in ids:
                f.error(f"{W}.edges[{j}].{end}", "unknown_node", f"no node {name!r}")
                bad = True
        if bad:
            continue
        if a == b:
            f.error(f"{W}.edges[{j}]", "self_loop", f"node {a!r} points at itself")
        elif (a, b) in seen:
            f.error(f"{W}.edges[{j}]", "duplicate_edge", f"edge {a!r} -> {b!r} is listed twice")
        else:
            seen.add((a, b))
            succ[a].append(b)
    entry = wf.get("entry")
    if not entry:
        f.error(f"{W}.entry", "entry_missing", "the workflow names no entry node")
        return []
    if entry not in ids:
        f.error(f"{W}.entry", "unknown_node", f"no node {entry!r}")
        return []
    reach, stack = {entry}, [entry]
    while stack:
        for nxt in succ[stack.pop()]:
            if nxt not in reach:
                reach.add(nxt)
                stack.append(nxt)
    for name, i in ids.items():
        if name not in reach:
            f.error(f"{W}.nodes[{i}]", "unreachable_node", f"node {name!r} cannot be reached from {entry!r}")
    indeg = {n: 0 for n in reach}
    for a in reach:
        for b in succ[a]:
            indeg[b] += 1
    order, ready = [], [n for n in ids if n in reach and indeg[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        for b in succ[n]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    if len(order) < len(reach):
        cyc = sorted(n for n in reach if n not in order)
        f.error(f"{W}.edges", "cycle", f"the workflow has a cycle through {cyc}")
        return []
    by_id = {n["id"]: n for n in nodes}
    outputs = [n for n in order if by_id[n]["type"] == "output"]
    if not outputs:
        f.error(f"{W}.nodes", "no_output", "no output node is reachable from the entry")
    for n in order:
        i, t = ids[n], by_id[n]["type"]
        if t == "output" and succ[n]:
            f.error(f"{W}.nodes[{i}]", "output_has_successors", f"output node {n!r} has outgoing edges")
        if t != "output" and not succ[n]:
            f.error(f"{W}.nodes[{i}]", "dead_end", f"node {n!r} leads to no output node")
    if not any(by_id[n]["type"] == "llm" for n in order):
        f.error(f"{W}.nodes", "no_llm_node", "the workflow needs an llm node to answer")
    return order


async def _check(
    svc: GenaiService, ctx: Any, store: CatalogStore, project: dict[str, Any], f: Findings
) -> list[str]:
    W, TP = "workflow_definition", "tool_policy"
    wf, policy = project["workflow_definition"], project["tool_policy"]
    order = _graph(wf, f)
    nodes = wf.get("nodes") or []
    allowed = list(policy.get("allowed_tools") or [])
    tools: dict[str, Any] = {}
    for j, ref in enumerate(allowed):
        tool = tools.get(ref) or await store.get("tool", ref)
        if tool is None:
            f.error(f"{TP}.allowed_tools[{j}]", "unknown_tool", f"no tool {ref!r} in the registry")
            continue
        tools[ref] = tool
    if len(set(allowed)) != len(allowed):
        f.error(f"{TP}.allowed_tools", "duplicate_tool", "a tool is listed twice")
    model_refs: set[str] = set()
    used_tools: list[str] = []
    kb_ids: list[tuple[int, str]] = []
    for i, n in enumerate(nodes):
        p = f"{W}.nodes[{i}]"
        if n["type"] == "llm":
            if not (n.get("instructions") or "").strip():
                f.warn(f"{p}.instructions", "empty_instructions", f"llm node {n['id']!r} has no instructions")
            if n.get("model_ref"):
                model_refs.add(n["model_ref"])
                problem = await _model_ref_problem(svc, store, n["model_ref"])
                if problem:
                    f.error(f"{p}.model_ref", "model_ref_invalid", problem)
        elif n["type"] == "tool":
            ref = n.get("tool_ref")
            if not ref:
                f.error(f"{p}.tool_ref", "missing_tool_ref", f"tool node {n['id']!r} names no tool")
                continue
            used_tools.append(ref)
            tool = tools.get(ref) or await store.get("tool", ref)
            if tool is None:
                f.error(f"{p}.tool_ref", "unknown_tool", f"no tool {ref!r} in the registry")
                continue
            for problem in registry.spec_errors("tool", tool.spec):
                f.error(f"{p}.tool_ref", "tool_spec_invalid", f"tool {ref!r}: {problem}")
            if ref not in allowed:
                f.error(
                    f"{p}.tool_ref", "tool_not_allowed", f"tool {ref!r} is not in tool_policy.allowed_tools"
                )
            if tool.spec.get("online_only") and not policy.get("allow_online_tools", True):
                f.error(f"{p}.tool_ref", "online_tool_not_allowed",
                        f"tool {ref!r} is online only and the policy forbids online tools")  # fmt: skip
            if tool.spec.get("status", "active") != "active":
                f.warn(
                    f"{p}.tool_ref",
                    "tool_inactive",
                    f"tool {ref!r} is {tool.spec.get('status')}: not offered",
                )
        elif n["type"] == "retrieval":
            if not n.get("knowledge_base_id"):
                f.error(f"{p}.knowledge_base_id", "missing_knowledge_base_id", f"retrieval node {n['id']!r} names no knowledge base")  # fmt: skip
            else:
                kb_ids.append((i, n["knowledge_base_id"]))
    if len(model_refs) > 1:
        f.error(
            f"{W}.nodes",
            "conflicting_model_refs",
            f"llm nodes name different models {sorted(model_refs)}; an agent has one",
        )
    if used_tools and policy.get("max_tool_steps", 4) == 0:
        f.error(
            f"{TP}.max_tool_steps", "no_tool_steps", "the workflow has tool nodes but max_tool_steps is 0"
        )
    for j, ref in enumerate(allowed):
        if ref in tools and ref not in used_tools:
            f.warn(
                f"{TP}.allowed_tools[{j}]",
                "allowed_tool_unused",
                f"tool {ref!r} is allowed but no node uses it",
            )
    if kb_ids:
        await _check_kbs(ctx, kb_ids, f)
    target = await store.get("agent", project["agent_id"])
    if target is not None and _taken(target, project["owner_id"]):
        f.error(
            "agent_id",
            "agent_id_taken",
            f"agent {project['agent_id']!r} is a platform agent or another owner's",
        )
    if registry.entity_id_error(project["agent_id"]):
        f.error("agent_id", "agent_id_invalid", registry.entity_id_error(project["agent_id"]) or "")
    return order


async def _check_kbs(ctx: Any, kb_ids: list[tuple[int, str]], f: Findings) -> None:
    try:
        from ridgeline.genai.context.service import ContextService

        bindable = {k.id for k in await ctx.service(ContextService).bindable_knowledge_bases(None)}
    except (ImportError, EngineError):
        bindable = set()
    for i, kb in kb_ids:
        if kb not in bindable:
            f.error(f"workflow_definition.nodes[{i}].knowledge_base_id", "knowledge_base_unavailable",
                    f"knowledge base {kb!r} is not active and ready")  # fmt: skip


def _taken(agent: Any, owner_id: str) -> bool:
    return agent.spec.get("classification") == "platform" or agent.owner_id != owner_id


def compile_agent(project: dict[str, Any], order: list[str]) -> dict[str, Any]:
    """The registry agent spec of a valid project: instructions of its llm nodes in workflow order,
    its one model, its tools in order, the policy's tool rounds; the workflow and policy ride along."""
    wf, policy = project["workflow_definition"], project["tool_policy"]
    by_id = {n["id"]: n for n in wf["nodes"]}
    steps = [by_id[n] for n in order]
    tool_refs = list(dict.fromkeys(n["tool_ref"] for n in steps if n["type"] == "tool"))
    kbs = list(dict.fromkeys(n["knowledge_base_id"] for n in steps if n["type"] == "retrieval"))
    model = next((n["model_ref"] for n in steps if n["type"] == "llm" and n.get("model_ref")), None)
    instructions = "\n\n".join((n.get("instructions") or "").strip() for n in steps if n["type"] == "llm")
    return {
        "name": project["name"], "description": project["description"], "instructions": instructions.strip(),
        "model_ref": model, "tool_refs": tool_refs, "max_tool_steps": policy.get("max_tool_steps", 4) if tool_refs else 0,
        "classification": "user", "status": "active", "knowledge_base_ids": kbs,
        "workflow_definition": wf, "tool_policy": policy,
        "compiled_from": {"agent_project_id": project["id"], "revision": project["revision"]},
    }  # fmt: skip


async def _validate(svc: GenaiService, ctx: Any, project: dict[str, Any]) -> dict[str, Any]:
    store = await catalog_of(svc)
    f = Findings()
    order = await _check(svc, ctx, store, project, f)
    out: dict[str, Any] = {"project_id": project["id"], "revision": project["revision"], "valid": not f.errors,
                           "errors": f.errors, "warnings": f.warnings, "compiled": None,
                           "checked_at": now().isoformat().replace("+00:00", "Z")}  # fmt: skip
    if not f.errors:
        spec = compile_agent(project, order)
        for problem in registry.spec_errors("agent", spec):  # the registry's own rules, last
            f.error("compiled", "registry_spec_invalid", problem)
        out.update(valid=not f.errors, compiled=spec if not f.errors else None)
    return out


# ---- routes --------------------------------------------------------------------------------------


async def _project_owner(connection: Any) -> str | None:
    ctx = connection.app.state["ctx"]
    return await AgentProjectStore(ctx.db).owner_of(connection.path_params["project_id"])


_OWNER = Policy.owner_or_role(Role.SUPERADMIN, _project_owner).opt()


async def _project(store: AgentProjectStore, project_id: str) -> dict[str, Any]:
    row = await store.get(project_id)
    if row is None:
        raise E("agent_project_not_found", project_id=project_id)
    return row


def _user(request: Request[Any, Any, Any]) -> tuple[str, bool]:
    user_id, is_super = caller(request)
    if user_id is None:
        raise EngineError(401, "not_authenticated", "Sign in first.")
    return user_id, is_super


@get("/v1/agent-projects", opt=raises(403), tags=TAGS)
async def list_projects(
    svc: Service[GenaiService],
    request: Request[Any, Any, Any],
    show: FromQuery[Literal["mine", "all"]] = "mine",
    page: Page = 1,
    page_size: paging.page_size(100) = 20,
) -> dict[str, Any]:
    user_id, is_super = _user(request)
    if show == "all" and not is_super:
        raise RidgelineError(403, "insufficient_role", "show=all needs the superadmin role.")
    w = page_window(page, page_size)
    rows, total = await AgentProjectStore(svc.db).list(None if show == "all" else user_id, w.offset, w.limit)
    return {"projects": [project_view(r) for r in rows], "total": total, "page": page, "page_size": page_size}


@post("/v1/agent-projects", status_code=201, opt={**raises(409)}, tags=TAGS)
async def create_project(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[ProjectCreate]
) -> dict[str, Any]:
    user_id, _ = _user(request)
    values = msgspec.to_builtins(data)
    if data.agent_id is not None:
        problem = registry.entity_id_error(data.agent_id)
        if problem or not data.agent_id.startswith("agent."):
            raise E(
                "invalid_request", detail=f"agent_id: {problem or 'must start with agent.'}", field="agent_id"
            )
        target = await (await catalog_of(svc)).get("agent", data.agent_id)
        if target is not None and _taken(target, user_id):
            raise E("agent_project_target_taken", agent_id=data.agent_id)
    return project_view(await AgentProjectStore(svc.db).create(user_id, values))


@get("/v1/agent-projects/{project_id:str}", opt={**raises(403), **_OWNER}, tags=TAGS)
async def get_project(svc: Service[GenaiService], project_id: ProjectId) -> dict[str, Any]:
    return project_view(await _project(AgentProjectStore(svc.db), project_id))


@put("/v1/agent-projects/{project_id:str}", opt={**raises(403), **_OWNER}, tags=TAGS)
async def update_project(
    svc: Service[GenaiService], project_id: ProjectId, data: JSONBody[ProjectUpdate]
) -> dict[str, Any]:
    store = AgentProjectStore(svc.db)
    await _project(store, project_id)
    row = await store.replace(project_id, msgspec.to_builtins(data))
    if row is None:
        raise E("agent_project_not_found", project_id=project_id)
    return project_view(row)


@post(
    "/v1/agent-projects/{project_id:str}/validate", status_code=200, opt={**raises(403), **_OWNER}, tags=TAGS
)
async def validate_project(
    svc: Service[GenaiService], request: Request[Any, Any, Any], project_id: ProjectId
) -> dict[str, Any]:
    store = AgentProjectStore(svc.db)
    project = await _project(store, project_id)
    result = await _validate(svc, request.app.state["ctx"], project)
    await store.record(project_id, project["revision"], {"last_validation": result})
    return result


@post(
    "/v1/agent-projects/{project_id:str}/publish",
    status_code=200,
    opt={**raises(403, 409), **_OWNER},
    tags=TAGS,
)
async def publish_project(
    svc: Service[GenaiService], request: Request[Any, Any, Any], project_id: ProjectId
) -> dict[str, Any]:
    user_id, _ = _user(request)
    store = AgentProjectStore(svc.db)
    project = await _project(store, project_id)
    result = await _validate(svc, request.app.state["ctx"], project)
    await store.record(project_id, project["revision"], {"last_validation": result})
    if not result["valid"]:
        if any(e["code"] == "agent_id_taken" for e in result["errors"]):
            raise E("agent_project_target_taken", agent_id=project["agent_id"])
        detail = "; ".join(f"{e['path']}: {e['message']}" for e in result["errors"][:5])
        raise E("agent_project_invalid", project_id=project_id, detail=detail, errors=result["errors"])
    catalog = await catalog_of(svc)
    entity = await catalog.write_version(
        "agent", project["agent_id"], result["compiled"], actor=user_id, owner_id=project["owner_id"]
    )
    await store.record(project_id, project["revision"], {
        "published_agent_id": entity.id, "published_version": entity.version,
        "published_revision": project["revision"], "published_at": now(),
    })  # fmt: skip
    fresh = await _project(store, project_id)
    return {"project": project_view(fresh), "agent": msgspec.convert(entity.typed(), registry.CatalogAgent),
            "validation": result}  # fmt: skip


ROUTES = [list_projects, create_project, get_project, update_project, validate_project, publish_project]

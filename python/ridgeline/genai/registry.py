"""The registry's rules, with no HTTP and no database: what a model, agent or tool spec must hold,
the platform entities seeded at start-up, and the typed catalog views over a registry version.

The registry is the low-level store of versioned runtime artifacts (``kind`` + ``id`` -> versions of
a JSON ``spec``); the typed catalog (``api/catalog.py``) is the superadmin surface over it, and every
catalog create/update writes one new registry version. Runtime consumers (the agent engine through
the execution proxy) resolve agents and tools from the registry's current version.

Tool specs are constrained in this phase (contract 004): ``transport`` in ``{"mcp", "sandbox_http"}``
and ``connection_profile_ref == "default"``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

from ridgeline.platform.problems import EngineError

Kind = Literal["model", "agent", "tool"]
KINDS: tuple[Kind, ...] = ("model", "agent", "tool")
TOOL_TRANSPORTS = frozenset({"mcp", "sandbox_http"})
CONNECTION_PROFILES = frozenset({"default"})
AGENT_CLASSES = frozenset({"platform", "user"})
STATUSES = frozenset({"active", "draft", "inactive"})
ENTITY_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_-]*)+$")
MAX_TOOL_STEPS = 8
MAX_TOOL_REFS = 32
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class RegistryError(EngineError):
    """A spec the registry refuses: 422 ``registry_spec_invalid`` with one entry per problem."""

    def __init__(self, kind: str, errors: list[str]) -> None:
        super().__init__(
            422,
            "registry_spec_invalid",
            f"Invalid {kind} spec: {'; '.join(errors)}",
            errors=errors,
        )


def _str(
    spec: dict[str, Any], key: str, errors: list[str], *, required: bool = False, limit: int = 20000
) -> None:
    value = spec.get(key)
    if value is None:
        if required:
            errors.append(f"{key} is required")
        return
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"{key} must be a non-empty string" if required else f"{key} must be a string")
    elif len(value) > limit:
        errors.append(f"{key} is longer than {limit} characters")


def _status(spec: dict[str, Any], errors: list[str]) -> None:
    if spec.get("status", "active") not in STATUSES:
        errors.append(f"status must be one of {sorted(STATUSES)}")


def tool_spec_errors(spec: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    _str(spec, "name", errors, required=True, limit=200)
    _str(spec, "description", errors)
    transport = spec.get("transport")
    if transport not in TOOL_TRANSPORTS:
        errors.append(f"transport must be one of {sorted(TOOL_TRANSPORTS)} (got {transport!r})")
    profile = spec.get("connection_profile_ref")
    if profile not in CONNECTION_PROFILES:
        errors.append(f'connection_profile_ref must be "default" (got {profile!r})')
    _str(spec, "tool_name", errors, required=transport == "mcp", limit=64)
    name = spec.get("tool_name")
    if isinstance(name, str) and name and not TOOL_NAME.match(name):
        errors.append("tool_name must be letters, digits, '_' or '-' (the name the model calls)")
    schema = spec.get("input_schema", {"type": "object"})
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        errors.append('input_schema must be a JSON Schema object ({"type": "object", ...})')
    if not isinstance(spec.get("online_only", False), bool):
        errors.append("online_only must be a boolean")
    _status(spec, errors)
    return errors


def agent_spec_errors(spec: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    _str(spec, "name", errors, required=True, limit=200)
    _str(spec, "description", errors)
    _str(spec, "instructions", errors)
    _str(spec, "model_ref", errors, limit=255)
    tools = spec.get("tool_refs", [])
    if not isinstance(tools, list) or not all(isinstance(t, str) and t for t in tools):
        errors.append("tool_refs must be a list of tool ids")
    elif len(tools) > MAX_TOOL_REFS:
        errors.append(f"tool_refs lists at most {MAX_TOOL_REFS} tools")
    elif len(set(tools)) != len(tools):
        errors.append("tool_refs must not repeat a tool")
    steps = spec.get("max_tool_steps", 4)
    if not isinstance(steps, int) or isinstance(steps, bool) or not 0 <= steps <= MAX_TOOL_STEPS:
        errors.append(f"max_tool_steps must be an integer from 0 to {MAX_TOOL_STEPS}")
    if spec.get("classification", "user") not in AGENT_CLASSES:
        errors.append("classification must be platform or user")
    _status(spec, errors)
    return errors


def model_spec_errors(spec: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    _str(spec, "name", errors, required=True, limit=200)
    if spec.get("task", "llm_inference") not in ("llm_inference", "embeddings"):
        errors.append("task must be llm_inference or embeddings")
    _str(spec, "provider_model_id", errors, limit=255)
    _str(spec, "managed_model_id", errors, limit=64)
    _status(spec, errors)
    return errors


_CHECKS = {"tool": tool_spec_errors, "agent": agent_spec_errors, "model": model_spec_errors}


def spec_errors(kind: Kind, spec: dict[str, Any]) -> list[str]:
    return _CHECKS[kind](spec)


def validate_spec(kind: Kind, spec: dict[str, Any]) -> None:
    errors = _CHECKS[kind](spec)
    if errors:
        raise RegistryError(kind, errors)


def entity_id_error(entity_id: str) -> str | None:
    if len(entity_id) > 128 or not ENTITY_ID.match(entity_id):
        return (
            "id must look like <kind>.<name> (lower case letters, digits, '_' or '-'; at most 128 characters)"
        )
    return None


# ---- bootstrap -------------------------------------------------------------------------------------
# Seeded once per database (idempotent); owner None means the platform owns them.
BOOTSTRAP: tuple[tuple[Kind, str, dict[str, Any]], ...] = (
    (
        "tool",
        "tool.web_search",
        {
            "name": "Web search",
            "description": "Searches the web through the MCP gateway's search tool (SearXNG behind it). Online only.",
            "transport": "mcp",
            "connection_profile_ref": "default",
            "tool_name": "web_search",
            "input_schema": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "What to search for."}},
                "required": ["query"],
            },
            "online_only": True,
            "status": "active",
        },
    ),
    (
        "tool",
        "tool.python_exec",
        {
            "name": "Python execution",
            "description": "Runs a Python snippet in the sandbox runtime (never in the service itself).",
            "transport": "sandbox_http",
            "connection_profile_ref": "default",
            "tool_name": "python_exec",
            "input_schema": {
                "type": "object",
                "properties": {"code": {"type": "string", "description": "Python source to run."}},
                "required": ["code"],
            },
            "online_only": False,
            "status": "active",
        },
    ),
    (
        "agent",
        "agent.knowledge_chat",
        {
            "name": "Knowledge chat",
            "description": "Answers questions from the context it is given, citing the passages it used.",
            "instructions": "Answer from the provided context only. Say so when the context has no answer.",
            "classification": "platform",
            "tool_refs": [],
            "max_tool_steps": 0,
            "status": "active",
        },
    ),
)


# ---- typed catalog views -----------------------------------------------------------------------------
class CatalogTool(msgspec.Struct, kw_only=True):
    id: str
    name: str
    description: str = ""
    transport: str
    connection_profile_ref: str
    tool_name: str | None = None
    input_schema: dict[str, Any] = {}
    online_only: bool = False
    status: str = "active"
    version: int
    owner_id: str | None = None
    created_at: str
    updated_at: str


class CatalogAgent(msgspec.Struct, kw_only=True):
    id: str
    name: str
    description: str = ""
    instructions: str = ""
    classification: str = "user"
    model_ref: str | None = None
    tool_refs: list[str] = []
    max_tool_steps: int = 4
    status: str = "active"
    version: int
    owner_id: str | None = None
    created_at: str
    updated_at: str


TOOL_FIELDS = (
    "name",
    "description",
    "transport",
    "connection_profile_ref",
    "tool_name",
    "input_schema",
    "online_only",
    "status",
)
AGENT_FIELDS = (
    "name",
    "description",
    "instructions",
    "classification",
    "model_ref",
    "tool_refs",
    "max_tool_steps",
    "status",
)

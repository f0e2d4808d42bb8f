"""The genai family's reason codes (contract 004); docs/genai.md lists exactly these."""

from __future__ import annotations

from ridgeline.platform.problems import catalogue

REASON_CODES = catalogue(
    ("invalid_request", 422, "Invalid request: {detail}"),
    ("service_unavailable", 503, "The genai service is not available."),
    # ---- genai-catalog: registry, typed catalog, policy rules, quotes, agent executions ----
    ("registry_spec_invalid", 422, "Invalid {kind} spec: {detail}"),
    ("registry_entity_not_owned", 403, "The {kind} {id} belongs to another owner."),
    ("registry_write_conflict", 409, "The {kind} {id} was written concurrently; retry."),
    ("catalog_agent_exists", 409, "agent {id} already exists."),
    ("catalog_tool_exists", 409, "tool {id} already exists."),
    ("catalog_agent_not_found", 404, "No agent {id}."),
    ("catalog_tool_not_found", 404, "No tool {id}."),
    (
        "catalog_platform_agent_protected",
        409,
        "Platform agent {id} cannot be deleted; publish an inactive version.",
    ),
    ("policy_rule_exists", 409, "A policy rule named {name} exists."),
    ("quote_not_found", 404, "No quote {id}."),
    ("execution_not_found", 404, "No agent execution {id}."),
    ("agent_inactive", 409, "Agent {id} is not active."),
    (
        "EXEC_UPSTREAM_UNAVAILABLE",
        503,
        "The agent engine is unavailable; the backend does not run agents itself.",
    ),
    ("EXEC_UPSTREAM_ERROR", 503, "The agent engine refused or failed the request."),
    (
        "EXEC_ENGINE_DISABLED",
        503,
        "Agent execution through the engine is disabled (AGENT_EXECUTION_VIA_ENGINE).",
    ),
)

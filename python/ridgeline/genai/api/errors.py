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
    # ---- ModelOps (api/modelops*.py; docs/genai-modelops.md)
    ("modelops_model_not_found", 404, "ModelOps model {model_id} not found."),
    ("modelops_credential_not_found", 404, "Credential {credential_id} not found."),
    ("modelops_download_not_found", 404, "Download {download_id} not found."),
    ("modelops_source_not_found", 404, "Model {source_id} not found in the {where}."),
    ("modelops_runtime_not_found", 404, "Runtime provider {provider_id} not found."),
    ("modelops_invalid_model", 422, "Invalid model: {detail}"),
    ("modelops_invalid_transition", 409, "Cannot {action} a model in state {state}."),
    ("modelops_validation_required", 409, "The model needs a current successful validation first."),
    ("modelops_model_bound", 409, "The model is bound in a deployment: {deployments}."),
    ("modelops_credential_in_use", 409, "The credential is used by {users}."),
    ("modelops_runtime_incompatible", 409, "Runtime {provider_id} cannot serve this model: {cause}."),
    ("modelops_runtime_not_serving", 409, "Runtime {provider_id} is not serving this model: {cause}."),
    ("modelops_remote_disabled", 409, "Remote model hub access is disabled: {cause}."),
    ("modelops_download_in_progress", 409, "A download of {source_id}@{revision} is already running."),
    ("modelops_download_too_large", 413, "The download is {size} bytes; the limit is {limit}."),
    ("modelops_download_unverifiable", 422, "{path} has no hash on the hub to verify it against."),
    ("modelops_download_integrity", 409, "A downloaded file does not match its hash."),
    ("modelops_download_failed", 409, "The download failed."),
    ("modelops_hub_unavailable", 503, "The model hub is unavailable: {detail}"),
    ("offline_provider_blocked", 409, "The runtime profile is offline: cloud providers are blocked."),
)

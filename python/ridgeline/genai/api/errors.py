"""The genai family's reason codes (contract 004); docs/genai.md lists exactly these."""

from __future__ import annotations

from ridgeline.platform.problems import catalogue
from ridgeline.platform.scanning import SCAN_CODES

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
    # -- control plane (api/platform*.py, api/runtime.py, api/inference.py) ------------------------
    ("offline_provider_blocked", 409, "The runtime profile is offline: cloud provider {provider} is blocked."),
    ("provider_family_not_found", 422, "Unknown provider family {provider_key}."),
    ("provider_not_found", 404, "Provider {provider_id} not found."),
    ("provider_slug_taken", 409, "A provider with slug {slug} already exists."),
    ("provider_in_use", 409, "Provider {provider_id} is bound in deployment(s) {deployments}."),
    ("provider_endpoint_required", 422, "Provider family {provider_key} needs an endpoint_url."),
    ("provider_unreachable", 409, "Provider {provider} did not answer: {detail}"),
    ("provider_slot_unsupported", 409, "Provider {provider} has no loaded-model slot (local model runtimes only)."),
    ("provider_upstream_error", 503, "Provider {provider} failed: {detail}"),
    ("secret_ref_invalid", 422, "Secret ref {name} is not a value or modelops://credential/<id>."),
    ("secret_ref_unresolvable", 409, "Secret ref {name} cannot be resolved: {detail}"),
    ("binding_model_not_found", 404, "Managed model {model_id} not found."),
    ("model_capability_mismatch", 409, "Managed model {model_id} serves {task}, not {capability}."),
    ("model_not_bindable", 409, "Managed model {model_id} is not active with a current successful validation."),
    ("capability_not_found", 404, "Unknown capability {capability}."),
    ("deployment_not_found", 404, "Deployment {deployment_id} not found."),
    ("deployment_slug_taken", 409, "A deployment with slug {slug} already exists."),
    ("deployment_active", 409, "Deployment {deployment_id} is active; activate another one first."),
    ("deployment_preflight_failed", 409, "Deployment {deployment_id} failed provider preflight: {detail}"),
    ("binding_provider_required", 422, "Capability {capability} is required and needs a provider."),
    ("binding_provider_mismatch", 409, "Provider {provider_id} serves {provider_capability}, not {capability}."),
    ("binding_resource_invalid", 422, "Binding resource invalid: {detail}"),
    ("knowledge_base_provider_mismatch", 409, "Knowledge base {knowledge_base_id} lives on provider "
     "{kb_provider_id}, not the deployment's vector_store provider {provider_id}."),
    ("no_active_deployment", 409, "No deployment is active."),
    ("capability_not_bound", 409, "The active deployment has no {capability} binding."),
    ("model_not_in_binding", 409, "Model {model} is not in the active {capability} binding."),
    ("binding_default_missing", 409, "The active {capability} binding has no default resource."),
    ("runtime_model_unavailable", 409, "Provider {provider} does not serve managed model {model_id}."),
    ("vector_operation_failed", 409, "Vector operation on index {index_name} failed: {detail}"),
    ("index_not_bound", 409, "Index {index_name} is not a resource of the active vector_store binding."),
    # -- playgrounds and agent projects (api/playgrounds.py, api/agent_projects.py; docs/genai-playgrounds.md)
    ("playground_session_not_found", 404, "Playground session {session_id} not found."),
    ("playground_session_invalid", 422, "Invalid playground session: {detail}"),
    ("playground_knowledge_base_unavailable", 409, "Knowledge base {knowledge_base_id} is not active, ready "
     "and bound to the active deployment."),
    ("agent_project_not_found", 404, "Agent project {project_id} not found."),
    ("agent_project_invalid", 422, "Agent project {project_id} does not validate: {detail}"),
    ("agent_project_target_taken", 409, "Agent {agent_id} is a platform agent or belongs to another owner."),
    # ---- context management (genai-kb: api/context.py, genai/context/; docs/genai-context.md) ----------
    ("knowledge_base_not_found", 404, "Knowledge base {knowledge_base_id} not found."),
    ("knowledge_base_not_ready", 409, "Knowledge base {knowledge_base_id} is not active and ready ({state})."),
    ("knowledge_base_name_taken", 409, "A knowledge base named {name} already exists."),
    ("knowledge_base_immutable", 409, "The {field} of a knowledge base is fixed at creation."),
    ("knowledge_base_bound", 409, "Knowledge base {knowledge_base_id} is bound in deployment(s) {deployments}."),
    ("knowledge_base_self_provided", 409, "Knowledge base {knowledge_base_id} takes externally supplied "
     "vectors: text ingestion and text queries are not available for it."),
    ("knowledge_base_embeddings_mismatch", 409, "Knowledge base {knowledge_base_id} embeds with {kb_target}; "
     "the active deployment's embeddings default is {deployment_target}."),
    ("vectorization_invalid", 422, "Invalid vectorization: {detail}"),
    ("chunking_invalid", 422, "Invalid chunking: {detail}"),
    ("tokenizer_unavailable", 409, "No tokenizer for the embeddings target: {detail}"),
    ("schema_profile_not_found", 404, "Schema profile {schema_profile_id} not found."),
    ("schema_profile_exists", 409, "A {provider_key} schema profile named {name} exists."),
    ("schema_profile_provider_mismatch", 409, "Schema profile {schema_profile_id} is for "
     "{profile_provider_key}, not {provider_key}."),
    ("source_not_found", 404, "Source {source_id} not found."),
    ("source_path_not_allowed", 422, "Source path {path} is not a directory under an allowed root "
     "(CONTEXT_SOURCE_ROOTS)."),
    ("sync_already_running", 409, "A sync of {what} is already queued or running."),
    ("document_not_found", 404, "Document {document_id} not found."),
    ("upload_too_large", 413, "The upload is larger than {limit} bytes."),
    ("document_unsupported", 415, "{filename}: {detail}"),
    ("pdf_encrypted", 422, "{filename} is an encrypted PDF."),
    ("pdf_no_text_layer", 422, "{filename} has no text layer (an image-only PDF; OCR is not supported)."),
    ("document_unreadable", 422, "{filename} cannot be read: {detail}"),
    ("idempotency_key_reused", 422, "Idempotency-Key {key} was used for a different upload to this "
     "knowledge base."),
    # ---- genai-gaps: policy rules enforced (api/policy.py)
    ("policy_denied", 403, "Policy rule {rule_name} denies {action} on {resource}."),
    ("modelops_download_finished", 409, "Download {download_id} has already {download_status}; nothing to cancel."),
    *SCAN_CODES,  # document uploads: the malware scan (platform/scanning.py)
)  # fmt: skip

"""The genai family's reason codes (contract 004); docs/genai.md lists exactly these."""

from __future__ import annotations

from ridgeline.platform.problems import catalogue

REASON_CODES = catalogue(
    ("invalid_request", 422, "Invalid request: {detail}"),
    ("service_unavailable", 503, "The genai service is not available."),
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
)  # fmt: skip

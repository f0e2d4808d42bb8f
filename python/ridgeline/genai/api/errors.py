"""The genai family's reason codes (contract 004); docs/genai.md lists exactly these."""

from __future__ import annotations

from ridgeline.platform.problems import catalogue

REASON_CODES = catalogue(
    ("invalid_request", 422, "Invalid request: {detail}"),
    ("service_unavailable", 503, "The genai service is not available."),
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

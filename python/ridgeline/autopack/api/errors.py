"""The autopack family's reason codes (contract 003); docs/autopack.md lists exactly these."""

from __future__ import annotations

from ridgeline.autopack.api.ops_errors import OPS_CODES
from ridgeline.platform.problems import catalogue

REASON_CODES = catalogue(
    ("invalid_request", 422, "Invalid request: {detail}"),
    ("service_unavailable", 503, "The autopack service is not available."),
    *OPS_CODES,  # autopack-ops: approvals, governance, OAuth health, storage, uploads, research
    # ---- runs, dashboard, issues, errors, operator surface (sections 1-5, 10) ----
    ("run_not_found", 404, "No run with id {run_id}."),
    ("phase_not_found", 404, "Run {run_id} has no phase {phase_id}."),
    ("artifact_not_found", 404, "Run {run_id} has no artifact file {path}."),
    ("run_exists", 409, "Run {run_id} already exists."),
    ("invalid_run_plan", 422, "The run's tiers and phases are inconsistent: {detail}"),
    ("illegal_phase_transition", 409, "Phase {phase_id} cannot move from {from_state} to {to_state}."),
    ("phase_final", 409, "Phase {phase_id} is {state}; it takes no more results."),
    ("patch_malformed", 422, "The patch is not a valid unified diff."),
    ("patch_unsupported", 422, "The patch has a part that cannot be applied (binary)."),
    ("patch_does_not_apply", 409, "The patch does not apply to the workspace; nothing was changed."),
    ("patch_path_outside_workspace", 400, "The patch names a path outside the run's workspace."),
    ("patch_too_large", 413, "The patch is larger than AUTOPACK_MAX_PATCH_BYTES."),
    ("invalid_path", 400, "The artifact path is invalid or leaves the run directory: {why}."),
    ("invalid_pagination", 400, "limit must be 1..10000 and offset >= 0."),
    ("invalid_override", 422, "A run override needs run_id; a global one takes none."),
    (
        "consolidated_metrics_disabled",
        503,
        "Consolidated metrics are disabled (AUTOPACK_ENABLE_CONSOLIDATED_METRICS).",
    ),
    # ---- end of sections 1-5, 10 ----
)

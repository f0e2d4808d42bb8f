"""The sim family's reason codes (contract 001); docs/sim.md lists exactly these."""

from __future__ import annotations

from ridgeline.platform.problems import catalogue
from ridgeline.platform.scanning import SCAN_CODES

REASON_CODES = catalogue(
    ("invalid_request", 422, "Invalid request: {detail}"),
    ("invalid_config", 422, "Invalid run configuration: {detail}"),
    ("unknown_profile", 422, "Unknown profile {profile!r}."),
    ("unknown_metric", 422, "Unknown metric {metric!r}."),
    ("empty_file", 422, "The uploaded file is empty."),
    ("not_a_urdf", 422, "The file is not a URDF document."),
    ("not_a_mesh", 422, "The file is not a mesh."),
    ("invalid_linkage", 422, "The linkage is invalid: {detail}"),
    ("replay_too_large", 422, "The run's recording would exceed the replay size limit."),
    ("invalid_urdf", 422, "The URDF cannot be used: {detail}"),
    ("invalid_mesh", 422, "The mesh cannot be used: {detail}"),
    ("invalid_usd", 422, "The USD file cannot be used: {detail}"),
    ("unsupported_format", 415, "Unsupported asset format {format!r}."),
    ("project_not_found", 404, "Project {project_id!r} not found"),
    ("asset_not_found", 404, "Asset {asset_id!r} not found"),
    ("robot_not_found", 404, "Robot {robot!r} not found"),
    ("scenario_not_found", 404, "Scenario {scenario!r} not found"),
    ("run_not_found", 404, "Run {run_id!r} not found"),
    ("batch_not_found", 404, "Batch {batch_id!r} not found"),
    ("job_not_found", 404, "Job {job_id!r} not found"),
    ("step_out_of_range", 404, "Step {step} is outside the replay."),
    ("no_benchmark", 404, "No benchmark has been recorded."),
    ("batch_member", 409, "Run {run_id!r} belongs to batch {batch_id!r}; it cannot be cancelled alone"),
    ("run_finished", 409, "Run {run_id!r} already finished."),
    ("batch_finished", 409, "Batch {batch_id!r} already finished."),
    ("batch_not_ready", 409, "Batch {batch_id!r} has not finished."),
    ("replay_not_recorded", 409, "Run {run_id!r} ran with record=false: it has metrics but no replay"),
    ("replay_not_ready", 409, "Run {run_id!r} has no replay bundle yet."),
    ("artifact_integrity", 409, "The stored file no longer matches its recorded SHA-256."),
    ("not_found", 404, "Not Found"),
    ("method_not_allowed", 405, "Method Not Allowed"),
    ("payload_too_large", 413, "Request Entity Too Large"),
    ("unsupported_media_type", 415, "Unsupported Media Type"),
    ("linkage_roundtrip_mismatch", 500, "The linkage did not survive its round trip."),
    ("internal_error", 500, "Internal server error."),
    ("service_unavailable", 503, "The sim service is not available: its start-up failed."),
    # issue 21: graceful shutdown
    ("run_interrupted", 503, "Run {run_id!r} was interrupted: the process running it stopped."),
    *SCAN_CODES,  # asset imports: the malware scan (platform/scanning.py)
)

"""The routing family's reason codes (contract 000); docs/routing.md lists exactly these."""

from __future__ import annotations

from ridgeline.platform.problems import catalogue

REASON_CODES = catalogue(
    ("invalid_request", 422, "Invalid request: {detail}"),
    ("vehicle_not_found", 404, "Vehicle {vehicle_id!r} does not exist."),
    ("vehicle_exists", 409, "Vehicle {vehicle_id!r} already exists."),
    ("vehicle_builtin_readonly", 409, "Built-in vehicle {vehicle_id!r} cannot be changed or deleted."),
    ("origin_out_of_coverage", 422, "The origin is farther than max_snap_distance_m from the network."),
    (
        "destination_out_of_coverage",
        422,
        "The destination is farther than max_snap_distance_m from the network.",
    ),
    ("waypoint_out_of_coverage", 422, "A waypoint is farther than max_snap_distance_m from the network."),
    ("origin_destination_identical", 422, "Origin and destination snap to the same node."),
    ("no_path", 422, "No path for this vehicle."),
    ("epsilon_infeasible", 422, "No path satisfies the epsilon bounds."),
    ("search_budget_exhausted", 422, "The search limits stopped the search before any route."),
    ("terrain_dem_coverage_insufficient", 422, "Terrain coverage is below the requirement."),
    ("terrain_dem_asset_unavailable", 503, "The terrain file is missing."),
    ("terrain_dem_version_mismatch", 503, "The DEM version differs from RIDGELINE_ROUTING_DEM_VERSION."),
    ("asset_signature_invalid", 503, "The asset manifest signature is missing, untrusted or wrong."),
    ("asset_hash_mismatch", 503, "An asset file differs from its manifest hash."),
    ("routing_graph_unavailable", 503, "Routing graph is unavailable."),
    ("service_unavailable", 503, "The routing service is not available: its start-up failed."),
    ("run_not_found", 404, "Run {run_id!r} does not exist."),
    ("experiment_not_found", 404, "Experiment {experiment_id!r} does not exist."),
    ("job_not_found", 404, "Job {job_id!r} does not exist."),
    ("artifact_not_found", 404, "No artifact {name!r}."),
    ("artifact_integrity_failed", 409, "Artifact {name} no longer matches its recorded SHA-256."),
    ("csv_invalid_rows", 422, "The CSV has invalid rows."),
    ("not_found", 404, "Not Found"),
    ("method_not_allowed", 405, "Method Not Allowed"),
    ("internal_error", 500, "Internal server error."),
)

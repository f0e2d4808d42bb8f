"""The autopack family's reason codes (contract 003); docs/autopack.md lists exactly these."""

from __future__ import annotations

from ridgeline.autopack.api.ops_errors import OPS_CODES
from ridgeline.platform.problems import catalogue

REASON_CODES = catalogue(
    ("invalid_request", 422, "Invalid request: {detail}"),
    ("service_unavailable", 503, "The autopack service is not available."),
    *OPS_CODES,  # autopack-ops: approvals, governance, OAuth health, storage, uploads, research
)

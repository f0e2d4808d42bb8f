"""Reason codes of autopack's operations modules (approvals, Telegram, governance, OAuth credential
health, storage, uploads, research). ``OPS_CODES`` is appended to the family catalogue in
``errors.py``; docs/autopack-ops.md lists them."""

from __future__ import annotations

from ridgeline.platform.scanning import SCAN_CODES

OPS_CODES: tuple[tuple[str, int, str], ...] = (
    ("approval_not_found", 404, "No approval request {approval_id}."),
    ("approval_already_decided", 409, "Approval {approval_id} is already {state}."),
    (
        "telegram_webhook_not_configured",
        403,
        "The Telegram webhook is not configured (TELEGRAM_WEBHOOK_SECRET).",
    ),
    ("telegram_secret_invalid", 401, "The X-Telegram-Bot-Api-Secret-Token header is missing or wrong."),
    ("governance_request_not_found", 404, "No governance request {request_id}."),
    ("governance_already_decided", 409, "Governance request {request_id} is already {state}."),
    ("oauth_credential_not_found", 404, "No OAuth credential for provider {provider}."),
    ("oauth_not_refreshable", 409, "The {provider} credential has no refresh token or token endpoint."),
    ("oauth_refresh_failed", 502, "Refreshing the {provider} credential failed: {why}."),
    ("storage_scan_not_found", 404, "No storage scan {scan_id}."),
    ("storage_scan_not_ready", 409, "Storage scan {scan_id} is {state}, not completed."),
    ("storage_scan_already_approved", 409, "Storage scan {scan_id} is already approved."),
    ("storage_root_not_allowed", 422, "{root} is not one of the configured storage roots."),
    ("storage_rule_not_found", 404, "No learned rule {rule_id}."),
    ("upload_invalid", 400, "Not a multipart upload with a file part: {why}."),
    ("upload_too_large", 413, "The upload exceeds {limit} bytes."),
    ("upload_type_not_allowed", 415, "Media type {media_type} is not accepted."),
    ("research_session_not_found", 404, "No research session {session_id}."),
    ("research_session_closed", 409, "Research session {session_id} is closed."),
    *SCAN_CODES,  # uploads: the malware scan (platform/scanning.py)
)

from ridgeline.platform.problems import catalogue  # noqa: E402

#: The same rows as a catalogue, for the engines to raise from (``OPS.error("upload_too_large", ...)``).
OPS = catalogue(*OPS_CODES)

"""Tables of autopack's operations modules (migration 0010_autopack_ops), on the shared metadata.

Every decision (approval, governance, rule, scan approval, credential reset) is one row of
``autopack_ops_audit``; secrets (OAuth tokens, client secrets) are sealed with the platform's
secrets box, bound to their row by associated data ``autopack:oauth:<provider>:<field>``.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.ext.asyncio

from ridgeline.platform.db import UTCDateTime, metadata

approvals = sa.Table(
    "autopack_approvals",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(200), nullable=True),
    sa.Column("phase_id", sa.String(200), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | approved | rejected
    sa.Column("risk_class", sa.String(16), nullable=False),  # low | medium | high | critical
    sa.Column("risk_reasons", sa.JSON, nullable=False),
    sa.Column("decision_info", sa.JSON, nullable=False),
    sa.Column("deletion_info", sa.JSON, nullable=True),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("deadline_at", UTCDateTime(), nullable=True),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    sa.Column("decided_by", sa.String(200), nullable=True),
    # auto | policy | human | telegram | timeout
    sa.Column("decision_source", sa.String(16), nullable=True),
    sa.Column("decision_reason", sa.String(1000), nullable=True),
    sa.Column("telegram_status", sa.String(16), nullable=False, server_default="none"),
    sa.Column("telegram_message_id", sa.String(64), nullable=True),
    sa.Index("ix_autopack_approvals_status_deadline", "status", "deadline_at"),
)

governance_requests = sa.Table(
    "autopack_governance_requests",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(200), nullable=True),
    sa.Column("phase_id", sa.String(200), nullable=True),
    sa.Column("requested_paths", sa.JSON, nullable=False),
    sa.Column("justification", sa.String(4000), nullable=False),
    sa.Column("risk_level", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | approved | denied
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Index("ix_autopack_governance_status", "status"),
)

ops_audit = sa.Table(
    "autopack_ops_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject_kind", sa.String(32), nullable=False),  # approval | governance | storage | oauth
    sa.Column("subject_id", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index("ix_autopack_ops_audit_subject", "subject_kind", "subject_id"),
)

oauth_credentials = sa.Table(
    "autopack_oauth_credentials",
    metadata,
    sa.Column("provider", sa.String(64), primary_key=True),
    sa.Column("token_url", sa.String(2000), nullable=True),
    sa.Column("client_id", sa.String(500), nullable=True),
    sa.Column("client_secret_sealed", sa.Text, nullable=True),
    sa.Column("access_token_sealed", sa.Text, nullable=True),
    sa.Column("refresh_token_sealed", sa.Text, nullable=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_refresh_at", UTCDateTime(), nullable=True),
    sa.Column("last_failure_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.String(1000), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

oauth_events = sa.Table(
    "autopack_oauth_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    # registered | refresh_queued | refresh_succeeded | refresh_failed | reset
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index("ix_autopack_oauth_events_provider_at", "provider", "at"),
)

storage_scans = sa.Table(
    "autopack_storage_scans",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("root", sa.String(4000), nullable=False),
    sa.Column("job_id", sa.String(32), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # queued | running | completed | failed
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("total_files", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("summary", sa.JSON, nullable=False),  # by category, by age bucket, duplicate totals
    sa.Column("error", sa.String(1000), nullable=True),
    sa.Column("approved_at", UTCDateTime(), nullable=True),
    sa.Column("approved_by", sa.String(200), nullable=True),
    sa.Column("approval_note", sa.String(2000), nullable=True),
)

storage_files = sa.Table(
    "autopack_storage_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scan_id", sa.String(32), sa.ForeignKey("autopack_storage_scans.id"), nullable=False),
    sa.Column("path", sa.String(4000), nullable=False),  # relative to the scan root
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("modified_at", UTCDateTime(), nullable=False),
    sa.Column("extension", sa.String(32), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=True),  # only for files sharing a size with another
    sa.Index("ix_autopack_storage_files_scan", "scan_id"),
    sa.Index("ix_autopack_storage_files_hash", "scan_id", "sha256"),
)

storage_rules = sa.Table(
    "autopack_storage_rules",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    sa.Column("pattern_type", sa.String(32), nullable=False),
    sa.Column("path_pattern", sa.String(4000), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("suggested_action", sa.String(32), nullable=False),  # archive | review | deduplicate
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("description", sa.String(2000), nullable=False),
    sa.Column("file_count", sa.Integer, nullable=False),
    sa.Column("total_bytes", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # proposed | approved
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("approved_at", UTCDateTime(), nullable=True),
    sa.Column("approved_by", sa.String(200), nullable=True),
)

uploads = sa.Table(
    "autopack_uploads",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("original_name", sa.String(1000), nullable=False),
    sa.Column("stored_name", sa.String(300), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("uploaded_by", sa.String(200), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

research_sessions = sa.Table(
    "autopack_research_sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("topic", sa.String(1000), nullable=False),
    sa.Column("description", sa.String(4000), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # active | closed
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("conclusion", sa.String(8000), nullable=True),
)

research_queries = sa.Table(
    "autopack_research_queries",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("session_id", sa.String(32), sa.ForeignKey("autopack_research_sessions.id"), nullable=False),
    sa.Column("query", sa.String(2000), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_autopack_research_queries_session", "session_id"),
)

research_findings = sa.Table(
    "autopack_research_findings",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("session_id", sa.String(32), sa.ForeignKey("autopack_research_sessions.id"), nullable=False),
    sa.Column("query_id", sa.String(32), nullable=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("source_url", sa.String(2000), nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_autopack_research_findings_session", "session_id"),
)


async def record_audit(
    conn: sa.ext.asyncio.AsyncConnection,
    *,
    kind: str,
    subject_id: str,
    at: object,
    actor: str,
    action: str,
    outcome: str,
    detail: dict[str, object] | None = None,
) -> None:
    """One audit row, written in the caller's transaction (so a decision and its record commit together)."""
    await conn.execute(
        ops_audit.insert().values(
            subject_kind=kind,
            subject_id=subject_id,
            at=at,
            actor=actor[:200],
            action=action,
            outcome=outcome,
            detail=detail or {},
        )
    )


async def audit_trail(
    conn: sa.ext.asyncio.AsyncConnection, kind: str, subject_id: str
) -> list[dict[str, object]]:
    q = (
        sa.select(ops_audit)
        .where(ops_audit.c.subject_kind == kind, ops_audit.c.subject_id == subject_id)
        .order_by(ops_audit.c.id)
    )
    return [dict(r._mapping) for r in await conn.execute(q)]

"""autopack ops: approvals, governance, audit, OAuth credential health, storage scans and rules,
uploads and research sessions (contract 003 sections 6, 7, 9, 11, 12, 13)

Revision ID: 0010_autopack_ops
Revises: 0007_autopack
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_autopack_ops"
down_revision = "0007_autopack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "autopack_approvals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("phase_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("risk_class", sa.String(16), nullable=False),
        sa.Column("risk_reasons", sa.JSON, nullable=False),
        sa.Column("decision_info", sa.JSON, nullable=False),
        sa.Column("deletion_info", sa.JSON, nullable=True),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_source", sa.String(16), nullable=True),
        sa.Column("decision_reason", sa.String(1000), nullable=True),
        sa.Column("telegram_status", sa.String(16), nullable=False, server_default="none"),
        sa.Column("telegram_message_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_autopack_approvals_status_deadline", "autopack_approvals", ["status", "deadline_at"])
    op.create_table(
        "autopack_governance_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("phase_id", sa.String(200), nullable=True),
        sa.Column("requested_paths", sa.JSON, nullable=False),
        sa.Column("justification", sa.String(4000), nullable=False),
        sa.Column("risk_level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_autopack_governance_status", "autopack_governance_requests", ["status"])
    op.create_table(
        "autopack_ops_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_autopack_ops_audit_subject", "autopack_ops_audit", ["subject_kind", "subject_id"])
    op.create_table(
        "autopack_oauth_credentials",
        sa.Column("provider", sa.String(64), primary_key=True),
        sa.Column("token_url", sa.String(2000), nullable=True),
        sa.Column("client_id", sa.String(500), nullable=True),
        sa.Column("client_secret_sealed", sa.Text, nullable=True),
        sa.Column("access_token_sealed", sa.Text, nullable=True),
        sa.Column("refresh_token_sealed", sa.Text, nullable=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_refresh_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "autopack_oauth_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_autopack_oauth_events_provider_at", "autopack_oauth_events", ["provider", "at"])
    op.create_table(
        "autopack_storage_scans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("root", sa.String(4000), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total_files", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approval_note", sa.String(2000), nullable=True),
    )
    op.create_table(
        "autopack_storage_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.String(32), sa.ForeignKey("autopack_storage_scans.id"), nullable=False),
        sa.Column("path", sa.String(4000), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extension", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
    )
    op.create_index("ix_autopack_storage_files_hash", "autopack_storage_files", ["scan_id", "sha256"])
    op.create_index("ix_autopack_storage_files_scan", "autopack_storage_files", ["scan_id"])
    op.create_table(
        "autopack_storage_rules",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("pattern_type", sa.String(32), nullable=False),
        sa.Column("path_pattern", sa.String(4000), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("suggested_action", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("total_bytes", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
    )
    op.create_table(
        "autopack_uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("original_name", sa.String(1000), nullable=False),
        sa.Column("stored_name", sa.String(300), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "autopack_research_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("topic", sa.String(1000), nullable=False),
        sa.Column("description", sa.String(4000), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conclusion", sa.String(8000), nullable=True),
    )
    op.create_table(
        "autopack_research_queries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "session_id", sa.String(32), sa.ForeignKey("autopack_research_sessions.id"), nullable=False
        ),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_autopack_research_queries_session", "autopack_research_queries", ["session_id"])
    op.create_table(
        "autopack_research_findings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "session_id", sa.String(32), sa.ForeignKey("autopack_research_sessions.id"), nullable=False
        ),
        sa.Column("query_id", sa.String(32), nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("source_url", sa.String(2000), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_autopack_research_findings_session", "autopack_research_findings", ["session_id"])


def downgrade() -> None:
    op.drop_table("autopack_research_findings")
    op.drop_table("autopack_research_queries")
    op.drop_table("autopack_research_sessions")
    op.drop_table("autopack_uploads")
    op.drop_table("autopack_storage_rules")
    op.drop_table("autopack_storage_files")
    op.drop_table("autopack_storage_scans")
    op.drop_table("autopack_oauth_events")
    op.drop_table("autopack_oauth_credentials")
    op.drop_table("autopack_ops_audit")
    op.drop_table("autopack_governance_requests")
    op.drop_table("autopack_approvals")

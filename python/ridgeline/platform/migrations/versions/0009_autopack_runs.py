"""autopack runs: runs, tiers, phases, builder and auditor results, issues, error reports, the token
ledger, efficiency and Phase 6 telemetry, A/B results, model overrides (contract 003 sections 1-5, 10)

Revision ID: 0009_autopack_runs
Revises: 0007_autopack
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_autopack_runs"
down_revision = "0007_autopack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "autopack_ab_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("test_id", sa.String(length=128), nullable=False),
        sa.Column("control_run_id", sa.String(length=128), nullable=False),
        sa.Column("treatment_run_id", sa.String(length=128), nullable=False),
        sa.Column("control_commit_sha", sa.String(length=64), nullable=False),
        sa.Column("treatment_commit_sha", sa.String(length=64), nullable=False),
        sa.Column("control_model_hash", sa.String(length=64), nullable=False),
        sa.Column("treatment_model_hash", sa.String(length=64), nullable=False),
        sa.Column("is_valid", sa.Boolean(), nullable=False),
        sa.Column("validity_errors", sa.JSON(), nullable=False),
        sa.Column("control_total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("treatment_total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("token_delta", sa.BigInteger(), nullable=False),
        sa.Column("control_success_rate", sa.Float(), nullable=False),
        sa.Column("treatment_success_rate", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_ab_results")),
    )
    op.create_index("ix_autopack_ab_results_test", "autopack_ab_results", ["test_id"], unique=False)
    op.create_index(
        "ix_autopack_ab_results_treatment", "autopack_ab_results", ["treatment_run_id"], unique=False
    )
    op.create_table(
        "autopack_model_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("complexity", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_model_overrides")),
    )
    op.create_index(
        "ix_autopack_model_overrides_key",
        "autopack_model_overrides",
        ["scope", "run_id", "role", "category", "complexity"],
        unique=False,
    )
    op.create_table(
        "autopack_runs",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("goal", sa.Text(), server_default="", nullable=False),
        sa.Column("safety_profile", sa.String(length=16), nullable=False),
        sa.Column("run_scope", sa.String(length=32), nullable=False),
        sa.Column("token_cap", sa.BigInteger(), nullable=False),
        sa.Column("max_phases", sa.Integer(), nullable=False),
        sa.Column("max_duration_minutes", sa.Integer(), nullable=False),
        sa.Column("max_minor_issues_total", sa.Integer(), nullable=False),
        sa.Column("tokens_used", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("ci_runs_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("minor_issues_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("major_issues_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_runs")),
    )
    op.create_index("ix_autopack_runs_created_at", "autopack_runs", ["created_at"], unique=False)
    op.create_table(
        "autopack_error_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=True),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("error_type", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["autopack_runs.id"],
            name=op.f("fk_autopack_error_reports_run_id_autopack_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_error_reports")),
    )
    op.create_index("ix_autopack_error_reports_run", "autopack_error_reports", ["run_id"], unique=False)
    op.create_table(
        "autopack_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=False),
        sa.Column("tier_id", sa.String(length=128), nullable=False),
        sa.Column("issue_key", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("evidence_refs", sa.JSON(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["autopack_runs.id"],
            name=op.f("fk_autopack_issues_run_id_autopack_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_issues")),
        sa.UniqueConstraint("run_id", "phase_id", "issue_key", name="uq_autopack_issues_phase_key"),
    )
    op.create_index("ix_autopack_issues_key", "autopack_issues", ["issue_key"], unique=False)
    op.create_table(
        "autopack_tiers",
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("tier_id", sa.String(length=128), nullable=False),
        sa.Column("tier_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["autopack_runs.id"],
            name=op.f("fk_autopack_tiers_run_id_autopack_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "tier_id", name=op.f("pk_autopack_tiers")),
    )
    op.create_table(
        "autopack_token_usage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["autopack_runs.id"],
            name=op.f("fk_autopack_token_usage_run_id_autopack_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_token_usage")),
    )
    op.create_index(
        "ix_autopack_token_usage_created_at", "autopack_token_usage", ["created_at"], unique=False
    )
    op.create_index(
        "ix_autopack_token_usage_run", "autopack_token_usage", ["run_id", "phase_id"], unique=False
    )
    op.create_table(
        "autopack_phases",
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=False),
        sa.Column("tier_id", sa.String(length=128), nullable=False),
        sa.Column("phase_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("task_category", sa.String(length=64), nullable=True),
        sa.Column("complexity", sa.String(length=16), nullable=True),
        sa.Column("builder_mode", sa.String(length=32), nullable=True),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("builder_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("auditor_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_builder_attempts", sa.Integer(), nullable=False),
        sa.Column("tokens_used", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reported_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("minor_issues_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("major_issues_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quality_level", sa.String(length=32), nullable=True),
        sa.Column("quality_blocked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "tier_id"],
            ["autopack_tiers.run_id", "autopack_tiers.tier_id"],
            name=op.f("fk_autopack_phases_run_id_autopack_tiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["autopack_runs.id"],
            name=op.f("fk_autopack_phases_run_id_autopack_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "phase_id", name=op.f("pk_autopack_phases")),
    )
    op.create_table(
        "autopack_auditor_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("recommendation", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("issues_found", sa.JSON(), nullable=False),
        sa.Column("suggested_patches", sa.JSON(), nullable=False),
        sa.Column("tokens_used", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "phase_id"],
            ["autopack_phases.run_id", "autopack_phases.phase_id"],
            name=op.f("fk_autopack_auditor_results_run_id_autopack_phases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_auditor_results")),
    )
    op.create_index(
        "ix_autopack_auditor_results_phase", "autopack_auditor_results", ["run_id", "phase_id"], unique=False
    )
    op.create_table(
        "autopack_builder_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("patch_sha256", sa.String(length=64), nullable=True),
        sa.Column("patch_applied", sa.Boolean(), nullable=False),
        sa.Column("files_changed", sa.JSON(), nullable=False),
        sa.Column("lines_added", sa.Integer(), nullable=False),
        sa.Column("lines_removed", sa.Integer(), nullable=False),
        sa.Column("tokens_used", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "phase_id"],
            ["autopack_phases.run_id", "autopack_phases.phase_id"],
            name=op.f("fk_autopack_builder_results_run_id_autopack_phases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopack_builder_results")),
    )
    op.create_index(
        "ix_autopack_builder_results_phase", "autopack_builder_results", ["run_id", "phase_id"], unique=False
    )
    op.create_table(
        "autopack_phase6_metrics",
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=False),
        sa.Column("failure_hardening_triggered", sa.Boolean(), nullable=False),
        sa.Column("failure_pattern_detected", sa.String(length=64), nullable=True),
        sa.Column("doctor_call_skipped", sa.Boolean(), nullable=False),
        sa.Column("doctor_tokens_avoided_estimate", sa.BigInteger(), nullable=False),
        sa.Column("estimate_coverage_n", sa.Integer(), nullable=True),
        sa.Column("estimate_source", sa.String(length=32), nullable=True),
        sa.Column("intention_context_injected", sa.Boolean(), nullable=False),
        sa.Column("intention_context_chars", sa.Integer(), nullable=False),
        sa.Column("plan_normalization_used", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "phase_id"],
            ["autopack_phases.run_id", "autopack_phases.phase_id"],
            name=op.f("fk_autopack_phase6_metrics_run_id_autopack_phases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "phase_id", name=op.f("pk_autopack_phase6_metrics")),
    )
    op.create_table(
        "autopack_token_efficiency",
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=False),
        sa.Column("artifact_substitutions", sa.Integer(), nullable=False),
        sa.Column("tokens_saved_artifacts", sa.BigInteger(), nullable=False),
        sa.Column("budget_mode", sa.String(length=16), nullable=False),
        sa.Column("budget_used", sa.BigInteger(), nullable=False),
        sa.Column("budget_cap", sa.BigInteger(), nullable=False),
        sa.Column("files_kept", sa.Integer(), nullable=False),
        sa.Column("files_omitted", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "phase_id"],
            ["autopack_phases.run_id", "autopack_phases.phase_id"],
            name=op.f("fk_autopack_token_efficiency_run_id_autopack_phases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "phase_id", name=op.f("pk_autopack_token_efficiency")),
    )


def downgrade() -> None:
    op.drop_table("autopack_token_efficiency")
    op.drop_table("autopack_phase6_metrics")
    op.drop_index("ix_autopack_builder_results_phase", table_name="autopack_builder_results")
    op.drop_table("autopack_builder_results")
    op.drop_index("ix_autopack_auditor_results_phase", table_name="autopack_auditor_results")
    op.drop_table("autopack_auditor_results")
    op.drop_table("autopack_phases")
    op.drop_index("ix_autopack_token_usage_run", table_name="autopack_token_usage")
    op.drop_index("ix_autopack_token_usage_created_at", table_name="autopack_token_usage")
    op.drop_table("autopack_token_usage")
    op.drop_table("autopack_tiers")
    op.drop_index("ix_autopack_issues_key", table_name="autopack_issues")
    op.drop_table("autopack_issues")
    op.drop_index("ix_autopack_error_reports_run", table_name="autopack_error_reports")
    op.drop_table("autopack_error_reports")
    op.drop_index("ix_autopack_runs_created_at", table_name="autopack_runs")
    op.drop_table("autopack_runs")
    op.drop_index("ix_autopack_model_overrides_key", table_name="autopack_model_overrides")
    op.drop_table("autopack_model_overrides")
    op.drop_index("ix_autopack_ab_results_treatment", table_name="autopack_ab_results")
    op.drop_index("ix_autopack_ab_results_test", table_name="autopack_ab_results")
    op.drop_table("autopack_ab_results")

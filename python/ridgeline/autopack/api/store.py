"""The autopack family's run tables (on the platform's shared metadata): runs, tiers, phases, the
results builders and auditors submit, recorded issues, error reports, the token-usage ledger,
efficiency and Phase 6 telemetry, A/B results and model overrides. Migration 0009_autopack_runs."""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

ID = sa.String(128)

runs = sa.Table(
    "autopack_runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("state", sa.String(40), nullable=False),
    sa.Column("goal", sa.Text, nullable=False, server_default=""),
    sa.Column("safety_profile", sa.String(16), nullable=False),
    sa.Column("run_scope", sa.String(32), nullable=False),
    sa.Column("token_cap", sa.BigInteger, nullable=False),
    sa.Column("max_phases", sa.Integer, nullable=False),
    sa.Column("max_duration_minutes", sa.Integer, nullable=False),
    sa.Column("max_minor_issues_total", sa.Integer, nullable=False),
    sa.Column("tokens_used", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("ci_runs_used", sa.Integer, nullable=False, server_default="0"),
    sa.Column("minor_issues_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("major_issues_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_autopack_runs_created_at", runs.c.created_at)

tiers = sa.Table(
    "autopack_tiers",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("autopack_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tier_id", ID, primary_key=True),
    sa.Column("tier_index", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

phases = sa.Table(
    "autopack_phases",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("autopack_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("phase_id", ID, primary_key=True),
    sa.Column("tier_id", ID, nullable=False),
    sa.Column("phase_index", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("task_category", sa.String(64), nullable=True),
    sa.Column("complexity", sa.String(16), nullable=True),
    sa.Column("builder_mode", sa.String(32), nullable=True),
    sa.Column("scope", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("builder_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("auditor_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_builder_attempts", sa.Integer, nullable=False),
    sa.Column("tokens_used", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("reported_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("minor_issues_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("major_issues_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quality_level", sa.String(32), nullable=True),
    sa.Column("quality_blocked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_failure_reason", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "tier_id"], ["autopack_tiers.run_id", "autopack_tiers.tier_id"], ondelete="CASCADE"
    ),
)

builder_results = sa.Table(
    "autopack_builder_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", ID, nullable=False),
    sa.Column("phase_id", ID, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("patch_sha256", sa.String(64), nullable=True),
    sa.Column("patch_applied", sa.Boolean, nullable=False),
    sa.Column("files_changed", sa.JSON, nullable=False),
    sa.Column("lines_added", sa.Integer, nullable=False),
    sa.Column("lines_removed", sa.Integer, nullable=False),
    sa.Column("tokens_used", sa.BigInteger, nullable=False),
    sa.Column("provider", sa.String(64), nullable=True),
    sa.Column("model", sa.String(128), nullable=True),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("messages", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "phase_id"], ["autopack_phases.run_id", "autopack_phases.phase_id"], ondelete="CASCADE"
    ),
)
sa.Index("ix_autopack_builder_results_phase", builder_results.c.run_id, builder_results.c.phase_id)

auditor_results = sa.Table(
    "autopack_auditor_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", ID, nullable=False),
    sa.Column("phase_id", ID, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("recommendation", sa.String(16), nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("issues_found", sa.JSON, nullable=False),
    sa.Column("suggested_patches", sa.JSON, nullable=False),
    sa.Column("tokens_used", sa.BigInteger, nullable=False),
    sa.Column("provider", sa.String(64), nullable=True),
    sa.Column("model", sa.String(128), nullable=True),
    sa.Column("messages", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "phase_id"], ["autopack_phases.run_id", "autopack_phases.phase_id"], ondelete="CASCADE"
    ),
)
sa.Index("ix_autopack_auditor_results_phase", auditor_results.c.run_id, auditor_results.c.phase_id)

issues = sa.Table(
    "autopack_issues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", ID, sa.ForeignKey("autopack_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phase_id", ID, nullable=False),
    sa.Column("tier_id", ID, nullable=False),
    sa.Column("issue_key", sa.String(200), nullable=False),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("evidence_refs", sa.JSON, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
    sa.Column("first_seen_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("run_id", "phase_id", "issue_key", name="uq_autopack_issues_phase_key"),
)
sa.Index("ix_autopack_issues_key", issues.c.issue_key)

error_reports = sa.Table(
    "autopack_error_reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", ID, sa.ForeignKey("autopack_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phase_id", ID, nullable=True),
    sa.Column("component", sa.String(32), nullable=False),
    sa.Column("error_type", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_autopack_error_reports_run", error_reports.c.run_id)

token_usage = sa.Table(
    "autopack_token_usage",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", ID, sa.ForeignKey("autopack_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phase_id", ID, nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_autopack_token_usage_run", token_usage.c.run_id, token_usage.c.phase_id)
sa.Index("ix_autopack_token_usage_created_at", token_usage.c.created_at)

# One row per phase (last report wins): BUILD-145 artifact substitution and budget telemetry.
token_efficiency = sa.Table(
    "autopack_token_efficiency",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("phase_id", ID, primary_key=True),
    sa.Column("artifact_substitutions", sa.Integer, nullable=False),
    sa.Column("tokens_saved_artifacts", sa.BigInteger, nullable=False),
    sa.Column("budget_mode", sa.String(16), nullable=False),
    sa.Column("budget_used", sa.BigInteger, nullable=False),
    sa.Column("budget_cap", sa.BigInteger, nullable=False),
    sa.Column("files_kept", sa.Integer, nullable=False),
    sa.Column("files_omitted", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "phase_id"], ["autopack_phases.run_id", "autopack_phases.phase_id"], ondelete="CASCADE"
    ),
)

# One row per phase (last report wins): BUILD-146 Phase 6 "true autonomy" telemetry.
phase6_metrics = sa.Table(
    "autopack_phase6_metrics",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("phase_id", ID, primary_key=True),
    sa.Column("failure_hardening_triggered", sa.Boolean, nullable=False),
    sa.Column("failure_pattern_detected", sa.String(64), nullable=True),
    sa.Column("doctor_call_skipped", sa.Boolean, nullable=False),
    sa.Column("doctor_tokens_avoided_estimate", sa.BigInteger, nullable=False),
    sa.Column("estimate_coverage_n", sa.Integer, nullable=True),
    sa.Column("estimate_source", sa.String(32), nullable=True),
    sa.Column("intention_context_injected", sa.Boolean, nullable=False),
    sa.Column("intention_context_chars", sa.Integer, nullable=False),
    sa.Column("plan_normalization_used", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "phase_id"], ["autopack_phases.run_id", "autopack_phases.phase_id"], ondelete="CASCADE"
    ),
)

ab_results = sa.Table(
    "autopack_ab_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("test_id", sa.String(128), nullable=False),
    sa.Column("control_run_id", ID, nullable=False),
    sa.Column("treatment_run_id", ID, nullable=False),
    sa.Column("control_commit_sha", sa.String(64), nullable=False),
    sa.Column("treatment_commit_sha", sa.String(64), nullable=False),
    sa.Column("control_model_hash", sa.String(64), nullable=False),
    sa.Column("treatment_model_hash", sa.String(64), nullable=False),
    sa.Column("is_valid", sa.Boolean, nullable=False),
    sa.Column("validity_errors", sa.JSON, nullable=False),
    sa.Column("control_total_tokens", sa.BigInteger, nullable=False),
    sa.Column("treatment_total_tokens", sa.BigInteger, nullable=False),
    sa.Column("token_delta", sa.BigInteger, nullable=False),
    sa.Column("control_success_rate", sa.Float, nullable=False),
    sa.Column("treatment_success_rate", sa.Float, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_autopack_ab_results_test", ab_results.c.test_id)
sa.Index("ix_autopack_ab_results_treatment", ab_results.c.treatment_run_id)

model_overrides = sa.Table(
    "autopack_model_overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(8), nullable=False),
    sa.Column("run_id", ID, nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("complexity", sa.String(16), nullable=False),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index(
    "ix_autopack_model_overrides_key",
    model_overrides.c.scope,
    model_overrides.c.run_id,
    model_overrides.c.role,
    model_overrides.c.category,
    model_overrides.c.complexity,
)

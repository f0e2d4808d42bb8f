"""Wire types of contract 003 sections 1-5 and 10 (runs, health, dashboard, issues, errors, the
operator surface). msgspec Structs; every field is described (and most carry an example) in OpenAPI.
Importing this module loads neither Litestar nor SQLAlchemy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from ridgeline.autopack.lifecycle import PhaseState

INT64_MAX = 2**63 - 1


def d(text: str, *examples: Any, **kw: Any) -> msgspec.Meta:
    return msgspec.Meta(description=text, examples=list(examples) or None, **kw)


def opt(tp: Any, text: str, *examples: Any, **constraints: Any) -> Any:
    """An optional field whose value, when given, is constrained: ``opt(int, "Count.", 3, ge=0)``."""
    return Annotated[Annotated[tp, msgspec.Meta(**constraints)] | None, d(text, *examples)]


RunId = Annotated[
    str,
    d(
        "Run id: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit (it names the run's directory).",
        "build-2026-12-01-a",
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
    ),
]
ItemId = Annotated[
    str,
    d(
        "Tier or phase id, unique within its run.",
        "P1.2",
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
    ),
]
Tokens = Annotated[int, d("Token count.", 12000, ge=0, le=INT64_MAX)]
Complexity = Literal["low", "medium", "high"]
Severity = Literal["minor", "major"]
Text = Annotated[str, d("Free text.", max_length=20000)]


# ---- section 1: run lifecycle ----------------------------------------------------------------


class RunSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    run_id: RunId
    goal: Annotated[str, d("What the run is for (the goal anchor).", "Add CSV export", max_length=20000)] = ""
    safety_profile: Annotated[
        Literal["normal", "safety_critical"], d("Safety profile the executor applies.", "normal")
    ] = "normal"
    run_scope: Annotated[
        Literal["multi_tier", "single_tier"], d("Whether phases span several tiers.", "multi_tier")
    ] = "multi_tier"
    token_cap: Annotated[int, d("Token budget of the whole run.", 5_000_000, ge=1, le=INT64_MAX)] = 5_000_000
    max_phases: Annotated[int, d("Most phases the run may have.", 25, ge=1, le=10_000)] = 25
    max_duration_minutes: Annotated[int, d("Wall-clock budget.", 120, ge=1, le=525_600)] = 120
    max_minor_issues_total: Annotated[
        int, d("Minor issues tolerated over the run.", 50, ge=0, le=1_000_000)
    ] = 50
    metadata: Annotated[
        dict[str, Any], d("Executor-defined metadata, stored as given.", {"branch": "main"})
    ] = {}


class PhaseScope(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    paths: Annotated[list[str], d("Workspace paths the phase may change.", ["src/export.py"])] = []
    read_only_context: Annotated[
        list[str], d("Paths given to the builder as context only.", ["README.md"])
    ] = []


class TierSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    tier_id: ItemId
    tier_index: Annotated[int, d("Order of the tier in the run (0-based).", 0, ge=0, le=1_000_000)]
    name: Annotated[str, d("Tier name.", "Foundation", min_length=1, max_length=200)]
    description: Annotated[str, d("Tier description.", "Data model and storage", max_length=20000)] = ""


class PhaseSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    phase_id: ItemId
    tier_id: ItemId
    phase_index: Annotated[int, d("Order of the phase within its tier (0-based).", 0, ge=0, le=1_000_000)]
    name: Annotated[str, d("Phase name.", "Write the exporter", min_length=1, max_length=200)]
    description: Annotated[str, d("What the builder must do.", "Export runs as CSV", max_length=20000)] = ""
    task_category: opt(str, "Task category (model routing).", "feature", max_length=64) = None
    complexity: Annotated[Complexity | None, d("Task complexity (model routing).", "medium")] = None
    builder_mode: opt(str, "Builder mode hint.", "full_file", max_length=32) = None
    scope: Annotated[PhaseScope | None, d("Paths the phase works on.")] = None
    max_builder_attempts: Annotated[int, d("Builder attempts before the phase fails.", 5, ge=1, le=100)] = 5


class RunStartRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """A run with its tiers and phases, created in one transaction."""

    run: RunSpec
    tiers: Annotated[list[TierSpec], d("The run's tiers.", max_length=10_000)] = []
    phases: Annotated[
        list[PhaseSpec], d("The run's phases; each names one of the tiers.", max_length=10_000)
    ] = []


class PhaseResponse(msgspec.Struct, kw_only=True):
    phase_id: Annotated[str, d("Phase id.", "P1.2")]
    tier_id: Annotated[str, d("Tier the phase belongs to.", "T1")]
    phase_index: Annotated[int, d("Order within the tier.", 0)]
    name: Annotated[str, d("Phase name.")]
    description: Annotated[str, d("Phase description.")]
    task_category: Annotated[str | None, d("Task category.")]
    complexity: Annotated[str | None, d("Task complexity.")]
    builder_mode: Annotated[str | None, d("Builder mode hint.")]
    scope: Annotated[PhaseScope, d("Paths the phase works on.")]
    state: Annotated[PhaseState, d("Phase state.", "EXECUTING")]
    builder_attempts: Annotated[int, d("Builder results received.", 1)]
    auditor_attempts: Annotated[int, d("Auditor results received.", 0)]
    max_builder_attempts: Annotated[int, d("Builder attempt budget.", 5)]
    tokens_used: Annotated[int, d("Tokens the phase spent (see docs: no double counting).", 12000)]
    minor_issues_count: Annotated[int, d("Distinct minor issues recorded.", 0)]
    major_issues_count: Annotated[int, d("Distinct major issues recorded.", 0)]
    quality_level: Annotated[str | None, d("Last quality level reported.", "good")]
    quality_blocked: Annotated[bool, d("Whether the quality gate blocks the phase.", False)]
    last_failure_reason: Annotated[str | None, d("Last failure reason reported.")]
    created_at: Annotated[datetime, d("Created (UTC).")]
    started_at: Annotated[datetime | None, d("First EXECUTING (UTC).")]
    completed_at: Annotated[datetime | None, d("Reached COMPLETE, SKIPPED or FAILED (UTC).")]
    updated_at: Annotated[datetime, d("Last change (UTC).")]


class TierResponse(msgspec.Struct, kw_only=True):
    tier_id: Annotated[str, d("Tier id.", "T1")]
    tier_index: Annotated[int, d("Order in the run.", 0)]
    name: Annotated[str, d("Tier name.")]
    description: Annotated[str, d("Tier description.")]
    state: Annotated[str, d("QUEUED, IN_PROGRESS, COMPLETE or FAILED, from its phases.", "IN_PROGRESS")]
    phases: Annotated[list[PhaseResponse], d("The tier's phases in order.")]


class RunResponse(msgspec.Struct, kw_only=True):
    id: Annotated[str, d("Run id.", "build-2026-12-01-a")]
    state: Annotated[str, d("Run state, derived from the phases.", "PHASE_EXECUTION")]
    goal: Annotated[str, d("Goal anchor.")]
    safety_profile: Annotated[str, d("Safety profile.", "normal")]
    run_scope: Annotated[str, d("Run scope.", "multi_tier")]
    token_cap: Annotated[int, d("Token budget.", 5_000_000)]
    max_phases: Annotated[int, d("Phase budget.", 25)]
    max_duration_minutes: Annotated[int, d("Duration budget.", 120)]
    max_minor_issues_total: Annotated[int, d("Minor issue budget.", 50)]
    tokens_used: Annotated[int, d("Tokens spent by all phases.", 12000)]
    ci_runs_used: Annotated[int, d("CI_RUNNING entries reported.", 0)]
    minor_issues_count: Annotated[int, d("Distinct minor issues.", 0)]
    major_issues_count: Annotated[int, d("Distinct major issues.", 0)]
    failure_reason: Annotated[str | None, d("Why the run failed, if it did.")]
    metadata: Annotated[dict[str, Any], d("Executor metadata as given.")]
    created_at: Annotated[datetime, d("Created (UTC).")]
    started_at: Annotated[datetime | None, d("Started (UTC): the run starts when it is created.")]
    completed_at: Annotated[datetime | None, d("Reached a DONE_* state (UTC).")]
    updated_at: Annotated[datetime, d("Last change (UTC).")]
    tiers: Annotated[list[TierResponse], d("Tiers in order, each with its phases.")]
    phases: Annotated[list[PhaseResponse], d("Every phase, in tier then phase order.")]


class ErrorDetail(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    error_type: Annotated[str, d("Error class.", "TestFailure", min_length=1, max_length=64)]
    message: Annotated[str, d("Error message.", "3 tests failed", max_length=20000)]
    component: Annotated[str, d("Where it happened.", "ci", max_length=32)] = "executor"
    context: Annotated[dict[str, Any], d("Structured context.", {"failed": 3})] = {}


class TokenEfficiency(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """BUILD-145 telemetry of one phase (the last report for a phase replaces the earlier one)."""

    artifact_substitutions: Annotated[int, d("Files replaced by artifacts.", 3, ge=0, le=1_000_000)] = 0
    tokens_saved_artifacts: Annotated[
        int, d("Tokens the substitutions avoided.", 4200, ge=0, le=INT64_MAX)
    ] = 0
    budget_mode: Annotated[Literal["semantic", "lexical"], d("Context selection mode.", "semantic")] = (
        "semantic"
    )
    budget_used: Annotated[int, d("Context tokens used.", 9000, ge=0, le=INT64_MAX)] = 0
    budget_cap: Annotated[int, d("Context token cap.", 16000, ge=0, le=INT64_MAX)] = 0
    files_kept: Annotated[int, d("Files kept in context.", 12, ge=0, le=1_000_000)] = 0
    files_omitted: Annotated[int, d("Files left out.", 4, ge=0, le=1_000_000)] = 0


class Phase6Telemetry(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """BUILD-146 Phase 6 telemetry of one phase; recorded only when AUTOPACK_ENABLE_PHASE6_METRICS=1."""

    failure_hardening_triggered: Annotated[bool, d("Deterministic failure hardening fired.", False)] = False
    failure_pattern_detected: opt(str, "Pattern that fired.", "import_error", max_length=64) = None
    doctor_call_skipped: Annotated[bool, d("A Doctor LLM call was skipped.", True)] = False
    doctor_tokens_avoided_estimate: Annotated[
        int, d("Counterfactual estimate of the skipped Doctor call's tokens.", 10000, ge=0, le=INT64_MAX)
    ] = 0
    estimate_coverage_n: opt(int, "Samples behind the estimate.", 42, ge=0) = None
    estimate_source: opt(str, "Where the estimate came from.", "baseline", max_length=32) = None
    intention_context_injected: Annotated[bool, d("Intention context was injected.", True)] = False
    intention_context_chars: Annotated[int, d("Characters injected.", 1800, ge=0, le=INT64_MAX)] = 0
    plan_normalization_used: Annotated[bool, d("The plan was normalised.", False)] = False


class PhaseStatusUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """A state change (or a metrics-only update in the same state) of one phase."""

    state: Annotated[PhaseState, d("New phase state (state machine: see docs).", "EXECUTING")]
    builder_attempts: opt(int, "Builder attempts so far.", 1, ge=0, le=1000) = None
    tokens_used: opt(
        int, "Cumulative tokens of the phase as the executor counts them.", 12000, ge=0, le=INT64_MAX
    ) = None
    minor_issues_count: opt(int, "Minor issues the executor counts.", 0, ge=0) = None
    major_issues_count: opt(int, "Major issues the executor counts.", 0, ge=0) = None
    quality_level: opt(str, "Quality level.", "good", max_length=32) = None
    quality_blocked: Annotated[bool | None, d("Quality gate blocks the phase.", False)] = None
    failure_reason: opt(str, "Why the phase failed.", "tests failing", max_length=20000) = None
    error: Annotated[ErrorDetail | None, d("An error report to record with the update.")] = None
    token_efficiency: Annotated[TokenEfficiency | None, d("BUILD-145 telemetry.")] = None
    phase6: Annotated[Phase6Telemetry | None, d("BUILD-146 telemetry (kill switch).")] = None


class PhaseStatusResponse(msgspec.Struct, kw_only=True):
    message: Annotated[str, d("Confirmation.", "Phase P1.2 updated to EXECUTING")]
    run_id: Annotated[str, d("Run id.")]
    phase_id: Annotated[str, d("Phase id.")]
    previous_state: Annotated[PhaseState, d("State before the update.", "QUEUED")]
    state: Annotated[PhaseState, d("State after the update.", "EXECUTING")]
    run_state: Annotated[str, d("Run state after the update.", "PHASE_EXECUTION")]
    tokens_used: Annotated[int, d("Phase tokens after the update.", 12000)]
    phase6_recorded: Annotated[bool, d("Whether Phase 6 telemetry was recorded (kill switch).", False)]
    updated_at: Annotated[datetime, d("When (UTC).")]


class LlmUsage(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    provider: Annotated[str, d("LLM provider.", "anthropic", min_length=1, max_length=64)] = "unknown"
    model: Annotated[str, d("Model.", "claude-sonnet-4-5", min_length=1, max_length=128)] = "unknown"
    prompt_tokens: opt(int, "Prompt tokens.", 9000, ge=0, le=INT64_MAX) = None
    completion_tokens: opt(int, "Completion tokens.", 3000, ge=0, le=INT64_MAX) = None


class BuilderResult(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """A builder attempt: its unified diff is applied to the run's workspace (all files or none)."""

    status: Annotated[Literal["success", "failed"], d("Outcome the builder reports.", "success")] = "success"
    patch_content: Annotated[
        str | None,
        d(
            "Unified diff against the workspace (git or plain). Omitted or empty: nothing to apply.",
            "--- a/src/x.py\n+++ b/src/x.py\n@@ -1 +1 @@\n-old\n+new\n",
        ),
    ] = None
    files_changed: Annotated[list[str], d("Files the builder says it changed (the server recomputes).")] = []
    lines_added: opt(int, "Builder's count (the server recomputes).", ge=0) = None
    lines_removed: opt(int, "Builder's count (the server recomputes).", ge=0) = None
    tokens_used: Tokens = 0
    usage: Annotated[LlmUsage | None, d("Provider, model and token split of the attempt.")] = None
    builder_messages: Annotated[list[str], d("Builder's messages.", ["Implemented exporter"])] = []
    notes: Annotated[str, d("Free notes.", max_length=20000)] = ""
    token_efficiency: Annotated[TokenEfficiency | None, d("BUILD-145 telemetry of the attempt.")] = None
    phase6: Annotated[Phase6Telemetry | None, d("BUILD-146 telemetry (kill switch).")] = None


class FileChangeOut(msgspec.Struct, kw_only=True):
    path: Annotated[str, d("Workspace-relative path.", "src/x.py")]
    kind: Annotated[Literal["added", "modified", "deleted", "renamed"], d("What happened.", "modified")]
    lines_added: Annotated[int, d("Lines added.", 1)]
    lines_removed: Annotated[int, d("Lines removed.", 1)]
    source_path: Annotated[str | None, d("Old path of a rename.")] = None


class BuilderResultResponse(msgspec.Struct, kw_only=True):
    message: Annotated[str, d("Confirmation.", "Builder result recorded; patch applied to 1 file")]
    run_id: Annotated[str, d("Run id.")]
    phase_id: Annotated[str, d("Phase id.")]
    attempt: Annotated[int, d("Builder attempt number (1-based).", 1)]
    patch_applied: Annotated[bool, d("Whether a patch was applied.", True)]
    patch_sha256: Annotated[str | None, d("SHA-256 of the patch text.")]
    files: Annotated[list[FileChangeOut], d("Files the patch changed.")]
    lines_added: Annotated[int, d("Lines added (from the patch).", 1)]
    lines_removed: Annotated[int, d("Lines removed (from the patch).", 1)]
    tokens_recorded: Annotated[int, d("Tokens added to the ledger.", 12000)]
    phase_tokens_used: Annotated[int, d("Phase tokens after this result.", 12000)]


class AuditIssue(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    severity: Annotated[Severity, d("Severity.", "minor")] = "minor"
    category: Annotated[str, d("Category.", "style", min_length=1, max_length=64)] = "general"
    description: Annotated[str, d("What is wrong.", "Missing docstring", max_length=20000)] = ""
    issue_key: opt(str, "Stable key; default: derived from category and description.", max_length=200) = None
    location: opt(str, "File and line.", "src/x.py:12", max_length=500) = None


class AuditorResult(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    recommendation: Annotated[Literal["approve", "revise", "reject"], d("Auditor verdict.", "approve")]
    confidence: opt(float, "Confidence 0..1.", 0.9, ge=0, le=1) = None
    issues_found: Annotated[list[AuditIssue], d("Issues found; each is recorded on the phase.")] = []
    suggested_patches: Annotated[list[str], d("Diffs the auditor suggests (stored, not applied).")] = []
    auditor_messages: Annotated[list[str], d("Auditor's messages.")] = []
    tokens_used: Tokens = 0
    usage: Annotated[LlmUsage | None, d("Provider, model and token split.")] = None


class AuditorResultResponse(msgspec.Struct, kw_only=True):
    message: Annotated[str, d("Confirmation.", "Auditor result recorded")]
    run_id: Annotated[str, d("Run id.")]
    phase_id: Annotated[str, d("Phase id.")]
    attempt: Annotated[int, d("Auditor attempt number (1-based).", 1)]
    recommendation: Annotated[str, d("Verdict.", "approve")]
    issues_recorded: Annotated[int, d("Issues recorded on the phase.", 0)]
    tokens_recorded: Annotated[int, d("Tokens added to the ledger.", 3000)]


class IssueRecordRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    issue_key: Annotated[
        str,
        d(
            "Stable key; the same key again counts an occurrence.",
            "flaky_test_x",
            min_length=1,
            max_length=200,
        ),
    ]
    severity: Annotated[Severity, d("Severity.", "minor")] = "minor"
    source: Annotated[str, d("Who found it.", "test", min_length=1, max_length=32)] = "executor"
    category: Annotated[str, d("Category.", "test_failure", min_length=1, max_length=64)] = "general"
    description: Annotated[str, d("What is wrong.", "test_x fails one run in five", max_length=20000)] = ""
    evidence_refs: Annotated[list[str], d("Logs, files, URLs.", ["logs/ci.log"])] = []


class IssueOut(msgspec.Struct, kw_only=True):
    issue_key: Annotated[str, d("Issue key.")]
    severity: Annotated[Severity, d("Severity.")]
    source: Annotated[str, d("Who found it.")]
    category: Annotated[str, d("Category.")]
    description: Annotated[str, d("Description.")]
    evidence_refs: Annotated[list[str], d("Evidence.")]
    occurrences: Annotated[int, d("Times recorded.", 1)]
    phase_ids: Annotated[list[str], d("Phases it was recorded on.")]
    tier_ids: Annotated[list[str], d("Tiers of those phases.")]
    first_seen_at: Annotated[datetime, d("First recorded (UTC).")]
    last_seen_at: Annotated[datetime, d("Last recorded (UTC).")]


class IssueRecordResponse(msgspec.Struct, kw_only=True):
    message: Annotated[str, d("Confirmation.", "Issue flaky_test_x recorded (occurrence 1)")]
    run_id: Annotated[str, d("Run id.")]
    phase_id: Annotated[str, d("Phase id.")]
    issue_key: Annotated[str, d("Issue key.")]
    occurrences: Annotated[int, d("Times recorded on this phase.", 1)]
    new_issue: Annotated[bool, d("First time on this phase.", True)]
    phase_minor_issues: Annotated[int, d("Distinct minor issues of the phase.", 1)]
    phase_major_issues: Annotated[int, d("Distinct major issues of the phase.", 0)]


# ---- section 4 and 5: issues and errors ------------------------------------------------------


class RunIssueIndex(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    total_issues: Annotated[int, d("Distinct issue keys.", 2)]
    minor_issues: Annotated[int, d("Distinct minor keys.", 2)]
    major_issues: Annotated[int, d("Distinct major keys.", 0)]
    total_occurrences: Annotated[int, d("Occurrences over all phases.", 3)]
    by_phase: Annotated[dict[str, int], d("Distinct keys per phase.", {"P1.2": 1})]
    issues: Annotated[list[IssueOut], d("Issues, most occurrences first.")]


class BacklogItem(msgspec.Struct, kw_only=True):
    issue_key: Annotated[str, d("Issue key.")]
    severity: Annotated[Severity, d("Highest severity seen.")]
    category: Annotated[str, d("Category (latest).")]
    description: Annotated[str, d("Description (latest).")]
    occurrences: Annotated[int, d("Occurrences over all runs.", 7)]
    runs_affected: Annotated[int, d("Runs it was recorded in.", 3)]
    run_ids: Annotated[list[str], d("Up to 20 of those runs, most recent first.")]
    first_seen_at: Annotated[datetime, d("First recorded (UTC).")]
    last_seen_at: Annotated[datetime, d("Last recorded (UTC).")]


class ProjectBacklog(msgspec.Struct, kw_only=True):
    total_issues: Annotated[int, d("Distinct issue keys over every run.", 12)]
    limit: Annotated[int, d("Page size.", 100)]
    offset: Annotated[int, d("Items skipped.", 0)]
    issues: Annotated[list[BacklogItem], d("Most runs affected, then most occurrences, first.")]


class ErrorReportOut(msgspec.Struct, kw_only=True):
    id: Annotated[int, d("Report id.", 1)]
    run_id: Annotated[str, d("Run id.")]
    phase_id: Annotated[str | None, d("Phase id, if any.")]
    component: Annotated[str, d("Component.", "builder")]
    error_type: Annotated[str, d("Error type.", "patch_does_not_apply")]
    message: Annotated[str, d("Message.")]
    context: Annotated[dict[str, Any], d("Structured context.")]
    created_at: Annotated[datetime, d("When (UTC).")]


class ErrorReportList(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    total: Annotated[int, d("Reports of the run.", 1)]
    errors: Annotated[list[ErrorReportOut], d("Reports, oldest first.")]


class ErrorSummary(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    total_errors: Annotated[int, d("Reports of the run.", 2)]
    by_type: Annotated[dict[str, int], d("Count per error type.", {"patch_does_not_apply": 1})]
    by_component: Annotated[dict[str, int], d("Count per component.", {"builder": 1})]
    by_phase: Annotated[dict[str, int], d("Count per phase ('' for run-level).", {"P1.2": 1})]
    first_error_at: Annotated[datetime | None, d("Oldest report (UTC).")]
    last_error_at: Annotated[datetime | None, d("Newest report (UTC).")]
    latest: Annotated[ErrorReportOut | None, d("Newest report.")]


# ---- section 2: health ----------------------------------------------------------------------


class DatabaseHealth(msgspec.Struct, kw_only=True):
    status: Annotated[Literal["connected", "unreachable"], d("SELECT 1 answered.", "connected")]
    backend: Annotated[str, d("sqlite or postgresql.", "sqlite")]


class QdrantHealth(msgspec.Struct, kw_only=True):
    status: Annotated[Literal["connected", "unreachable"], d("Qdrant answered /readyz.", "connected")]
    url_identity: Annotated[str, d("SHA-256 (16 hex) of QDRANT_URL, never the URL.")]


class DbIdentityDebug(msgspec.Struct, kw_only=True):
    dialect: Annotated[str, d("Dialect.", "sqlite")]
    driver: Annotated[str | None, d("Driver.", "aiosqlite")]
    host: Annotated[str | None, d("Host, if any.")]
    port: Annotated[int | None, d("Port, if any.")]
    database: Annotated[str | None, d("Database name (SQLite: file name only).", "ridgeline.db")]


class HealthResponse(msgspec.Struct, kw_only=True):
    status: Annotated[Literal["healthy", "degraded", "unhealthy"], d("Overall state.", "healthy")]
    database_identity: Annotated[
        str, d("SHA-256 (16 hex) of the database URL, for drift detection.", "3f2a9c0d11b4e6a8")
    ]
    database: Annotated[DatabaseHealth, d("Database connection.")]
    qdrant: Annotated[QdrantHealth | None, d("Qdrant, when QDRANT_URL is set.")] = None
    kill_switches: Annotated[
        dict[str, bool],
        d(
            "Each kill switch by its variable name.",
            {
                "AUTOPACK_ENABLE_PHASE6_METRICS": False,
                "AUTOPACK_ENABLE_CONSOLIDATED_METRICS": False,
                "AUTO_APPROVE_BUILD113": True,
            },
        ),
    ]
    version: Annotated[str, d("API version.", "0.1.0")]
    timestamp: Annotated[datetime, d("When (UTC).")]
    database_identity_debug: Annotated[
        DbIdentityDebug | None, d("Non-secret URL parts (DEBUG_DB_IDENTITY=1).")
    ] = None


# ---- section 3: dashboard ---------------------------------------------------------------------


class DashboardRunStatus(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    state: Annotated[str, d("Run state.", "PHASE_EXECUTION")]
    current_tier_id: Annotated[str | None, d("Tier of the current phase.")]
    current_tier_index: Annotated[int | None, d("Its index.")]
    current_phase_id: Annotated[str | None, d("First phase not final.")]
    current_phase_name: Annotated[str | None, d("Its name.")]
    current_phase_state: Annotated[str | None, d("Its state.")]
    total_tiers: Annotated[int, d("Tiers.", 2)]
    completed_tiers: Annotated[int, d("Tiers whose phases are all COMPLETE or SKIPPED.", 1)]
    total_phases: Annotated[int, d("Phases.", 6)]
    completed_phases: Annotated[int, d("COMPLETE or SKIPPED.", 3)]
    failed_phases: Annotated[int, d("FAILED.", 0)]
    percent_complete: Annotated[float, d("completed / total * 100.", 50.0)]
    tokens_used: Annotated[int, d("Tokens spent.", 120000)]
    token_cap: Annotated[int, d("Token budget.", 5000000)]
    token_utilization: Annotated[float, d("tokens_used / token_cap * 100.", 2.4)]
    minor_issues_count: Annotated[int, d("Distinct minor issues.", 1)]
    major_issues_count: Annotated[int, d("Distinct major issues.", 0)]
    quality_blocked: Annotated[bool, d("Some phase is blocked by the quality gate.", False)]
    created_at: Annotated[datetime, d("Created (UTC).")]
    updated_at: Annotated[datetime, d("Last change (UTC).")]


class ProviderUsage(msgspec.Struct, kw_only=True):
    provider: Annotated[str, d("Provider.", "anthropic")]
    prompt_tokens: Annotated[int, d("Prompt tokens.")]
    completion_tokens: Annotated[int, d("Completion tokens.")]
    total_tokens: Annotated[int, d("Both.")]
    calls: Annotated[int, d("Results recorded.")]


class ModelUsage(msgspec.Struct, kw_only=True):
    provider: Annotated[str, d("Provider.", "anthropic")]
    model: Annotated[str, d("Model.", "claude-sonnet-4-5")]
    prompt_tokens: Annotated[int, d("Prompt tokens.")]
    completion_tokens: Annotated[int, d("Completion tokens.")]
    total_tokens: Annotated[int, d("Both.")]
    calls: Annotated[int, d("Results recorded.")]


class UsageResponse(msgspec.Struct, kw_only=True):
    period: Annotated[Literal["day", "week", "month"], d("Window.", "week")]
    since: Annotated[datetime, d("Window start (UTC): now minus 1, 7 or 30 days.")]
    until: Annotated[datetime, d("Window end (UTC, now).")]
    total_tokens: Annotated[int, d("All tokens in the window.")]
    providers: Annotated[list[ProviderUsage], d("Per provider, most tokens first.")]
    models: Annotated[list[ModelUsage], d("Per provider and model, most tokens first.")]


class ModelMapping(msgspec.Struct, kw_only=True):
    role: Annotated[str, d("builder, auditor or doctor.", "builder")]
    category: Annotated[str, d("Task category ('general' for any).", "general")]
    complexity: Annotated[str, d("low, medium or high.", "medium")]
    model: Annotated[str, d("Model used.", "claude-sonnet-4-5")]
    source: Annotated[
        Literal["default", "global_override", "run_override"], d("Where the mapping comes from.", "default")
    ]
    run_id: Annotated[str | None, d("Run of a run override.")] = None


class ModelOverrideRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    scope: Annotated[Literal["global", "run"], d("Global, or for one run.", "global")] = "global"
    run_id: opt(str, "Required when scope is 'run'.", max_length=128) = None
    role: Annotated[Literal["builder", "auditor", "doctor"], d("Role.", "builder")]
    category: Annotated[
        str, d("Task category ('general' for any).", "general", min_length=1, max_length=64)
    ] = "general"
    complexity: Annotated[Complexity, d("Complexity.", "high")]
    model: Annotated[str, d("Model to use.", "claude-opus-4", min_length=1, max_length=128)]


class ModelOverrideResponse(msgspec.Struct, kw_only=True):
    message: Annotated[
        str, d("Confirmation.", "Global override recorded: builder/general/high -> claude-opus-4")
    ]
    override: Annotated[ModelMapping, d("The mapping now in force.")]
    created_at: Annotated[datetime, d("When (UTC).")]


class TokenEfficiencyStats(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    total_phases: Annotated[int, d("Phases with BUILD-145 telemetry.", 3)]
    total_artifact_substitutions: Annotated[int, d("Substitutions.", 5)]
    total_tokens_saved_artifacts: Annotated[int, d("Tokens avoided by artifacts.", 8000)]
    total_budget_used: Annotated[int, d("Context tokens used.", 27000)]
    total_budget_cap: Annotated[int, d("Context token caps.", 48000)]
    total_files_kept: Annotated[int, d("Files kept.", 30)]
    total_files_omitted: Annotated[int, d("Files omitted.", 9)]
    semantic_mode_count: Annotated[int, d("Phases in semantic mode.", 2)]
    lexical_mode_count: Annotated[int, d("Phases in lexical mode.", 1)]


class Phase6Stats(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    total_phases: Annotated[int, d("Phases with Phase 6 telemetry.", 3)]
    failure_hardening_triggered_count: Annotated[int, d("Phases where hardening fired.", 1)]
    failure_patterns_detected: Annotated[dict[str, int], d("Count per pattern.", {"import_error": 1})]
    doctor_calls_skipped_count: Annotated[int, d("Doctor calls skipped.", 1)]
    total_doctor_tokens_avoided_estimate: Annotated[int, d("Counterfactual estimate.", 10000)]
    intention_context_injected_count: Annotated[int, d("Phases with intention context.", 2)]
    total_intention_context_chars: Annotated[int, d("Characters injected.", 3600)]
    plan_normalization_used: Annotated[bool, d("Some phase used plan normalisation.", False)]


class PhaseTokenMetrics(msgspec.Struct, kw_only=True):
    phase_id: Annotated[str, d("Phase id.")]
    tokens_spent: Annotated[int, d("max(ledger, executor's cumulative count).", 12000)]
    ledger_tokens: Annotated[int, d("Tokens of the builder and auditor results recorded.", 12000)]
    reported_tokens: Annotated[int, d("The executor's cumulative count in update_status.", 12000)]
    artifact_tokens_avoided: Annotated[int, d("BUILD-145 savings.", 4200)]
    doctor_tokens_avoided_estimate: Annotated[int, d("Phase 6 counterfactual estimate.", 0)]


class ConsolidatedTokenMetrics(msgspec.Struct, kw_only=True):
    """Four independent categories: never added to each other."""

    run_id: Annotated[str, d("Run id.")]
    total_tokens_spent: Annotated[int, d("1. Actual LLM spend (no double counting).", 120000)]
    total_prompt_tokens: Annotated[int, d("Prompt part of the ledger.", 90000)]
    total_completion_tokens: Annotated[int, d("Completion part of the ledger.", 30000)]
    artifact_tokens_avoided: Annotated[int, d("2. Efficiency savings (BUILD-145).", 8000)]
    doctor_tokens_avoided_estimate: Annotated[int, d("3. Counterfactual estimate (Phase 6).", 10000)]
    estimate_coverage_n: Annotated[int, d("Samples behind the estimates.", 42)]
    ab_delta_tokens_saved: Annotated[
        int, d("4. Measured A/B delta (valid pairs where this run is the treatment).", 15000)
    ]
    ab_test_ids: Annotated[list[str], d("A/B tests behind category 4.")]
    phases_total: Annotated[int, d("Phases of the run.", 6)]
    limit: Annotated[int, d("Page size of `phases`.", 1000)]
    offset: Annotated[int, d("Phases skipped.", 0)]
    phases: Annotated[list[PhaseTokenMetrics], d("Per-phase breakdown, in run order.")]


class ABTestResult(msgspec.Struct, kw_only=True):
    id: Annotated[int, d("Result id.", 1)]
    test_id: Annotated[str, d("A/B test id.", "artifact-subst-v2")]
    control_run_id: Annotated[str, d("Control run.")]
    treatment_run_id: Annotated[str, d("Treatment run.")]
    control_commit_sha: Annotated[str, d("Commit of the control.")]
    treatment_commit_sha: Annotated[str, d("Commit of the treatment.")]
    control_model_hash: Annotated[str, d("Model configuration hash of the control.")]
    treatment_model_hash: Annotated[str, d("Model configuration hash of the treatment.")]
    is_valid: Annotated[bool, d("Same commit and model hash on both sides.", True)]
    validity_errors: Annotated[list[str], d("Why the pair is not comparable.")]
    control_total_tokens: Annotated[int, d("Control spend.", 135000)]
    treatment_total_tokens: Annotated[int, d("Treatment spend.", 120000)]
    token_delta: Annotated[int, d("control - treatment (positive: the treatment saved tokens).", 15000)]
    control_success_rate: Annotated[float, d("Phases completed / phases, control.", 1.0)]
    treatment_success_rate: Annotated[float, d("Phases completed / phases, treatment.", 1.0)]
    created_at: Annotated[datetime, d("When (UTC).")]


class HumanNoteRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    note: Annotated[
        str, d("The note (Markdown).", "Paused: waiting for API credentials", min_length=1, max_length=20000)
    ]
    run_id: opt(str, "Run the note is about.", max_length=128) = None
    author: opt(str, "Who writes it.", "ops", max_length=64) = None


class HumanNoteResponse(msgspec.Struct, kw_only=True):
    message: Annotated[str, d("Confirmation.", "Note added")]
    timestamp: Annotated[datetime, d("Timestamp written with the note (UTC).")]
    notes_file: Annotated[str, d("File name of the notes file.", "human_notes.md")]
    bytes_written: Annotated[int, d("Size of the appended entry.", 64)]


# ---- section 10: operator surface --------------------------------------------------------------


class RunSummary(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    state: Annotated[str, d("Run state.")]
    goal: Annotated[str, d("Goal anchor.")]
    created_at: Annotated[datetime, d("Created (UTC).")]
    updated_at: Annotated[datetime, d("Last change (UTC).")]
    tokens_used: Annotated[int, d("Tokens spent.")]
    token_cap: Annotated[int, d("Token budget.")]
    phases_total: Annotated[int, d("Phases.", 20)]
    phases_completed: Annotated[int, d("COMPLETE or SKIPPED.", 12)]
    phases_in_progress: Annotated[int, d("EXECUTING, GATE or CI_RUNNING.", 1)]
    phases_pending: Annotated[int, d("QUEUED.", 7)]
    phases_failed: Annotated[int, d("FAILED.", 0)]


class RunList(msgspec.Struct, kw_only=True):
    runs: Annotated[list[RunSummary], d("Newest first.")]
    total: Annotated[int, d("All runs.", 42)]
    limit: Annotated[int, d("Page size.", 20)]
    offset: Annotated[int, d("Runs skipped.", 0)]


class ProgressPhase(msgspec.Struct, kw_only=True):
    phase_id: Annotated[str, d("Phase id.")]
    tier_id: Annotated[str, d("Tier id.")]
    name: Annotated[str, d("Name.")]
    state: Annotated[str, d("State.")]
    builder_attempts: Annotated[int, d("Builder attempts.")]
    max_builder_attempts: Annotated[int, d("Attempt budget.")]
    tokens_used: Annotated[int, d("Tokens spent.")]
    started_at: Annotated[datetime | None, d("Started (UTC).")]
    completed_at: Annotated[datetime | None, d("Completed (UTC).")]


class RunProgress(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    state: Annotated[str, d("Run state.")]
    phases_total: Annotated[int, d("Phases.")]
    phases_completed: Annotated[int, d("COMPLETE or SKIPPED.")]
    phases_in_progress: Annotated[int, d("EXECUTING, GATE or CI_RUNNING.")]
    phases_pending: Annotated[int, d("QUEUED.")]
    phases_failed: Annotated[int, d("FAILED.")]
    phases: Annotated[list[ProgressPhase], d("Every phase in order.")]
    tokens_used: Annotated[int, d("Tokens spent.")]
    token_cap: Annotated[int, d("Token budget.")]
    token_utilization: Annotated[float, d("tokens_used / token_cap * 100.", 2.4)]
    started_at: Annotated[datetime | None, d("Started (UTC).")]
    elapsed_seconds: Annotated[float, d("Service clock now (or completion) minus started_at.", 754.2)]


class ArtifactEntry(msgspec.Struct, kw_only=True):
    path: Annotated[str, d("Path relative to the run directory.", "logs/builder.log")]
    size_bytes: Annotated[int, d("Size.", 2048)]
    modified_at: Annotated[datetime, d("Modified (UTC).")]


class ArtifactIndex(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    artifacts: Annotated[list[ArtifactEntry], d("Regular files (symlinks are not followed), sorted by path.")]
    total_size_bytes: Annotated[int, d("Sum of the sizes.")]


class BrowserArtifact(msgspec.Struct, kw_only=True):
    path: Annotated[str, d("Path relative to the run directory.", "browser/step-1.png")]
    timestamp: Annotated[datetime, d("Modified (UTC).")]
    size_bytes: Annotated[int, d("Size.")]


class BrowserArtifacts(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, d("Run id.")]
    screenshots: Annotated[list[BrowserArtifact], d("PNG, JPEG, WebP and GIF files, newest first.")]
    html_files: Annotated[list[BrowserArtifact], d("HTML files, newest first.")]
    total_size_bytes: Annotated[int, d("Sum of both lists' sizes.")]

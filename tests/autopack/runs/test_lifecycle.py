"""Section 1: runs start with tiers and phases, the phase state machine, builder and auditor
results, recorded issues; sections 4 and 5 read what they wrote."""

from __future__ import annotations

import pytest

from ridgeline.autopack import lifecycle
from tests.autopack.runs.conftest import move, plan, start

pytestmark = pytest.mark.db


def test_start_returns_the_run_with_tiers_and_phases_and_get_reads_it_back(ap) -> None:  # type: ignore[no-untyped-def]
    body = plan("r-1", tiers=2, phases_per_tier=2, token_cap=1000, safety_profile="safety_critical")
    body["phases"][0]["scope"] = {"paths": ["src/a.py"], "read_only_context": ["README.md"]}
    r = ap.post("/runs/start", json=body)
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["id"] == "r-1" and run["state"] == "RUN_CREATED" and run["token_cap"] == 1000
    assert run["safety_profile"] == "safety_critical" and run["started_at"] is not None
    assert [t["tier_id"] for t in run["tiers"]] == ["T0", "T1"]
    assert [p["phase_id"] for p in run["tiers"][1]["phases"]] == ["P1.0", "P1.1"]
    assert [p["phase_id"] for p in run["phases"]] == ["P0.0", "P0.1", "P1.0", "P1.1"]
    assert run["phases"][0]["scope"] == {"paths": ["src/a.py"], "read_only_context": ["README.md"]}
    assert all(p["state"] == "QUEUED" for p in run["phases"])
    assert ap.get("/runs/r-1").json() == run


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda b: b["phases"].append(dict(b["phases"][0])), "appears twice"),
        (lambda b: b["tiers"].append(dict(b["tiers"][0])), "appears twice"),
        (lambda b: b["phases"][0].update(tier_id="T9"), "names tier T9"),
        (lambda b: b["run"].update(max_phases=1), "max_phases"),
    ],
)
def test_inconsistent_plans_are_422_invalid_run_plan(ap, mutate, fragment) -> None:  # type: ignore[no-untyped-def]
    body = plan("r-bad")
    mutate(body)
    r = ap.post("/runs/start", json=body)
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_run_plan"
    assert fragment in r.json()["detail"]
    assert ap.get("/runs/r-bad").status_code == 404


def test_duplicate_run_is_409_and_unknown_ids_are_404(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    r = ap.post("/runs/start", json=plan("r-1"))
    assert r.status_code == 409 and r.json()["reason_code"] == "run_exists"
    assert ap.get("/runs/nope").json()["reason_code"] == "run_not_found"
    r = move(ap, "nope", "P0.0", "EXECUTING")
    assert r.status_code == 404 and r.json()["reason_code"] == "run_not_found"
    r = move(ap, "r-1", "P9", "EXECUTING")
    assert r.status_code == 404 and r.json()["reason_code"] == "phase_not_found"


def test_run_ids_that_cannot_name_a_directory_are_refused(ap) -> None:  # type: ignore[no-untyped-def]
    for bad in ("../x", "a/b", ".hidden", ""):
        r = ap.post("/runs/start", json=plan(bad))
        assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request", bad


def test_a_phase_walks_the_state_machine_and_the_run_follows(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1", phases_per_tier=2)
    r = move(ap, "r-1", "P0.0", "EXECUTING", builder_attempts=1)
    assert r.status_code == 200
    assert r.json()["previous_state"] == "QUEUED" and r.json()["run_state"] == "PHASE_EXECUTION"
    for state in ("GATE", "CI_RUNNING", "EXECUTING", "CI_RUNNING", "COMPLETE"):
        r = move(ap, "r-1", "P0.0", state)
        assert r.status_code == 200, (state, r.text)
    r = move(ap, "r-1", "P0.1", "SKIPPED")
    assert r.json()["run_state"] == "DONE_SUCCESS"
    run = ap.get("/runs/r-1").json()
    assert run["state"] == "DONE_SUCCESS" and run["completed_at"] is not None
    assert run["ci_runs_used"] == 2
    p = run["phases"][0]
    assert p["started_at"] is not None and p["completed_at"] is not None and p["builder_attempts"] == 1


def test_an_illegal_transition_is_409_naming_both_states(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    r = move(ap, "r-1", "P0.0", "COMPLETE")
    assert r.status_code == 409
    body = r.json()
    assert body["reason_code"] == "illegal_phase_transition"
    assert body["from_state"] == "QUEUED" and body["to_state"] == "COMPLETE"
    assert "QUEUED" in body["detail"] and "COMPLETE" in body["detail"]
    assert ap.get("/runs/r-1").json()["phases"][0]["state"] == "QUEUED"  # unchanged
    move(ap, "r-1", "P0.0", "EXECUTING")
    move(ap, "r-1", "P0.0", "COMPLETE")
    r = move(ap, "r-1", "P0.0", "COMPLETE")  # final: not even the same state again
    assert r.status_code == 409 and r.json()["from_state"] == "COMPLETE"


def test_a_failed_phase_can_be_retried_and_reopens_the_run(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1", phases_per_tier=1)
    move(ap, "r-1", "P0.0", "EXECUTING")
    r = move(
        ap,
        "r-1",
        "P0.0",
        "FAILED",
        failure_reason="tests failing",
        error={"error_type": "TestFailure", "message": "3 failed", "component": "ci", "context": {"n": 3}},
    )
    assert r.json()["run_state"] == "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    assert ap.get("/runs/r-1").json()["phases"][0]["last_failure_reason"] == "tests failing"
    assert move(ap, "r-1", "P0.0", "QUEUED").json()["run_state"] == "RUN_CREATED"
    assert move(ap, "r-1", "P0.0", "EXECUTING").json()["run_state"] == "PHASE_EXECUTION"
    errors = ap.get("/runs/r-1/errors").json()
    assert errors["total"] == 1
    assert errors["errors"][0]["error_type"] == "TestFailure" and errors["errors"][0]["context"] == {"n": 3}


def test_state_machine_table() -> None:
    for current in lifecycle.PHASE_STATES:
        for target in lifecycle.PHASE_STATES:
            allowed = target in lifecycle.TRANSITIONS[current] or (
                target == current and current not in lifecycle.FINAL_PHASE_STATES
            )
            if allowed:
                lifecycle.check_transition("p", current, target)
            else:
                with pytest.raises(lifecycle.IllegalTransition) as err:
                    lifecycle.check_transition("p", current, target)
                assert err.value.status == 409 and err.value.extra["from_state"] == current


def test_auditor_result_records_its_issues_and_record_issue_counts_occurrences(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    move(ap, "r-1", "P0.0", "EXECUTING")
    r = ap.post(
        "/runs/r-1/phases/P0.0/auditor_result",
        json={
            "recommendation": "revise",
            "confidence": 0.7,
            "issues_found": [
                {
                    "severity": "major",
                    "category": "security",
                    "description": "SQL built by hand",
                    "issue_key": "sqli",
                },
                {"severity": "minor", "category": "style", "description": "long line", "location": "a.py:3"},
            ],
            "tokens_used": 300,
            "usage": {"provider": "openai", "model": "gpt-4o", "prompt_tokens": 250, "completion_tokens": 50},
        },
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["issues_recorded"] == 2 and r.json()["attempt"] == 1 and r.json()["tokens_recorded"] == 300
    )
    r = ap.post("/runs/r-1/phases/P0.1/record_issue", json={"issue_key": "sqli", "severity": "major"})
    assert r.status_code == 200 and r.json()["occurrences"] == 1 and r.json()["new_issue"] is True
    for n in (1, 2):
        r = ap.post(
            "/runs/r-1/phases/P0.0/record_issue", json={"issue_key": "flaky", "evidence_refs": ["ci.log"]}
        )
        assert r.json()["occurrences"] == n and r.json()["new_issue"] is (n == 1)
    assert ap.post("/runs/r-1/phases/P0.1/record_issue", json={"issue_key": "other"}).status_code == 200
    run = ap.get("/runs/r-1").json()
    assert run["major_issues_count"] == 2 and run["minor_issues_count"] == 3  # distinct (phase, key) pairs
    index = ap.get("/runs/r-1/issues/index").json()
    by_key = {i["issue_key"]: i for i in index["issues"]}
    assert by_key["sqli"]["occurrences"] == 2 and by_key["sqli"]["phase_ids"] == ["P0.0", "P0.1"]
    assert by_key["flaky"]["occurrences"] == 2 and by_key["flaky"]["evidence_refs"] == ["ci.log"]
    assert index["total_issues"] == 4 and index["major_issues"] == 1
    assert ap.get("/runs/nope/issues/index").status_code == 404


def test_project_backlog_ranks_issues_over_runs(ap) -> None:  # type: ignore[no-untyped-def]
    for rid in ("r-1", "r-2", "r-3"):
        start(ap, rid)
        ap.post(f"/runs/{rid}/phases/P0.0/record_issue", json={"issue_key": "everywhere"})
    for _ in range(5):
        ap.post("/runs/r-1/phases/P0.1/record_issue", json={"issue_key": "noisy", "severity": "major"})
    backlog = ap.get("/project/issues/backlog").json()
    assert [i["issue_key"] for i in backlog["issues"]] == ["everywhere", "noisy"]
    top = backlog["issues"][0]
    assert (
        top["runs_affected"] == 3 and top["occurrences"] == 3 and set(top["run_ids"]) == {"r-1", "r-2", "r-3"}
    )
    assert backlog["issues"][1]["severity"] == "major" and backlog["issues"][1]["occurrences"] == 5
    page = ap.get("/project/issues/backlog", params={"limit": 1, "offset": 1}).json()
    assert page["total_issues"] == 2 and [i["issue_key"] for i in page["issues"]] == ["noisy"]
    assert ap.get("/project/issues/backlog", params={"limit": 0}).status_code == 422


def test_error_summary_counts_by_type_component_and_phase(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    move(ap, "r-1", "P0.0", "EXECUTING", error={"error_type": "Timeout", "message": "slow"})
    move(ap, "r-1", "P0.0", "EXECUTING", error={"error_type": "Timeout", "message": "slow again"})
    bad = "--- a/missing.txt\n+++ b/missing.txt\n@@ -1 +1 @@\n-a\n+b\n"
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"patch_content": bad})
    assert r.status_code == 409
    s = ap.get("/runs/r-1/errors/summary").json()
    assert s["total_errors"] == 3
    assert s["by_type"] == {"Timeout": 2, "patch_does_not_apply": 1}
    assert s["by_component"] == {"executor": 2, "builder": 1}
    assert s["by_phase"] == {"P0.0": 3} and s["latest"]["error_type"] == "patch_does_not_apply"
    assert ap.get("/runs/nope/errors/summary").status_code == 404
    empty = start(ap, "r-2")
    assert ap.get(f"/runs/{empty['id']}/errors").json() == {"run_id": "r-2", "total": 0, "errors": []}

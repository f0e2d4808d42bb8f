"""Token accounting without double counting, consolidated metrics (kill switch, pagination, four
independent categories), legacy endpoints, usage by period, A/B results."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.autopack.runs.conftest import KEY, call, move, service, start

pytestmark = pytest.mark.db
ON = {"AUTOPACK_ENABLE_CONSOLIDATED_METRICS": "1"}


def _builder(client, run_id, phase_id, tokens, provider="anthropic", model="claude-sonnet-4-5", **extra):  # type: ignore[no-untyped-def]
    body = {
        "tokens_used": tokens,
        "usage": {
            "provider": provider,
            "model": model,
            "prompt_tokens": tokens - tokens // 4,
            "completion_tokens": tokens // 4,
        },
        **extra,
    }
    r = client.post(f"/runs/{run_id}/phases/{phase_id}/builder_result", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_reported_and_ledger_tokens_of_the_same_calls_are_not_added(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap(ON)
    start(ap, "r-1")
    move(ap, "r-1", "P0.0", "EXECUTING")
    _builder(ap, "r-1", "P0.0", 700)
    ap.post("/runs/r-1/phases/P0.0/auditor_result", json={"recommendation": "approve", "tokens_used": 300})
    # The executor then reports the phase's cumulative count, which covers those same two calls.
    r = move(ap, "r-1", "P0.0", "COMPLETE", tokens_used=1000)
    assert r.json()["tokens_used"] == 1000  # a naive sum would say 2000
    move(ap, "r-1", "P0.1", "EXECUTING", tokens_used=400)  # reported only (no results posted)
    _builder(ap, "r-1", "P0.1", 100)  # covered by the 400 already reported
    run = ap.get("/runs/r-1").json()
    assert run["tokens_used"] == 1400 and [p["tokens_used"] for p in run["phases"]] == [1000, 400]
    m = ap.get("/dashboard/runs/r-1/consolidated-metrics").json()
    assert m["total_tokens_spent"] == 1400
    assert [(p["ledger_tokens"], p["reported_tokens"], p["tokens_spent"]) for p in m["phases"]] == [
        (1000, 1000, 1000),
        (100, 400, 400),
    ]
    assert m["total_prompt_tokens"] + m["total_completion_tokens"] == 1100  # the ledger itself
    progress = ap.get("/runs/r-1/progress").json()
    assert progress["tokens_used"] == 1400 and progress["token_cap"] == 5_000_000


def test_the_four_categories_stay_independent(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap({**ON, "AUTOPACK_ENABLE_PHASE6_METRICS": "1"})
    svc = service(ap).runs
    for rid in ("ctl", "trt"):
        start(ap, rid, phases_per_tier=1)
        move(ap, rid, "P0.0", "EXECUTING")
    _builder(ap, "ctl", "P0.0", 5000)
    eff = {"artifact_substitutions": 2, "tokens_saved_artifacts": 1200, "budget_used": 10, "budget_cap": 20}
    six = {"doctor_call_skipped": True, "doctor_tokens_avoided_estimate": 800, "estimate_coverage_n": 9}
    first = _builder(ap, "trt", "P0.0", 3000, token_efficiency=eff, phase6=six)
    assert first["phase_tokens_used"] == 3000
    # a second report for the same phase replaces the first (savings are not counted twice)
    r = move(ap, "trt", "P0.0", "EXECUTING", token_efficiency=eff, phase6=six)
    assert r.json()["phase6_recorded"] is True
    for rid in ("ctl", "trt"):
        move(ap, rid, "P0.0", "COMPLETE")
    ids = dict(
        control_commit_sha="abc",
        treatment_commit_sha="abc",
        control_model_hash="m1",
        treatment_model_hash="m1",
    )
    call(ap, svc.record_ab_result, "t-old", "ctl", "trt", **ids)
    newest = call(ap, svc.record_ab_result, "t-new", "ctl", "trt", **ids)
    assert newest.is_valid and newest.token_delta == 2000
    m = ap.get("/dashboard/runs/trt/consolidated-metrics").json()
    assert m["total_tokens_spent"] == 3000  # savings and estimates are not subtracted or added
    assert m["artifact_tokens_avoided"] == 1200
    assert m["doctor_tokens_avoided_estimate"] == 800 and m["estimate_coverage_n"] == 9
    assert m["ab_delta_tokens_saved"] == 2000 and m["ab_test_ids"] == ["t-new"]  # not 4000
    ctl = ap.get("/dashboard/runs/ctl/consolidated-metrics").json()
    assert ctl["ab_delta_tokens_saved"] == 0 and ctl["artifact_tokens_avoided"] == 0


def test_consolidated_metrics_kill_switch_pagination_and_unknown_run(make_ap) -> None:  # type: ignore[no-untyped-def]
    off = make_ap()
    start(off, "r-1")
    r = off.get("/dashboard/runs/r-1/consolidated-metrics")
    assert r.status_code == 503 and r.json()["reason_code"] == "consolidated_metrics_disabled"
    assert off.get("/health").json()["kill_switches"]["AUTOPACK_ENABLE_CONSOLIDATED_METRICS"] is False


def test_consolidated_metrics_pagination(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap(ON)
    start(ap, "r-1", tiers=2, phases_per_tier=3)
    url = "/dashboard/runs/r-1/consolidated-metrics"
    for params in ({"limit": 0}, {"limit": 10001}, {"offset": -1}, {"limit": -5}):
        r = ap.get(url, params=params)
        assert r.status_code == 400 and r.json()["reason_code"] == "invalid_pagination", params
    m = ap.get(url).json()
    assert m["limit"] == 1000 and m["offset"] == 0 and m["phases_total"] == 6 and len(m["phases"]) == 6
    page = ap.get(url, params={"limit": 2, "offset": 3}).json()
    assert [p["phase_id"] for p in page["phases"]] == ["P1.0", "P1.1"]
    assert ap.get(url, params={"limit": 10000}).status_code == 200
    r = ap.get("/dashboard/runs/nope/consolidated-metrics")
    assert r.status_code == 404 and r.json()["reason_code"] == "run_not_found"


def test_legacy_endpoints_point_to_their_successor(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap({"AUTOPACK_ENABLE_PHASE6_METRICS": "1"}, api_key=True)
    start(ap, "r-1", headers=KEY)
    eff = {
        "artifact_substitutions": 1,
        "tokens_saved_artifacts": 50,
        "budget_mode": "lexical",
        "files_kept": 3,
    }
    six = {
        "failure_hardening_triggered": True,
        "failure_pattern_detected": "import_error",
        "doctor_call_skipped": True,
        "doctor_tokens_avoided_estimate": 70,
        "intention_context_injected": True,
        "intention_context_chars": 99,
    }
    move(ap, "r-1", "P0.0", "EXECUTING", token_efficiency=eff, phase6=six)
    for suffix in ("token-efficiency", "phase6-stats"):
        url = f"/dashboard/runs/r-1/{suffix}"
        assert ap.get(url).status_code == 401
        r = ap.get(url, headers=KEY)
        assert r.status_code == 200
        assert r.headers["deprecation"] == "@1768003200"
        assert r.headers["link"] == '</dashboard/runs/r-1/consolidated-metrics>; rel="successor-version"'
        assert ap.get(f"/dashboard/runs/nope/{suffix}", headers=KEY).status_code == 404
    e = ap.get("/dashboard/runs/r-1/token-efficiency", headers=KEY).json()
    assert (
        e["total_tokens_saved_artifacts"] == 50
        and e["lexical_mode_count"] == 1
        and e["total_files_kept"] == 3
    )
    s = ap.get("/dashboard/runs/r-1/phase6-stats", headers=KEY).json()
    assert (
        s["failure_patterns_detected"] == {"import_error": 1}
        and s["total_doctor_tokens_avoided_estimate"] == 70
    )
    assert s["intention_context_injected_count"] == 1 and s["total_intention_context_chars"] == 99


def test_phase6_telemetry_is_not_collected_while_its_switch_is_off(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    r = move(
        ap,
        "r-1",
        "P0.0",
        "EXECUTING",
        phase6={"doctor_call_skipped": True, "doctor_tokens_avoided_estimate": 9},
    )
    assert r.json()["phase6_recorded"] is False
    assert ap.get("/dashboard/runs/r-1/phase6-stats").json()["total_phases"] == 0


def test_usage_by_period_per_provider_and_model(ap) -> None:  # type: ignore[no-untyped-def]
    runs = service(ap).runs
    start(ap, "r-1")
    real_clock = runs.clock
    now = real_clock()
    try:
        runs.clock = lambda: now - timedelta(days=3)
        _builder(ap, "r-1", "P0.0", 400, provider="openai", model="gpt-4o")
        runs.clock = lambda: now - timedelta(days=20)
        _builder(ap, "r-1", "P0.0", 800, provider="openai", model="gpt-4o-mini")
        runs.clock = lambda: now - timedelta(hours=2)
        _builder(ap, "r-1", "P0.1", 100)
        ap.post("/runs/r-1/phases/P0.1/auditor_result", json={"recommendation": "approve", "tokens_used": 60})
    finally:
        runs.clock = real_clock
    day = ap.get("/dashboard/usage", params={"period": "day"}).json()
    assert day["total_tokens"] == 160
    assert {(m["provider"], m["model"]): m["total_tokens"] for m in day["models"]} == {
        ("anthropic", "claude-sonnet-4-5"): 100,
        ("unknown", "unknown"): 60,
    }
    week = ap.get("/dashboard/usage", params={"period": "week"}).json()
    assert {p["provider"]: p["total_tokens"] for p in week["providers"]} == {
        "openai": 400,
        "anthropic": 100,
        "unknown": 60,
    }
    month = ap.get("/dashboard/usage", params={"period": "month"}).json()
    openai = next(p for p in month["providers"] if p["provider"] == "openai")
    assert openai["total_tokens"] == 1200 and openai["calls"] == 2 and openai["prompt_tokens"] == 900
    assert month["providers"][0]["provider"] == "openai"  # most tokens first
    assert ap.get("/dashboard/usage", params={"period": "year"}).status_code == 422


def test_ab_results_filters_and_validity(ap) -> None:  # type: ignore[no-untyped-def]
    svc = service(ap).runs
    for rid in ("a", "b", "c"):
        start(ap, rid, phases_per_tier=1)
        move(ap, rid, "P0.0", "EXECUTING")
        move(ap, rid, "P0.0", "COMPLETE", tokens_used={"a": 900, "b": 600, "c": 100}[rid])
    same = dict(
        control_commit_sha="c1", treatment_commit_sha="c1", control_model_hash="h", treatment_model_hash="h"
    )
    call(ap, svc.record_ab_result, "t1", "a", "b", **same)
    bad = call(ap, svc.record_ab_result, "t1", "a", "c", **{**same, "treatment_commit_sha": "c2"})
    assert not bad.is_valid and bad.validity_errors == ["commit_sha differs"]
    call(ap, svc.record_ab_result, "t2", "b", "c", **same)
    assert [r["token_delta"] for r in ap.get("/dashboard/ab-results").json()] == [500, 300]
    everything = ap.get("/dashboard/ab-results", params={"valid_only": "false"}).json()
    assert len(everything) == 3 and everything[1]["validity_errors"] == ["commit_sha differs"]
    only = ap.get("/dashboard/ab-results", params={"test_id": "t1", "valid_only": "false"}).json()
    assert {r["treatment_run_id"] for r in only} == {"b", "c"}
    assert len(ap.get("/dashboard/ab-results", params={"limit": 1}).json()) == 1
    assert ap.get("/dashboard/ab-results", params={"limit": 1001}).status_code == 422
    assert ap.get("/dashboard/ab-results", params={"limit": 1000}).status_code == 200

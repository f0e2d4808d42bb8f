"""Contract tests: reality profiles, batch across profiles, evaluate, benchmarks, compare, AI plan."""

from __future__ import annotations

import time

import pytest

from tests.sim.api_helpers import SIM, assert_error

pytestmark = pytest.mark.db

CONTRACT_BODY = {
    "urdf_path": "examples/simple_robot.urdf",
    "profiles": ["default", "slippery_warehouse", "pseudo_reality_A"],
    "steps": 50,
    "dt": 0.01,
    "seed": 42,
    "dr_episodes_per_profile": 3,
}


def test_reality_profiles(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    body = c.get(f"{SIM}/api/reality-profiles").json()
    names = [p["name"] for p in body["profiles"]]
    assert body["count"] == len(names) and {"default", "slippery_warehouse", "pseudo_reality_A"} <= set(names)
    slippery = body["profiles"][names.index("slippery_warehouse")]
    friction = next(p for p in slippery["parameters"] if p["name"] == "ground_friction")
    assert friction["distribution"] != "constant" or friction["parameters"]["value"] < 0.9
    assert friction["meaning"]


def test_batch_evaluate_and_benchmarks(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert_error(c.get(f"{SIM}/api/benchmarks/latest"), 404, "no_benchmark")
    r = c.post(f"{SIM}/api/sim/batch", json=CONTRACT_BODY)
    assert r.status_code == 200, r.text
    batch = r.json()
    assert (
        batch["status"] == "SUCCEEDED" and batch["baseline"] == "default" and batch["baseline_added"] is False
    )
    assert [p["profile"] for p in batch["profiles"]] == CONTRACT_BODY["profiles"]
    for p in batch["profiles"]:
        assert p["metrics"]["episodes"] == 3 and len(p["episodes"]) == 3
        run = c.get(f"{SIM}/v1/runs/{p['run_id']}").json()  # every member is a replayable run
        assert run["batch_id"] == batch["batch_id"] and run["status"] == "SUCCEEDED" and run["api"] == "batch"
        assert c.get(f"{SIM}/v1/runs/{p['run_id']}/replay").status_code == 200
    assert c.get(f"{SIM}/api/sim/batch/{batch['batch_id']}").json() == batch

    ev = c.get(f"{SIM}/api/sim/batch/{batch['batch_id']}/evaluate")
    assert ev.status_code == 200, ev.text
    e = ev.json()
    assert set(e["definitions"]) >= {"G_dyn", "G_perc", "G_perf"}
    by = {p["profile"]: p for p in e["profiles"]}
    base = by["default"]
    for gap in ("G_dyn", "G_perc", "G_perf"):  # the baseline against itself: no gap
        assert base[gap]["estimate"] == 0.0 and base[gap]["ci_width"] == 0.0
    pr = by["pseudo_reality_A"]
    assert pr["G_perc"]["estimate"] > 0  # noisy, delayed sensors
    assert pr["G_dyn"]["estimate"] > 0
    for gap in ("G_dyn", "G_perc", "G_perf"):
        g = pr[gap]
        assert g["n"] == 3 and g["confidence"] == 0.95
        assert g["ci_low"] <= g["estimate"] <= g["ci_high"] or g["ci_width"] == 0
        assert g["ci_width"] == pytest.approx(g["ci_high"] - g["ci_low"])
    rmse = {p["profile"]: p["metrics"]["tracking_rmse"] for p in batch["profiles"]}
    assert pr["G_perf"]["estimate"] == pytest.approx(rmse["pseudo_reality_A"] / rmse["default"] - 1, rel=1e-9)
    drop = next(d for d in pr["drops"] if d["metric"] == "tracking_rmse")
    assert drop["drop"] == pytest.approx(rmse["pseudo_reality_A"] - rmse["default"])
    assert drop["higher_is_better"] is False
    # evaluation is deterministic
    assert c.get(f"{SIM}/api/sim/batch/{batch['batch_id']}/evaluate").json() == e

    bench = c.get(f"{SIM}/api/benchmarks/latest")
    assert bench.status_code == 200
    b = bench.json()
    assert b["batch_id"] == batch["batch_id"] and b["G_perc"]["pseudo_reality_A"] == pr["G_perc"]
    assert set(b["G_dyn"]) == set(CONTRACT_BODY["profiles"])


def test_batch_adds_the_baseline_and_rejects_bad_bodies(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(
        f"{SIM}/api/sim/batch",
        json={**CONTRACT_BODY, "profiles": ["slippery_warehouse"], "dr_episodes_per_profile": 1, "steps": 10},
    )
    assert r.status_code == 200 and r.json()["baseline_added"] is True
    assert [p["profile"] for p in r.json()["profiles"]] == ["default", "slippery_warehouse"]
    assert_error(
        c.post(f"{SIM}/api/sim/batch", json={**CONTRACT_BODY, "profiles": ["mars"]}), 422, "unknown_profile"
    )
    assert_error(c.post(f"{SIM}/api/sim/batch", json={**CONTRACT_BODY, "steps": 0}), 422, "invalid_request")
    assert_error(
        c.post(f"{SIM}/api/sim/batch", json={**CONTRACT_BODY, "profiles": []}), 422, "invalid_request"
    )
    assert_error(
        c.post(f"{SIM}/api/sim/batch", json={**CONTRACT_BODY, "urdf_path": "../../etc/passwd"}),
        404,
        "robot_not_found",
    )
    huge = {**CONTRACT_BODY, "steps": 200_000, "dr_episodes_per_profile": 64}
    assert_error(c.post(f"{SIM}/api/sim/batch", json=huge), 422, "replay_too_large")
    assert_error(c.get(f"{SIM}/api/sim/batch/nope"), 404, "batch_not_found")
    assert_error(c.get(f"{SIM}/api/sim/batch/nope/evaluate"), 404, "batch_not_found")


def test_compare_runs(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    ids = []
    for profile in ("default", "pseudo_reality_A"):
        r = c.post(f"{SIM}/api/sim/run", json={"profile": profile, "steps": 40, "episodes": 2, "seed": 3})
        ids.append(r.json()["run_id"])
    r = c.post(f"{SIM}/api/sim/compare", json={"run_ids": ids, "metric_key": "tracking_rmse"})
    assert r.status_code == 200, r.text
    body = r.json()
    values = [x["value"] for x in body["runs"]]
    assert [x["run_id"] for x in body["runs"]] == ids and body["higher_is_better"] is False
    (pair,) = body["pairwise"]
    assert pair["run_a"] == ids[0] and pair["drop"] == pytest.approx(values[1] - values[0])
    assert body["best_run_id"] == ids[values.index(min(values))]
    default = c.post(f"{SIM}/api/sim/compare", json={"run_ids": ids})  # the contract's default metric
    assert default.json()["metric_key"] == "avg_step_time_ms"
    assert_error(
        c.post(f"{SIM}/api/sim/compare", json={"run_ids": ids, "metric_key": "vibes"}), 422, "unknown_metric"
    )
    assert_error(c.post(f"{SIM}/api/sim/compare", json={"run_ids": [ids[0], "nope"]}), 404, "run_not_found")
    assert_error(c.post(f"{SIM}/api/sim/compare", json={"run_ids": [ids[0]]}), 422, "invalid_request")


def test_ai_plan_is_deterministic_and_never_executed(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    spec = {"task": "Pick totes on a wet warehouse floor", "precision": 0.2, "max_episodes_total": 30}
    r = c.post(f"{SIM}/api/ai/plan", json=spec)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["executed"] is False and plan["review_required"] is True
    assert plan["profiles"] == ["default", "slippery_warehouse"]
    assert plan["episodes_per_profile"] == 15  # 25 wanted, capped at 30 / 2 profiles
    assert {t["metric"] for t in plan["thresholds"]} >= {"success_rate", "G_perf"}
    batch_step = plan["steps_to_run"][0]
    assert batch_step["path"] == "/api/sim/batch" and batch_step["body"]["dr_episodes_per_profile"] == 15
    assert c.post(f"{SIM}/api/ai/plan", json=spec).json() == plan
    assert c.get(f"{SIM}/v1/runs").json()["count"] == 0  # nothing ran
    noisy = c.post(f"{SIM}/api/ai/plan", json={"task": "deploy to hardware with noisy encoders"}).json()
    assert noisy["profiles"] == ["default", "pseudo_reality_A"] and noisy["plan_id"] != plan["plan_id"]
    assert_error(
        c.post(f"{SIM}/api/ai/plan", json={"task": "x", "profiles": ["mars"]}), 422, "unknown_profile"
    )
    assert_error(c.post(f"{SIM}/api/ai/plan", json={"task": ""}), 422, "invalid_request")
    assert_error(c.post(f"{SIM}/api/ai/plan", json={"task": "x", "robot": "nope"}), 404, "robot_not_found")


def test_queued_batch_status_and_cancel(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    body = {**CONTRACT_BODY, "steps": 100_000, "dt": 0.001, "dr_episodes_per_profile": 8, "sync": False}
    r = c.post(f"{SIM}/api/sim/batch", json=body)
    assert r.status_code == 202, r.text
    batch_id = r.json()["batch_id"]
    deadline = time.monotonic() + 30
    while (st := c.get(f"{SIM}/api/sim/{batch_id}/status").json())["status"] != "RUNNING":
        assert time.monotonic() < deadline, st
        time.sleep(0.02)
    assert st["kind"] == "batch" and st["batch_id"] == batch_id and st["run_id"] is None
    out = c.post(f"{SIM}/api/sim/{batch_id}/cancel")
    assert out.status_code == 200 and out.json()["status"] == "CANCELLED", out.text
    members = c.get(f"{SIM}/api/runs").json()["runs"]
    assert {m["status"] for m in members} == {"CANCELLED"}
    assert_error(c.get(f"{SIM}/api/sim/batch/{batch_id}/evaluate"), 409, "batch_not_ready")
    assert_error(c.post(f"{SIM}/api/sim/{batch_id}/cancel"), 409, "batch_finished")
    assert_error(c.get(f"{SIM}/api/sim/nope/status"), 404, "job_not_found")

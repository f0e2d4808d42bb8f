"""Scenarios (simulate, saved plans, compare) and jobs (submit, list, get, cancel, explain) over HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .test_forecast_api import _ingest

pytestmark = pytest.mark.db


def _train(c: Any, s: int, p: int, model_type: str, **cfg: Any) -> str:
    r = c.post(
        "/retail/forecasting/train",
        json={"store_id": s, "product_id": p, "config": {"model_type": model_type, **cfg}},
    )
    assert r.status_code == 201, r.text
    return r.json()["run_id"]


def test_simulate_save_list_compare_delete(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p, _ = _ingest(c)
    reg = _train(c, s, p, "regression", params={"max_iter": 60})
    sn = _train(c, s, p, "seasonal_naive")
    sim = c.post("/retail/scenarios/simulate", json={"run_id": reg, "assumptions": {"price_change_pct": 20}})
    assert sim.status_code == 200, sim.text
    assert (
        sim.json()["method"] == "model_exogenous"
        and sim.json()["scenario_total"] < sim.json()["baseline_total"]
    )
    heur = c.post(
        "/retail/scenarios/simulate", json={"run_id": sn, "assumptions": {"promotion": True}}
    ).json()
    assert heur["method"] == "heuristic"
    assert heur["scenario_total"] == pytest.approx(heur["baseline_total"] * 1.2)
    assert c.post("/retail/scenarios/simulate", json={"run_id": "bogus"}).status_code == 404

    assert c.get("/retail/scenarios").json() == {"scenarios": [], "total": 0, "limit": 20, "offset": 0}
    a = c.post(
        "/retail/scenarios",
        json={
            "name": "price up",
            "run_id": reg,
            "assumptions": {"price_change_pct": 20},
            "tags": ["q3", "price"],
        },
    )
    assert a.status_code == 201, a.text
    a = a.json()
    b = c.post(
        "/retail/scenarios",
        json={
            "name": "promo",
            "run_id": reg,
            "assumptions": {"promotion": True},
            "tags": ["q3"],
            "cloned_from": a["scenario_id"],
        },
    ).json()
    assert b["cloned_from"] == a["scenario_id"] and b["comparison"]["method"] == "model_exogenous"
    assert (
        c.post("/retail/scenarios", json={"name": "x", "run_id": reg, "cloned_from": "nope"}).status_code
        == 404
    )
    listed = c.get("/retail/scenarios").json()
    assert [x["scenario_id"] for x in listed["scenarios"]] == [b["scenario_id"], a["scenario_id"]]
    tagged = c.get("/retail/scenarios", params=[("tags", "q3"), ("tags", "price")]).json()
    assert tagged["total"] == 1 and tagged["scenarios"][0]["scenario_id"] == a["scenario_id"]
    assert c.get(f"/retail/scenarios/{a['scenario_id']}").json()["comparison"] == a["comparison"]
    cmp = c.post(
        "/retail/scenarios/compare", json={"scenario_ids": [a["scenario_id"], b["scenario_id"]]}
    ).json()
    assert [r["scenario_id"] for r in cmp["rows"]] == [b["scenario_id"], a["scenario_id"]]  # promo lifts most
    assert cmp["rows"][0]["rank"] == 1 and cmp["shared_baseline"] is True
    assert len(cmp["chart"]) == 14 and {"baseline", a["scenario_id"], b["scenario_id"]} <= set(
        cmp["chart"][0]
    )
    assert c.post("/retail/scenarios/compare", json={"scenario_ids": [a["scenario_id"]]}).status_code in (
        400,
        422,
    )
    assert (
        c.post("/retail/scenarios/compare", json={"scenario_ids": [a["scenario_id"], "nope"]}).status_code
        == 404
    )
    assert c.delete(f"/retail/scenarios/{a['scenario_id']}").status_code == 204
    assert c.get(f"/retail/scenarios/{a['scenario_id']}").status_code == 404
    assert c.delete(f"/retail/scenarios/{a['scenario_id']}").status_code == 404


def _wait(c: Any, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        job = c.get(f"/retail/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_jobs_train_predict_backtest_and_explain(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p, _ = _ingest(c)
    r = c.post(
        "/retail/jobs",
        json={
            "job_type": "train",
            "params": {"store_id": s, "product_id": p, "config": {"model_type": "seasonal_naive"}},
        },
    )
    assert r.status_code == 202 and r.json()["job_id"]
    train = _wait(c, r.json()["job_id"])
    assert train["status"] == "completed", train
    run_id = train["result"]["run_id"]
    pred = _wait(
        c,
        c.post(
            "/retail/jobs", json={"job_type": "predict", "params": {"run_id": run_id, "horizon": 5}}
        ).json()["job_id"],
    )
    assert pred["status"] == "completed" and len(pred["result"]["forecasts"]) == 5
    exp = c.get(f"/retail/explain/jobs/{pred['job_id']}").json()
    assert exp["target_date"] == pred["result"]["forecasts"][0]["date"]
    assert c.get(f"/retail/explain/jobs/{train['job_id']}").status_code == 400  # not a predict job
    assert c.get("/retail/explain/jobs/nope").status_code == 404
    bt = _wait(
        c,
        c.post(
            "/retail/jobs",
            json={
                "job_type": "backtest",
                "params": {"store_id": s, "product_id": p, "horizon": 7, "n_folds": 2},
            },
        ).json()["job_id"],
    )
    assert bt["status"] == "completed" and bt["progress"] == 1.0 and bt["result"]["winner"]
    listed = c.get("/retail/jobs").json()["jobs"]
    assert listed[0]["job_id"] == bt["job_id"]  # created_at desc
    by_type = c.get("/retail/jobs", params={"sort_by": "job_type", "sort_order": "asc"}).json()["jobs"]
    assert [j["job_type"] for j in by_type] == ["backtest", "predict", "train"]
    assert c.get("/retail/jobs", params={"job_type": "predict"}).json()["jobs"][0]["job_id"] == pred["job_id"]
    assert c.delete(f"/retail/jobs/{train['job_id']}").status_code == 400  # already completed
    assert c.get("/retail/jobs/nope").status_code == 404
    bad = c.post("/retail/jobs", json={"job_type": "train", "params": {"store_id": s}})
    assert bad.status_code == 422
    failed = _wait(
        c, c.post("/retail/jobs", json={"job_type": "predict", "params": {"run_id": "nope"}}).json()["job_id"]
    )
    assert failed["status"] == "failed"


def test_cancel_pending_job(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False, job_workers=1)
    s, p, _ = _ingest(c)
    params = {
        "store_id": s,
        "product_id": p,
        "horizon": 7,
        "n_folds": 3,
        "models": [{"model_type": "lightgbm"}],
    }
    first = c.post("/retail/jobs", json={"job_type": "backtest", "params": params}).json()
    second = c.post("/retail/jobs", json={"job_type": "backtest", "params": params}).json()
    r = c.delete(f"/retail/jobs/{second['job_id']}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert c.delete(f"/retail/jobs/{first['job_id']}").json()["status"] in ("cancelled", "completed")

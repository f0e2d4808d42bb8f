"""Issue 21 (HTTP layer): batch ids on every job endpoint, timestamps and progress that tell the
truth, bad numbers refused with 422 naming the field, initial state for batches and plans,
floating-base assets, honest means and compare, plans the server accepts, cached evaluations and a
report that does not decode the replay."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from ridgeline.sim.api import batches, runs
from ridgeline.sim.rollout import RolloutResult
from tests.sim.api_helpers import SIM, assert_error, wait_status
from tests.sim.conftest import PENDULUM

# a free-flying body with one arm: the root carries mass, so the free flyer is well defined
FLYER = """<robot name="flyer">
  <link name="base"><inertial><mass value="5.0"/>
    <inertia ixx="0.1" iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <link name="arm"><inertial><origin xyz="0 0 -0.25"/><mass value="1.0"/>
    <inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="hinge" type="revolute"><parent link="base"/><child link="arm"/>
    <axis xyz="1 0 0"/><limit lower="-3" upper="3" effort="50" velocity="5"/></joint>
</robot>"""

pytestmark = pytest.mark.db

SMALL_BATCH = {
    "profiles": ["default", "slippery_warehouse"],
    "steps": 20,
    "dt": 0.01,
    "dr_episodes_per_profile": 2,
}
# long enough never to finish on its own within a test (metrics only, to keep memory small)
LONG = {"steps": 200_000, "episodes": 64, "dt": 0.001, "record": False}


def field_error(resp: Any, status: int, reason_code: str, field: str) -> dict[str, Any]:
    body = assert_error(resp, status, reason_code)
    fields = [e["field"] for e in body.get("errors", [])]
    assert field in fields, body
    return body


def post_raw(c: Any, path: str, text: str) -> Any:
    return c.post(f"{SIM}{path}", content=text.encode(), headers={"content-type": "application/json"})


def wait_progress(c: Any, run_id: str) -> float:
    deadline = time.monotonic() + 30
    while True:
        p = c.get(f"{SIM}/v1/runs/{run_id}").json()["progress"]
        if p > 0:
            return float(p)
        assert time.monotonic() < deadline, "the run never progressed"
        time.sleep(0.02)


class Gate:
    """Holds a job at its result-recording phase (after every step ran) until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, hold: set[int]) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        real = module.record_result

        async def gated(*args: Any, **kwargs: Any) -> None:
            k = self.calls
            self.calls += 1
            if k in hold:
                self.reached.set()
                await asyncio.to_thread(self.release.wait, 20)
                self.release.clear()
            await real(*args, **kwargs)

        monkeypatch.setattr(module, "record_result", gated)

    def wait(self) -> None:
        assert self.reached.wait(30), "the job never reached its recording phase"
        self.reached.clear()


# ---------------------------------------------------------------- jobs, timestamps, progress, cancel


def test_batch_ids_work_on_every_job_endpoint(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    batch = c.post(f"{SIM}/api/sim/batch", json=SMALL_BATCH).json()
    bid = batch["batch_id"]
    m = c.get(f"{SIM}/api/sim/{bid}/metrics")
    assert m.status_code == 200, m.text
    assert (
        m.json()["kind"] == "batch"
        and [p["profile"] for p in m.json()["profiles"]] == SMALL_BATCH["profiles"]
    )
    rep = c.get(f"{SIM}/api/sim/{bid}/report")
    assert rep.status_code == 200, rep.text
    body = rep.json()
    assert body["kind"] == "batch" and body["batch"]["batch_id"] == bid
    assert {p["profile"] for p in body["evaluation"]["profiles"]} == set(SMALL_BATCH["profiles"])
    assert {p["name"] for p in body["profiles"]} == set(SMALL_BATCH["profiles"])
    st = c.get(f"{SIM}/api/sim/{bid}/status").json()
    assert st["kind"] == "batch" and st["status"] == "SUCCEEDED" and st["progress"] == 1.0
    assert_error(c.post(f"{SIM}/api/sim/{bid}/cancel"), 409, "batch_finished")
    for path in ("metrics", "report", "status"):
        assert_error(c.get(f"{SIM}/api/sim/nope/{path}"), 404, "job_not_found")


def test_queued_at_is_never_before_created_at(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    run_id = c.post(f"{SIM}/api/sim/run", json={"steps": 10}).json()["run_id"]
    bid = c.post(f"{SIM}/api/sim/batch", json=SMALL_BATCH).json()["batch_id"]
    for job_id in (run_id, bid):
        st = c.get(f"{SIM}/api/sim/{job_id}/status").json()
        created, queued = datetime.fromisoformat(st["created_at"]), datetime.fromisoformat(st["queued_at"])
        started = datetime.fromisoformat(st["started_at"])
        assert created <= queued <= started, st


def test_a_run_whose_steps_all_completed_is_not_cancelled(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gate = Gate(monkeypatch, runs, hold={0})
    c = make_client()
    r = c.post(f"{SIM}/api/sim/run", json={"steps": 50, "sync": False})
    run_id = r.json()["run_id"]
    gate.wait()  # every step ran; the replay is being recorded
    assert c.get(f"{SIM}/v1/runs/{run_id}").json()["progress"] == 1.0
    assert_error(c.post(f"{SIM}/v1/runs/{run_id}/cancel"), 409, "run_finished")
    gate.release.set()
    done = wait_status(c, run_id, {"SUCCEEDED", "CANCELLED", "FAILED"})
    assert done["status"] == "SUCCEEDED" and done["cancelled"] is False and done["progress"] == 1.0


def test_progress_only_moves_forward_after_a_cancel(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(f"{SIM}/v1/runs", json={"config": LONG, "options": {"wait": False}})
    run_id = r.json()["run_id"]
    seen = wait_progress(c, run_id)
    listed = next(x for x in c.get(f"{SIM}/v1/runs").json()["runs"] if x["run_id"] == run_id)
    assert listed["progress"] > 0  # lists show live progress too
    out = c.post(f"{SIM}/v1/runs/{run_id}/cancel").json()
    assert out["status"] == "CANCELLED"
    after = c.get(f"{SIM}/v1/runs/{run_id}").json()["progress"]
    assert after >= seen and after == out["progress"]
    assert c.get(f"{SIM}/api/sim/{run_id}/status").json()["progress"] == after


def test_batch_progress_counts_every_rollout_and_moves_forward(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gate = Gate(monkeypatch, batches, hold={0, 1})
    c = make_client()
    body = {**SMALL_BATCH, "profiles": ["default", "slippery_warehouse", "pseudo_reality_A"], "sync": False}
    r = c.post(f"{SIM}/api/sim/batch", json=body)
    assert r.status_code == 202, r.text
    bid = r.json()["batch_id"]
    seen = []
    for k in (0, 1):  # held while member k records: k + 1 of 3 rollouts done
        gate.wait()
        st = c.get(f"{SIM}/api/sim/{bid}/status").json()
        assert st["status"] == "RUNNING"
        assert st["progress"] == pytest.approx((k + 1) / 3)
        b = c.get(f"{SIM}/api/sim/batch/{bid}").json()
        assert b["progress"] == pytest.approx(st["progress"])
        members = [c.get(f"{SIM}/v1/runs/{p['run_id']}").json()["progress"] for p in b["profiles"]]
        assert members[k] == 1.0 and members[k + 1] == 0.0
        seen.append(st["progress"])
        gate.release.set()
    final = c.get(f"{SIM}/api/sim/batch/{bid}").json()
    deadline = time.monotonic() + 60
    while final["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
        final = c.get(f"{SIM}/api/sim/batch/{bid}").json()
    assert final["status"] == "SUCCEEDED" and final["progress"] == 1.0
    assert seen == sorted(seen)


# ---------------------------------------------------------------- bad numbers


def test_numbers_given_as_strings_are_refused(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    field_error(c.post(f"{SIM}/api/sim/run", json={"steps": "60"}), 422, "invalid_request", "steps")
    field_error(
        c.post(f"{SIM}/v1/runs", json={"config": {"dt": "0.005"}}), 422, "invalid_request", "config.dt"
    )
    field_error(c.post(f"{SIM}/api/sim/batch", json={"steps": "20"}), 422, "invalid_request", "steps")
    field_error(
        c.post(f"{SIM}/api/sim/run", json={"controller": {"kp": "Infinity"}}),
        422,
        "invalid_request",
        "controller.kp",
    )
    field_error(c.post(f"{SIM}/api/ai/plan", json={"task": "t", "dt": "0.01"}), 422, "invalid_request", "dt")


def test_nan_and_infinities_are_refused(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    # JSON has no NaN literal (and Litestar answers 400 to 1e999), but a lenient decoder turns the
    # strings "NaN" and "Infinity" into floats
    field_error(
        c.post(f"{SIM}/api/sim/run", json={"steps": 10, "initial_q": ["NaN", 0.0]}),
        422,
        "invalid_request",
        "initial_q[0]",
    )
    field_error(
        c.post(f"{SIM}/api/sim/batch", json={"steps": 10, "initial_v": [0.0, "-Infinity"]}),
        422,
        "invalid_request",
        "initial_v[1]",
    )
    # a form field arrives as text: "nan" parses as a float
    r = c.post(
        f"{SIM}/api/assets/import",
        files={"file": ("p.urdf", PENDULUM.encode(), "application/octet-stream")},
        data={"density": "nan"},
    )
    field_error(r, 422, "invalid_request", "density")


def test_negative_gains_and_dynamics_are_refused(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(f"{SIM}/api/sim/run", json={"steps": 10, "controller": {"kind": "pd", "kp": -5.0, "kd": 1.0}})
    body = assert_error(r, 422, "invalid_request")
    assert any("kp" in e["field"] for e in body["errors"]), body
    r = c.post(f"{SIM}/api/sim/batch", json={"steps": 10, "controller": {"kind": "pd", "kp": [1.0, -2.0]}})
    body = assert_error(r, 422, "invalid_request")
    assert any("kp" in e["field"] for e in body["errors"]), body
    link = {"name": "a", "mass": 1.0, "inertia": [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]]}
    joint = {"name": "j", "type": "revolute", "parent": "a", "child": "b"}
    for bad in ({"damping": -0.1}, {"friction": -1.0}, {"damping": "0.1"}):
        r = c.post(
            f"{SIM}/api/design/linkage",
            json={"name": "r", "links": [link, {**link, "name": "b"}], "joints": [{**joint, **bad}]},
        )
        body = assert_error(r, 422, "invalid_request")
        assert any(next(iter(bad)) in e["field"] for e in body["errors"]), body


def test_quaternions_must_be_unit(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    base = {"steps": 10, "floating_base": True}
    zero = [0.0] * 9  # simple_robot with a free flyer: nq = 9, q[3:7] the orientation
    field_error(
        c.post(f"{SIM}/api/sim/run", json={**base, "initial_q": zero}), 422, "invalid_config", "initial_q"
    )
    half = [0, 0, 0.5, 0, 0, 0, 2.0, 0, 0]
    field_error(
        c.post(f"{SIM}/api/sim/run", json={**base, "initial_q": half}), 422, "invalid_config", "initial_q"
    )
    ok = [0, 0, 0.5, 0, 0, 0, 1.0, 0, 0]
    assert c.post(f"{SIM}/api/sim/run", json={**base, "initial_q": ok}).json()["status"] == "SUCCEEDED"


# ---------------------------------------------------------------- initial state, floating base


def test_batches_and_plans_take_initial_state(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    body = {**SMALL_BATCH, "initial_q": [0.2, -0.1], "initial_v": [0.5, 0.0]}
    r = c.post(f"{SIM}/api/sim/batch", json=body)
    assert r.status_code == 200, r.text
    for p in r.json()["profiles"]:
        run = c.get(f"{SIM}/v1/runs/{p['run_id']}").json()
        assert run["config"]["initial_q"] == [0.2, -0.1] and run["config"]["initial_v"] == [0.5, 0.0]
        q0 = c.get(f"{SIM}/api/sim/step", params={"run_id": p["run_id"], "step_index": 0}).json()
        assert q0["q"] == [0.2, -0.1] and q0["v"] == [0.5, 0.0]
    field_error(
        c.post(f"{SIM}/api/sim/batch", json={**SMALL_BATCH, "initial_q": [0.0]}),
        422,
        "invalid_config",
        "initial_q",
    )
    field_error(
        c.post(f"{SIM}/api/sim/batch", json={**SMALL_BATCH, "initial_v": [0, 0, 0]}),
        422,
        "invalid_config",
        "initial_v",
    )
    field_error(c.post(f"{SIM}/api/sim/run", json={"initial_v": [0.0]}), 422, "invalid_config", "initial_v")
    plan = c.post(
        f"{SIM}/api/ai/plan", json={"task": "arm", "initial_q": [0.2, -0.1], "initial_v": [0.5, 0.0]}
    )
    assert plan.status_code == 200, plan.text
    sent = plan.json()["steps_to_run"][0]["body"]
    assert sent["initial_q"] == [0.2, -0.1] and sent["initial_v"] == [0.5, 0.0]
    field_error(
        c.post(f"{SIM}/api/ai/plan", json={"task": "arm", "initial_q": [1.0]}),
        422,
        "invalid_config",
        "initial_q",
    )


def test_a_floating_base_asset_stays_floating(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(
        f"{SIM}/api/assets/import",
        files={"file": ("flyer.urdf", FLYER.encode(), "application/octet-stream")},
        data={"floating_base": "true"},
    )
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    run = c.post(f"{SIM}/api/sim/run", json={"urdf_path": aid, "steps": 10}).json()["run"]
    assert run["config"]["floating_base"] is True
    v1 = c.post(f"{SIM}/v1/runs", json={"config": {"robot": aid, "steps": 10}}).json()["run"]
    assert v1["config"]["floating_base"] is True
    fixed = c.post(f"{SIM}/api/sim/run", json={"urdf_path": aid, "steps": 10, "floating_base": False}).json()
    assert fixed["run"]["config"]["floating_base"] is False  # the run says otherwise
    batch = c.post(f"{SIM}/api/sim/batch", json={**SMALL_BATCH, "urdf_path": aid}).json()
    member = c.get(f"{SIM}/v1/runs/{batch['profiles'][0]['run_id']}").json()
    assert member["config"]["floating_base"] is True
    plan = c.post(f"{SIM}/api/ai/plan", json={"task": "walk", "robot": aid, "floating_base": True}).json()
    assert plan["steps_to_run"][0]["body"]["floating_base"] is True


# ---------------------------------------------------------------- honest metrics, compare


def _result(steps_completed: list[int], rmse: list[float], diverged: list[bool]) -> RolloutResult:
    n = len(steps_completed)
    zeros = np.zeros(n)
    return RolloutResult(
        profile="default",
        seed=0,
        dt=0.01,
        steps=60,
        steps_completed=np.asarray(steps_completed, dtype=np.int64),
        cancelled=True,
        metrics={
            "tracking_rmse": np.asarray(rmse),
            "max_tracking_error": np.asarray(rmse),
            "energy": np.asarray([2.0] + [0.0] * (n - 1)),
            "time_per_step": np.asarray([1e-6] + [0.0] * (n - 1)),
            "success": np.asarray([True] + [False] * (n - 1)),
            "diverged": np.asarray(diverged),
            "mean_slip_speed": zeros,
            "base_distance": zeros,
        },
        params={},
    )


def test_episodes_that_never_started_are_not_in_the_means() -> None:
    # episode 0 ran 30 steps, 1 and 2 never started (zero errors as the engine reports them)
    s = runs.summarize(_result([30, 0, 0], [0.19, 0.0, 0.0], [False, False, False]), 1.0)
    assert s["episodes"] == 1 and s["episodes_not_run"] == 2
    assert s["tracking_rmse"] == pytest.approx(0.19) and s["energy"] == pytest.approx(2.0)
    assert s["success_rate"] == 1.0
    # an episode that diverged at its first step did run
    s = runs.summarize(_result([30, 0, 0], [0.19, np.nan, 0.0], [False, True, False]), 1.0)
    assert s["episodes"] == 2 and s["episodes_not_run"] == 1 and s["divergence_rate"] == 0.5
    rows = runs.episode_table(_result([30, 0], [0.19, 0.0], [False, False]))
    assert [r["started"] for r in rows] == [True, False]


def test_compare_ignores_runs_that_are_not_comparable(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    a = c.post(f"{SIM}/api/sim/run", json={"steps": 30, "dt": 0.01}).json()["run_id"]
    b = c.post(f"{SIM}/api/sim/run", json={"steps": 30, "dt": 0.01, "profile": "pseudo_reality_A"}).json()[
        "run_id"
    ]
    other = c.post(f"{SIM}/api/sim/run", json={"steps": 30, "urdf_path": "examples/pendulum.urdf"}).json()[
        "run_id"
    ]
    long = c.post(f"{SIM}/v1/runs", json={"config": LONG, "options": {"wait": False}}).json()["run_id"]
    wait_progress(c, long)
    assert c.post(f"{SIM}/v1/runs/{long}/cancel").json()["status"] == "CANCELLED"
    r = c.post(f"{SIM}/api/sim/compare", json={"run_ids": [a, long, other, b], "metric_key": "tracking_rmse"})
    assert r.status_code == 200, r.text
    out = r.json()
    why = {e["run_id"]: e["excluded_reason"] for e in out["runs"]}
    assert why == {a: None, long: "not_succeeded", other: "different_robot", b: None}
    assert out["best_run_id"] in (a, b)
    for p in out["pairwise"]:
        if {p["run_a"], p["run_b"]} == {a, b}:
            assert p["drop"] is not None
        else:
            assert p["drop"] is None


# ---------------------------------------------------------------- plans the server accepts


def test_plans_only_emit_requests_the_server_accepts(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    plan = c.post(f"{SIM}/api/ai/plan", json={"task": "slippery floor", "duration_s": 0.2, "dt": 0.01})
    assert plan.status_code == 200, plan.text
    sent = plan.json()["steps_to_run"][0]["body"]
    assert c.post(f"{SIM}/api/sim/batch", json=sent).status_code == 200
    # 400 s at 2 ms is the step limit, but recording 32 episodes of it exceeds the replay limit
    task = {"task": "slippery floor", "duration_s": 400, "dt": 0.002, "precision": 0.05}
    assert_error(c.post(f"{SIM}/api/ai/plan", json=task), 422, "replay_too_large")
    assert_error(
        c.post(f"{SIM}/api/ai/plan", json={"task": "t", "duration_s": 600, "dt": 0.001}),
        422,
        "invalid_request",
    )


# ---------------------------------------------------------------- caches, report


def test_evaluation_is_computed_once_per_batch(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.sim import gaps

    calls = []
    real = gaps.profile_gaps

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(gaps, "profile_gaps", counting)
    c = make_client()
    bid = c.post(f"{SIM}/api/sim/batch", json=SMALL_BATCH).json()["batch_id"]
    first = c.get(f"{SIM}/api/sim/batch/{bid}/evaluate").json()
    assert c.get(f"{SIM}/api/sim/batch/{bid}/evaluate").json() == first
    assert c.get(f"{SIM}/api/benchmarks/latest").json()["evaluation"] == first
    assert sorted(calls) == sorted(SMALL_BATCH["profiles"])


def test_the_report_does_not_decode_the_replay(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.sim import replay

    c = make_client()
    run_id = c.post(
        f"{SIM}/api/sim/run", json={"steps": 20, "episodes": 2, "profile": "pseudo_reality_A"}
    ).json()["run_id"]

    def refuse(_data: bytes) -> Any:
        raise AssertionError("the report decoded the whole replay bundle")

    monkeypatch.setattr(replay, "decode", refuse)
    r = c.get(f"{SIM}/api/sim/{run_id}/report")
    assert r.status_code == 200, r.text
    params = r.json()["parameters"]
    assert params and all(len(v) == 2 for v in params.values())
    # a metrics-only run has no replay, but its sampled parameters are reported too
    quiet = c.post(f"{SIM}/api/sim/run", json={"steps": 20, "record": False}).json()["run_id"]
    assert c.get(f"{SIM}/api/sim/report/{quiet}").json()["parameters"]


def test_batch_progress_does_not_move_back_after_a_cancel(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    body = {
        "profiles": ["default", "slippery_warehouse"],
        "steps": 100_000,
        "dt": 0.001,
        "dr_episodes_per_profile": 2,
    }
    r = c.post(f"{SIM}/api/sim/batch", json={**body, "sync": False})
    assert r.status_code == 202, r.text
    bid = r.json()["batch_id"]
    deadline = time.monotonic() + 30
    while (seen := c.get(f"{SIM}/api/sim/{bid}/status").json()["progress"]) == 0:
        assert time.monotonic() < deadline, "the batch never progressed"
        time.sleep(0.02)
    out = c.post(f"{SIM}/api/sim/{bid}/cancel")
    assert out.status_code == 200, out.text
    assert out.json()["status"] == "CANCELLED" and out.json()["progress"] >= seen
    assert c.get(f"{SIM}/api/sim/{bid}/status").json()["progress"] >= seen

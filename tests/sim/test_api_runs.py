"""Contract tests: /v1/ runs and scenarios, the /api/sim run endpoints, replay, step, cancel, restart."""

from __future__ import annotations

import io

import numpy as np
import pytest

from ridgeline.sim import replay as replay_format
from tests.platform.auth.conftest import redis_url  # noqa: F401  (a private redis-server)
from tests.sim.api_helpers import SIM, assert_error, wait_status

pytestmark = pytest.mark.db

SHORT = {"steps": 60, "dt": 0.005}


def test_v1_health_and_scenarios(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.get(f"{SIM}/v1/health")
    assert r.status_code == 200 and r.headers["api-version"] == "1"
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "reachable"
    assert {"default", "slippery_warehouse", "pseudo_reality_A"} <= set(body["profiles"])
    assert c.get(f"{SIM}/api/health").json()["status"] == "ok"
    sc = c.get(f"{SIM}/v1/scenarios").json()
    assert sc["count"] == len(sc["scenarios"]) >= 3
    first = sc["scenarios"][0]
    assert {"name", "description", "robot", "config"} <= set(first)
    assert first["config"]["steps"] > 0


def test_v1_run_lifecycle_metrics_and_replay_reproduces(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(
        f"{SIM}/v1/runs",
        json={"scenario": "arm_tracking_pseudo_reality", "config": {**SHORT, "episodes": 3, "seed": 7}},
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/runs/{r.json()['run_id']}"
    created = r.json()
    run_id = created["run_id"]
    assert created["status"] == "SUCCEEDED" and created["job_id"] == run_id
    run = c.get(f"{SIM}/v1/runs/{run_id}").json()
    assert run["profile"] == "pseudo_reality_A" and run["scenario"] == "arm_tracking_pseudo_reality"
    assert run["config"]["steps"] == 60 and run["config"]["episodes"] == 3
    assert run["steps_completed"] == [60, 60, 60] and run["cancelled"] is False
    m = c.get(f"{SIM}/v1/runs/{run_id}/metrics").json()
    assert set(m["metrics"]) >= {
        "avg_step_time_ms",
        "tracking_rmse",
        "energy",
        "success_rate",
        "divergence_rate",
    }
    assert m["metrics"]["episodes"] == 3 and len(m["episodes"]) == 3
    # the replay bundle: documented entries, and re-running it reproduces the metrics bit for bit
    rr = c.get(f"{SIM}/v1/runs/{run_id}/replay")
    assert rr.status_code == 200
    assert rr.headers["content-type"].startswith(replay_format.MEDIA_TYPE)
    assert rr.headers["x-replay-format"] == replay_format.FORMAT
    with np.load(io.BytesIO(rr.content)) as z:
        assert z["q"].shape == (3, 61, 2) and z["actions"].shape == (3, 60, 2)
        assert z["observations"].shape == (3, 60, 4)
    bundle = replay_format.decode(rr.content)
    again = replay_format.rerun(bundle)
    np.testing.assert_array_equal(again.q, bundle.arrays["q"])
    np.testing.assert_array_equal(again.actions, bundle.arrays["actions"])
    assert float(np.mean(again.metrics["tracking_rmse"])) == m["metrics"]["tracking_rmse"]
    for e in range(3):
        assert m["episodes"][e]["tracking_rmse"] == float(bundle.metrics["tracking_rmse"][e])
    # the same seed and config give the same numbers as a fresh run
    r2 = c.post(
        f"{SIM}/v1/runs",
        json={"scenario": "arm_tracking_pseudo_reality", "config": {**SHORT, "episodes": 3, "seed": 7}},
    )
    assert r2.json()["run"]["metrics"]["tracking_rmse"] == m["metrics"]["tracking_rmse"]


def test_v1_list_filters(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    a = c.post(f"{SIM}/v1/runs", json={"scenario": "pendulum_swing", "config": SHORT}).json()["run_id"]
    b = c.post(f"{SIM}/v1/runs", json={"config": {**SHORT, "profile": "slippery_warehouse"}}).json()["run_id"]
    listed = c.get(f"{SIM}/v1/runs").json()
    assert listed["count"] == 2 and {x["run_id"] for x in listed["runs"]} == {a, b}
    assert [
        x["run_id"] for x in c.get(f"{SIM}/v1/runs", params={"scenario": "pendulum_swing"}).json()["runs"]
    ] == [a]
    assert c.get(f"{SIM}/v1/runs", params={"limit": 1}).json()["count"] == 1
    assert c.get(f"{SIM}/v1/runs", params={"status": "SUCCEEDED"}).json()["count"] == 2
    assert c.get(f"{SIM}/v1/runs", params={"status": "running"}).json()["count"] == 0
    assert_error(c.get(f"{SIM}/v1/runs", params={"status": "DONE"}), 422, "invalid_request")
    assert_error(c.get(f"{SIM}/v1/runs", params={"limit": 0}), 422, "invalid_request")
    dash = c.get(f"{SIM}/api/runs")
    assert dash.json()["count"] == 2 and "deprecation" in dash.headers


def test_v1_errors(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert_error(c.get(f"{SIM}/v1/runs/nope"), 404, "run_not_found")
    assert_error(c.get(f"{SIM}/v1/runs/nope/metrics"), 404, "run_not_found")
    assert_error(c.get(f"{SIM}/v1/runs/nope/replay"), 404, "run_not_found")
    assert_error(c.post(f"{SIM}/v1/runs/nope/cancel"), 404, "run_not_found")
    assert_error(c.post(f"{SIM}/v1/runs", json={"scenario": "moon_walk"}), 404, "scenario_not_found")
    assert_error(c.post(f"{SIM}/v1/runs", json={"config": {"profile": "mars"}}), 422, "unknown_profile")
    assert_error(c.post(f"{SIM}/v1/runs", json={"config": {"steps": -1}}), 422, "invalid_request")
    assert_error(c.post(f"{SIM}/v1/runs", json={"config": {"robot": "nope.urdf"}}), 404, "robot_not_found")
    assert_error(
        c.post(f"{SIM}/v1/runs", json={"config": {"controller": {"kind": "pd", "kp": [1, 2, 3], "kd": 1}}}),
        422,
        "invalid_config",
    )
    assert_error(c.post(f"{SIM}/v1/runs", json={"config": {}, "surprise": 1}), 422, "invalid_request")
    huge = {"steps": 200_000, "episodes": 256}  # ~9 GiB of per-step arrays
    assert_error(c.post(f"{SIM}/v1/runs", json={"config": huge}), 422, "replay_too_large")
    assert c.get(f"{SIM}/v1/runs").json()["count"] == 0  # nothing was created


def test_cancel_really_stops_the_rollout(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    # ~50 million steps if never cancelled; metrics only (no per-step arrays) to keep memory small
    config = {"steps": 200_000, "episodes": 256, "dt": 0.001, "record": False}
    r = c.post(f"{SIM}/v1/runs", json={"config": config, "options": {"wait": False}})
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    wait_status(c, run_id, {"RUNNING"})
    cancelled = c.post(f"{SIM}/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "CANCELLED" and body["cancelled"] is True
    assert sum(body["steps_completed"]) < 200_000 * 256
    assert body["metrics"] is not None  # metrics of the partial rollout are kept
    assert_error(c.post(f"{SIM}/v1/runs/{run_id}/cancel"), 409, "run_finished")
    assert_error(c.get(f"{SIM}/v1/runs/{run_id}/replay"), 409, "replay_not_recorded")
    assert c.get(f"{SIM}/api/sim/{run_id}/status").json()["status"] == "CANCELLED"


def test_api_sim_cancel_endpoint(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    body = {
        "urdf_path": "examples/simple_robot.urdf",
        "steps": 200_000,
        "episodes": 256,
        "record": False,
        "sync": False,
    }
    r = c.post(f"{SIM}/api/sim/run", json=body)
    assert r.status_code == 202 and r.json()["status"] in ("QUEUED", "RUNNING")
    job_id = r.json()["job_id"]
    wait_status(c, job_id, {"RUNNING"})
    out = c.post(f"{SIM}/api/sim/{job_id}/cancel")
    assert out.status_code == 200 and out.json()["status"] == "CANCELLED"
    assert "deprecation" in out.headers


def test_api_sim_run_status_metrics_report_step(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(f"{SIM}/api/sim/run", json={"urdf_path": "examples/simple_robot.urdf", **SHORT, "episodes": 2})
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    st = c.get(f"{SIM}/api/sim/{job_id}/status")
    assert st.status_code == 200 and st.json()["status"] == "SUCCEEDED" and st.json()["progress"] == 1.0
    assert st.headers["deprecation"].startswith("@") and "sunset" in st.headers
    assert st.headers["link"] == f'</v1/runs/{job_id}>; rel="successor-version"'
    m1 = c.get(f"{SIM}/api/sim/{job_id}/metrics").json()
    m2 = c.get(f"{SIM}/api/sim/metrics/{job_id}").json()
    assert m1 == m2 and m1["metrics"]["episodes"] == 2
    rep = c.get(f"{SIM}/api/sim/{job_id}/report").json()
    assert rep == c.get(f"{SIM}/api/sim/report/{job_id}").json()
    assert rep["run"]["run_id"] == job_id and len(rep["episodes"]) == 2
    assert rep["profile"]["name"] == "default" and "actuator_gain" in rep["parameters"]
    step = c.get(f"{SIM}/api/sim/step", params={"run_id": job_id, "step_index": 10, "episode": 1})
    assert step.status_code == 200
    s = step.json()
    assert s["joint_names"] == ["shoulder", "elbow"] and s["t"] == pytest.approx(0.05)
    bundle = replay_format.decode(c.get(f"{SIM}/v1/runs/{job_id}/replay").content)
    assert s["q"] == bundle.arrays["q"][1, 10].tolist()
    assert s["next_q"] == bundle.arrays["q"][1, 11].tolist()
    assert s["action"] == bundle.arrays["actions"][1, 10].tolist()
    assert_error(
        c.get(f"{SIM}/api/sim/step", params={"run_id": job_id, "step_index": 60}), 404, "step_out_of_range"
    )
    assert_error(c.get(f"{SIM}/api/sim/step", params={"run_id": "x", "step_index": 0}), 404, "run_not_found")
    assert_error(c.get(f"{SIM}/api/sim/step", params={"run_id": job_id}), 422, "invalid_request")
    assert_error(c.get(f"{SIM}/api/sim/nope/status"), 404, "job_not_found")


@pytest.mark.redis
def test_queued_mode_when_redis_is_configured(make_client, redis_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    # with Redis the job goes through the queue; this service also runs queue workers (a setting),
    # as `ridgeline worker` processes would
    monkeypatch.setenv("RIDGELINE_JOBS_RUN_IN_SERVE", "1")
    c = make_client(redis_url=redis_url)
    r = c.post(f"{SIM}/api/sim/run", json={"urdf_path": "examples/pendulum.urdf", **SHORT})
    assert r.status_code == 202 and r.json()["status"] in ("QUEUED", "RUNNING", "SUCCEEDED")
    done = wait_status(c, r.json()["job_id"], {"SUCCEEDED"})
    assert done["metrics"]["episodes"] == 1


def test_runs_survive_a_restart(make_client) -> None:  # type: ignore[no-untyped-def]
    first = make_client()
    run_id = first.post(f"{SIM}/v1/runs", json={"scenario": "pendulum_swing", "config": SHORT}).json()[
        "run_id"
    ]
    before = first.get(f"{SIM}/v1/runs/{run_id}").json()
    replay = first.get(f"{SIM}/v1/runs/{run_id}/replay").content
    second = make_client()  # another process on the same data dir and database
    after = second.get(f"{SIM}/v1/runs/{run_id}").json()
    assert after == before
    assert second.get(f"{SIM}/v1/runs/{run_id}/replay").content == replay
    assert second.get(f"{SIM}/api/sim/step", params={"run_id": run_id, "step_index": 3}).status_code == 200


def test_only_sim_serves_at_the_root(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(only="sim")
    assert c.get("/v1/health").json()["service"] == "ridgeline-sim"
    assert c.get("/api/reality-profiles").json()["count"] >= 3
    r = c.post("/v1/runs", json={"scenario": "pendulum_swing", "config": SHORT})
    assert r.status_code == 201
    assert c.get(f"/v1/runs/{r.json()['run_id']}").status_code == 200
    paths = c.get("/openapi.json").json()["paths"]
    assert "/v1/runs/{run_id}/replay" in paths and "/api/sim/batch" in paths


def test_every_sim_schema_field_is_documented(make_client) -> None:  # type: ignore[no-untyped-def]
    schema = make_client(only="sim").get("/openapi.json").json()
    undocumented = [
        f"{name}.{prop}"
        for name, component in schema["components"]["schemas"].items()
        if name != "HealthBody"  # the platform's root /health
        for prop, spec in (component.get("properties") or {}).items()
        if not spec.get("description")
    ]
    assert undocumented == []


def test_a_diverging_run_is_recorded_with_null_metrics(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    config = {"steps": 200, "dt": 0.05, "episodes": 2, "controller": {"kind": "pd", "kp": 1e5, "kd": 0}}
    r = c.post(f"{SIM}/v1/runs", json={"config": config})
    assert r.status_code == 201, r.text
    run = r.json()["run"]
    assert run["status"] == "SUCCEEDED"  # the run finished; the robot diverged
    assert run["metrics"]["divergence_rate"] == 1.0 and run["metrics"]["tracking_rmse"] is None
    assert all(n < 200 for n in run["steps_completed"])
    late = c.get(f"{SIM}/api/sim/step", params={"run_id": run["run_id"], "step_index": 199}).json()
    assert late["completed"] is False and late["q"] == [None, None]


def test_replay_download_is_verified_cacheable_and_answers_head(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(f"{SIM}/v1/runs", json={"scenario": "arm_tracking_pseudo_reality", "config": SHORT})
    run_id = r.json()["run_id"]
    url = f"{SIM}/v1/runs/{run_id}/replay"
    rr = c.get(url)
    assert rr.status_code == 200 and rr.headers["api-version"] == "1"
    assert rr.headers["content-disposition"] == f'attachment; filename="replay-{run_id}.npz"'
    etag = rr.headers["etag"]
    assert etag == f'"{rr.headers["x-content-sha256"]}"'
    h = c.head(url)
    assert h.status_code == 200 and h.content == b"" and h.headers["etag"] == etag
    n = c.get(url, headers={"If-None-Match": etag})
    assert n.status_code == 304 and n.content == b""

    ctx = c.app.state["ctx"]
    art = c.blocking_portal.call(ctx.artifacts.get, "sim-replays", run_id, "replay.npz")
    ctx.artifacts.path_of(art).write_bytes(rr.content[:-1] + bytes([rr.content[-1] ^ 1]))
    assert_error(c.get(url), 409, "artifact_integrity")


@pytest.mark.parametrize("n", [2**63, 2**64])
def test_out_of_range_integers_are_422(make_client, n: int) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert_error(c.get(f"{SIM}/api/runs?offset={n}"), 422, "invalid_request")
    assert_error(c.get(f"{SIM}/api/sim/step?run_id=r&step_index={n}"), 422, "invalid_request")
    assert_error(c.get(f"{SIM}/api/sim/step?run_id=r&step_index=0&episode={n}"), 422, "invalid_request")


def test_an_ended_run_is_never_shown_without_its_results(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The run's row is read before its job: a job that ended in between (results stored, then
    # SUCCEEDED) must not be shown beside the row as it was before the results (seen in CI under
    # the Redis queue: SUCCEEDED with metrics null).
    from ridgeline.sim.api import runs

    c = make_client()
    r = c.post(
        f"{SIM}/v1/runs",
        json={"scenario": "arm_tracking_pseudo_reality", "config": {**SHORT, "episodes": 1, "seed": 7}},
    )
    assert r.status_code == 201, r.text
    run_id = r.json()["run_id"]
    wait_status(c, run_id, {"SUCCEEDED"})
    real = runs.store.run
    stale_reads: list[str] = []

    class Before:  # the row as read before the results were stored
        def __init__(self, row) -> None:  # type: ignore[no-untyped-def]
            self._row = row

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return None if name in ("metrics", "finished_at") else getattr(self._row, name)

    async def first_read_stale(db, rid):  # type: ignore[no-untyped-def]
        row = await real(db, rid)
        if not stale_reads:
            stale_reads.append(rid)
            return Before(row)
        return row

    monkeypatch.setattr(runs.store, "run", first_read_stale)
    body = c.get(f"{SIM}/v1/runs/{run_id}").json()
    assert stale_reads == [run_id]
    assert body["status"] == "SUCCEEDED" and body["metrics"]["episodes"] == 1, body

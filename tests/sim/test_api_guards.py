"""Guards of the sim HTTP layer that no other test would miss if removed: each asserts the status
and the reason code (issue 11, "tests that would catch a broken guard")."""

from __future__ import annotations

import pytest

from tests.sim.api_helpers import SIM, assert_error
from tests.sim.test_api_assets import two_part_stl, upload

pytestmark = pytest.mark.db


def test_compare_direction_for_a_higher_is_better_metric(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    # a huge tolerance counts every episode a success, a tiny one none
    good = c.post(f"{SIM}/api/sim/run", json={"steps": 20, "success_tolerance": 100.0}).json()["run_id"]
    bad = c.post(f"{SIM}/api/sim/run", json={"steps": 20, "success_tolerance": 1e-12}).json()["run_id"]
    out = c.post(f"{SIM}/api/sim/compare", json={"run_ids": [good, bad], "metric_key": "success_rate"}).json()
    assert out["higher_is_better"] is True
    assert [e["value"] for e in out["runs"]] == [1.0, 0.0]
    assert out["best_run_id"] == good
    assert out["pairwise"][0]["drop"] == 1.0  # bad is worse than good: positive


def test_a_batch_member_cannot_be_cancelled_alone(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    batch = c.post(f"{SIM}/api/sim/batch", json={"profiles": ["default"], "steps": 10}).json()
    member = batch["profiles"][0]["run_id"]
    assert_error(c.post(f"{SIM}/v1/runs/{member}/cancel"), 409, "batch_member")
    assert_error(c.post(f"{SIM}/api/sim/{member}/cancel"), 409, "batch_member")


def test_a_run_needs_a_urdf_asset(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    mesh = upload(c, "two.stl", two_part_stl())
    assert mesh.status_code == 201, mesh.text
    assert_error(
        c.post(f"{SIM}/api/sim/run", json={"urdf_path": mesh.json()["id"], "steps": 10}), 422, "not_a_urdf"
    )
    assert_error(c.post(f"{SIM}/api/sim/run", json={"urdf_path": "nope.urdf"}), 404, "robot_not_found")


def test_list_status_filter_is_allow_listed(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert_error(c.get(f"{SIM}/v1/runs", params={"status": "DONE"}), 422, "invalid_request")
    assert_error(c.get(f"{SIM}/api/runs", params={"status": "DONE"}), 422, "invalid_request")
    assert c.get(f"{SIM}/v1/runs", params={"status": "succeeded"}).status_code == 200


def test_batch_profiles_must_be_distinct(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(f"{SIM}/api/sim/batch", json={"profiles": ["default", "default"], "steps": 10})
    assert_error(r, 422, "invalid_request")
    r = c.post(f"{SIM}/api/sim/batch", json={"profiles": ["default"], "steps": 10, "project_id": "nope"})
    assert_error(r, 404, "project_not_found")


def test_replay_and_step_guards(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    long = {"steps": 200_000, "episodes": 64, "dt": 0.001, "record": True}
    # recording this would exceed the limit: metrics-only runs have none, a recorded one is refused
    assert_error(c.post(f"{SIM}/v1/runs", json={"config": long}), 422, "replay_too_large")
    r = c.post(f"{SIM}/v1/runs", json={"config": {**long, "record": False}, "options": {"wait": False}})
    run_id = r.json()["run_id"]
    assert_error(
        c.get(f"{SIM}/api/sim/step", params={"run_id": run_id, "step_index": 0}), 409, "replay_not_recorded"
    )
    c.post(f"{SIM}/v1/runs/{run_id}/cancel")
    short = c.post(f"{SIM}/api/sim/run", json={"steps": 10, "episodes": 2}).json()["run_id"]
    step = {"run_id": short, "step_index": 0}
    assert c.get(f"{SIM}/api/sim/step", params=step).status_code == 200
    assert_error(c.get(f"{SIM}/api/sim/step", params={**step, "episode": 2}), 404, "step_out_of_range")
    assert_error(c.get(f"{SIM}/api/sim/step", params={**step, "step_index": 10}), 404, "step_out_of_range")


def test_uploads_over_the_limit_are_refused(make_client) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.sim.api.assets import MAX_UPLOAD

    c = make_client()
    r = upload(c, "big.stl", b"\0" * (MAX_UPLOAD + 1))
    assert_error(r, 413, "payload_too_large")
    assert c.get(f"{SIM}/api/assets", params={"kind": "mesh"}).json()["count"] == 0

"""The engine-side additions without HTTP: gap measures and bootstrap, replay bundles, asset helpers,
run specs and the planner. None of these modules may import Litestar or SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import trimesh

from ridgeline.sim import Model
from ridgeline.sim import assets as A
from ridgeline.sim import gaps as G
from ridgeline.sim import replay as R
from ridgeline.sim.examples import EXAMPLE_ROBOTS, SCENARIOS, SIMPLE_ROBOT_URDF
from ridgeline.sim.planner import TaskSpec, make_plan
from ridgeline.sim.runspec import RunSpec, execute


def test_engine_modules_import_no_server_code() -> None:
    code = (
        "import sys, ridgeline.sim.assets, ridgeline.sim.gaps, ridgeline.sim.replay, ridgeline.sim.planner, "
        "ridgeline.sim.runspec, ridgeline.sim.examples; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('litestar', 'sqlalchemy')]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_bootstrap_interval_and_determinism() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    iv = G.bootstrap({"x": x}, lambda d: float(np.mean(d["x"])), n_boot=500, seed=1)
    assert iv.estimate == 4.5 and iv.n == 8
    assert iv.ci_low < 4.5 < iv.ci_high and iv.ci_width == pytest.approx(iv.ci_high - iv.ci_low)
    assert 1.0 <= iv.ci_low and iv.ci_high <= 8.0
    assert G.bootstrap({"x": x}, lambda d: float(np.mean(d["x"])), n_boot=500, seed=1) == iv
    single = G.bootstrap({"x": np.array([2.0])}, lambda d: float(np.mean(d["x"])))
    assert single.estimate == single.ci_low == single.ci_high == 2.0


def test_gap_measures_on_known_trajectories() -> None:
    t = np.linspace(0, 1, 101)
    base = np.stack([np.sin(2 * np.pi * t)], axis=-1)[None]  # (1, 101, 1)
    shifted = base + 0.1
    assert G.dyn_per_episode(base, base)[0] == 0.0
    spread = np.sqrt(np.mean((base[0, :, 0] - base[0, :, 0].mean()) ** 2))
    assert G.dyn_per_episode(shifted, base)[0] == pytest.approx(0.1 / (spread + G.Q_FLOOR))
    obs = np.concatenate([base[:, :100] + 0.02, np.zeros((1, 100, 1))], axis=-1)  # [q_obs, v_obs]
    assert G.perc_per_episode(obs, base)[0] == pytest.approx(0.02)
    nan_tail = base.copy()
    nan_tail[0, 50:] = np.nan  # diverged/cancelled rows are ignored
    assert G.dyn_per_episode(nan_tail, base)[0] == 0.0
    drop = G.metric_drop("success_rate", 1.0, 0.75)
    assert drop.drop == 0.25 and drop.relative_drop == 0.25 and drop.higher_is_better
    assert G.metric_drop("tracking_rmse", 0.1, 0.15).drop == pytest.approx(0.05)


def test_replay_round_trip_and_rerun_is_bit_identical() -> None:
    model = Model.from_urdf_string(SIMPLE_ROBOT_URDF)
    spec = RunSpec(profile="pseudo_reality_A", steps=40, episodes=2, seed=11)
    res = execute(model, spec)
    data = R.encode(res, model, spec, SIMPLE_ROBOT_URDF)
    rp = R.decode(data)
    assert rp.meta["format"] == R.FORMAT and rp.episodes == 2 and rp.steps == 40
    np.testing.assert_array_equal(rp.arrays["observations"], res.observations)
    np.testing.assert_array_equal(rp.metrics["tracking_rmse"], res.metrics["tracking_rmse"])
    again = R.rerun(rp)
    np.testing.assert_array_equal(again.q, res.q)
    np.testing.assert_array_equal(again.metrics["energy"], res.metrics["energy"])
    step = rp.step(39, episode=1)
    assert step["next_q"] == res.q[1, 40].tolist()
    with pytest.raises(IndexError):
        rp.step(40)
    with pytest.raises(R.ReplayError):
        R.decode(b"not a zip")


def test_replay_bundle_is_compressed() -> None:
    model = Model.from_urdf_string(SIMPLE_ROBOT_URDF)
    spec = RunSpec(steps=2000, episodes=2)
    res = execute(model, spec)
    raw = sum(getattr(res, k).nbytes for k in ("q", "v", "observations", "actions", "applied_torques"))
    assert len(R.encode(res, model, spec, SIMPLE_ROBOT_URDF)) < 0.8 * raw


def test_scenarios_run_and_specs_validate() -> None:
    for sc in SCENARIOS.values():
        assert sc.robot in EXAMPLE_ROBOTS
    model = Model.from_urdf_string(SIMPLE_ROBOT_URDF)
    with pytest.raises(ValueError, match="initial_q"):
        execute(model, RunSpec(initial_q=[0.0]))
    with pytest.raises(ValueError, match="kp"):
        execute(model, RunSpec(controller=msgspec_controller(kp=[1.0, 2.0, 3.0])))


def msgspec_controller(**kw: object):  # type: ignore[no-untyped-def]
    import msgspec

    from ridgeline.sim.runspec import ControllerSpec

    return msgspec.convert({"kind": "pd", "kd": 1.0, **kw}, ControllerSpec)


def test_component_labels_and_segmentation() -> None:
    # faces are connected through shared edges, not through a lone shared vertex
    faces = np.array([[0, 1, 2], [2, 1, 3], [3, 4, 5], [6, 7, 8]])
    labels = A.component_labels(faces, 9)
    assert labels[0] == labels[1] != labels[2] != labels[3] and labels[0] != labels[3]
    boxes = [trimesh.creation.box((1, 1, 1)) for _ in range(3)]
    for i, b in enumerate(boxes):
        b.apply_scale(1 + i)
        b.apply_translation([10.0 * i, 0, 0])
    mesh = trimesh.util.concatenate(boxes)
    parts, meshes = A.segment(mesh, density=1.0)
    assert [round(p.mass_properties.volume, 9) for p in parts] == [27.0, 8.0, 1.0]
    assert len(meshes) == 3


def test_linkage_depth_first_order_and_urdf_round_trip() -> None:
    inertia = [[0.01, 0, 0], [0, 0.01, 0], [0, 0, 0.01]]
    links = [A.ResolvedLink(name=n, mass=1.0, center_of_mass=[0, 0, 0.1], inertia=inertia) for n in "rabcd"]
    J = A.JointSpec
    joints = [
        J(name="jc", type="revolute", parent="r", child="c", axis=[0, 1, 0], lower=-1, upper=1),
        J(name="ja", type="continuous", parent="r", child="a", axis=[1, 0, 0]),
        J(name="jb", type="prismatic", parent="a", child="b", lower=0, upper=0.2, origin_xyz=[0, 0, 0.2]),
        J(name="jd", type="fixed", parent="c", child="d", origin_xyz=[0.1, 0, 0]),
    ]
    lk = A.build_linkage("tree", links, joints)
    assert [x.name for x in lk.links] == ["r", "c", "d", "a", "b"] and lk.dof == 3
    model = Model.from_urdf_string(A.to_urdf(lk))
    assert model.joint_names == ["jc", "ja", "jb"]
    with pytest.raises(A.AssetError, match="two joints"):
        A.build_linkage("x", links, [*joints, J(name="je", type="fixed", parent="b", child="c")])


def test_planner_rules() -> None:
    profiles = ["default", "ideal", "slippery_warehouse", "pseudo_reality_A"]
    plan = make_plan(TaskSpec(task="stack boxes"), profiles)
    assert plan.profiles == ["default", "slippery_warehouse", "pseudo_reality_A"]  # no keyword: all but ideal
    assert plan.episodes_per_profile == 16 and plan.steps == 1000 and plan.executed is False
    assert make_plan(TaskSpec(task="stack boxes"), profiles) == plan
    with pytest.raises(ValueError, match="mars"):
        make_plan(TaskSpec(task="x", profiles=["mars"]), profiles)


def test_open_loop_replay_isolates_the_dynamics_gap() -> None:
    from ridgeline.sim.runspec import execute_open_loop

    model = Model.from_urdf_string(SIMPLE_ROBOT_URDF)
    spec = RunSpec(steps=100, episodes=2, seed=4)
    base = execute(model, spec)
    same = execute_open_loop(model, spec, base.actions, profile="default")
    np.testing.assert_array_equal(same.q, base.q)  # identical actions, identical dynamics
    assert np.all(G.dyn_per_episode(same.q, base.q) == 0.0)
    other = execute_open_loop(model, spec, base.actions, profile="pseudo_reality_A")
    assert np.all(G.dyn_per_episode(other.q, base.q) > 0.0)

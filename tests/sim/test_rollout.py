"""Rollouts: control, reality profiles, contact and slip, cancellation, metrics."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ridgeline.sim import (
    PD,
    ComputedTorque,
    Model,
    OpenLoop,
    Profile,
    Reference,
    RolloutHandle,
    ZeroTorque,
    profile_names,
    reality_profiles,
    rollout,
)

from .conftest import PENDULUM


@pytest.fixture(scope="module")
def pendulum() -> Model:
    return Model.from_urdf_string(PENDULUM)


def test_profiles_are_documented() -> None:
    names = profile_names()
    assert {"default", "slippery_warehouse", "pseudo_reality_A"} <= set(names)
    for p in reality_profiles():
        assert p["description"]
        params = {e["name"]: e for e in p["parameters"]}
        assert {
            "ground_friction",
            "mass_scale",
            "inertia_scale",
            "damping_scale",
            "actuator_gain",
            "actuator_latency",
            "sensor_noise_q",
            "sensor_delay",
            "sensor_quantization",
            "gravity_tilt",
        } <= set(params)
        for e in p["parameters"]:
            assert e["meaning"] and e["distribution"] in {"constant", "uniform", "normal", "log_uniform"}
    slippery = next(p for p in reality_profiles() if p["name"] == "slippery_warehouse")
    mu = next(e for e in slippery["parameters"] if e["name"] == "ground_friction")
    assert mu["distribution"] == "uniform" and mu["parameters"]["high"] <= 0.2


def test_episode_parameters_follow_the_profile(pendulum: Model) -> None:
    res = rollout(
        pendulum, ZeroTorque(), profile="pseudo_reality_A", steps=1, episodes=64, seed=5, record=False
    )
    p = res.params
    assert np.all((p["ground_friction"] >= 0.5) & (p["ground_friction"] <= 0.9))
    assert np.all((p["mass_scale"] >= 0.85) & (p["mass_scale"] <= 1.15))
    assert np.all((p["actuator_latency"] >= 0.002) & (p["actuator_latency"] <= 0.010))
    tilt = np.arccos(-p["gravity"][:, 2] / np.linalg.norm(p["gravity"], axis=1))
    assert np.allclose(tilt, p["gravity_tilt"], atol=1e-7)
    assert len(np.unique(p["ground_friction"])) == 64
    default = rollout(pendulum, ZeroTorque(), profile="default", steps=1, episodes=4, record=False)
    assert np.all(default.params["mass_scale"] == 1.0) and np.all(default.params["sensor_noise_q"] == 0.0)


def test_custom_profile(pendulum: Model) -> None:
    prof = Profile("heavy", {"mass_scale": ("uniform", 2.0, 3.0), "sensor_noise_q": ("constant", 0.01)})
    desc = prof.describe()
    assert desc["name"] == "heavy"
    res = rollout(pendulum, PD(50.0, 5.0), profile=prof, steps=20, episodes=4, seed=1)
    assert np.all((res.params["mass_scale"] >= 2.0) & (res.params["mass_scale"] <= 3.0))
    # observation noise: observations differ from the true (delay-free) states
    assert not np.allclose(res.observations[:, :, 0], res.q[:, :-1, 0])
    with pytest.raises(ValueError, match="unknown profile parameter 'color'"):
        Profile("bad", {"color": ("constant", 1.0)}).describe()
    with pytest.raises(ValueError, match="uniform needs finite low <= high"):
        Profile("bad", {"mass_scale": ("uniform", 2.0, 1.0)}).describe()


def test_pd_and_computed_torque_track_a_sinusoid(pendulum: Model) -> None:
    steps, dt = 1500, 0.002
    ref = Reference.sinusoid(pendulum, steps, dt, amplitude=0.5, frequency=0.5)
    pd = rollout(pendulum, PD(400.0, 40.0, ref), steps=steps, dt=dt, q0=ref.q[0], v0=ref.v[0])
    ct = rollout(pendulum, ComputedTorque(400.0, 40.0, ref), steps=steps, dt=dt, q0=ref.q[0], v0=ref.v[0])
    zero = rollout(pendulum, ZeroTorque(ref), steps=steps, dt=dt, q0=ref.q[0], v0=ref.v[0])
    assert ct.metrics["tracking_rmse"][0] < 0.01
    assert ct.metrics["tracking_rmse"][0] < pd.metrics["tracking_rmse"][0] < zero.metrics["tracking_rmse"][0]
    assert ct.metrics["success"][0] and not zero.metrics["success"][0]
    assert pd.metrics["energy"][0] > 0 and zero.metrics["energy"][0] == 0
    assert pd.q.shape == (1, steps + 1, 1) and pd.actions.shape == (1, steps, 1)
    assert pd.observations.shape == (1, steps, 2)


def test_actuator_effort_limit_and_latency(pendulum: Model) -> None:
    # effort limit 50 N m from the URDF clips a huge PD command
    res = rollout(pendulum, PD(1e5, 0.0, Reference.hold([0.0], 50)), steps=50, q0=[1.0])
    assert np.abs(res.actions).max() > 50.0
    assert np.abs(res.applied_torques).max() == pytest.approx(50.0)
    lag = Profile("lag", {"actuator_latency": ("constant", 0.01)})
    res = rollout(pendulum, PD(10.0, 0.0), profile=lag, steps=20, dt=0.002, q0=[0.5])
    # 5 steps of latency: nothing is applied until the first command arrives
    assert np.all(res.applied_torques[0, :5] == 0.0)
    assert np.array_equal(res.applied_torques[0, 5:], res.actions[0, :-5])


def test_sensor_delay_and_quantisation(pendulum: Model) -> None:
    prof = Profile("late", {"sensor_delay": ("constant", 0.006), "sensor_quantization": ("constant", 0.01)})
    res = rollout(pendulum, ZeroTorque(), profile=prof, steps=40, dt=0.002, q0=[0.7])
    obs = res.observations[0, :, 0]
    assert np.allclose(obs / 0.01, np.round(obs / 0.01))
    assert np.allclose(obs[3:], np.round(res.q[0, :-4, 0] / 0.01) * 0.01)


def test_joint_limits_stop_the_joint(pendulum: Model) -> None:
    res = rollout(pendulum, ZeroTorque(), profile="ideal", steps=400, dt=0.002, q0=[2.9], v0=[5.0])
    # a stiff one-sided limit spring: a small overshoot, then back inside
    assert 3.0 < res.q[0, :, 0].max() < 3.05
    assert res.q[0, -1, 0] <= 3.0 + 1e-3
    free = rollout(
        pendulum, ZeroTorque(), profile="ideal", steps=400, dt=0.002, q0=[2.9], v0=[5.0], joint_limits=False
    )
    assert free.q[0, :, 0].max() > 3.5


def test_divergence_is_detected(pendulum: Model) -> None:
    # an absurd gain at a coarse step with no effort limit blows up
    blow = rollout(
        Model.from_urdf_string(PENDULUM.replace('effort="50"', 'effort="0"')),
        PD(1e9, 0.0),
        steps=200,
        dt=0.05,
        q0=[0.5],
        joint_limits=False,
    )
    assert blow.metrics["diverged"][0] and not blow.metrics["success"][0]
    assert blow.steps_completed[0] < 200 and np.isnan(blow.q[0, -1]).all()


def test_cancellation_stops_a_running_rollout(pendulum: Model) -> None:
    handle = RolloutHandle()
    out: dict[str, object] = {}

    def run() -> None:
        out["res"] = rollout(
            pendulum, PD(50.0, 5.0), steps=2_000_000, dt=0.001, episodes=2, handle=handle, record=False
        )

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 60
    while handle.steps_done < 1000 and time.monotonic() < deadline:
        time.sleep(0.005)
    handle.cancel()
    t.join(60)
    assert not t.is_alive()
    res = out["res"]
    assert res.cancelled and handle.cancelled
    assert np.all(res.steps_completed < 2_000_000)
    assert not res.metrics["success"].any()
    assert handle.steps_done == res.steps_completed.sum()


def test_rollout_arrays_after_cancel_are_nan(pendulum: Model) -> None:
    handle = RolloutHandle()
    handle.cancel()
    res = rollout(pendulum, PD(50.0, 5.0), steps=10, handle=handle)
    assert res.cancelled and np.all(res.steps_completed == 0)
    assert np.isnan(res.q[:, 1:]).all() and res.q[0, 0, 0] == 0.0


def _drive_husky(m: Model, profile: str) -> tuple[float, float]:
    steps, dt = 1500, 0.002
    wheel_speed = 6.0  # rad/s, a velocity-tracking PD on the four wheels
    n = m.n_actuated
    t = np.arange(steps)[:, None] * dt
    ref = Reference(
        q=np.repeat(wheel_speed * t, n, axis=1), v=np.full((steps, n), wheel_speed), a=np.zeros((steps, n))
    )
    res = rollout(m, PD(0.0, 4.0, ref), profile=profile, steps=steps, dt=dt, seed=3, episodes=4)
    assert res.metrics["contact_fraction"].min() > 0.99
    assert not res.metrics["diverged"].any()
    return float(res.metrics["base_distance"].mean()), float(res.metrics["mean_slip_speed"].mean())


def test_low_friction_really_slips(urdf_dir: Path) -> None:
    m = Model.from_urdf(urdf_dir / "husky_husky.urdf", floating_base=True)
    assert set(m.contact_links) >= {"front_left_wheel_link", "rear_right_wheel_link"}
    grip_distance, grip_slip = _drive_husky(m, "default")
    slip_distance, slip_slip = _drive_husky(m, "slippery_warehouse")
    # with grip the robot rolls at wheel_speed * radius (6 rad/s * 0.165 m * 3 s ~ 3 m)
    assert 2.7 < grip_distance < 3.3
    assert grip_slip < 0.05
    # on the slippery floor the wheels spin: the contact points slide and the robot lags
    assert slip_slip > 5.0 * grip_slip
    assert slip_distance < 0.92 * grip_distance


@pytest.mark.parametrize("name", ["solo12.urdf", "hyq.urdf", "atlas.urdf"])
def test_legged_robots_land_without_diverging(name: str, urdf_dir: Path) -> None:
    m = Model.from_urdf(urdf_dir / name, floating_base=True)
    # dropped from 30 cm above the resting pose (the feet of the inertia-only URDFs are their
    # leaf links' equivalent-inertia boxes, so a fixed base height could start HyQ underground)
    q0 = m.pose("stand")
    q0[2] += 0.3
    ctl = PD.critically_damped(m, bandwidth=10.0)
    for profile in ("default", "slippery_warehouse", "pseudo_reality_A"):
        res = rollout(m, ctl, profile=profile, steps=1000, dt=0.001, q0=q0, episodes=2, seed=1)
        assert not res.metrics["diverged"].any(), profile
        assert res.metrics["contact_fraction"].min() > 0.1, profile
        # the compliant ground holds the robot up: at most a few millimetres of sinkage
        assert np.nanmin(res.q[:, :, 2]) > -0.02, profile


def test_a_passive_drop_loses_energy(urdf_dir: Path) -> None:
    m = Model.from_urdf(urdf_dir / "atlas.urdf", floating_base=True)
    q0 = m.neutral()
    q0[2] = 1.2
    res = rollout(m, ZeroTorque(), profile="default", steps=1500, dt=0.001, q0=q0)
    assert not res.metrics["diverged"][0]
    energy = np.array([sum(m.energy(res.q[0, i], res.v[0, i])) for i in range(0, 1501, 25)])
    e0 = energy[0]
    # contact and limit springs hold some energy for a moment, but nothing is created
    assert energy.max() <= e0 + 1e-3 * abs(e0)
    assert energy[-1] < 0.5 * e0


def test_open_loop_replays_recorded_actions(pendulum: Model) -> None:
    ref = Reference.sinusoid(pendulum, 300, 0.002, amplitude=0.4)
    closed = rollout(pendulum, PD(200.0, 20.0, ref), steps=300, q0=ref.q[0], episodes=2)
    # the default profile has perfect actuators: replaying the commands reproduces the states
    replay = rollout(pendulum, OpenLoop(closed.actions[0], ref), steps=300, q0=ref.q[0])
    assert np.array_equal(replay.q[0], closed.q[0])
    assert replay.metrics["tracking_rmse"][0] == closed.metrics["tracking_rmse"][0]
    per_episode = rollout(pendulum, OpenLoop(closed.actions), steps=300, q0=ref.q[0], episodes=2)
    assert np.array_equal(per_episode.q, closed.q)
    # the same actions under another reality give another trajectory (the dynamics gap)
    other = rollout(pendulum, OpenLoop(closed.actions[0]), profile="pseudo_reality_A", steps=300, q0=ref.q[0])
    assert not np.allclose(other.q[0], closed.q[0])
    with pytest.raises(ValueError, match=r"open-loop torques must be \(steps, 1\)"):
        rollout(pendulum, OpenLoop(np.zeros((300, 2))), steps=300)
    with pytest.raises(ValueError, match=r"expected length 600, got 300"):
        rollout(pendulum, OpenLoop(np.zeros((1, 300, 1))), steps=300, episodes=2)


BOX = """<robot name="box"><link name="box">
  <inertial><mass value="2"/><inertia ixx="0.02" iyy="0.02" izz="0.02" ixy="0" ixz="0" iyz="0"/></inertial>
  <collision><geometry><box size="0.2 0.2 0.1"/></geometry></collision></link></robot>"""


@pytest.mark.parametrize("mu", [0.1, 0.2, 0.6])
def test_friction_cone_on_a_slope(mu: float) -> None:
    # tilting gravity by 0.3 rad makes the ground a 0.3 rad slope: a box slides down with
    # a = g (sin 0.3 - mu cos 0.3) when mu < tan 0.3 and sticks (up to a slow creep) otherwise
    m = Model.from_urdf_string(BOX, floating_base=True)
    q0 = m.neutral()
    q0[2] = 0.05
    slope = Profile("slope", {"ground_friction": ("constant", mu), "gravity_tilt": ("constant", 0.3)})
    res = rollout(m, ZeroTorque(), profile=slope, steps=1000, dt=0.001, q0=q0, seed=4)
    speed = float(np.linalg.norm(res.v[0, -1, :2]))
    expected = 9.81 * (np.sin(0.3) - mu * np.cos(0.3))
    if expected > 0:
        assert speed == pytest.approx(expected * 1.0, rel=0.02)
    else:
        assert speed < 0.01
    assert abs(res.q[0, -1, 2] - 0.05) < 0.002  # resting on its face

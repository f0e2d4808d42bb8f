"""Properties on every real URDF: inverse of forward dynamics, SPD mass matrix, energy
conservation to integrator accuracy, bit-identical replays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ridgeline.sim import PD, Model, ZeroTorque, rollout

from .conftest import PENDULUM, urdf_names


def _random_state(m: Model, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = rng.uniform(-1.0, 1.0, m.nq)
    if m.floating_base:
        q[3:7] /= np.linalg.norm(q[3:7])
    return q, rng.uniform(-1.0, 1.0, m.nv), rng.uniform(-10.0, 10.0, m.nv)


@pytest.mark.parametrize("name", urdf_names())
def test_rnea_inverts_aba_and_mass_matrix_is_spd(name: str, urdf_dir: Path) -> None:
    rng = np.random.default_rng(7)
    for floating in (False, True):
        try:
            m = Model.from_urdf(urdf_dir / name, floating_base=floating)
        except ValueError as e:
            # an arm rooted at a massless "world" link cannot float; that must be the reason
            assert floating and "has no mass" in str(e), e
            continue
        for _ in range(5):
            q, v, tau = _random_state(m, rng)
            ddq = m.aba(q, v, tau)
            assert np.allclose(m.rnea(q, v, ddq), tau, rtol=0, atol=1e-8 * max(1.0, np.abs(tau).max()))
            M = m.mass_matrix(q)
            assert np.allclose(M, M.T, rtol=0, atol=1e-12 * np.abs(M).max())
            assert np.linalg.eigvalsh(M).min() > 0
            # ABA agrees with the dense solve M^-1 (tau - h)
            h = m.rnea(q, v, np.zeros(m.nv))
            assert np.allclose(ddq, np.linalg.solve(M, tau - h), rtol=1e-7, atol=1e-7)


def _energy_drift(m: Model, q0: np.ndarray, v0: np.ndarray, dt: float, steps: int) -> tuple[float, float]:
    res = rollout(
        m,
        ZeroTorque(),
        profile="ideal",
        steps=steps,
        dt=dt,
        q0=q0,
        v0=v0,
        integrator="rk4",
        joint_limits=False,
        contact=False,
        record=False,
    )
    assert not res.metrics["diverged"][0]
    e0 = res.metrics["initial_mechanical_energy"][0]
    e1 = res.metrics["final_mechanical_energy"][0]
    return abs(e1 - e0), e0


@pytest.mark.parametrize("name", urdf_names())
def test_energy_is_conserved_to_integrator_accuracy(name: str, urdf_dir: Path) -> None:
    for floating in (False, True):
        try:
            m = Model.from_urdf(urdf_dir / name, floating_base=floating)
        except ValueError as e:
            assert floating and "has no mass" in str(e), e
            continue
        rng = np.random.default_rng(3)
        q0 = rng.uniform(-0.5, 0.5, m.nq)
        if floating:
            q0[3:7] /= np.linalg.norm(q0[3:7])
        v0 = rng.uniform(-0.5, 0.5, m.nv)
        kin, _ = m.energy(q0, v0)
        # energy scale: kinetic energy plus the work of gravity over 10 cm
        scale = kin + m.total_mass * 9.81 * 0.1
        coarse, _ = _energy_drift(m, q0, v0, 2e-3, 100)
        fine, _ = _energy_drift(m, q0, v0, 1e-3, 200)
        assert fine / scale < 1e-5, (floating, fine, scale)
        # fourth order: halving the step cuts the drift by ~16 (unless already at round-off)
        assert fine < 1e-9 * scale or coarse / fine > 6.0, (floating, coarse, fine)


@pytest.mark.parametrize("name", urdf_names())
def test_same_seed_replays_bit_for_bit(name: str, urdf_dir: Path) -> None:
    m = Model.from_urdf(urdf_dir / name)
    ctl = PD.critically_damped(m, bandwidth=10.0)
    runs = [
        rollout(m, ctl, profile="pseudo_reality_A", steps=60, dt=0.002, seed=42, episodes=3, threads=t)
        for t in (None, 1, None)
    ]
    for other in runs[1:]:
        for key in ("q", "v", "observations", "actions", "applied_torques"):
            assert np.array_equal(getattr(runs[0], key), getattr(other, key), equal_nan=True), key
        for key, val in runs[0].params.items():
            assert np.array_equal(val, other.params[key]), key
    different = rollout(m, ctl, profile="pseudo_reality_A", steps=60, dt=0.002, seed=43, episodes=3)
    assert not np.array_equal(runs[0].observations, different.observations)


PEND = Model.from_urdf_string(PENDULUM)


@settings(max_examples=60, deadline=None)
@given(
    q=st.floats(-3.0, 3.0),
    v=st.floats(-20.0, 20.0),
    tau=st.floats(-100.0, 100.0),
)
def test_pendulum_forward_dynamics_closed_form(q: float, v: float, tau: float) -> None:
    ddq = PEND.aba([q], [v], [tau])[0]
    inertia = 0.01 + 2.0 * 0.25
    assert ddq == pytest.approx((tau - 2.0 * 9.81 * 0.5 * np.sin(q)) / inertia, rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(np.float64, 3 * 7, elements=st.floats(-2.0, 2.0)),
)
def test_mass_matrix_is_rnea_columns_on_a_chain(x: np.ndarray) -> None:
    xml = "".join(
        [
            "<robot name='chain'><link name='l0'/>",
            *[
                f"<link name='l{i + 1}'><inertial><origin xyz='0.1 0.02 0.2'/><mass value='{1 + i}'/>"
                f"<inertia ixx='0.02' iyy='0.03' izz='0.01' ixy='0.001'/></inertial></link>"
                f"<joint name='j{i}' type='{'prismatic' if i == 3 else 'revolute'}'><parent link='l{i}'/>"
                f"<child link='l{i + 1}'/><origin xyz='0 0.1 0.3' rpy='0.3 {0.1 * i} 0.2'/>"
                f"<axis xyz='{i % 2} 1 {0.5 * i}'/></joint>"
                for i in range(7)
            ],
            "</robot>",
        ]
    )
    m = Model.from_urdf_string(xml)
    q, v = x[:7], x[7:14]
    M = m.mass_matrix(q)
    h = m.rnea(q, v, np.zeros(7))
    for j in range(7):
        e = np.zeros(7)
        e[j] = 1.0
        assert np.allclose(m.rnea(q, v, e) - h, M[:, j], atol=1e-10)

"""Cross-check rollouts against MuJoCo on iiwa (runs only when the `mujoco` bench extra is
installed). MuJoCo's Euler integrator is semi-implicit with implicit joint damping,
`(M + dt D) qdd = f(q, v)` then `v += dt qdd`, `q += dt v`: the same step as Ridgeline's default
integrator when the only velocity-linear term is joint damping (which Ridgeline solves as one
ABA pass with armature `dt D`). RK4 checks the explicit dynamics. No contact and Ridgeline's
joint-limit springs off, so both engines integrate the same ODE (they agree to about 1e-14 over
500 steps in which the arm falls by more than a radian)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ridgeline.sim import Model, ZeroTorque, rollout

mujoco = pytest.importorskip("mujoco")

DT, STEPS = 0.001, 500


def _damped_iiwa(urdf_dir: Path, tmp_path: Path, damping: float) -> Path:
    text = (urdf_dir / "iiwa.urdf").read_text()
    assert "<dynamics" not in text  # the data's iiwa has no damping of its own
    out = re.sub(r'(<joint[^>]*type="revolute"[^>]*>)', rf'\1<dynamics damping="{damping}"/>', text)
    path = tmp_path / "iiwa.urdf"
    path.write_text(out)
    return path


def _mujoco_states(path: Path, q0: np.ndarray, integrator: int) -> np.ndarray:
    model = mujoco.MjModel.from_xml_path(str(path))
    assert model.ngeom == 0 and model.nq == len(q0)
    model.opt.timestep = DT
    model.opt.integrator = integrator
    data = mujoco.MjData(model)
    data.qpos[:] = q0
    qs = [data.qpos.copy()]
    for _ in range(STEPS):
        mujoco.mj_step(model, data)
        qs.append(data.qpos.copy())
    return np.array(qs)


@pytest.mark.parametrize(
    ("integrator", "damping"),
    [("semi_implicit_euler", 0.0), ("semi_implicit_euler", 2.0), ("rk4", 0.0)],
)
def test_iiwa_rollout_matches_mujoco(urdf_dir: Path, tmp_path: Path, integrator: str, damping: float) -> None:
    path = _damped_iiwa(urdf_dir, tmp_path, damping)
    m = Model.from_urdf(path)
    q0 = np.linspace(-0.5, 0.5, m.nq)
    res = rollout(
        m,
        ZeroTorque(),
        profile="default",
        steps=STEPS,
        dt=DT,
        q0=q0,
        contact=False,
        joint_limits=False,
        integrator=integrator,
        threads=1,
    )
    ours = res.q[0]
    mj_int = mujoco.mjtIntegrator.mjINT_EULER if integrator != "rk4" else mujoco.mjtIntegrator.mjINT_RK4
    theirs = _mujoco_states(path, q0, mj_int)
    assert ours.shape == theirs.shape
    # the arm moves (by about a radian), and both engines agree to round-off growth
    assert np.max(np.abs(ours[-1] - q0)) > 0.5
    assert np.max(np.abs(ours - theirs)) < 1e-12

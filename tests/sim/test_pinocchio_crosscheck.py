"""Cross-check against Pinocchio on every real URDF, fixed and floating base (runs only when the
`pin` bench extra is installed). Pinocchio orders sibling joints by name (urdfdom keeps joints in a
sorted map) while Ridgeline follows the URDF document order, so vectors are permuted by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ridgeline.sim import Model

from .conftest import urdf_names

pin = pytest.importorskip("pinocchio")


@pytest.mark.parametrize("name", urdf_names())
def test_matches_pinocchio(name: str, urdf_dir: Path) -> None:
    path = str(urdf_dir / name)
    for floating in (False, True):
        try:
            m = Model.from_urdf(path, floating_base=floating)
        except ValueError as e:
            assert floating and "has no mass" in str(e)
            continue
        pm = (
            pin.buildModelFromUrdf(path, pin.JointModelFreeFlyer())
            if floating
            else pin.buildModelFromUrdf(path)
        )
        if pm.nq != m.nq:
            # Pinocchio stores a continuous joint as (cos, sin); skip those models
            assert "continuous" in m.native.actuated_joint_types
            continue
        pd = pm.createData()
        pin_names = [pm.names[i] for i in range(1, pm.njoints)]
        assert sorted(pin_names) == sorted(m.joint_names)
        base = 6 if floating else 0
        # our dof index for each Pinocchio dof
        ours = {n: i for i, n in enumerate(m.joint_names)}
        perm = list(range(base)) + [base + ours[n] - (1 if floating else 0) for n in pin_names[base and 1 :]]
        qbase = 7 if floating else 0
        qperm = list(range(qbase)) + [qbase + p - base for p in perm[base:]]
        rng = np.random.default_rng(11)
        for _ in range(4):
            q = rng.uniform(-1.0, 1.0, m.nq)
            if floating:
                q[3:7] /= np.linalg.norm(q[3:7])
            v, tau = rng.uniform(-1.0, 1.0, m.nv), rng.uniform(-5.0, 5.0, m.nv)
            qp, vp, tp = q[qperm], v[perm], tau[perm]
            want = pin.aba(pm, pd, qp, vp, tp).copy()
            got = m.aba(q, v, tau)[perm]
            assert np.max(np.abs(got - want)) <= 1e-9 * max(1.0, np.max(np.abs(want)))
            M = pin.crba(pm, pd, qp).copy()
            M = np.triu(M) + np.triu(M, 1).T
            assert np.allclose(m.mass_matrix(q)[np.ix_(perm, perm)], M, rtol=1e-9, atol=1e-10)

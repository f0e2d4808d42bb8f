"""The engine embeds in a plain Python program: no server code is imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .conftest import PENDULUM


def test_plain_program_uses_the_engine_without_server_imports() -> None:
    program = textwrap.dedent(
        """
        import sys
        import numpy as np
        from ridgeline.sim import Model, rollout, PD
        m = Model.from_urdf_string(sys.argv[1])
        assert (m.joint_names, m.nq, m.nv) == (["hinge"], 1, 1)
        ddq = m.aba(np.array([0.3]), np.zeros(1), np.zeros(1))
        assert np.allclose(m.rnea([0.3], [0.0], ddq), 0.0)
        assert m.mass_matrix([0.3]).shape == (1, 1)
        res = rollout(m, controller=PD(50.0, 5.0), profile="slippery_warehouse", steps=50, dt=0.002,
                      seed=42, episodes=8)
        assert res.q.shape == (8, 51, 1)
        for mod in ("litestar", "sqlalchemy", "granian", "msgspec"):
            assert mod not in sys.modules, mod
        print("ok")
        """
    )
    cmd = [sys.executable, "-c", program, PENDULUM]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

"""The dynamics match Pinocchio's golden data (ABA ddq, RNEA tau, CRBA mass matrix)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ridgeline.sim import Model

GOLDEN = ["double_pendulum", "iiwa", "panda", "ur5"]


def _rel(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-12))


@pytest.mark.parametrize("name", GOLDEN)
def test_matches_pinocchio_golden_data(name: str, golden_dir: Path, urdf_dir: Path) -> None:
    g = json.loads((golden_dir / f"{name}_aba_golden.json").read_text())
    m = Model.from_urdf(urdf_dir / g["urdf"])
    assert m.joint_names == g["joint_names"]
    assert (m.nq, m.nv) == (g["nq"], g["nv"])
    assert np.allclose(m.gravity, g["gravity"])
    assert len(g["cases"]) == 32
    for case in g["cases"]:
        q, v = np.array(case["q"]), np.array(case["v"])
        assert _rel(m.aba(q, v, case["tau"]), np.array(case["ddq"])) < 1e-9
        assert _rel(m.rnea(q, v, case["a"]), np.array(case["tau_rnea"])) < 1e-9
        assert _rel(m.mass_matrix(q), np.array(case["M"])) < 1e-9
        # the bias and gravity terms are RNEA with zero acceleration / velocity
        zero = np.zeros(m.nv)
        assert _rel(m.rnea(q, v, zero), np.array(case["nle"])) < 1e-9
        assert _rel(m.rnea(q, zero, zero), np.array(case["g"])) < 1e-9


def test_batched_calls_equal_single_calls(golden_dir: Path, urdf_dir: Path) -> None:
    g = json.loads((golden_dir / "panda_aba_golden.json").read_text())
    m = Model.from_urdf(urdf_dir / g["urdf"])
    q = np.array([c["q"] for c in g["cases"]])
    v = np.array([c["v"] for c in g["cases"]])
    tau = np.array([c["tau"] for c in g["cases"]])
    a = np.array([c["a"] for c in g["cases"]])
    ddq = m.aba_batch(q, v, tau)
    tau_rnea = m.rnea_batch(q, v, a, threads=1)
    for i in range(len(q)):
        assert np.array_equal(ddq[i], m.aba(q[i], v[i], tau[i]))
        assert np.array_equal(tau_rnea[i], m.rnea(q[i], v[i], a[i]))
    assert _rel(ddq, np.array([c["ddq"] for c in g["cases"]])) < 1e-9

"""G_dyn and G_perf under closed-loop control (the same controller and reference under each profile):
an arm on a profile that only changes the floor has almost no dynamics gap, and a wheeled robot whose
wheels spin on a slippery floor scores worse, not better."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.sim.api_helpers import SIM

pytestmark = pytest.mark.db


def _import(c: Any, path: Path, floating_base: bool) -> str:
    r = c.post(
        f"{SIM}/api/assets/import",
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
        data={"floating_base": "true" if floating_base else "false"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _evaluate(c: Any, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    batch = c.post(f"{SIM}/api/sim/batch", json=body)
    assert batch.status_code == 200 and batch.json()["status"] == "SUCCEEDED", batch.text
    ev = c.get(f"{SIM}/api/sim/batch/{batch.json()['batch_id']}/evaluate").json()
    return {p["profile"]: p for p in ev["profiles"]}


def test_an_arm_under_a_floor_friction_profile_has_almost_no_dynamics_gap(
    make_client, urdf_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    aid = _import(c, urdf_dir / "iiwa.urdf", floating_base=False)
    by = _evaluate(
        c,
        {
            "urdf_path": aid,
            "profiles": ["default", "slippery_warehouse", "pseudo_reality_A"],
            "steps": 1000,
            "dt": 0.002,
            "seed": 0,
            "dr_episodes_per_profile": 4,
            "reference": {"kind": "sinusoid", "amplitude": 0.3, "frequency": 0.5},
        },
    )
    # slippery_warehouse changes the floor (which a fixed arm never touches) plus a +-5 % mass and
    # +-20 % damping spread, light sensor noise and up to 4 ms of actuator latency: the PD absorbs
    # them (open-loop replay of the baseline's torques gave G_dyn 5.6 here)
    slippery = by["slippery_warehouse"]["G_dyn"]["estimate"]
    assert 0 < slippery < 0.05
    # a profile that really changes the arm's dynamics shows a much larger gap
    assert by["pseudo_reality_A"]["G_dyn"]["estimate"] > 10 * slippery


def test_wheels_spinning_on_a_slippery_floor_do_not_score_better(make_client, urdf_dir: Path) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    aid = _import(c, urdf_dir / "husky_husky.urdf", floating_base=True)
    body = {
        "urdf_path": aid,
        "profiles": ["default", "slippery_warehouse"],
        "steps": 1500,
        "dt": 0.002,
        "seed": 0,
        "dr_episodes_per_profile": 4,
        # the wheels drive back and forth (3 rad amplitude): with grip the body follows
        "reference": {"kind": "sinusoid", "amplitude": 3.0, "frequency": 0.5},
    }
    by = _evaluate(c, body)
    slip = by["slippery_warehouse"]
    # the wheels track their reference about as well as with grip (spinning is easy) ...
    rmse = {d["metric"]: d for d in slip["drops"]}["tracking_rmse"]
    assert abs(rmse["relative_drop"]) < 0.1
    # ... but the body goes nowhere: the slippery floor ranks worse than the baseline
    assert slip["G_perf"]["estimate"] > 0.5 and slip["G_perf"]["ci_low"] > 0
    assert slip["G_perf"]["estimate"] > by["default"]["G_perf"]["estimate"] == 0.0
    assert slip["G_dyn"]["estimate"] > 0.05

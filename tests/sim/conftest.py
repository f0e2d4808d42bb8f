from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SIM_DATA = PROJECT_ROOT.parent / "shared" / "data" / "sim"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real sim data not found at {path} (tests on real URDFs need ../shared/data)")
    return path


@pytest.fixture(scope="session")
def urdf_dir() -> Path:
    return _need(SIM_DATA / "urdf")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return _need(SIM_DATA / "golden")


def urdf_names() -> list[str]:
    d = SIM_DATA / "urdf"
    names = sorted(p.name for p in d.glob("*.urdf")) if d.is_dir() else []
    # go1.urdf is a known-bad model (non positive-definite inertia), tested on its own
    return [n for n in names if n != "go1.urdf"] or ["<no data>"]


PENDULUM = """<robot name="pendulum">
  <link name="base"/>
  <link name="arm"><inertial><origin xyz="0 0 -0.5"/><mass value="2.0"/>
    <inertia ixx="0.01" iyy="0.02" izz="0.03" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="hinge" type="revolute"><parent link="base"/><child link="arm"/>
    <origin xyz="0 0 1"/><axis xyz="1 0 0"/>
    <limit lower="-3" upper="3" effort="50" velocity="5"/><dynamics damping="0.1"/></joint>
</robot>"""

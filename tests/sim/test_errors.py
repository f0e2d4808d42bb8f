"""Bad models and bad arguments get clear errors naming the link or joint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ridgeline.sim import PD, Model, rollout

from .conftest import PENDULUM

INERTIAL = "<inertial><mass value='1'/><inertia ixx='1' iyy='1' izz='1'/></inertial>"


def test_go1_inertia_is_rejected_naming_the_link(urdf_dir: Path) -> None:
    for floating in (False, True):
        with pytest.raises(ValueError, match=r"link 'base'.*not positive definite"):
            Model.from_urdf(urdf_dir / "go1.urdf", floating_base=floating)


def test_cycle_is_rejected_naming_a_joint() -> None:
    xml = f"""<robot name='loop'><link name='r'/>
      <link name='a'>{INERTIAL}</link><link name='b'>{INERTIAL}</link>
      <joint name='r_a' type='revolute'><parent link='r'/><child link='a'/></joint>
      <joint name='a_b' type='revolute'><parent link='a'/><child link='b'/></joint>
      <joint name='b_a' type='revolute'><parent link='b'/><child link='a'/></joint></robot>"""
    with pytest.raises(ValueError, match=r"link 'a'.*two parent joints 'r_a' and 'b_a'"):
        Model.from_urdf_string(xml)
    pure_cycle = f"""<robot name='loop'><link name='a'>{INERTIAL}</link><link name='b'>{INERTIAL}</link>
      <joint name='a_b' type='revolute'><parent link='a'/><child link='b'/></joint>
      <joint name='b_a' type='revolute'><parent link='b'/><child link='a'/></joint></robot>"""
    with pytest.raises(ValueError, match=r"kinematic cycle: joint '(a_b|b_a)'"):
        Model.from_urdf_string(pure_cycle)
    detached_cycle = f"""<robot name='loop'><link name='r'>{INERTIAL}</link>
      <link name='a'>{INERTIAL}</link><link name='b'>{INERTIAL}</link>
      <joint name='a_b' type='revolute'><parent link='a'/><child link='b'/></joint>
      <joint name='b_a' type='revolute'><parent link='b'/><child link='a'/></joint></robot>"""
    with pytest.raises(ValueError, match=r"kinematic cycle: joint '(a_b|b_a)'"):
        Model.from_urdf_string(detached_cycle)


def test_missing_parent_is_rejected() -> None:
    xml = f"""<robot name='x'><link name='a'>{INERTIAL}</link><link name='b'>{INERTIAL}</link>
      <joint name='hip' type='revolute'><parent link='pelvis'/><child link='b'/></joint></robot>"""
    with pytest.raises(ValueError, match=r"joint 'hip' refers to parent link 'pelvis', which is not defined"):
        Model.from_urdf_string(xml)
    xml = (
        f"<robot name='x'><link name='a'>{INERTIAL}</link>"
        "<joint name='knee' type='fixed'><child link='a'/></joint></robot>"
    )
    with pytest.raises(ValueError, match=r"joint 'knee'.*missing <parent"):
        Model.from_urdf_string(xml)


def test_unknown_joint_type_is_rejected() -> None:
    xml = f"""<robot name='x'><link name='a'>{INERTIAL}</link><link name='b'>{INERTIAL}</link>
      <joint name='elbow' type='ball'><parent link='a'/><child link='b'/></joint></robot>"""
    with pytest.raises(ValueError, match=r"joint 'elbow' has unknown type 'ball'"):
        Model.from_urdf_string(xml)


def test_malformed_xml_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"malformed URDF XML"):
        Model.from_urdf_string("<robot name='x'><link name='a'></robot>")
    with pytest.raises(ValueError, match=r"expected <robot>"):
        Model.from_urdf_string("<sdf/>")
    with pytest.raises(ValueError, match=r"link 'a' <mass> attribute 'value': 'heavy' is not a number"):
        Model.from_urdf_string(
            "<robot name='x'><link name='a'><inertial><mass value='heavy'/></inertial></link></robot>"
        )


def test_bad_values_name_the_joint_or_link() -> None:
    xml = f"""<robot name='x'><link name='a'>{INERTIAL}</link><link name='b'>{INERTIAL}</link>
      <joint name='j' type='revolute'><parent link='a'/><child link='b'/>
      <axis xyz='0 0 0'/></joint></robot>"""
    with pytest.raises(ValueError, match=r"joint 'j': axis is the zero vector"):
        Model.from_urdf_string(xml)
    with pytest.raises(ValueError, match=r"link 'a': negative mass"):
        Model.from_urdf_string(
            "<robot name='x'><link name='a'><inertial><mass value='-1'/></inertial></link></robot>"
        )
    xml = """<robot name='x'><link name='a'/><link name='b'/>
      <joint name='dangling' type='revolute'><parent link='a'/><child link='b'/></joint></robot>"""
    with pytest.raises(ValueError, match=r"joint 'dangling': the mass matrix is singular"):
        Model.from_urdf_string(xml)
    with pytest.raises(ValueError, match="could not read"):
        Model.from_urdf("/nonexistent/robot.urdf")


def test_bad_arguments_raise_value_errors() -> None:
    m = Model.from_urdf_string(PENDULUM)
    with pytest.raises(ValueError, match=r"q: expected length 1, got 2"):
        m.aba([0.0, 1.0], [0.0], [0.0])
    with pytest.raises(ValueError, match=r"tau: expected length 1"):
        m.aba([0.0], [0.0], [])
    with pytest.raises(ValueError, match=r"expected shape \(N, 1\)"):
        m.aba_batch(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"unknown reality profile 'moon'.*slippery_warehouse"):
        rollout(m, PD(1.0, 1.0), profile="moon", steps=3)
    with pytest.raises(ValueError, match=r"kp: expected length 1 .*got 2"):
        rollout(m, PD([1.0, 2.0], 1.0), steps=3)
    with pytest.raises(ValueError, match=r"q0: expected length 1, got 3"):
        rollout(m, PD(1.0, 1.0), steps=3, q0=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"dt must be positive"):
        rollout(m, PD(1.0, 1.0), steps=3, dt=0.0)
    with pytest.raises(ValueError, match=r"unknown integrator"):
        rollout(m, PD(1.0, 1.0), steps=3, integrator="verlet")

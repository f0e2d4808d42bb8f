"""Built-in example robots and named scenarios, so the service works on a fresh clone with no data.

``examples/simple_robot.urdf`` (the path the contract's batch example uses) is a two-link planar arm
(shoulder and elbow pitch about y, 1 kg and 0.6 kg aluminium-like links). ``examples/pendulum.urdf``
is a single pendulum. A scenario is a named robot plus a :class:`~ridgeline.sim.runspec.RunSpec`.
"""

from __future__ import annotations

import msgspec

from ridgeline.sim.runspec import ControllerSpec, ReferenceSpec, RunSpec

SIMPLE_ROBOT_URDF = """<?xml version="1.0"?>
<robot name="simple_robot">
  <link name="base_link">
    <inertial>
      <origin xyz="0 0 0.05" rpy="0 0 0"/>
      <mass value="2.0"/>
      <inertia ixx="0.0067" ixy="0" ixz="0" iyy="0.0067" iyz="0" izz="0.01"/>
    </inertial>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="base_link"/>
    <child link="upper_arm"/>
    <origin xyz="0 0 0.1" rpy="0 0 0"/>
    <axis xyz="0 1 0"/>
    <limit lower="-2.8" upper="2.8" effort="60" velocity="4"/>
    <dynamics damping="0.05" friction="0.01"/>
  </joint>
  <link name="upper_arm">
    <inertial>
      <origin xyz="0 0 0.2" rpy="0 0 0"/>
      <mass value="1.0"/>
      <inertia ixx="0.0137" ixy="0" ixz="0" iyy="0.0137" iyz="0" izz="0.0005"/>
    </inertial>
  </link>
  <joint name="elbow" type="revolute">
    <parent link="upper_arm"/>
    <child link="forearm"/>
    <origin xyz="0 0 0.4" rpy="0 0 0"/>
    <axis xyz="0 1 0"/>
    <limit lower="-2.8" upper="2.8" effort="30" velocity="4"/>
    <dynamics damping="0.03" friction="0.01"/>
  </joint>
  <link name="forearm">
    <inertial>
      <origin xyz="0 0 0.15" rpy="0 0 0"/>
      <mass value="0.6"/>
      <inertia ixx="0.0046" ixy="0" ixz="0" iyy="0.0046" iyz="0" izz="0.0002"/>
    </inertial>
  </link>
</robot>
"""

PENDULUM_URDF = """<?xml version="1.0"?>
<robot name="pendulum">
  <link name="base_link">
    <inertial>
      <origin xyz="0 0 0" rpy="0 0 0"/>
      <mass value="1.0"/>
      <inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.001"/>
    </inertial>
  </link>
  <joint name="hinge" type="continuous">
    <parent link="base_link"/>
    <child link="bob"/>
    <origin xyz="0 0 0" rpy="0 0 0"/>
    <axis xyz="0 1 0"/>
    <dynamics damping="0.01" friction="0.0"/>
  </joint>
  <link name="bob">
    <inertial>
      <origin xyz="0 0 -0.5" rpy="0 0 0"/>
      <mass value="0.5"/>
      <inertia ixx="0.0001" ixy="0" ixz="0" iyy="0.0001" iyz="0" izz="0.0001"/>
    </inertial>
  </link>
</robot>
"""

EXAMPLE_ROBOTS: dict[str, str] = {
    "examples/simple_robot.urdf": SIMPLE_ROBOT_URDF,
    "examples/pendulum.urdf": PENDULUM_URDF,
}


class Scenario(msgspec.Struct, kw_only=True):
    """A named, ready-to-run simulation setup."""

    name: str
    description: str
    robot: str
    spec: RunSpec


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="arm_tracking",
            description="Two-link arm tracks a 0.5 Hz sinusoid with critically damped PD (nominal reality).",
            robot="examples/simple_robot.urdf",
            spec=RunSpec(steps=500, dt=0.002),
        ),
        Scenario(
            name="arm_hold_slippery",
            description="Two-link arm holds its pose under the slippery_warehouse profile, 4 DR episodes.",
            robot="examples/simple_robot.urdf",
            spec=RunSpec(
                steps=500,
                dt=0.002,
                profile="slippery_warehouse",
                episodes=4,
                reference=ReferenceSpec(kind="hold"),
            ),
        ),
        Scenario(
            name="arm_tracking_pseudo_reality",
            description="Two-link arm tracks a sinusoid under pseudo_reality_A (sensor noise, latency, "
            "mass errors), 8 DR episodes.",
            robot="examples/simple_robot.urdf",
            spec=RunSpec(steps=500, dt=0.002, profile="pseudo_reality_A", episodes=8),
        ),
        Scenario(
            name="pendulum_swing",
            description="Passive pendulum released from rest at 1 rad (zero torque) for 2 s.",
            robot="examples/pendulum.urdf",
            spec=RunSpec(steps=1000, dt=0.002, initial_q=[1.0], controller=ControllerSpec(kind="zero")),
        ),
    )
}

"""ridgeline.sim: rigid-body simulation on the native core, embeddable without any server.

```python
from ridgeline.sim import Model, rollout, PD
m = Model.from_urdf("iiwa.urdf")
m.aba(q, v, tau); m.rnea(q, v, a); m.mass_matrix(q)
res = rollout(m, controller=PD(100.0, 10.0), profile="slippery_warehouse", steps=500, dt=0.002,
              seed=42, episodes=8)
```
"""

from ridgeline._native import RolloutHandle
from ridgeline.sim.control import PD, ComputedTorque, Controller, OpenLoop, Reference, ZeroTorque
from ridgeline.sim.model import MAX_RECORDED_BYTES, POSES, FieldError, Model
from ridgeline.sim.profiles import Profile, profile_names, reality_profiles
from ridgeline.sim.rollout import INTEGRATORS, RolloutResult, rollout

__all__ = [
    "INTEGRATORS",
    "MAX_RECORDED_BYTES",
    "PD",
    "POSES",
    "ComputedTorque",
    "Controller",
    "FieldError",
    "Model",
    "OpenLoop",
    "Profile",
    "Reference",
    "RolloutHandle",
    "RolloutResult",
    "ZeroTorque",
    "profile_names",
    "reality_profiles",
    "rollout",
]

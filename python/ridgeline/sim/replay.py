"""Replay bundles: one run's per-step states, observations and actions, compact and self-contained.

Format ``ridgeline-replay/1`` is a NumPy ``.npz`` archive (a ZIP of ``.npy`` arrays, readable with
nothing but NumPy, ``numpy.load``). Each entry is deflate-compressed (level 1) when a sample of it
compresses to less than :data:`COMPRESS_IF_BELOW` of its size, and stored otherwise: float64
trajectories of a moving robot barely compress (about 96 % of their size at deflate level 6, which
took 0.7 s for 16,000 iiwa steps, twelve times the rollout), while hold tasks and NaN tails do.

| entry | dtype, shape | meaning |
|---|---|---|
| ``meta`` | uint8 ``(n,)`` | UTF-8 JSON: ``format``, ``profile``, ``seed``, ``dt``, ``steps``, ``episodes``, ``cancelled``, ``joint_names``, ``nq``, ``nv``, ``n_actuated``, ``spec`` (the :class:`RunSpec`), ``urdf`` (the robot's URDF text) and ``urdf_sha256`` |
| ``q`` | float64 ``(E, steps + 1, nq)`` | true joint positions, row 0 the initial state |
| ``v`` | float64 ``(E, steps + 1, nv)`` | true joint velocities |
| ``observations`` | float64 ``(E, steps, nq + nv)`` | what the controller saw (sensor noise, delay, quantisation) |
| ``actions`` | float64 ``(E, steps, n_actuated)`` | commanded torques |
| ``applied_torques`` | float64 ``(E, steps, n_actuated)`` | torques the actuators delivered (gain, latency, limits) |
| ``steps_completed`` | int64 ``(E,)`` | steps each episode ran (less than ``steps`` after divergence or cancel; later rows are NaN) |
| ``metric_<name>`` | ``(E,)`` | the engine's per-episode metrics (tracking_rmse, energy, success, diverged, ...) |
| ``param_<name>`` | float64 ``(E, ...)`` | the reality parameters each episode sampled |

Step ``t`` of episode ``e`` pairs state ``(q[e, t], v[e, t])`` with ``observations[e, t]``,
``actions[e, t]`` and ``applied_torques[e, t]``, which lead to ``(q[e, t + 1], v[e, t + 1])``.
Arrays stay float64 so a bundle reproduces the engine's numbers exactly; :func:`rerun` re-executes
the embedded spec on the embedded URDF and gives bit-identical arrays on the same machine.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from ridgeline.platform.hashing import sha256_hex
from ridgeline.sim.model import Model
from ridgeline.sim.rollout import RolloutResult
from ridgeline.sim.runspec import RunSpec, execute

FORMAT = "ridgeline-replay/1"
#: an entry is deflated when its sample compresses below this fraction of its size
COMPRESS_IF_BELOW = 0.8
_SAMPLE = 1 << 18  # bytes of each entry test-compressed to decide
MEDIA_TYPE = "application/x-ridgeline-replay+npz"
_ARRAYS = ("q", "v", "observations", "actions", "applied_torques")


class ReplayError(ValueError):
    pass


@dataclass(frozen=True)
class Replay:
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    metrics: dict[str, np.ndarray]
    params: dict[str, np.ndarray]

    @property
    def episodes(self) -> int:
        return int(self.meta["episodes"])

    @property
    def steps(self) -> int:
        return int(self.meta["steps"])

    @property
    def spec(self) -> RunSpec:
        return msgspec.convert(self.meta["spec"], RunSpec)

    def step(self, step_index: int, episode: int = 0) -> dict[str, Any]:
        """One step of one episode: the state before it, what was observed, commanded and applied,
        and the state after it. Raises ``IndexError`` outside the recorded range."""
        if not 0 <= episode < self.episodes:
            raise IndexError(f"episode {episode} out of range (0..{self.episodes - 1})")
        if not 0 <= step_index < self.steps:
            raise IndexError(f"step_index {step_index} out of range (0..{self.steps - 1})")
        a = self.arrays
        done = int(self.arrays["steps_completed"][episode])

        def row(name: str, i: int) -> list[float | None]:
            return [None if not np.isfinite(x) else float(x) for x in a[name][episode, i]]

        return {
            "episode": episode,
            "step_index": step_index,
            "t": step_index * float(self.meta["dt"]),
            "completed": step_index < done,
            "q": row("q", step_index),
            "v": row("v", step_index),
            "observation": row("observations", step_index),
            "action": row("actions", step_index),
            "applied_torque": row("applied_torques", step_index),
            "next_q": row("q", step_index + 1),
            "next_v": row("v", step_index + 1),
        }


def encode(result: RolloutResult, model: Model, spec: RunSpec, urdf: str) -> bytes:
    """Serialise a recorded rollout (``record=True``) into a bundle."""
    if result.q is None:
        raise ReplayError("the rollout was not recorded (record=False)")
    meta = {
        "format": FORMAT,
        "profile": result.profile,
        "seed": result.seed,
        "dt": result.dt,
        "steps": result.steps,
        "episodes": result.episodes,
        "cancelled": result.cancelled,
        "robot": model.name,
        "joint_names": model.joint_names,
        "nq": model.nq,
        "nv": model.nv,
        "n_actuated": model.n_actuated,
        "spec": msgspec.to_builtins(spec),
        "urdf": urdf,
        "urdf_sha256": sha256_hex(urdf),
    }
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        "steps_completed": np.asarray(result.steps_completed, dtype=np.int64),
    }
    for name in _ARRAYS:
        arrays[name] = np.asarray(getattr(result, name))
    for name, value in result.metrics.items():
        arrays[f"metric_{name}"] = np.asarray(value)
    for name, value in result.params.items():
        arrays[f"param_{name}"] = np.asarray(value)
    return _npz(arrays)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` (what ``numpy.savez`` writes), deflating only the entries it pays for."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", allowZip64=True) as zf:
        for name, arr in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(arr), allow_pickle=False)
            data = npy.getbuffer()
            sample = bytes(data[:_SAMPLE])
            deflate = len(zlib.compress(sample, 1)) < COMPRESS_IF_BELOW * len(sample)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            zf.writestr(info, data, compresslevel=1 if deflate else None)
    return buf.getvalue()


def decode(data: bytes) -> Replay:
    """Read a bundle; raises :class:`ReplayError` when it is not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            raw = {k: z[k] for k in z.files}
        meta = json.loads(raw.pop("meta").tobytes().decode())
    except Exception as exc:
        raise ReplayError(f"not a replay bundle: {exc}") from None
    if meta.get("format") != FORMAT:
        raise ReplayError(f"unsupported replay format {meta.get('format')!r} (expected {FORMAT})")
    arrays = {k: raw[k] for k in (*_ARRAYS, "steps_completed")}
    metrics = {k[len("metric_") :]: v for k, v in raw.items() if k.startswith("metric_")}
    params = {k[len("param_") :]: v for k, v in raw.items() if k.startswith("param_")}
    return Replay(meta=meta, arrays=arrays, metrics=metrics, params=params)


def rerun(replay: Replay) -> RolloutResult:
    """Re-execute the bundle's spec on its URDF (bit-identical on the same machine)."""
    model = Model.from_urdf_string(replay.meta["urdf"], floating_base=replay.spec.floating_base)
    return execute(model, replay.spec)


__all__ = ["FORMAT", "MEDIA_TYPE", "Replay", "ReplayError", "decode", "encode", "rerun"]

"""Simulation hot paths, side by side with Pinocchio (`pin`) and MuJoCo (`mujoco`).

Run (not part of the test suite):

    .venv/bin/python -m pytest bench/test_bench_sim.py -s

(not ``--benchmark-only``: that would skip the final test, which prints the summary).

* ABA per call from Python on iiwa, panda (fixed base) and atlas (free-flyer): Ridgeline's
  ``Model.aba`` against ``pinocchio.aba`` on the same states.
* Batched ABA: N states in one ``aba_batch`` call (all cores, and one thread) against a Python
  loop of ``pinocchio.aba`` (Pinocchio's Python API has no batch call); reported per state.
* Rollout steps per second on iiwa without contacts (passive, dt = 2 ms): Ridgeline's batched
  ``rollout`` (all cores, and one thread) against MuJoCo's single-threaded C rollout
  (``mujoco.rollout.rollout`` with one MjData) over the same number of environments and steps;
  the summary also gives the all-cores figure per core (``threads`` budget = all cores divided
  by the core count) against MuJoCo's one thread.
* Engine steps per second for iiwa (PD, no contact) and Atlas (floating base standing on the
  ground under the default controller, contact on), recorded and not, one thread.

The last test prints the figures and ratios, from the best (minimum) round of each benchmark:
on a shared machine the minimum is the least disturbed by other tenants, and both sides are
measured the same way. Needs ../shared/data/sim/urdf.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ridgeline.sim import Model, ZeroTorque, rollout

try:  # each peer is needed only by its own benchmarks
    import pinocchio as pin
except ImportError:  # pragma: no cover
    pin = None
try:
    import mujoco
    from mujoco import rollout as mj_rollout
except ImportError:  # pragma: no cover
    mujoco = mj_rollout = None

needs_pin = pytest.mark.skipif(pin is None, reason="pinocchio (`pin`) not installed")
needs_mujoco = pytest.mark.skipif(mujoco is None, reason="mujoco not installed")

URDF = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sim" / "urdf"
if not URDF.is_dir():
    pytest.skip(f"real URDFs not found at {URDF}", allow_module_level=True)

ROBOTS = {"iiwa": False, "panda": False, "atlas": True}  # name -> floating base
BATCH = 4096
ENVS, STEPS, DT = 64, 1000, 0.002
RESULTS: dict[str, float] = {}


def _states(m: Model, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = rng.uniform(-1.0, 1.0, (n, m.nq))
    if m.floating_base:
        q[:, 3:7] /= np.linalg.norm(q[:, 3:7], axis=1, keepdims=True)
    return q, rng.uniform(-1.0, 1.0, (n, m.nv)), rng.uniform(-5.0, 5.0, (n, m.nv))


def _pin_model(name: str) -> Any:
    path = str(URDF / f"{name}.urdf")
    return (
        pin.buildModelFromUrdf(path, pin.JointModelFreeFlyer())
        if ROBOTS[name]
        else pin.buildModelFromUrdf(path)
    )


def _ours(name: str) -> Model:
    return Model.from_urdf(URDF / f"{name}.urdf", floating_base=ROBOTS[name])


def _record(benchmark: Any, key: str, per: int = 1) -> None:
    RESULTS[key] = benchmark.stats.stats.min / per


@pytest.mark.parametrize("name", list(ROBOTS))
def test_aba_single_ridgeline(benchmark: Any, name: str) -> None:
    m = _ours(name)
    q, v, tau = (x[0].copy() for x in _states(m, 1))
    benchmark.group = f"aba single {name}"
    benchmark(m.aba, q, v, tau)
    _record(benchmark, f"aba_single/{name}/ridgeline")


@needs_pin
@pytest.mark.parametrize("name", list(ROBOTS))
def test_aba_single_pinocchio(benchmark: Any, name: str) -> None:
    pm = _pin_model(name)
    pd = pm.createData()
    m = _ours(name)
    q, v, tau = (x[0].copy() for x in _states(m, 1))
    # same model (joint order aside): the answers agree when the orders coincide
    if [pm.names[i] for i in range(1, pm.njoints)] == m.joint_names:
        assert np.allclose(pin.aba(pm, pd, q, v, tau), m.aba(q, v, tau), rtol=1e-9, atol=1e-9)
    benchmark.group = f"aba single {name}"
    benchmark(pin.aba, pm, pd, q, v, tau)
    _record(benchmark, f"aba_single/{name}/pinocchio")


@pytest.mark.parametrize("threads", [None, 1])
@pytest.mark.parametrize("name", list(ROBOTS))
def test_aba_batch_ridgeline(benchmark: Any, name: str, threads: int | None) -> None:
    m = _ours(name)
    q, v, tau = _states(m, BATCH)
    benchmark.group = f"aba batch {name}"
    benchmark(m.aba_batch, q, v, tau, threads)
    _record(benchmark, f"aba_batch/{name}/ridgeline_{'all' if threads is None else '1'}", BATCH)


@needs_pin
@pytest.mark.parametrize("name", list(ROBOTS))
def test_aba_batch_pinocchio_loop(benchmark: Any, name: str) -> None:
    pm = _pin_model(name)
    pd = pm.createData()
    m = _ours(name)
    q, v, tau = _states(m, BATCH)

    def loop() -> None:
        for i in range(BATCH):
            pin.aba(pm, pd, q[i], v[i], tau[i])

    benchmark.group = f"aba batch {name}"
    benchmark.pedantic(loop, rounds=5, iterations=1)
    _record(benchmark, f"aba_batch/{name}/pinocchio_loop", BATCH)


def _iiwa_initial(m: Model) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(-0.5, 0.5, m.nq), np.zeros(m.nv)


@pytest.mark.parametrize("threads", [None, 1])
def test_rollout_iiwa_ridgeline(benchmark: Any, threads: int | None) -> None:
    m = _ours("iiwa")
    q0, v0 = _iiwa_initial(m)

    def run() -> None:
        res = rollout(
            m,
            ZeroTorque(),
            profile="default",
            steps=STEPS,
            dt=DT,
            episodes=ENVS,
            q0=q0,
            v0=v0,
            contact=False,
            threads=threads,
        )
        assert not res.metrics["diverged"].any()

    benchmark.group = "rollout iiwa (steps/s)"
    benchmark.pedantic(run, rounds=5, iterations=1)
    RESULTS[f"rollout/ridgeline_{'all' if threads is None else '1'}"] = (
        ENVS * STEPS / benchmark.stats.stats.min
    )


@needs_mujoco
def test_rollout_iiwa_mujoco_single_thread(benchmark: Any) -> None:
    model = mujoco.MjModel.from_xml_path(str(URDF / "iiwa.urdf"))
    model.opt.timestep = DT
    assert model.ngeom == 0  # no contacts
    data = mujoco.MjData(model)
    m = _ours("iiwa")
    q0, _ = _iiwa_initial(m)
    data.qpos[:] = q0
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, state, spec)
    initial = np.tile(state, (ENVS, 1))

    def run() -> None:
        mj_rollout.rollout(model, data, initial, nstep=STEPS)

    benchmark.group = "rollout iiwa (steps/s)"
    benchmark.pedantic(run, rounds=5, iterations=1)
    RESULTS["rollout/mujoco_1"] = ENVS * STEPS / benchmark.stats.stats.min


@pytest.mark.parametrize("record", [False, True])
@pytest.mark.parametrize("name", ["iiwa", "atlas"])
def test_engine_steps_per_second(benchmark: Any, name: str, record: bool) -> None:
    m = _ours(name)
    steps, episodes = 2000, 8

    def run() -> None:
        res = rollout(m, steps=steps, dt=DT, episodes=episodes, record=record, threads=1)
        assert not res.metrics["diverged"].any()

    benchmark.group = f"engine {name} (steps/s)"
    benchmark.pedantic(run, rounds=3, iterations=1)
    RESULTS[f"engine/{name}/{'recorded' if record else 'metrics'}"] = (
        steps * episodes / benchmark.stats.stats.min
    )


@pytest.fixture(scope="module")
def api_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The sim family behind a real app (SQLite, in-process jobs), iiwa and atlas imported."""
    from litestar.testing import TestClient

    from ridgeline.app import create_app, load_family
    from ridgeline.platform.settings import Settings

    s = Settings(
        data_dir=tmp_path_factory.mktemp("bench-sim") / "var", seed_defaults=False, log_level="WARNING"
    )
    with TestClient(create_app(s, families=[load_family("sim")])) as c:
        ids = {}
        for name, fb in (("iiwa", False), ("atlas", True)):
            path = URDF / f"{name}.urdf"
            r = c.post(
                "/sim/api/assets/import",
                files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
                data={"floating_base": "true" if fb else "false"},
            )
            assert r.status_code == 201, r.text
            ids[name] = r.json()["id"]
        c.ids = ids  # type: ignore[attr-defined]
        yield c


@pytest.mark.parametrize("record", [False, True])
@pytest.mark.parametrize("name", ["iiwa", "atlas"])
def test_api_steps_per_second(api_client: Any, name: str, record: bool) -> None:
    """POST /v1/runs (waited for) with the engine benchmark's work: steps/s of the whole request
    (validation, job, rollout on the job's thread budget, metrics, replay compression and storage)
    against the rollout call inside it (``metrics.wall_time_ms``)."""
    import time

    steps, episodes = 2000, 8
    best = engine = float("inf")
    for _ in range(3):
        body = {
            "config": {
                "robot": api_client.ids[name],
                "steps": steps,
                "episodes": episodes,
                "dt": DT,
                "record": record,
                "reference": {"kind": "hold"},
            },
            "options": {"wait": True},
        }
        t0 = time.perf_counter()
        r = api_client.post("/sim/v1/runs", json=body)
        wall = time.perf_counter() - t0
        assert r.status_code == 201 and r.json()["status"] == "SUCCEEDED", r.text
        assert r.json()["run"]["metrics"]["divergence_rate"] == 0
        best = min(best, wall)
        engine = min(engine, r.json()["run"]["metrics"]["wall_time_ms"] / 1e3)
    key = f"api/{name}/{'recorded' if record else 'metrics'}"
    RESULTS[key] = steps * episodes / best
    RESULTS[key + "/engine_in_api"] = steps * episodes / engine


def test_print_summary() -> None:
    r = RESULTS
    lines = ["", "Ridgeline sim benchmark (best round; lower time / higher steps/s is better)"]
    for name in ROBOTS:
        ours, peer = r.get(f"aba_single/{name}/ridgeline"), r.get(f"aba_single/{name}/pinocchio")
        if ours and peer:
            lines.append(
                f"  ABA single {name:6s}: ridgeline {ours * 1e6:7.3f} us  pinocchio {peer * 1e6:7.3f} us"
                f"  ratio ridgeline/pinocchio {ours / peer:5.2f} (target <= 1.5)"
            )
    for name in ROBOTS:
        a, one, p = (
            r.get(f"aba_batch/{name}/{k}") for k in ("ridgeline_all", "ridgeline_1", "pinocchio_loop")
        )
        if a and one and p:
            lines.append(
                f"  ABA batch {name:6s} per state: ridgeline all cores {a * 1e6:7.3f} us,"
                f" 1 thread {one * 1e6:7.3f} us; pinocchio python loop {p * 1e6:7.3f} us"
                f"  ratio(1 thread / pinocchio) {one / p:5.2f}"
            )
    ra, r1, mj = (r.get(k) for k in ("rollout/ridgeline_all", "rollout/ridgeline_1", "rollout/mujoco_1"))
    if ra and r1 and mj:
        lines.append(
            f"  rollout iiwa {ENVS} envs x {STEPS} steps: ridgeline all cores {ra:,.0f} steps/s,"
            f" 1 thread {r1:,.0f} steps/s; mujoco 1 thread {mj:,.0f} steps/s"
            f"  ratio(batched / mujoco) {ra / mj:5.2f} (target >= 1)"
        )
    if ra and mj:
        cores = os.cpu_count() or 1
        lines.append(
            f"  rollout iiwa per core ({cores} cores): ridgeline {ra / cores:,.0f} steps/s/core;"
            f" mujoco 1 thread {mj:,.0f}  ratio {ra / cores / mj:5.2f} (goal >= 2)"
        )
    for name in ("iiwa", "atlas"):
        a, b = r.get(f"engine/{name}/metrics"), r.get(f"engine/{name}/recorded")
        if a and b:
            lines.append(
                f"  engine {name} 1 thread, default controller: {a:,.0f} steps/s (metrics only),"
                f" {b:,.0f} steps/s (recorded)"
            )
    for name in ("iiwa", "atlas"):
        for kind in ("metrics", "recorded"):
            api, inner = r.get(f"api/{name}/{kind}"), r.get(f"api/{name}/{kind}/engine_in_api")
            alone = r.get(f"engine/{name}/{kind}")
            if api and inner:
                lines.append(
                    f"  API /v1/runs {name} {kind:8s}: {api:,.0f} steps/s per request; its rollout"
                    f" {inner:,.0f} steps/s (job thread budget)"
                    + (f"; engine alone 1 thread {alone:,.0f}" if alone else "")
                )
    print("\n".join(lines))
    assert len(lines) > 2

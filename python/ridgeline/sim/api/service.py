"""The sim family's service: state shared by its modules (caches, robot resolution, model checks,
running rollouts and their cancellation).

One :class:`SimService` per process is the family's declared service (``svc: Service[SimService]``
in handlers, ``ctx.service(SimService)`` in jobs). The use cases live with their handlers in
``assets``, ``design``, ``runs``, ``batches``, ``jobs``, ``evaluation``, ``plan`` and ``webhooks``;
every query is in ``store``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import JobContext
from ridgeline.platform.problems import NotFound
from ridgeline.sim import MAX_RECORDED_BYTES, Model, RolloutHandle, reality_profiles
from ridgeline.sim import replay as replay_format
from ridgeline.sim.api import schemas, store
from ridgeline.sim.api.errors import REASON_CODES
from ridgeline.sim.api.store import new_id, now  # noqa: F401  (the family's clock and ids)
from ridgeline.sim.api.validation import check_spec
from ridgeline.sim.examples import EXAMPLE_ROBOTS
from ridgeline.sim.rollout import RolloutResult
from ridgeline.sim.runspec import RunSpec, execute

ASSET_NS = "sim-assets"
REPLAY_NS = "sim-replays"
PARAMS_NS = "sim-params"  # the reality parameters each episode sampled, beside the replay (small JSON)
BASELINE = "default"
# Largest per-step recording one rollout may hold in memory (and turn into a replay bundle).


@dataclass(frozen=True)
class Robot:
    label: str  # the asset id, or the built-in example's path
    urdf: str
    floating_base: bool  # what the asset was imported as (examples: fixed)


@dataclass
class Live:
    """A running job's cancellation state. A user cancel stops the rollout through its handle; once
    every rollout of the job has completed its steps the job can no longer be cancelled (it is
    finishing, and must end SUCCEEDED, never relabelled CANCELLED)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    handle: RolloutHandle | None = None
    cancel_requested: bool = False
    # the process is stopping: the rollout was stopped by the shutdown, not by a user cancel
    interrupted: bool = False
    steps_done: bool = False
    progress: float = 0.0
    # batch member run id -> its own progress (0..1), shown by run lists and details
    members: dict[str, float] = field(default_factory=dict)


def asset_from_row(row: Any) -> schemas.Asset:
    return msgspec.convert({str(k): v for k, v in row._mapping.items()}, schemas.Asset)


class SimService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._models: OrderedDict[tuple[str, bool], Model] = OrderedDict()
        self.replays: OrderedDict[str, replay_format.Replay] = OrderedDict()
        # batch id -> its evaluation (a finished batch's report never changes; the bootstrap is costly)
        self.evaluations: OrderedDict[str, schemas.Evaluation] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        # job id -> set once the job's records are written (jobs are dispatched before that)
        self.records_ready: dict[str, asyncio.Event] = {}
        self.live: dict[str, Live] = {}
        # the last state of jobs that ended in this process, so progress never moves backwards
        # after a cancel or failure (the job record keeps no progress for those)
        self.ended: OrderedDict[str, Live] = OrderedDict()
        self.profiles = reality_profiles()
        self.profile_names = [p["name"] for p in self.profiles]
        # run id -> the task writing a stopped run's replay bundle (after its terminal state)
        self.replay_tasks: dict[str, asyncio.Task[Any]] = {}
        self.stopping = False
        auth = getattr(ctx, "auth", None)
        self.secret_box = None if auth is None else auth.secrets  # seals pending webhooks' secrets

    @property
    def owner(self) -> str:
        """This process, in the job service's words (host:pid:nonce)."""
        return self.ctx.jobs.owner

    async def interrupt(self, limit_s: float = 60.0) -> None:
        """The process is stopping (``on_shutdown``): stop every running rollout as *interrupted*
        (never as a user cancel) and wait until each job has written its terminal state. A job whose
        steps all completed is left to finish: it ends SUCCEEDED, never relabelled."""
        self.stopping = True
        waiting = []
        for job_id, live in list(self.live.items()):
            with live.lock:
                if not live.steps_done:
                    live.interrupted = True
                handle = live.handle if live.interrupted else None
            if handle is not None:
                handle.cancel()
            waiting.append(
                asyncio.get_running_loop().create_task(self.ctx.jobs.wait(job_id, limit_s=limit_s))
            )
        if waiting:
            await asyncio.wait(waiting, timeout=limit_s)

    async def close(self) -> None:
        self.stopping = True
        if self.replay_tasks:  # a stopped run's replay bundle: let it be written
            await asyncio.wait(list(self.replay_tasks.values()), timeout=10)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    def begin_live(self, job_id: str, **kw: Any) -> Live:
        live = self.live[job_id] = Live(**kw)
        live.interrupted = self.stopping  # started while the process stops: it stops at once
        return live

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def queued_mode(self) -> bool:
        """A Redis queue is configured: runs answer with a queued job id instead of waiting."""
        return self.ctx.settings.redis_url is not None

    # ------------------------------------------------------------ lookups

    async def check_project(self, project_id: str | None) -> None:
        if project_id is not None and not await store.project_exists(self.ctx.db, project_id):
            raise NotFound("project", project_id, project_id=project_id)

    async def get_asset(self, asset_id: str) -> schemas.Asset | None:
        row = await store.asset(self.ctx.db, asset_id)
        return None if row is None else asset_from_row(row)

    async def asset_bytes(self, asset: schemas.Asset) -> bytes:
        art = (await self.ctx.artifacts.list(ASSET_NS, asset.id))[0]
        return self.ctx.artifacts.read(art)

    async def resolve_robot(self, ref: str) -> Robot:
        """A robot reference: asset id, asset name (latest wins), or built-in example."""
        if ref in EXAMPLE_ROBOTS:
            return Robot(ref, EXAMPLE_ROBOTS[ref], False)
        row = await store.asset(self.ctx.db, ref) or await store.latest_urdf_named(self.ctx.db, ref)
        if row is None:
            raise NotFound(
                "robot",
                ref,
                message=f"robot {ref!r} not found: use an imported URDF asset's id or name "
                f"(POST /api/assets/import) or one of {', '.join(EXAMPLE_ROBOTS)}",
                robot=ref,
            )
        asset = asset_from_row(row)
        if asset.kind != "urdf":
            raise REASON_CODES.error("not_a_urdf", asset_id=asset.id)
        urdf = (await self.asset_bytes(asset)).decode()
        return Robot(asset.id, urdf, bool(asset.summary.get("floating_base", False)))

    def model(self, urdf: str, floating_base: bool) -> Model:
        key = (urdf, floating_base)
        m = self._models.get(key)
        if m is None:
            m = Model.from_urdf_string(urdf, floating_base=floating_base)
            self._models[key] = m
            while len(self._models) > 32:
                self._models.popitem(last=False)
        else:
            self._models.move_to_end(key)
        return m

    def check_profile(self, name: str) -> None:
        if name not in self.profile_names:
            raise RidgelineError(
                422,
                "unknown_profile",
                f"unknown reality profile {name!r} (one of {', '.join(self.profile_names)})",
                profile=name,
            )

    def prepare(self, urdf: str, spec: RunSpec, copies: int = 1) -> Model:
        """Everything a run is checked for before it is accepted (422s naming the field)."""
        self.check_profile(spec.profile)
        model = self.model(urdf, spec.floating_base)
        check_spec(model, spec)
        if spec.record:
            # the engine's own count and limit (one definition, in the core)
            size = model.recorded_bytes(spec.steps, copies * spec.episodes)
            if size > MAX_RECORDED_BYTES:
                raise RidgelineError(
                    422,
                    "replay_too_large",
                    f"recording this run needs about {size / 2**20:.0f} MiB (limit "
                    f"{MAX_RECORDED_BYTES / 2**20:.0f} MiB): use fewer steps or episodes, or record=false "
                    "for metrics only",
                )
        return model

    async def await_records(self, job_id: str) -> None:
        """Wait until the request that submitted ``job_id`` has written its records."""
        ready = self.records_ready.get(job_id)
        if ready is None:
            return
        try:
            await asyncio.wait_for(ready.wait(), 60)
        finally:
            self.records_ready.pop(job_id, None)

    # ------------------------------------------------------------ rollouts and their cancellation

    def progress_of(self, job_id: str) -> Live | None:
        return self.live.get(job_id) or self.ended.get(job_id)

    def end_live(self, job_id: str) -> None:
        live = self.live.pop(job_id, None)
        if live is not None:
            self.ended[job_id] = live
            while len(self.ended) > 4096:
                self.ended.popitem(last=False)

    def cancel_live(self, job_id: str) -> bool | None:
        """Stop a running job's rollout. None: no rollout state here (let the job service cancel);
        False: every step already completed (the job is finishing and is not cancelled)."""
        live = self.live.get(job_id)
        if live is None:
            return None
        with live.lock:
            if live.steps_done:
                return False
            live.cancel_requested = True
            handle = live.handle
        if handle is not None:
            handle.cancel()
        return True

    async def rollout(
        self,
        jctx: JobContext,
        live: Live,
        urdf: str,
        spec: RunSpec,
        *,
        on_progress: Any = None,
        last: bool = True,
    ) -> tuple[RolloutResult, float, Model]:
        """Run ``spec`` (closed loop) off the event loop, on the job's thread budget.
        ``on_progress(fraction of this rollout)`` is called while it steps; ``last`` marks the job's
        last rollout (its completion makes the job uncancellable)."""
        model = self.model(urdf, spec.floating_base)
        handle = RolloutHandle()
        with live.lock:
            live.handle = handle
            if live.cancel_requested or live.interrupted:  # stopped between rollouts: stops at once
                handle.cancel()
        jctx.token.on_cancel(handle.cancel)  # shutdown, or a cancel taken by the job service
        total = spec.steps * spec.episodes
        done = asyncio.Event()

        async def watch() -> None:  # live progress from the native step counter
            while not done.is_set():
                if on_progress is not None:
                    on_progress(handle.steps_done / total if total else 0.0)
                try:
                    await asyncio.wait_for(done.wait(), 0.05)
                except TimeoutError:
                    pass

        watcher = asyncio.get_running_loop().create_task(watch())
        t0 = time.perf_counter()
        try:
            result = await asyncio.to_thread(execute, model, spec, handle=handle, threads=jctx.thread_budget)
        finally:
            done.set()
            await watcher
            with live.lock:
                live.handle = None
        with live.lock:
            if last and not result.cancelled:
                live.steps_done = True
        if on_progress is not None and not result.cancelled:
            on_progress(1.0)
        return result, (time.perf_counter() - t0) * 1e3, model

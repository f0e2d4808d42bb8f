"""Use cases of the sim family: assets, runs (as platform jobs), replays, batches, gaps, webhooks.

One :class:`SimService` per process is the family's declared service (``ctx.service(SimService)``). Runs are platform jobs of kind
``sim/run`` (one run) and ``sim/batch`` (one member run per profile); the job handlers are
``async`` and push the native rollout onto a worker thread (the GIL is released there), handing the
job's cancel token to the rollout's native handle, so a cancel stops stepping within one step.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa

from ridgeline.platform.artifacts import Artifact
from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.jobs import Job, JobCancelled, JobContext, JobStatus
from ridgeline.sim import Model, RolloutHandle, reality_profiles
from ridgeline.sim import assets as A
from ridgeline.sim import gaps as G
from ridgeline.sim import replay as R
from ridgeline.sim.api import schemas as S
from ridgeline.sim.api import store as T
from ridgeline.sim.api import webhooks
from ridgeline.sim.examples import EXAMPLE_ROBOTS
from ridgeline.sim.rollout import RolloutResult
from ridgeline.sim.runspec import RunSpec, execute, execute_open_loop, validate

ASSET_NS = "sim-assets"
REPLAY_NS = "sim-replays"
BASELINE = "default"
# Largest per-step recording one rollout may hold in memory (and turn into a replay bundle).
MAX_RECORDED_BYTES = 512 * 2**20


def _now() -> datetime:
    return datetime.now(UTC)


def _id() -> str:
    return uuid.uuid4().hex


class _RunRow:
    """A ``sim_runs`` row with its platform job's fields (``job_status`` ...), read through the job
    API rather than a join on the platform's table."""

    def __init__(self, row: Any, job: Job | None) -> None:
        self._row = row
        self.job_status = None if job is None else job.status.value
        self.job_progress = None if job is None else job.progress
        self.job_error = None if job is None else job.error
        self.job_started_at = None if job is None else job.started_at
        self.job_finished_at = None if job is None else job.finished_at

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def not_found(what: str, ident: str) -> RidgelineError:
    return RidgelineError(
        404, f"{what}_not_found", f"{what.replace('_', ' ').capitalize()} {ident!r} not found"
    )


def _json_floats(values: Any) -> Any:
    """numpy arrays/scalars -> JSON-safe Python (NaN and inf -> None)."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr.tolist()
    if np.issubdtype(arr.dtype, np.integer):
        return arr.tolist()
    out = np.where(np.isfinite(arr), arr, np.nan).astype(np.float64).tolist()

    def clean(x: Any) -> Any:
        if isinstance(x, list):
            return [clean(y) for y in x]
        return None if x != x else x

    return clean(out)


def summarize(result: RolloutResult, wall_time_ms: float) -> dict[str, Any]:
    """Means over episodes; non-finite values (diverged episodes) become null so JSON stays valid."""
    s = result.summary()

    def fin(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    return {
        "avg_step_time_ms": fin(s["avg_step_time_ms"]),
        "tracking_rmse": fin(s["tracking_rmse"]),
        "max_tracking_error": fin(s["max_tracking_error"]),
        "energy": fin(s["energy"]),
        "success_rate": float(s["success_rate"]),
        "divergence_rate": float(s["divergence_rate"]),
        "episodes": int(s["episodes"]),
        "mean_slip_speed": fin(s["mean_slip_speed"]),
        "base_distance": fin(s["base_distance"]),
        "wall_time_ms": wall_time_ms,
    }


def episode_table(result: RolloutResult) -> list[dict[str, Any]]:
    rows = []
    for e in range(result.episodes):
        row: dict[str, Any] = {"episode": e, "steps_completed": int(result.steps_completed[e])}
        for k, v in result.metrics.items():
            x = v[e]
            row[k] = bool(x) if isinstance(x, np.bool_ | bool) else _json_floats(x)
        rows.append(row)
    return rows


class SimService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._models: OrderedDict[tuple[str, bool], Model] = OrderedDict()
        self._replays: OrderedDict[str, R.Replay] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        # job id -> set once the job's records are written (jobs are dispatched before that)
        self._records_ready: dict[str, asyncio.Event] = {}
        self.profiles = reality_profiles()
        self.profile_names = [p["name"] for p in self.profiles]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def queued_mode(self) -> bool:
        """A Redis queue is configured: runs answer with a queued job id instead of waiting."""
        return self.ctx.settings.redis_url is not None

    # ------------------------------------------------------------ projects

    async def create_project(self, body: S.ProjectCreate) -> S.Project:
        p = S.Project(id=_id(), name=body.name, description=body.description, created_at=_now())
        async with self.ctx.db.begin() as conn:
            await conn.execute(T.projects.insert().values(msgspec.to_builtins(p, builtin_types=(datetime,))))
        return p

    async def list_projects(self) -> list[S.Project]:
        async with self.ctx.db.engine.connect() as conn:
            rows = (await conn.execute(T.projects.select().order_by(T.projects.c.created_at))).all()
        return [
            S.Project(id=r.id, name=r.name, description=r.description, created_at=r.created_at) for r in rows
        ]

    async def _check_project(self, project_id: str | None) -> None:
        if project_id is None:
            return
        async with self.ctx.db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(T.projects.c.id).where(T.projects.c.id == project_id))
            ).first()
        if row is None:
            raise not_found("project", project_id)

    # ------------------------------------------------------------ assets

    async def import_asset(
        self,
        filename: str,
        data: bytes,
        *,
        name: str | None,
        project_id: str | None,
        density: float,
        scale: float,
        floating_base: bool,
    ) -> S.Asset:
        await self._check_project(project_id)
        if not data:
            raise RidgelineError(422, "empty_file", "the uploaded file is empty")
        try:
            kind = A.kind_of(filename)
            ext = filename.rsplit(".", 1)[-1].lower()
            if kind == "urdf":
                _, usum = await asyncio.to_thread(A.validate_urdf, data, floating_base)
                summary: dict[str, Any] = msgspec.to_builtins(usum)
                stored, fmt, asset_kind = data, "urdf", "urdf"
            else:
                mesh = await asyncio.to_thread(A.load_mesh, data, filename, scale)
                msum = await asyncio.to_thread(A.summarize_mesh, mesh, density)
                summary = msgspec.to_builtins(msum)
                summary["scale"] = scale
                # stored as binary STL in metres (USD and scaled meshes are normalised this way)
                stored = data if (kind == "mesh" and scale == 1.0) else mesh.export(file_type="stl")
                fmt, asset_kind = ext, "mesh"
        except A.AssetError as exc:
            status = 415 if exc.reason_code == "unsupported_format" else 422
            raise RidgelineError(status, exc.reason_code, str(exc)) from None
        stored_name = (
            "source.urdf" if asset_kind == "urdf" else ("source." + (ext if stored is data else "stl"))
        )
        return await self._store_asset(
            name=name or filename,
            kind=asset_kind,
            fmt=fmt,
            source="upload",
            filename=filename,
            stored_name=stored_name,
            data=stored,
            summary=summary,
            project_id=project_id,
        )

    async def _store_asset(
        self,
        *,
        name: str,
        kind: str,
        fmt: str,
        source: str,
        filename: str,
        stored_name: str,
        data: bytes,
        summary: dict[str, Any],
        project_id: str | None,
        asset_id: str | None = None,
    ) -> S.Asset:
        asset_id = asset_id or _id()
        art = await self.ctx.artifacts.put(ASSET_NS, asset_id, stored_name, data)
        asset = S.Asset(
            id=asset_id,
            project_id=project_id,
            name=name,
            kind=kind,
            format=fmt,
            source=source,  # type: ignore[arg-type]
            filename=filename,
            sha256=art.sha256,
            size=art.size,
            summary=summary,
            created_at=_now(),
        )
        async with self.ctx.db.begin() as conn:
            await conn.execute(
                T.assets.insert().values(msgspec.to_builtins(asset, builtin_types=(datetime,)))
            )
        return asset

    async def seed_examples(self) -> int:
        """Store the built-in example robots as URDF assets (``source: "example"``) unless present.

        Ids derive from the URDF's SHA-256, so concurrent workers starting together insert each
        example once (the loser's insert hits the primary key and is ignored)."""
        added = 0
        for path, urdf in EXAMPLE_ROBOTS.items():
            asset_id = sha256_hex(urdf)[:32]
            if await self.get_asset(asset_id) is not None:
                continue
            _, usum = A.validate_urdf(urdf.encode())
            name = path.rsplit("/", 1)[-1]
            try:
                await self._store_asset(
                    name=name,
                    kind="urdf",
                    fmt="urdf",
                    source="example",
                    filename=name,
                    stored_name="source.urdf",
                    data=urdf.encode(),
                    summary=msgspec.to_builtins(usum),
                    project_id=None,
                    asset_id=asset_id,
                )
                added += 1
            except sa.exc.IntegrityError:
                continue
        return added

    async def list_assets(self, project_id: str | None, kind: str | None) -> list[S.Asset]:
        q = T.assets.select().order_by(T.assets.c.created_at, T.assets.c.id)
        if project_id is not None:
            q = q.where(T.assets.c.project_id == project_id)
        if kind is not None:
            q = q.where(T.assets.c.kind == kind)
        async with self.ctx.db.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [self._asset(r) for r in rows]

    @staticmethod
    def _asset(r: Any) -> S.Asset:
        d = {str(k): v for k, v in r._mapping.items()}
        d["created_at"] = d["created_at"]
        return msgspec.convert(d, S.Asset)

    async def get_asset(self, asset_id: str) -> S.Asset | None:
        async with self.ctx.db.engine.connect() as conn:
            row = (await conn.execute(T.assets.select().where(T.assets.c.id == asset_id))).first()
        return None if row is None else self._asset(row)

    async def asset_bytes(self, asset: S.Asset) -> bytes:
        art = (await self.ctx.artifacts.list(ASSET_NS, asset.id))[0]
        return self.ctx.artifacts.read(art)

    async def _mesh_of(self, asset_id: str) -> tuple[S.Asset, Any]:
        asset = await self.get_asset(asset_id)
        if asset is None:
            raise not_found("asset", asset_id)
        if asset.kind != "mesh":
            raise RidgelineError(422, "not_a_mesh", f"asset {asset_id!r} is a {asset.kind}, not a mesh")
        data = await self.asset_bytes(asset)
        art = (await self.ctx.artifacts.list(ASSET_NS, asset.id))[0]
        mesh = await asyncio.to_thread(A.load_mesh, data, art.name, 1.0)
        return asset, mesh

    async def segment(self, body: S.SegmentRequest) -> S.SegmentResponse:
        asset, mesh = await self._mesh_of(body.asset_id)
        density = body.density or float(asset.summary["mass_properties"]["density"])
        try:
            parts, _ = await asyncio.to_thread(A.segment, mesh, density, body.min_faces)
        except A.AssetError as exc:
            raise RidgelineError(422, exc.reason_code, str(exc)) from None
        return S.SegmentResponse(
            asset_id=asset.id,
            density=density,
            parts=parts,
            count=len(parts),
            total_mass=float(sum(p.mass_properties.mass for p in parts)),
        )

    async def linkage(self, body: S.LinkageRequest) -> S.LinkageResponse:
        await self._check_project(body.project_id)
        resolved: list[A.ResolvedLink] = []
        part_cache: dict[tuple[str, float], list[A.Part]] = {}
        for lk in body.links:
            if lk.asset_id is not None:
                if lk.part_index is None:
                    raise RidgelineError(
                        422, "invalid_linkage", f"link {lk.name!r}: asset_id needs part_index"
                    )
                asset, mesh = await self._mesh_of(lk.asset_id)
                density = lk.density or float(asset.summary["mass_properties"]["density"])
                key = (lk.asset_id, density)
                if key not in part_cache:
                    part_cache[key], _ = await asyncio.to_thread(A.segment, mesh, density)
                parts = part_cache[key]
                if lk.part_index >= len(parts):
                    raise RidgelineError(
                        422,
                        "invalid_linkage",
                        f"link {lk.name!r}: asset {lk.asset_id!r} has {len(parts)} parts (part_index {lk.part_index})",
                    )
                mp = parts[lk.part_index].mass_properties
                resolved.append(
                    A.ResolvedLink(
                        name=lk.name, mass=mp.mass, center_of_mass=mp.center_of_mass, inertia=mp.inertia
                    )
                )
            else:
                if lk.mass is None or lk.inertia is None:
                    raise RidgelineError(
                        422,
                        "invalid_linkage",
                        f"link {lk.name!r}: give mass and inertia, or asset_id and part_index",
                    )
                resolved.append(
                    A.ResolvedLink(
                        name=lk.name,
                        mass=lk.mass,
                        center_of_mass=lk.center_of_mass or [0.0, 0.0, 0.0],
                        inertia=lk.inertia,
                    )
                )
        try:
            linkage = A.build_linkage(body.name, resolved, body.joints)
        except A.AssetError as exc:
            raise RidgelineError(422, exc.reason_code, str(exc)) from None
        out = S.LinkageResponse(
            name=linkage.name,
            root=linkage.root,
            links=[S.LinkageLink(**msgspec.structs.asdict(lk)) for lk in linkage.links],
            joints=linkage.joints,
            dof=linkage.dof,
            total_mass=linkage.total_mass,
        )
        if body.export_urdf:
            urdf = A.to_urdf(linkage)
            try:
                text, usum = A.validate_urdf(urdf.encode())
            except A.AssetError as exc:  # the core rejects what we built: report it, store nothing
                raise RidgelineError(
                    422, "invalid_linkage", f"exported URDF rejected by the core: {exc}"
                ) from None
            expected = [j.name for j in linkage.joints if j.type != "fixed"]
            if usum.joint_names != expected:
                raise RidgelineError(
                    500,
                    "linkage_roundtrip_mismatch",
                    f"the core read joints {usum.joint_names}, expected {expected}",
                )
            out.urdf = text
            out.verified = {
                "joint_names": usum.joint_names,
                "nq": usum.nq,
                "nv": usum.nv,
                "total_mass": usum.total_mass,
            }
            out.asset = await self._store_asset(
                name=f"{linkage.name}.urdf",
                kind="urdf",
                fmt="urdf",
                source="linkage",
                filename=f"{linkage.name}.urdf",
                stored_name="source.urdf",
                data=text.encode(),
                summary=msgspec.to_builtins(usum),
                project_id=body.project_id,
            )
        return out

    # ------------------------------------------------------------ robots and models

    async def resolve_robot(self, ref: str) -> tuple[str, str]:
        """(label, URDF text) for a robot reference: asset id, asset name, or built-in example."""
        if ref in EXAMPLE_ROBOTS:
            return ref, EXAMPLE_ROBOTS[ref]
        async with self.ctx.db.engine.connect() as conn:
            row = (await conn.execute(T.assets.select().where(T.assets.c.id == ref))).first()
            if row is None:
                row = (
                    await conn.execute(
                        T.assets.select()
                        .where(T.assets.c.name == ref, T.assets.c.kind == "urdf")
                        .order_by(T.assets.c.created_at.desc())
                        .limit(1)
                    )
                ).first()
        if row is None:
            raise RidgelineError(
                404,
                "robot_not_found",
                f"robot {ref!r} not found: use an imported URDF asset's id or name (POST /api/assets/import) "
                f"or one of {', '.join(EXAMPLE_ROBOTS)}",
            )
        asset = self._asset(row)
        if asset.kind != "urdf":
            raise RidgelineError(422, "not_a_urdf", f"asset {ref!r} is a {asset.kind}; a run needs a URDF")
        return asset.id, (await self.asset_bytes(asset)).decode()

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
            )

    def _prepare(self, urdf: str, spec: RunSpec, copies: int = 1) -> Model:
        self.check_profile(spec.profile)
        try:
            model = self.model(urdf, spec.floating_base)
            validate(model, spec)
        except ValueError as exc:
            raise RidgelineError(422, "invalid_config", str(exc)) from None
        if spec.record:
            # q, v, observations, actions, applied torques, float64, for every step of every episode
            per_step = 2 * (model.nq + model.nv) + 2 * model.n_actuated
            size = copies * spec.episodes * (spec.steps + 1) * per_step * 8
            if size > MAX_RECORDED_BYTES:
                raise RidgelineError(
                    422,
                    "replay_too_large",
                    f"recording this run needs about {size / 2**20:.0f} MiB (limit "
                    f"{MAX_RECORDED_BYTES / 2**20:.0f} MiB): use fewer steps or episodes, or record=false "
                    "for metrics only",
                )
        return model

    # ------------------------------------------------------------ runs

    async def create_run(
        self,
        *,
        robot: str,
        spec: RunSpec,
        api: str,
        scenario: str | None,
        project_id: str | None,
        webhook_url: str | None,
        webhook_secret: str | None,
        wait: bool | None,
    ) -> tuple[S.Run, str | None, bool]:
        """Create and start a run; returns (run, generated webhook secret, waited)."""
        await self._check_project(project_id)
        label, urdf = await self.resolve_robot(robot)
        self._prepare(urdf, spec)
        sha = sha256_hex(urdf)
        generated = None
        if webhook_url is not None and webhook_secret is None:
            webhook_secret = generated = secrets.token_hex(32)
        job = await self.ctx.jobs.submit("sim", "run", {"robot": label})
        ready = self._records_ready[job.id] = asyncio.Event()  # before the job task first runs
        try:
            await self._insert_run(
                run_id=job.id,
                job_id=job.id,
                batch_id=None,
                project_id=project_id,
                api=api,
                scenario=scenario,
                robot=label,
                robot_sha256=sha,
                spec=spec,
                webhook_url=webhook_url,
            )
        finally:
            ready.set()
        if webhook_url is not None:
            assert webhook_secret is not None
            self._spawn(self._webhook_when_done(job.id, webhook_url, webhook_secret))
        should_wait = (not self.queued_mode) if wait is None else wait
        if should_wait:
            await self.ctx.jobs.wait(job.id)
        run = await self.get_run(job.id)
        assert run is not None
        return run, generated, should_wait

    async def _insert_run(
        self,
        *,
        run_id: str,
        job_id: str,
        batch_id: str | None,
        project_id: str | None,
        api: str,
        scenario: str | None,
        robot: str,
        robot_sha256: str,
        spec: RunSpec,
        webhook_url: str | None,
    ) -> None:
        async with self.ctx.db.begin() as conn:
            await conn.execute(
                T.runs.insert().values(
                    id=run_id,
                    job_id=job_id,
                    batch_id=batch_id,
                    project_id=project_id,
                    api=api,
                    scenario=scenario,
                    robot=robot,
                    robot_sha256=robot_sha256,
                    profile=spec.profile,
                    spec=msgspec.to_builtins(spec),
                    cancelled=False,
                    webhook_url=webhook_url,
                    created_at=_now(),
                )
            )

    async def _run_row(self, run_id: str) -> Any:
        q = sa.select(T.runs).where(T.runs.c.id == run_id)
        async with self.ctx.db.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        if row is None:
            return None
        return _RunRow(row, (await self.ctx.jobs.get_many([row.job_id])).get(row.job_id))

    def _run_from_row(self, r: Any) -> S.Run:
        status = r.job_status or JobStatus.FAILED.value
        metrics = None if r.metrics is None else msgspec.convert(r.metrics, S.RunMetrics)
        replay = None
        if r.replay_sha256 is not None:
            replay = S.ReplayInfo(
                format=R.FORMAT,
                media_type=R.MEDIA_TYPE,
                sha256=r.replay_sha256,
                size=int(r.replay_size),
                url=f"/v1/runs/{r.id}/replay",
            )
        error = r.job_error
        return S.Run(
            run_id=r.id,
            job_id=r.job_id,
            status=status,
            api=r.api,
            scenario=r.scenario,
            robot=r.robot,
            robot_sha256=r.robot_sha256,
            profile=r.profile,
            project_id=r.project_id,
            batch_id=r.batch_id,
            config=msgspec.convert(r.spec, RunSpec),
            progress=float(r.job_progress or 0.0),
            steps_completed=r.steps_completed,
            cancelled=bool(r.cancelled),
            metrics=metrics,
            error=error if status in ("FAILED", "CANCELLED") else None,
            replay=replay,
            webhook_url=r.webhook_url,
            created_at=r.created_at,
            started_at=r.job_started_at,
            finished_at=r.finished_at or r.job_finished_at,
        )

    async def get_run(self, run_id: str) -> S.Run | None:
        r = await self._run_row(run_id)
        return None if r is None else self._run_from_row(r)

    async def require_run(self, run_id: str) -> S.Run:
        run = await self.get_run(run_id)
        if run is None:
            raise not_found("run", run_id)
        return run

    async def list_runs(
        self, *, limit: int, offset: int = 0, status: str | None = None, scenario: str | None = None
    ) -> list[S.Run]:
        q = sa.select(T.runs).order_by(T.runs.c.created_at.desc(), T.runs.c.id)
        if status is not None:
            q = q.where(T.runs.c.job_id.in_(self.ctx.jobs.ids_where(family="sim", status=status)))
        if scenario is not None:
            q = q.where(T.runs.c.scenario == scenario)
        async with self.ctx.db.engine.connect() as conn:
            rows = (await conn.execute(q.limit(limit).offset(offset))).all()
        jobs = await self.ctx.jobs.get_many(r.job_id for r in rows)
        return [self._run_from_row(_RunRow(r, jobs.get(r.job_id))) for r in rows]

    async def cancel_run(self, run_id: str) -> S.Run:
        run = await self.require_run(run_id)
        if run.batch_id is not None:
            raise RidgelineError(
                409,
                "batch_member",
                f"run {run_id!r} belongs to batch {run.batch_id!r}; it cannot be cancelled alone",
            )
        if JobStatus(run.status).terminal:
            raise RidgelineError(
                409, "run_finished", f"run {run_id!r} already finished with status {run.status}"
            )
        await self.ctx.jobs.cancel(run.job_id)
        return await self.require_run(run_id)

    async def _await_records(self, job_id: str) -> None:
        """Wait until the request that submitted ``job_id`` has written its records."""
        ready = self._records_ready.get(job_id)
        if ready is None:
            return
        try:
            await asyncio.wait_for(ready.wait(), 60)
        finally:
            self._records_ready.pop(job_id, None)

    async def execute_run_job(self, jctx: JobContext) -> dict[str, Any]:
        await self._await_records(jctx.job_id)
        row = await self._run_row(jctx.job_id)
        if row is None:
            raise RuntimeError(f"run record {jctx.job_id} missing")
        spec = msgspec.convert(row.spec, RunSpec)
        _, urdf = await self.resolve_robot(row.robot)
        result, wall_ms, model = await self._rollout(jctx, urdf, spec)
        await self._record_result(row.id, result, wall_ms, model, spec, urdf)
        if result.cancelled:
            raise JobCancelled(jctx.job_id)
        return {"run_id": row.id, "metrics": summarize(result, wall_ms)}

    async def _rollout(
        self,
        jctx: JobContext,
        urdf: str,
        spec: RunSpec,
        open_loop: tuple[np.ndarray, str] | None = None,
    ) -> tuple[RolloutResult, float, Model]:
        """Run ``spec`` closed loop, or replay ``open_loop = (torques, profile)``, off the event loop."""
        model = self.model(urdf, spec.floating_base)
        handle = RolloutHandle()
        jctx.token.on_cancel(handle.cancel)
        total = spec.steps * spec.episodes
        done = asyncio.Event()

        async def watch() -> None:  # live progress from the native step counter
            while not done.is_set():
                jctx.report_progress(handle.steps_done / total if total else 0.0)
                try:
                    await asyncio.wait_for(done.wait(), 0.05)
                except TimeoutError:
                    pass

        watcher = asyncio.get_running_loop().create_task(watch())
        t0 = time.perf_counter()
        try:
            if open_loop is None:
                result = await asyncio.to_thread(execute, model, spec, handle=handle)
            else:
                torques, profile = open_loop
                result = await asyncio.to_thread(
                    execute_open_loop, model, spec, torques, profile=profile, handle=handle
                )
        finally:
            done.set()
            await watcher
        return result, (time.perf_counter() - t0) * 1e3, model

    async def _record_result(
        self, run_id: str, result: RolloutResult, wall_ms: float, model: Model, spec: RunSpec, urdf: str
    ) -> None:
        sha = size = None
        if result.q is not None:
            bundle = await asyncio.to_thread(R.encode, result, model, spec, urdf)
            art = await self.ctx.artifacts.put(REPLAY_NS, run_id, "replay.npz", bundle, R.MEDIA_TYPE)
            sha, size = art.sha256, art.size
        async with self.ctx.db.begin() as conn:
            await conn.execute(
                T.runs.update()
                .where(T.runs.c.id == run_id)
                .values(
                    metrics=summarize(result, wall_ms),
                    episode_metrics=episode_table(result),
                    steps_completed=[int(x) for x in result.steps_completed],
                    cancelled=result.cancelled,
                    replay_sha256=sha,
                    replay_size=size,
                    finished_at=_now(),
                )
            )

    async def _webhook_when_done(self, run_id: str, url: str, secret: str) -> None:
        job = None
        while job is None or not JobStatus(job.status).terminal:
            job = await self.ctx.jobs.wait(run_id, limit_s=60)
            if job is None:
                return
        run = await self.get_run(run_id)
        if run is None:
            return
        event = "run.completed" if run.status == JobStatus.SUCCEEDED else "run.failed"
        payload = {
            "status": run.status,
            "profile": run.profile,
            "robot": run.robot,
            "metrics": msgspec.to_builtins(run.metrics),
            "error": run.error,
            "steps_completed": run.steps_completed,
            "replay_sha256": None if run.replay is None else run.replay.sha256,
        }

        async def record(attempt: dict[str, Any]) -> None:
            async with self.ctx.db.begin() as conn:
                await conn.execute(
                    T.webhook_deliveries.insert().values(
                        id=_id(), run_id=run_id, created_at=_now(), **attempt
                    )
                )

        await webhooks.deliver(url, secret, event, run_id, payload, record)

    async def deliveries(self, run_id: str) -> list[S.WebhookDelivery]:
        t = T.webhook_deliveries
        async with self.ctx.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    t.select().where(t.c.run_id == run_id).order_by(t.c.created_at, t.c.attempt)
                )
            ).all()
        return [
            S.WebhookDelivery(
                delivery_id=r.delivery_id,
                event=r.event,
                url=r.url,
                attempt=r.attempt,
                status_code=r.status_code,
                error=r.error,
                succeeded=bool(r.succeeded),
                created_at=r.created_at,
            )
            for r in rows
        ]

    # ------------------------------------------------------------ replays, metrics, reports

    async def replay_bytes(self, run_id: str) -> tuple[S.Run, bytes]:
        run, art = await self.replay_artifact(run_id)
        return run, await asyncio.to_thread(self.ctx.artifacts.read_verified, art)

    async def replay_artifact(self, run_id: str) -> tuple[S.Run, Artifact]:
        """The run and its stored replay bundle (409 while it has none)."""
        run = await self.require_run(run_id)
        art = await self.ctx.artifacts.get(REPLAY_NS, run_id, "replay.npz")
        if art is None and not run.config.record:
            raise RidgelineError(
                409,
                "replay_not_recorded",
                f"run {run_id!r} ran with record=false: it has metrics but no replay",
            )
        if art is None:
            raise RidgelineError(
                409,
                "replay_not_ready",
                f"run {run_id!r} has no replay bundle (status {run.status})",
                run_status=run.status,
            )
        return run, art

    async def replay(self, run_id: str) -> tuple[S.Run, R.Replay]:
        run, data = await self.replay_bytes(run_id)
        key = run.replay.sha256 if run.replay else run_id
        rp = self._replays.get(key)
        if rp is None:
            rp = await asyncio.to_thread(R.decode, data)
            self._replays[key] = rp
            while len(self._replays) > 16:
                self._replays.popitem(last=False)
        return run, rp

    async def metrics(self, run_id: str) -> S.MetricsOut:
        run = await self.require_run(run_id)
        r = await self._run_row(run_id)
        return S.MetricsOut(
            run_id=run.run_id,
            status=run.status,
            profile=run.profile,
            metrics=run.metrics,
            episodes=r.episode_metrics,
        )

    async def report(self, run_id: str) -> S.Report:
        run = await self.require_run(run_id)
        r = await self._run_row(run_id)
        params = None
        if run.replay is not None:
            _, rp = await self.replay(run_id)
            params = {k: _json_floats(v) for k, v in rp.params.items()}
        prof = next((p for p in self.profiles if p["name"] == run.profile), None)
        return S.Report(
            run=run,
            episodes=r.episode_metrics,
            parameters=params,
            profile=prof,
            webhook_deliveries=await self.deliveries(run_id),
        )

    # ------------------------------------------------------------ batches

    async def create_batch(self, body: S.BatchRequest) -> tuple[S.Batch, bool]:
        await self._check_project(body.project_id)
        for p in body.profiles:
            self.check_profile(p)
        if len(set(body.profiles)) != len(body.profiles):
            raise RidgelineError(422, "invalid_request", "profiles must be distinct")
        label, urdf = await self.resolve_robot(body.urdf_path)
        spec = self._batch_spec(body, BASELINE)
        self._prepare(urdf, spec, copies=2)  # a closed-loop and an open-loop rollout in memory at once
        sha = sha256_hex(urdf)
        profiles = body.profiles if BASELINE in body.profiles else [BASELINE, *body.profiles]
        job = await self.ctx.jobs.submit("sim", "batch", {"robot": label})
        ready = self._records_ready[job.id] = asyncio.Event()  # before the job task first runs
        try:
            request = msgspec.to_builtins(body)
            async with self.ctx.db.begin() as conn:
                await conn.execute(
                    T.batches.insert().values(
                        id=job.id, job_id=job.id, request=request, report=None, created_at=_now()
                    )
                )
            for p in profiles:
                await self._insert_run(
                    run_id=_id(),
                    job_id=job.id,
                    batch_id=job.id,
                    project_id=body.project_id,
                    api="batch",
                    scenario=None,
                    robot=label,
                    robot_sha256=sha,
                    spec=self._batch_spec(body, p),
                    webhook_url=None,
                )
        finally:
            ready.set()
        should_wait = (not self.queued_mode) if body.sync is None else body.sync
        if should_wait:
            await self.ctx.jobs.wait(job.id)
        return await self.require_batch(job.id), should_wait

    @staticmethod
    def _batch_spec(body: S.BatchRequest, profile: str) -> RunSpec:
        raw: dict[str, Any] = {
            "profile": profile,
            "steps": body.steps,
            "dt": body.dt,
            "seed": body.seed,
            "episodes": body.dr_episodes_per_profile,
            "floating_base": body.floating_base,
        }
        if body.controller is not None:
            raw["controller"] = body.controller
        if body.reference is not None:
            raw["reference"] = body.reference
        try:
            return msgspec.convert(raw, RunSpec)
        except msgspec.ValidationError as exc:
            raise RidgelineError(422, "invalid_request", f"Invalid request: {exc}") from None

    async def _batch_runs(self, batch_id: str) -> list[Any]:
        async with self.ctx.db.engine.connect() as conn:
            return (
                await conn.execute(
                    T.runs.select()
                    .where(T.runs.c.batch_id == batch_id)
                    .order_by(T.runs.c.created_at, T.runs.c.id)
                )
            ).all()

    async def execute_batch_job(self, jctx: JobContext) -> dict[str, Any]:
        await self._await_records(jctx.job_id)
        members = await self._batch_runs(jctx.job_id)
        if not members:
            raise RuntimeError(f"batch record {jctx.job_id} incomplete")
        _, urdf = await self.resolve_robot(members[0].robot)
        per_episode: dict[str, dict[str, list[Any]]] = {}
        base: RolloutResult | None = None
        for i, m in enumerate(members):
            spec = msgspec.convert(m.spec, RunSpec)
            result, wall_ms, model = await self._rollout(jctx, urdf, spec)
            await self._record_result(m.id, result, wall_ms, model, spec, urdf)
            if result.cancelled:
                raise JobCancelled(jctx.job_id)
            if spec.profile == BASELINE:
                base = result
            assert base is not None and base.q is not None and base.actions is not None  # baseline first
            assert result.q is not None and result.observations is not None
            # G_dyn: the baseline's commanded actions replayed open loop under this profile
            replayed, _, _ = await self._rollout(jctx, urdf, spec, open_loop=(base.actions, spec.profile))
            if replayed.cancelled:
                raise JobCancelled(jctx.job_id)
            assert replayed.q is not None
            per_episode[spec.profile] = {
                "g_dyn": _json_floats(G.dyn_per_episode(replayed.q, base.q)),
                "g_perc": _json_floats(G.perc_per_episode(result.observations, result.q)),
                "rmse_profile": _json_floats(result.metrics["tracking_rmse"]),
                "rmse_base": _json_floats(base.metrics["tracking_rmse"]),
            }
            jctx.report_progress((i + 1) / len(members))
        report = {"per_episode": per_episode}
        async with self.ctx.db.begin() as conn:
            await conn.execute(
                T.batches.update()
                .where(T.batches.c.id == jctx.job_id)
                .values(report=report, finished_at=_now())
            )
        return {"batch_id": jctx.job_id, "profiles": list(per_episode)}

    @staticmethod
    def _profiles_of(request: dict[str, Any]) -> list[str]:
        profiles = list(request["profiles"])
        return profiles if BASELINE in profiles else [BASELINE, *profiles]

    async def get_batch(self, batch_id: str) -> S.Batch | None:
        async with self.ctx.db.engine.connect() as conn:
            b = (await conn.execute(T.batches.select().where(T.batches.c.id == batch_id))).first()
        if b is None:
            return None
        job = await self.ctx.jobs.get(b.job_id)
        members = await self._batch_runs(batch_id)
        profiles = [
            S.BatchProfile(
                profile=m.profile,
                run_id=m.id,
                is_baseline=m.profile == BASELINE,
                metrics=m.metrics or {},
                episodes=m.episode_metrics or [],
            )
            for m in members
        ]
        return S.Batch(
            batch_id=b.id,
            job_id=b.job_id,
            status=job.status if job else JobStatus.FAILED.value,
            request=b.request,
            baseline=BASELINE,
            baseline_added=BASELINE not in b.request["profiles"],
            profiles=profiles,
            created_at=b.created_at,
            finished_at=b.finished_at,
            error=job.error if job and job.status in (JobStatus.FAILED, JobStatus.CANCELLED) else None,
        )

    async def require_batch(self, batch_id: str) -> S.Batch:
        b = await self.get_batch(batch_id)
        if b is None:
            raise not_found("batch", batch_id)
        return b

    async def cancel_batch(self, batch_id: str) -> S.Batch:
        batch = await self.require_batch(batch_id)
        if JobStatus(batch.status).terminal:
            raise RidgelineError(
                409, "batch_finished", f"batch {batch_id!r} already finished with status {batch.status}"
            )
        await self.ctx.jobs.cancel(batch.job_id)
        return await self.require_batch(batch_id)

    async def evaluate(self, batch_id: str) -> S.Evaluation:
        batch = await self.require_batch(batch_id)
        async with self.ctx.db.engine.connect() as conn:
            b = (await conn.execute(T.batches.select().where(T.batches.c.id == batch_id))).first()
        if batch.status != JobStatus.SUCCEEDED or b is None or b.report is None:
            raise RidgelineError(
                409,
                "batch_not_ready",
                f"batch {batch_id!r} has status {batch.status}; evaluation needs SUCCEEDED",
                batch_status=batch.status,
            )
        return await asyncio.to_thread(self._evaluate, batch, b.report, b.request)

    @staticmethod
    def _evaluate(batch: S.Batch, report: dict[str, Any], request: dict[str, Any]) -> S.Evaluation:
        base = next(p for p in batch.profiles if p.profile == BASELINE)
        seed = int(request.get("seed", 0))
        out = []
        for p in batch.profiles:
            arrays = {
                k: np.array([np.nan if x is None else x for x in v], dtype=np.float64)
                for k, v in report["per_episode"][p.profile].items()
            }
            gaps = G.profile_gaps(p.profile, BASELINE, arrays, seed=seed)
            out.append(
                S.ProfileEvaluation(
                    profile=p.profile,
                    run_id=p.run_id,
                    drops=G.performance_drops(base.metrics, p.metrics),
                    G_dyn=gaps.G_dyn,
                    G_perc=gaps.G_perc,
                    G_perf=gaps.G_perf,
                )
            )
        return S.Evaluation(
            batch_id=batch.batch_id,
            baseline=BASELINE,
            profiles=out,
            definitions={
                "G_dyn": "mean over episodes of RMS_t ||q_P - q_B|| / (RMS_t ||q_B - mean q_B|| + 0.01 rad), where "
                "q_B is the baseline's closed-loop trajectory and q_P the trajectory of the baseline's commanded "
                "actions replayed open loop under the profile (same seed and initial state): the trajectory error "
                "under identical actions, normalised by the baseline's motion (dimensionless)",
                "G_perc": "mean over episodes of RMS_t ||obs_q - q||: position error the profile's sensor model "
                "(noise, delay, quantisation) puts into the controller's observations (rad or m)",
                "G_perf": "mean tracking_rmse under the profile / mean tracking_rmse under the baseline - 1: "
                "relative task-metric drop (0 = none, 0.5 = 50 % worse)",
                "drop": "(baseline - value) for higher-is-better metrics, (value - baseline) otherwise; "
                "positive = worse than the baseline",
            },
            bootstrap={
                "method": "paired percentile bootstrap over episodes",
                "resamples": G.N_BOOT,
                "confidence": G.CONFIDENCE,
                "seed": seed,
            },
        )

    async def latest_benchmark(self) -> S.BenchmarkReport:
        async with self.ctx.db.engine.connect() as conn:
            b = (
                await conn.execute(
                    T.batches.select()
                    .where(T.batches.c.report.is_not(None))
                    .order_by(T.batches.c.finished_at.desc(), T.batches.c.id)
                    .limit(1)
                )
            ).first()
        if b is None:
            raise RidgelineError(
                404,
                "no_benchmark",
                "no benchmark yet: run POST /api/sim/batch (every completed batch is a benchmark)",
            )
        ev = await self.evaluate(b.id)
        return S.BenchmarkReport(
            batch_id=b.id,
            robot=b.request["urdf_path"],
            finished_at=b.finished_at,
            G_dyn={p.profile: p.G_dyn for p in ev.profiles},
            G_perc={p.profile: p.G_perc for p in ev.profiles},
            G_perf={p.profile: p.G_perf for p in ev.profiles},
            evaluation=ev,
        )

    # ------------------------------------------------------------ compare

    async def compare(self, body: S.CompareRequest) -> S.CompareResponse:
        valid = {f.name for f in msgspec.structs.fields(S.RunMetrics)}
        if body.metric_key not in valid:
            raise RidgelineError(
                422,
                "unknown_metric",
                f"unknown metric_key {body.metric_key!r} (one of {', '.join(sorted(valid))})",
            )
        entries = []
        for rid in body.run_ids:
            run = await self.require_run(rid)
            value = None if run.metrics is None else getattr(run.metrics, body.metric_key)
            entries.append(S.CompareEntry(run_id=rid, profile=run.profile, status=run.status, value=value))
        direction = COMPARE_DIRECTION.get(body.metric_key, -1)
        pairs = []
        for i, a in enumerate(entries):
            for b in entries[i + 1 :]:
                drop = rel = None
                if a.value is not None and b.value is not None:
                    drop = (a.value - b.value) * direction
                    rel = drop / abs(a.value) if a.value != 0 else None
                pairs.append(
                    S.PairwiseDrop(
                        run_a=a.run_id,
                        run_b=b.run_id,
                        value_a=a.value,
                        value_b=b.value,
                        drop=drop,
                        relative_drop=rel,
                    )
                )
        scored = [e for e in entries if e.value is not None]
        best = max(scored, key=lambda e: float(e.value) * direction).run_id if scored else None  # type: ignore[arg-type]
        return S.CompareResponse(
            metric_key=body.metric_key,
            higher_is_better=direction > 0,
            runs=entries,
            pairwise=pairs,
            best_run_id=best,
        )


# +1: larger is better; every other run metric is smaller-is-better (errors, energy, time, slip).
COMPARE_DIRECTION: dict[str, int] = {"success_rate": 1, "episodes": 1, "base_distance": 1}


async def run_job(jctx: JobContext) -> dict[str, Any]:
    return await jctx.app.service(SimService).execute_run_job(jctx)


async def batch_job(jctx: JobContext) -> dict[str, Any]:
    return await jctx.app.service(SimService).execute_batch_job(jctx)

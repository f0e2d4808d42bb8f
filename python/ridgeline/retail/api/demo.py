"""``/demo``: the end-to-end demo pipeline, in process, one run at a time across every worker.

Steps: seed (``skip`` when asked and data exists), pick the best-selling series, backtest the
baseline models, train the winner by WAPE, alias it ``demo-champion``, verify its artifact's SHA-256.
``POST /demo/run`` returns the DemoRunResult; ``/demo/stream`` sends a StepEvent per step boundary.

One pipeline at a time: a lease row in ``retail_demo_lease`` (taken with an INSERT, or by taking
over an expired lease with a conditional UPDATE; renewed after every step; deleted at the end), so
every worker process and machine sharing the database sees it, unlike a process-local lock.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, WebSocket, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import JSONBody
from sqlalchemy.exc import IntegrityError

from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError
from ridgeline.retail.api import registry, seeder
from ridgeline.retail.api import store as retail_store
from ridgeline.retail.api.ai_store import demo_lease
from ridgeline.retail.api.schemas.ai import DemoRunRequest, DemoRunResult, StepResult
from ridgeline.retail.api.schemas.forecasting import AliasCreate, BacktestRequest, ModelConfigIn, TrainRequest
from ridgeline.retail.api.schemas.sales import GenerateParams

LEASE = "demo"
LEASE_S = 600.0  # a crashed holder blocks new runs for at most this long
ALIAS = "demo-champion"
MODELS = ("naive", "seasonal_naive", "moving_average")
STEPS = ("seed_data", "select_series", "backtest", "train_winner", "register_alias", "verify_artifact")

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


class DemoBusy(EngineError):
    def __init__(self, holder_since: datetime | None = None) -> None:
        super().__init__(
            409,
            "demo_already_running",
            "A demo pipeline is already running; retry when it has finished.",
            running_since=None if holder_since is None else holder_since.isoformat(),
        )


async def acquire(ctx: AppContext, holder: str) -> None:
    now = _now()
    try:
        async with ctx.db.begin() as conn:
            await conn.execute(
                sa.insert(demo_lease).values(
                    name=LEASE, holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=LEASE_S)
                )
            )
        return
    except IntegrityError:
        pass
    async with ctx.db.begin() as conn:  # take over only a lease whose holder stopped renewing it
        res = await conn.execute(
            sa.update(demo_lease)
            .where(demo_lease.c.name == LEASE, demo_lease.c.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=LEASE_S))
        )
        if res.rowcount == 1:
            return
        row = (
            await conn.execute(sa.select(demo_lease.c.acquired_at).where(demo_lease.c.name == LEASE))
        ).first()
    raise DemoBusy(None if row is None else row.acquired_at)


async def renew(ctx: AppContext, holder: str) -> None:
    async with ctx.db.begin() as conn:
        await conn.execute(
            sa.update(demo_lease)
            .where(demo_lease.c.name == LEASE, demo_lease.c.holder == holder)
            .values(expires_at=_now() + timedelta(seconds=LEASE_S))
        )


async def release(ctx: AppContext, holder: str) -> None:
    async with ctx.db.begin() as conn:
        await conn.execute(
            sa.delete(demo_lease).where(demo_lease.c.name == LEASE, demo_lease.c.holder == holder)
        )


async def _noop(_e: dict[str, Any]) -> None:
    return None


class _Failed(Exception):
    pass


async def run_pipeline(ctx: AppContext, req: DemoRunRequest, send: Send = _noop) -> DemoRunResult:
    """Acquire the lease (409 if taken), run every step, release. Each step's events go to ``send``;
    ``pipeline_complete`` only once the lease is released, so a client told the pipeline finished
    can start the next run at once."""
    holder = uuid.uuid4().hex
    await acquire(ctx, holder)
    try:
        result = await _run(ctx, req, send, holder)
    finally:
        await release(ctx, holder)
    await send(_complete_event(result))
    return result


def step_event(
    event_type: str,
    index: int,
    name: str,
    *,
    status: str | None = None,
    detail: str = "",
    duration_ms: float | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "step_name": name,
        "step_index": index,
        "total_steps": len(STEPS),
        "status": status,
        "detail": detail,
        "duration_ms": duration_ms,
        "data": data or {},
        "timestamp": _now().isoformat(),
    }


async def _run(ctx: AppContext, req: DemoRunRequest, send: Send, holder: str) -> DemoRunResult:
    from ridgeline.retail.api.backtesting import run_backtest
    from ridgeline.retail.api.forecasting import train

    t_start = time.perf_counter()
    steps: list[StepResult] = []
    state: dict[str, Any] = {}

    async def has_sales() -> bool:
        async with ctx.db.engine.connect() as conn:
            return (await conn.execute(sa.select(retail_store.sales.c.store_id).limit(1))).first() is not None

    async def seed_data() -> tuple[str, str, dict[str, Any]]:
        present = await has_sales()
        if req.skip_seed and not req.reset and present:
            return "skip", "skip_seed: data already present", {"seeded": False}
        res = await seeder.generate(
            ctx.db, GenerateParams(scenario="embedded_default", seed=req.seed, replace=req.reset)
        )
        status = "warn" if req.skip_seed and not present else "pass"
        detail = res.message + (
            " (skip_seed was set, but there was no data to skip to)" if status == "warn" else ""
        )
        return status, detail, {"seeded": True, "records_created": res.records_created, "seed": req.seed}

    async def select_series() -> tuple[str, str, dict[str, Any]]:
        s = retail_store.sales
        async with ctx.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(s.c.store_id, s.c.product_id, sa.func.count().label("days"))
                    .group_by(s.c.store_id, s.c.product_id)
                    .order_by(sa.func.sum(s.c.quantity).desc(), s.c.store_id, s.c.product_id)
                    .limit(1)
                )
            ).first()
        if row is None:
            raise _Failed("no sales to forecast")
        state.update(store_id=int(row.store_id), product_id=int(row.product_id))
        return (
            "pass",
            f"store {row.store_id}, product {row.product_id} ({row.days} days)",
            {"store_id": row.store_id, "product_id": row.product_id, "days": row.days},
        )

    async def backtest() -> tuple[str, str, dict[str, Any]]:
        out = await run_backtest(
            ctx,
            BacktestRequest(
                store_id=state["store_id"],
                product_id=state["product_id"],
                models=[msgspec.convert({"model_type": m}, ModelConfigIn) for m in MODELS],
                horizon=14,
                n_folds=3,
            ),
        )
        per_model = {m["model_type"]: m["metrics"].get("wape") for m in out["summary"]}
        scored = {k: v for k, v in per_model.items() if isinstance(v, int | float)}
        if not scored:
            raise _Failed("no model produced a WAPE")
        winner = min(scored, key=lambda k: (scored[k], k))
        state.update(winner=winner, wape=scored[winner])
        return (
            "pass",
            f"winner {winner} (WAPE {scored[winner]:.4f})",
            {"per_model": per_model, "winner": winner, "metric": "wape"},
        )

    async def train_winner() -> tuple[str, str, dict[str, Any]]:
        res = await train(
            ctx,
            TrainRequest(
                store_id=state["store_id"],
                product_id=state["product_id"],
                config=msgspec.convert({"model_type": state["winner"]}, ModelConfigIn),
            ),
        )
        state["run_id"] = res.run_id
        return (
            "pass",
            f"run {res.run_id} ({res.train_rows} rows)",
            {"run_id": res.run_id, "model_type": res.model_type, "artifact_hash": res.artifact_hash},
        )

    async def register_alias() -> tuple[str, str, dict[str, Any]]:
        alias, created = await registry.upsert_alias(
            ctx,
            AliasCreate(
                alias_name=ALIAS, run_id=state["run_id"], description="the demo pipeline's winner by WAPE"
            ),
        )
        state["alias"] = alias.alias_name
        return (
            "pass",
            f"{alias.alias_name} -> {alias.run_id}",
            {"run_id": alias.run_id, "alias": alias.alias_name, "created": created},
        )

    async def verify_artifact() -> tuple[str, str, dict[str, Any]]:
        v = await registry.verify_run(ctx, state["run_id"])
        return (
            ("pass" if v.verified else "fail"),
            v.reason,
            {"run_id": v.run_id, "verified": v.verified, "sha256": v.actual_hash},
        )

    fns = (seed_data, select_series, backtest, train_winner, register_alias, verify_artifact)
    ok = True
    for i, (name, fn) in enumerate(zip(STEPS, fns, strict=True)):
        if not ok:
            steps.append(
                StepResult(
                    step_name=name,
                    step_index=i,
                    status="skip",
                    detail="an earlier step failed",
                    duration_ms=0.0,
                )
            )
            await send(
                step_event(
                    "step_complete", i, name, status="skip", detail="an earlier step failed", duration_ms=0.0
                )
            )
            continue
        await send(step_event("step_start", i, name))
        t0 = time.perf_counter()
        try:
            status, detail, data = await fn()
        except (_Failed, EngineError) as exc:
            status, detail, data = (
                "fail",
                str(exc),
                {"reason_code": getattr(exc, "reason_code", "step_failed")},
            )
        ms = (time.perf_counter() - t0) * 1000
        if status == "fail":
            ok = False
        steps.append(
            StepResult(step_name=name, step_index=i, status=status, detail=detail, duration_ms=ms, data=data)
        )
        await send(
            step_event("step_complete", i, name, status=status, detail=detail, duration_ms=ms, data=data)
        )
        await renew(ctx, holder)
    wall = time.perf_counter() - t_start
    result = DemoRunResult(
        success=ok,
        steps=steps,
        total_steps=len(STEPS),
        winner_model_type=state.get("winner"),
        winner_wape=state.get("wape"),
        winning_run_id=state.get("run_id"),
        alias=state.get("alias"),
        wall_clock_s=wall,
        seed=req.seed,
    )
    return result


def _complete_event(result: DemoRunResult) -> dict[str, Any]:
    ok, wall = result.success, result.wall_clock_s
    return {
        **step_event(
            "pipeline_complete",
            len(STEPS),
            "pipeline",
            status="pass" if ok else "fail",
            detail="pipeline finished" if ok else "pipeline failed",
            duration_ms=wall * 1000,
        ),
        "data": {
            "winner_model_type": result.winner_model_type,
            "winner_wape": result.winner_wape,
            "winning_run_id": result.winning_run_id,
            "alias": result.alias,
            "wall_clock_s": wall,
            "success": ok,
        },
    }


class DemoController(Controller):
    path = "/demo"
    tags = ["retail: demo"]

    @post(
        "/run",
        summary="Run the end-to-end demo pipeline in process; returns a DemoRunResult",
        description="409 demo_already_running while a pipeline runs (on any worker).",
        status_code=200,
        opt=raises(409),
    )
    async def run(self, ctx: Ctx, data: JSONBody[DemoRunRequest | None] = None) -> DemoRunResult:
        return await run_pipeline(ctx, data or DemoRunRequest())


def _error_event(error: str, error_type: str) -> dict[str, Any]:
    return {
        **step_event("error", -1, "pipeline", status="fail", detail=error),
        "data": {"error": error, "error_type": error_type},
    }


@websocket("/demo/stream", name="retail_demo_stream")
async def demo_stream(socket: WebSocket) -> None:
    await socket.accept()
    ctx: AppContext = socket.app.state["ctx"]

    async def send(event: dict[str, Any]) -> None:
        await socket.send_text(json.dumps(event, default=str))

    try:
        raw = await socket.receive_text()
    except WebSocketDisconnect:
        return
    try:
        body = json.loads(raw) if raw.strip() else {}
        req = msgspec.convert(body, DemoRunRequest)
    except (ValueError, msgspec.ValidationError) as exc:
        await send(_error_event(f"bad start frame: {exc}", "validation_error"))
        await socket.close()
        return
    try:
        # The pipeline runs on its own task, so a client that goes away does not cancel it halfway
        # (the lease is released when it ends either way).
        events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        async def enqueue(e: dict[str, Any]) -> None:
            await events.put(e)

        async def runner() -> None:
            try:
                await run_pipeline(ctx, req, enqueue)
            except EngineError as exc:
                await events.put(_error_event(str(exc), exc.reason_code))
            except Exception as exc:
                await events.put(_error_event(f"internal error ({type(exc).__name__})", "internal_error"))
            finally:
                await events.put(None)

        task = asyncio.create_task(runner())
        while (event := await events.get()) is not None:
            with_disconnect = True
            try:
                await send(event)
            except (WebSocketDisconnect, RuntimeError):
                with_disconnect = False
            if not with_disconnect:
                await task
                return
        await task
        await socket.close()
    except WebSocketDisconnect:
        return

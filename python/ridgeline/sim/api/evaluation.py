"""Evaluation: ``/api/sim/batch/{id}/evaluate``, ``/api/sim/compare`` and ``/api/benchmarks/latest``.

A SUCCEEDED batch's per-episode report never changes, so its evaluation (a paired bootstrap per
profile) is computed once per batch and kept.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
import numpy as np
from litestar import Request, get, post
from litestar.params import PathParameter

from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import JobStatus
from ridgeline.platform.openapi import raises
from ridgeline.sim import gaps
from ridgeline.sim.api import schemas, store
from ridgeline.sim.api.batches import require_batch
from ridgeline.sim.api.bodies import JSONBody
from ridgeline.sim.api.runs import require_run
from ridgeline.sim.api.service import BASELINE, SimService
from ridgeline.sim.api.validation import strict_body

# +1: larger is better; every other run metric is smaller-is-better (errors, energy, time, slip).
COMPARE_DIRECTION: dict[str, int] = {"success_rate": 1, "episodes": 1, "base_distance": 1}
EVALUATIONS_KEPT = 64

DEFINITIONS = {
    "G_dyn": "mean over episodes of RMS_t ||q_P - q_B|| / (RMS_t ||q_B - mean q_B|| + 0.01), where q_B "
    "and q_P are the true configurations (a floating base's pose included) of the baseline's and the "
    "profile's closed-loop rollouts (same controller, reference, seed and initial state): how far the "
    "profile's dynamics move the controlled system, normalised by the baseline's motion (dimensionless)",
    "G_perc": "mean over episodes of RMS_t ||obs_q - q||: position error the profile's sensor model "
    "(noise, delay, quantisation) puts into the controller's observations (rad or m)",
    "G_perf": "mean cost under the profile / mean cost under the baseline - 1, cost = tracking_rmse + "
    "base_deviation (RMS distance of a floating base from the baseline's base path; 0 for fixed bases "
    "and for the baseline): relative task drop (0 = none, 0.5 = 50 % worse); wheels that spin on a "
    "slippery floor track their reference but leave the body behind, which counts as worse",
    "drop": "(baseline - value) for higher-is-better metrics, (value - baseline) otherwise; "
    "positive = worse than the baseline",
}


def _evaluate(batch: schemas.Batch, report: dict[str, Any], request: dict[str, Any]) -> schemas.Evaluation:
    base = next(p for p in batch.profiles if p.profile == BASELINE)
    seed = int(request.get("seed", 0))
    out = []
    for p in batch.profiles:
        arrays = {
            k: np.array([np.nan if x is None else x for x in v], dtype=np.float64)
            for k, v in report["per_episode"][p.profile].items()
        }
        g = gaps.profile_gaps(p.profile, BASELINE, arrays, seed=seed)
        out.append(
            schemas.ProfileEvaluation(
                profile=p.profile,
                run_id=p.run_id,
                drops=gaps.performance_drops(base.metrics, p.metrics),
                G_dyn=g.G_dyn,
                G_perc=g.G_perc,
                G_perf=g.G_perf,
            )
        )
    return schemas.Evaluation(
        batch_id=batch.batch_id,
        baseline=BASELINE,
        profiles=out,
        definitions=DEFINITIONS,
        bootstrap={
            "method": "paired percentile bootstrap over episodes",
            "resamples": gaps.N_BOOT,
            "confidence": gaps.CONFIDENCE,
            "seed": seed,
        },
    )


async def evaluate(svc: SimService, batch_id: str) -> schemas.Evaluation:
    cached = svc.evaluations.get(batch_id)
    if cached is not None:
        svc.evaluations.move_to_end(batch_id)
        return cached
    batch = await require_batch(svc, batch_id)
    b = await store.batch(svc.ctx.db, batch_id)
    if batch.status != JobStatus.SUCCEEDED or b is None or b.report is None:
        raise RidgelineError(
            409,
            "batch_not_ready",
            f"batch {batch_id!r} has status {batch.status}; evaluation needs SUCCEEDED",
            batch_status=batch.status,
        )
    ev = await asyncio.to_thread(_evaluate, batch, b.report, b.request)
    svc.evaluations[batch_id] = ev
    while len(svc.evaluations) > EVALUATIONS_KEPT:
        svc.evaluations.popitem(last=False)
    return ev


async def latest_benchmark(svc: SimService) -> schemas.BenchmarkReport:
    b = await store.latest_reported_batch(svc.ctx.db)
    if b is None:
        raise RidgelineError(
            404,
            "no_benchmark",
            "no benchmark yet: run POST /api/sim/batch (every completed batch is a benchmark)",
        )
    ev = await evaluate(svc, b.id)
    return schemas.BenchmarkReport(
        batch_id=b.id,
        robot=b.request["urdf_path"],
        finished_at=b.finished_at,
        G_dyn={p.profile: p.G_dyn for p in ev.profiles},
        G_perc={p.profile: p.G_perc for p in ev.profiles},
        G_perf={p.profile: p.G_perf for p in ev.profiles},
        evaluation=ev,
    )


async def compare(svc: SimService, body: schemas.CompareRequest) -> schemas.CompareResponse:
    """Only SUCCEEDED runs of one robot (the first such run's) are comparable; the others are listed
    with the reason and take no part in the drops or the best run."""
    valid = {f.name for f in msgspec.structs.fields(schemas.RunMetrics)}
    if body.metric_key not in valid:
        raise RidgelineError(
            422,
            "unknown_metric",
            f"unknown metric_key {body.metric_key!r} (one of {', '.join(sorted(valid))})",
            metric=body.metric_key,
        )
    runs = [await require_run(svc, rid) for rid in body.run_ids]
    robot = next((r.robot_sha256 for r in runs if r.status == JobStatus.SUCCEEDED), None)
    entries = []
    for run in runs:
        value = None if run.metrics is None else getattr(run.metrics, body.metric_key)
        reason = None
        if run.status != JobStatus.SUCCEEDED:
            reason = "not_succeeded"
        elif run.robot_sha256 != robot:
            reason = "different_robot"
        elif value is None:
            reason = "no_value"
        entries.append(
            schemas.CompareEntry(
                run_id=run.run_id,
                profile=run.profile,
                status=run.status,
                value=value,
                comparable=reason is None,
                excluded_reason=reason,
            )
        )
    direction = COMPARE_DIRECTION.get(body.metric_key, -1)
    pairs = []
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            drop = rel = None
            if a.comparable and b.comparable and a.value is not None and b.value is not None:
                drop = (a.value - b.value) * direction
                rel = drop / abs(a.value) if a.value != 0 else None
            pairs.append(
                schemas.PairwiseDrop(
                    run_a=a.run_id,
                    run_b=b.run_id,
                    value_a=a.value,
                    value_b=b.value,
                    drop=drop,
                    relative_drop=rel,
                )
            )
    scored = [e for e in entries if e.comparable and e.value is not None]
    best = max(scored, key=lambda e: float(e.value) * direction).run_id if scored else None  # type: ignore[arg-type]
    return schemas.CompareResponse(
        metric_key=body.metric_key,
        higher_is_better=direction > 0,
        runs=entries,
        pairwise=pairs,
        best_run_id=best,
        robot_sha256=robot,
    )


@get(
    "/api/sim/batch/{batch_id:str}/evaluate",
    summary="Cross-profile evaluation (drops, gap widths)",
    tags=["sim"],
    opt=raises(409),
)
async def batch_evaluate(
    svc: Service[SimService], batch_id: Annotated[str, PathParameter(description="Batch id")]
) -> schemas.Evaluation:
    return await evaluate(svc, batch_id)


@post(
    "/api/sim/compare",
    summary="Compare metrics across runs; pairwise drops",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def compare_runs(
    request: Request[Any, Any, Any],
    svc: Service[SimService],
    data: Annotated[schemas.CompareRequest, JSONBody],
) -> schemas.CompareResponse:
    return await compare(svc, await strict_body(request, schemas.CompareRequest))


@get(
    "/api/benchmarks/latest",
    summary="Latest benchmark report (G_dyn, G_perc, G_perf)",
    tags=["sim"],
    opt=raises(404),
)
async def benchmarks_latest(svc: Service[SimService]) -> schemas.BenchmarkReport:
    return await latest_benchmark(svc)


ROUTES = [batch_evaluate, compare_runs, benchmarks_latest]

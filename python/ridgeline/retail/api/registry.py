"""``/registry``: model runs, their status life-cycle, artifacts with SHA-256, aliases and diffs.

Run status life-cycle (anything else is a 400 ``invalid_status_transition``)::

    pending -> running | success | failed | archived
    running -> success | failed
    success -> archived          failed -> archived          archived -> (final)

Artifacts live in the platform artifact store and are addressed as
``artifact://<namespace>/<owner>/<name>``; the registry records the SHA-256 and ``verify``
recomputes it from the file.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ridgeline.platform import paging
from ridgeline.platform.artifacts import ArtifactError
from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import sha256_file, sha256_hex
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Page, page_window, resolve_sort
from ridgeline.platform.problems import NotFound
from ridgeline.retail import dates
from ridgeline.retail.api import store
from ridgeline.retail.api.schemas.forecasting import (
    Alias,
    AliasCreate,
    AliasList,
    ModelRun,
    ModelRunCreate,
    ModelRunList,
    ModelRunUpdate,
    RunComparison,
    ValueDiff,
    VerifyResult,
)
from ridgeline.retail.api.store import model_runs

PageSize = paging.page_size(100)


OptionalId = Annotated[int | None, QueryParameter(ge=paging.INT64_MIN, le=paging.INT64_MAX)]


SortBy = Annotated[
    str | None,
    QueryParameter(
        description="created_at, model_type, status, store_id or product_id; anything else falls back to created_at desc"
    ),
]


SortOrder = Annotated[str | None, QueryParameter(description="asc or desc (default desc)")]


class RegistryController(Controller):
    path = "/registry"
    tags = ["retail: registry"]

    @post("/runs", summary="Create a model run (pending)", status_code=201, opt=raises(400))
    async def create_run(self, ctx: Ctx, data: JSONBody[ModelRunCreate]) -> ModelRun:
        return await create_run(ctx, data)

    @get(
        "/runs", summary="List model runs with filters, pagination and allow-listed sorting", opt=raises(400)
    )
    async def list_runs(
        self,
        ctx: Ctx,
        model_type: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        store_id: OptionalId = None,
        product_id: OptionalId = None,
        page: Page = 1,
        page_size: PageSize = 20,
        sort_by: SortBy = None,
        sort_order: SortOrder = None,
    ) -> ModelRunList:
        return await list_runs(
            ctx,
            model_type=model_type,
            status=status,
            store_id=store_id,
            product_id=product_id,
            page=page,
            page_size=page_size,
            sort_by=sort_by,
            sort_order=sort_order,
        )

    @get("/runs/{run_id:str}", summary="Run details with metrics and runtime info")
    async def get_run(self, ctx: Ctx, run_id: FromPath[str]) -> ModelRun:
        return await require_run(ctx, run_id)

    @patch(
        "/runs/{run_id:str}",
        summary="Update status, metrics, artifact URI/hash or error message",
        description="metrics are merged into the stored ones (keys given replace those keys); each "
        "value must be a finite number (422 invalid_metric naming the key)",
        opt=raises(400),
    )
    async def update_run(self, ctx: Ctx, run_id: FromPath[str], data: JSONBody[ModelRunUpdate]) -> ModelRun:
        if data.metrics is not None:
            check_metrics(data.metrics)
        return await update_run(ctx, run_id, data)

    @get(
        "/runs/{run_id:str}/verify",
        summary="Recompute the artifact's SHA-256 and compare with the record",
        opt=raises(400, 409),
    )
    async def verify_run(self, ctx: Ctx, run_id: FromPath[str]) -> VerifyResult:
        return await verify_run(ctx, run_id)

    @post(
        "/aliases",
        summary="Create or move an alias (successful runs only)",
        status_code=200,
        opt=raises(400, 404),
    )
    async def upsert_alias(self, ctx: Ctx, data: JSONBody[AliasCreate]) -> Response[Alias]:
        alias, created = await upsert_alias(ctx, data)
        return Response(alias, status_code=201 if created else 200)

    @get("/aliases", summary="List aliases")
    async def list_aliases(self, ctx: Ctx) -> AliasList:
        return await list_aliases(ctx)

    @get("/aliases/{alias_name:str}", summary="Get an alias")
    async def get_alias(self, ctx: Ctx, alias_name: FromPath[str]) -> Alias:
        alias = await get_alias(ctx, alias_name)
        if alias is None:
            raise NotFound("alias", alias_name)
        return alias

    @delete("/aliases/{alias_name:str}", summary="Delete an alias", status_code=204)
    async def delete_alias(self, ctx: Ctx, alias_name: FromPath[str]) -> None:
        if not await delete_alias(ctx, alias_name):
            raise NotFound("alias", alias_name)

    @get(
        "/compare/{run_id_a:str}/{run_id_b:str}",
        summary="Diff two runs (config and metrics)",
        opt=raises(400),
    )
    async def compare(self, ctx: Ctx, run_id_a: FromPath[str], run_id_b: FromPath[str]) -> RunComparison:
        return await compare_runs(ctx, run_id_a, run_id_b)


RUN_SORT = {"created_at", "model_type", "status", "store_id", "product_id"}


TRANSITIONS: dict[str, set[str]] = {
    "pending": {"running", "success", "failed", "archived"},
    "running": {"success", "failed"},
    "success": {"archived"},
    "failed": {"archived"},
    "archived": set(),
}


ARTIFACT_SCHEME = "artifact://"


def _now() -> datetime:
    return datetime.now(UTC)


def _run_from_row(row: Any) -> ModelRun:
    m = row._mapping
    return ModelRun(
        run_id=m["id"],
        model_type=m["model_type"],
        status=m["status"],
        store_id=m["store_id"],
        product_id=m["product_id"],
        model_config=m["model_config"] or {},
        feature_config=m["feature_config"],
        data_window_start=m["data_window_start"],
        data_window_end=m["data_window_end"],
        metrics=m["metrics"],
        runtime_info=m["runtime_info"],
        artifact_uri=m["artifact_uri"],
        artifact_hash=m["artifact_sha256"],
        error_message=m["error_message"],
        created_at=m["created_at"],  # type: ignore[arg-type]
        updated_at=m["updated_at"],  # type: ignore[arg-type]
        completed_at=m["completed_at"],
    )


def artifact_uri(namespace: str, owner: str, name: str) -> str:
    return f"{ARTIFACT_SCHEME}{namespace}/{owner}/{name}"


def parse_artifact_uri(uri: str) -> tuple[str, str, str]:
    if not uri.startswith(ARTIFACT_SCHEME):
        raise RidgelineError(400, "unsupported_artifact_uri", f"only {ARTIFACT_SCHEME} URIs can be verified")
    parts = uri[len(ARTIFACT_SCHEME) :].split("/")
    if len(parts) != 3 or not all(parts):
        raise RidgelineError(
            400, "invalid_artifact_uri", f"expected {ARTIFACT_SCHEME}<namespace>/<owner>/<name>"
        )
    return parts[0], parts[1], parts[2]


async def create_run(ctx: AppContext, body: ModelRunCreate, *, status: str = "pending") -> ModelRun:
    dates.check_range(body.data_window_start, body.data_window_end, max_days=None, what="data window")
    now = _now()
    values = {
        "id": uuid.uuid4().hex,
        "model_type": body.model_type,
        "status": status,
        "store_id": body.store_id,
        "product_id": body.product_id,
        "model_config": body.model_config,
        "feature_config": body.feature_config,
        "data_window_start": body.data_window_start,
        "data_window_end": body.data_window_end,
        "metrics": None,
        "runtime_info": body.runtime_info,
        "artifact_uri": None,
        "artifact_sha256": None,
        "error_message": None,
        "created_at": now,
        "updated_at": now,
        "completed_at": None,
    }
    await store.insert_run(ctx.db, values)
    run = await get_run(ctx, values["id"])
    assert run is not None
    return run


async def get_run(ctx: AppContext, run_id: str) -> ModelRun | None:
    row = await store.run_row(ctx.db, run_id)
    return None if row is None else _run_from_row(row)


async def require_run(ctx: AppContext, run_id: str) -> ModelRun:
    run = await get_run(ctx, run_id)
    if run is None:
        raise NotFound("model run", run_id, reason_code="run_not_found", run_id=run_id)
    return run


async def list_runs(
    ctx: AppContext,
    *,
    model_type: str | None,
    status: str | None,
    store_id: int | None,
    product_id: int | None,
    page: int,
    page_size: int,
    sort_by: str | None,
    sort_order: str | None,
) -> ModelRunList:
    t = model_runs
    conds = []
    if model_type is not None:
        conds.append(t.c.model_type == model_type)
    if status is not None:
        conds.append(t.c.status == status)
    if store_id is not None:
        conds.append(t.c.store_id == store_id)
    if product_id is not None:
        conds.append(t.c.product_id == product_id)
    # Allow-listed sort; an unknown column (or none) falls back to created_at desc.
    sort = resolve_sort(
        sort_by,
        sort_order,
        {c: t.c[c] for c in {*RUN_SORT, "created_at"}},
        "created_at",
        default_descending=True,
        keep_order_on_fallback=False,
    )
    order = [sort.target.desc() if sort.descending else sort.target.asc(), t.c.id.asc()]
    window = page_window(page, page_size)
    rows, total = await store.run_rows(ctx.db, conds, order, window.limit, window.offset)
    return ModelRunList(runs=[_run_from_row(r) for r in rows], total=total, page=page, page_size=page_size)


def check_metrics(metrics: dict[str, Any]) -> None:
    """Guard: PATCHed metric values are finite numbers (422 ``invalid_metric`` naming the key)."""
    for key, v in metrics.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise RidgelineError(
                422,
                "invalid_metric",
                f"metric {key!r} must be a finite number, not {type(v).__name__} {str(v)[:40]!r}",
                metric=key,
            )


async def update_run(ctx: AppContext, run_id: str, body: ModelRunUpdate) -> ModelRun:
    run = await require_run(ctx, run_id)
    values: dict[str, Any] = {}
    if body.status is not None and body.status != run.status:
        if body.status not in TRANSITIONS[run.status]:
            raise RidgelineError(
                400,
                "invalid_status_transition",
                f"a {run.status} run cannot become {body.status}",
                allowed=sorted(TRANSITIONS[run.status]),
            )
        values["status"] = body.status
        if body.status in ("success", "failed"):
            values["completed_at"] = _now()
    if body.metrics is not None:
        # Merged into the stored metrics (a PATCH used to replace them, losing the train-time
        # holdout scores). A client's values are checked as numbers by the PATCH handler.
        values["metrics"] = {**(run.metrics or {}), **body.metrics}
    if body.artifact_uri is not None:
        values["artifact_uri"] = body.artifact_uri
    if body.artifact_hash is not None:
        values["artifact_sha256"] = body.artifact_hash
    if body.error_message is not None:
        values["error_message"] = body.error_message
    if values:
        values["updated_at"] = _now()
        await store.update_run(ctx.db, run_id, values)
    return await require_run(ctx, run_id)


async def store_artifact(ctx: AppContext, run_id: str, name: str, data: bytes) -> tuple[str, str]:
    """Write a run's artifact and record its URI and SHA-256 on the run."""
    art = await ctx.artifacts.put("retail-models", run_id, name, data)
    uri = artifact_uri("retail-models", run_id, name)
    await store.update_run(
        ctx.db, run_id, {"artifact_uri": uri, "artifact_sha256": art.sha256, "updated_at": _now()}
    )
    return uri, art.sha256


async def set_runtime_info(ctx: AppContext, run_id: str, info: dict[str, Any]) -> None:
    await store.update_run(ctx.db, run_id, {"runtime_info": info})


async def read_artifact(ctx: AppContext, run: ModelRun) -> bytes:
    """The run's artifact bytes, after checking them against the SHA-256 the registry recorded."""
    if not run.artifact_uri:
        raise RidgelineError(400, "no_artifact", f"model run {run.run_id} has no artifact", run_id=run.run_id)
    ns, owner, name = parse_artifact_uri(run.artifact_uri)
    art = await ctx.artifacts.get(ns, owner, name)
    if art is None:
        raise RidgelineError(409, "artifact_missing", f"the artifact of run {run.run_id} is missing")
    data = ctx.artifacts.read(art)
    if sha256_hex(data) != (run.artifact_hash or art.sha256):
        raise RidgelineError(
            409, "artifact_corrupted", f"the artifact of run {run.run_id} fails its SHA-256 check"
        )
    return data


async def verify_run(ctx: AppContext, run_id: str) -> VerifyResult:
    run = await require_run(ctx, run_id)
    if not run.artifact_uri:
        raise RidgelineError(
            400, "no_artifact", f"model run {run_id} has no artifact to verify", run_id=run_id
        )
    ns, owner, name = parse_artifact_uri(run.artifact_uri)
    expected = run.artifact_hash
    try:
        art = await ctx.artifacts.get(ns, owner, name)
    except ArtifactError as exc:  # the platform refuses the name (traversal): to the client, a bad URI
        raise RidgelineError(400, "invalid_artifact_uri", str(exc)) from exc
    actual = None
    reason = "missing_file"
    if art is not None:
        path = ctx.artifacts.path_of(art)
        if path.is_file():
            actual = sha256_file(path)
            expected = expected or art.sha256
            reason = "ok" if actual == expected else "hash_mismatch"
    return VerifyResult(
        run_id=run_id,
        artifact_uri=run.artifact_uri,
        expected_hash=expected,
        actual_hash=actual,
        verified=reason == "ok",
        reason=reason,
    )


def _alias_from_row(row: Any) -> Alias:
    m = row._mapping
    return Alias(
        alias_name=m["alias_name"],
        run_id=m["run_id"],
        description=m["description"],
        run_status=m["status"],
        model_type=m["model_type"],
        created_at=m["created_at"],  # type: ignore[arg-type]
        updated_at=m["updated_at"],  # type: ignore[arg-type]
    )


async def upsert_alias(ctx: AppContext, body: AliasCreate) -> tuple[Alias, bool]:
    """Create or move an alias; only a successful run can carry one. Returns (alias, created)."""
    run = await require_run(ctx, body.run_id)
    if run.status != "success":
        raise RidgelineError(
            400,
            "run_not_successful",
            f"aliases point at successful runs only (run {run.run_id} is {run.status})",
        )
    created = await store.put_alias(ctx.db, body.alias_name, body.run_id, body.description, _now())
    alias = await get_alias(ctx, body.alias_name)
    assert alias is not None
    return alias, created


async def get_alias(ctx: AppContext, name: str) -> Alias | None:
    row = await store.alias_row(ctx.db, name)
    return None if row is None else _alias_from_row(row)


async def list_aliases(ctx: AppContext) -> AliasList:
    items = [_alias_from_row(r) for r in await store.alias_rows(ctx.db)]
    return AliasList(aliases=items, total=len(items))


async def delete_alias(ctx: AppContext, name: str) -> bool:
    return await store.delete_alias(ctx.db, name)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def _diff(a: dict[str, Any] | None, b: dict[str, Any] | None, *, only_changed: bool) -> dict[str, ValueDiff]:
    fa: dict[str, Any] = {}
    fb: dict[str, Any] = {}
    _flatten("", a or {}, fa)
    _flatten("", b or {}, fb)
    out: dict[str, ValueDiff] = {}
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key), fb.get(key)
        if only_changed and va == vb:
            continue
        delta = None
        if isinstance(va, int | float) and isinstance(vb, int | float) and not isinstance(va, bool):
            d = float(vb) - float(va)
            delta = d if math.isfinite(d) else None
        out[key] = ValueDiff(a=va, b=vb, delta=delta)
    return out


async def compare_runs(ctx: AppContext, run_a: str, run_b: str) -> RunComparison:
    a = await require_run(ctx, run_a)
    b = await require_run(ctx, run_b)
    config_a = {
        "model_type": a.model_type,
        "model_config": a.model_config,
        "feature_config": a.feature_config,
    }
    config_b = {
        "model_type": b.model_type,
        "model_config": b.model_config,
        "feature_config": b.feature_config,
    }
    return RunComparison(
        run_a=a,
        run_b=b,
        config_diff=_diff(config_a, config_b, only_changed=True),
        metrics_diff=_diff(a.metrics, b.metrics, only_changed=False),
        same_model_type=a.model_type == b.model_type,
        same_data_window=(a.data_window_start, a.data_window_end) == (b.data_window_start, b.data_window_end),
    )

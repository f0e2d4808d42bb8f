"""Litestar controllers of the forecasting slices (registry so far)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ridgeline.platform.context import Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.retail.api import forecast_schemas as fs
from ridgeline.retail.api import forecast_service as svc

Page = Annotated[int, QueryParameter(ge=1, description="Page number (1-indexed)")]
PageSize = Annotated[int, QueryParameter(ge=1, le=100, description="Items per page (max 100)")]
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

    @post("/runs", summary="Create a model run (pending)", status_code=201)
    async def create_run(self, ctx: Ctx, data: JSONBody[fs.ModelRunCreate]) -> fs.ModelRun:
        return await svc.create_run(ctx, data)

    @get("/runs", summary="List model runs with filters, pagination and allow-listed sorting")
    async def list_runs(
        self,
        ctx: Ctx,
        model_type: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        store_id: FromQuery[int | None] = None,
        product_id: FromQuery[int | None] = None,
        page: Page = 1,
        page_size: PageSize = 20,
        sort_by: SortBy = None,
        sort_order: SortOrder = None,
    ) -> fs.ModelRunList:
        return await svc.list_runs(
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
    async def get_run(self, ctx: Ctx, run_id: FromPath[str]) -> fs.ModelRun:
        return await svc.require_run(ctx, run_id)

    @patch("/runs/{run_id:str}", summary="Update status, metrics, artifact URI/hash or error message")
    async def update_run(
        self, ctx: Ctx, run_id: FromPath[str], data: JSONBody[fs.ModelRunUpdate]
    ) -> fs.ModelRun:
        return await svc.update_run(ctx, run_id, data)

    @get("/runs/{run_id:str}/verify", summary="Recompute the artifact's SHA-256 and compare with the record")
    async def verify_run(self, ctx: Ctx, run_id: FromPath[str]) -> fs.VerifyResult:
        return await svc.verify_run(ctx, run_id)

    @post("/aliases", summary="Create or move an alias (successful runs only)", status_code=200)
    async def upsert_alias(self, ctx: Ctx, data: JSONBody[fs.AliasCreate]) -> Response[fs.Alias]:
        alias, created = await svc.upsert_alias(ctx, data)
        return Response(alias, status_code=201 if created else 200)

    @get("/aliases", summary="List aliases")
    async def list_aliases(self, ctx: Ctx) -> fs.AliasList:
        return await svc.list_aliases(ctx)

    @get("/aliases/{alias_name:str}", summary="Get an alias")
    async def get_alias(self, ctx: Ctx, alias_name: FromPath[str]) -> fs.Alias:
        alias = await svc.get_alias(ctx, alias_name)
        if alias is None:
            raise RidgelineError(404, "alias_not_found", f"alias {alias_name!r} not found")
        return alias

    @delete("/aliases/{alias_name:str}", summary="Delete an alias", status_code=204)
    async def delete_alias(self, ctx: Ctx, alias_name: FromPath[str]) -> None:
        if not await svc.delete_alias(ctx, alias_name):
            raise RidgelineError(404, "alias_not_found", f"alias {alias_name!r} not found")

    @get("/compare/{run_id_a:str}/{run_id_b:str}", summary="Diff two runs (config and metrics)")
    async def compare(self, ctx: Ctx, run_id_a: FromPath[str], run_id_b: FromPath[str]) -> fs.RunComparison:
        return await svc.compare_runs(ctx, run_id_a, run_id_b)


FORECAST_ROUTE_HANDLERS = [RegistryController]

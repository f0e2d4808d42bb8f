"""Assets: ``/api/assets...`` (URDF, mesh and USD import; listing). A file that fails validation
stores nothing; the engine's :class:`~ridgeline.sim.assets.AssetError` is rendered as raised
(415 ``unsupported_format``, else 422 with its reason code)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, KwargDefinition, Parameter

from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.openapi import raises
from ridgeline.platform.scanning import check_upload
from ridgeline.sim import assets as engine_assets
from ridgeline.sim.api import schemas, store
from ridgeline.sim.api.errors import REASON_CODES
from ridgeline.sim.api.service import ASSET_NS, SimService, asset_from_row, new_id, now
from ridgeline.sim.api.validation import invalid
from ridgeline.sim.examples import EXAMPLE_ROBOTS

MAX_UPLOAD = 64 * 1024 * 1024


async def store_asset(
    svc: SimService,
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
) -> schemas.Asset:
    asset_id = asset_id or new_id()
    art = await svc.ctx.artifacts.put(ASSET_NS, asset_id, stored_name, data)
    asset = schemas.Asset(
        id=asset_id,
        project_id=project_id,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        format=fmt,
        source=source,
        filename=filename,
        sha256=art.sha256,
        size=art.size,
        summary=summary,
        created_at=now(),
    )
    await store.insert(svc.ctx.db, store.assets, msgspec.to_builtins(asset, builtin_types=(datetime,)))
    return asset


async def import_asset(
    svc: SimService,
    filename: str,
    data: bytes,
    *,
    name: str | None,
    project_id: str | None,
    density: float,
    scale: float,
    floating_base: bool,
) -> schemas.Asset:
    await svc.check_project(project_id)
    if not data:
        raise RidgelineError(422, "empty_file", "the uploaded file is empty")
    kind = engine_assets.kind_of(filename)
    ext = filename.rsplit(".", 1)[-1].lower()
    if kind == "urdf":
        _, usum = await asyncio.to_thread(engine_assets.validate_urdf, data, floating_base)
        summary: dict[str, Any] = msgspec.to_builtins(usum)
        stored, fmt, asset_kind = data, "urdf", "urdf"
    else:
        mesh = await asyncio.to_thread(engine_assets.load_mesh, data, filename, scale)
        msum = await asyncio.to_thread(engine_assets.summarize_mesh, mesh, density)
        summary = msgspec.to_builtins(msum)
        summary["scale"] = scale
        # stored as binary STL in metres (USD and scaled meshes are normalised this way)
        stored = data if (kind == "mesh" and scale == 1.0) else mesh.export(file_type="stl")
        fmt, asset_kind = ext, "mesh"
    stored_name = "source.urdf" if asset_kind == "urdf" else ("source." + (ext if stored is data else "stl"))
    return await store_asset(
        svc,
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


async def seed_examples(svc: SimService) -> int:
    """Store the built-in example robots as URDF assets (``source: "example"``) unless present.

    Ids derive from the URDF's SHA-256, so concurrent workers starting together insert each
    example once (the loser's insert hits the primary key and is ignored)."""
    added = 0
    for path, urdf in EXAMPLE_ROBOTS.items():
        asset_id = sha256_hex(urdf)[:32]
        if await svc.get_asset(asset_id) is not None:
            continue
        _, usum = engine_assets.validate_urdf(urdf.encode())
        name = path.rsplit("/", 1)[-1]
        try:
            await store_asset(
                svc,
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


@dataclass
class ImportForm:
    """multipart/form-data for POST /api/assets/import."""

    file: Annotated[
        UploadFile, KwargDefinition(description="URDF, mesh or USD file; the extension selects the reader")
    ]
    name: Annotated[str | None, KwargDefinition(description="Display name (default: the file name)")] = None
    project_id: Annotated[str | None, KwargDefinition(description="Project to file the asset under")] = None
    density: Annotated[
        float, KwargDefinition(description="Uniform density for mesh mass properties (kg/m^3)")
    ] = 1000.0
    scale: Annotated[float, KwargDefinition(description="Mesh units to metres (0.001 for millimetres)")] = 1.0
    floating_base: Annotated[
        bool,
        KwargDefinition(
            description="Validate the URDF with a free-flyer root; runs of this asset then default to a "
            "floating base"
        ),
    ] = False


@post(
    "/api/assets/import",
    summary="Import URDF/USD/mesh",
    description="multipart/form-data: `file` (URDF .urdf/.xml, mesh .stl/.obj/.ply/.glb/.off, USD .usd/.usda/"
    ".usdc); optional `name`, `project_id`, `density` (kg/m^3, default 1000), `scale` (mesh units to metres, "
    "default 1) and `floating_base` (URDF check with a free-flyer; runs of the asset default to it). URDF is "
    "validated by the simulation core's parser; meshes get mass properties. A file that fails validation "
    "stores nothing.",
    tags=["sim"],
    status_code=201,
    request_max_body_size=MAX_UPLOAD,
    opt=raises(404, 413, 415, 422, 503),
)
async def import_asset_handler(
    svc: Service[SimService], data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> schemas.Asset:
    content = await data.file.read()
    await check_upload(svc.ctx.scanner, content, REASON_CODES)
    filename = (data.file.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if not filename:
        raise RidgelineError(422, "invalid_request", "the uploaded file needs a file name with an extension")
    for field, value in (("density", data.density), ("scale", data.scale)):
        if not math.isfinite(value):  # form fields arrive as text: "nan" and "inf" parse as floats
            raise invalid(field, "must be a finite number")
    return await import_asset(
        svc,
        filename,
        content,
        name=data.name,
        project_id=data.project_id,
        density=data.density,
        scale=data.scale,
        floating_base=data.floating_base,
    )


@get("/api/assets", summary="List assets", tags=["sim"])
async def list_assets(
    svc: Service[SimService],
    project_id: Annotated[str | None, Parameter(description="Only this project's assets")] = None,
    kind: Annotated[str | None, Parameter(description="urdf or mesh")] = None,
) -> schemas.AssetList:
    items = [asset_from_row(r) for r in await store.list_assets(svc.ctx.db, project_id, kind)]
    return schemas.AssetList(assets=items, count=len(items))


ROUTES = [import_asset_handler, list_assets]

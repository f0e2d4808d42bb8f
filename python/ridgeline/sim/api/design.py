"""Design: ``/api/design/...``, mesh segmentation into parts and linkages built from them (with an
optional URDF export the core parses back). Engine errors (``AssetError``) render as raised."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from litestar import Request, post

from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound
from ridgeline.sim import assets as engine_assets
from ridgeline.sim.api import schemas
from ridgeline.sim.api.assets import store_asset
from ridgeline.sim.api.bodies import JSONBody
from ridgeline.sim.api.service import ASSET_NS, SimService
from ridgeline.sim.api.validation import strict_body


async def mesh_of(svc: SimService, asset_id: str) -> tuple[schemas.Asset, Any]:
    asset = await svc.get_asset(asset_id)
    if asset is None:
        raise NotFound("asset", asset_id, asset_id=asset_id)
    if asset.kind != "mesh":
        raise RidgelineError(422, "not_a_mesh", f"asset {asset_id!r} is a {asset.kind}, not a mesh")
    data = await svc.asset_bytes(asset)
    art = (await svc.ctx.artifacts.list(ASSET_NS, asset.id))[0]
    return asset, await asyncio.to_thread(engine_assets.load_mesh, data, art.name, 1.0)


async def segment(svc: SimService, body: schemas.SegmentRequest) -> schemas.SegmentResponse:
    asset, mesh = await mesh_of(svc, body.asset_id)
    density = body.density or float(asset.summary["mass_properties"]["density"])
    parts, _ = await asyncio.to_thread(engine_assets.segment, mesh, density, body.min_faces)
    return schemas.SegmentResponse(
        asset_id=asset.id,
        density=density,
        parts=parts,
        count=len(parts),
        total_mass=float(sum(p.mass_properties.mass for p in parts)),
    )


async def _resolve_links(svc: SimService, body: schemas.LinkageRequest) -> list[engine_assets.ResolvedLink]:
    resolved: list[engine_assets.ResolvedLink] = []
    part_cache: dict[tuple[str, float], list[engine_assets.Part]] = {}
    for lk in body.links:
        if lk.asset_id is None:
            if lk.mass is None or lk.inertia is None:
                raise RidgelineError(
                    422,
                    "invalid_linkage",
                    f"link {lk.name!r}: give mass and inertia, or asset_id and part_index",
                )
            resolved.append(
                engine_assets.ResolvedLink(
                    name=lk.name,
                    mass=lk.mass,
                    center_of_mass=lk.center_of_mass or [0.0, 0.0, 0.0],
                    inertia=lk.inertia,
                )
            )
            continue
        if lk.part_index is None:
            raise RidgelineError(422, "invalid_linkage", f"link {lk.name!r}: asset_id needs part_index")
        asset, mesh = await mesh_of(svc, lk.asset_id)
        density = lk.density or float(asset.summary["mass_properties"]["density"])
        key = (lk.asset_id, density)
        if key not in part_cache:
            part_cache[key], _ = await asyncio.to_thread(engine_assets.segment, mesh, density)
        parts = part_cache[key]
        if lk.part_index >= len(parts):
            raise RidgelineError(
                422,
                "invalid_linkage",
                f"link {lk.name!r}: asset {lk.asset_id!r} has {len(parts)} parts (part_index {lk.part_index})",
            )
        mp = parts[lk.part_index].mass_properties
        resolved.append(
            engine_assets.ResolvedLink(
                name=lk.name, mass=mp.mass, center_of_mass=mp.center_of_mass, inertia=mp.inertia
            )
        )
    return resolved


async def linkage(svc: SimService, body: schemas.LinkageRequest) -> schemas.LinkageResponse:
    await svc.check_project(body.project_id)
    built = engine_assets.build_linkage(body.name, await _resolve_links(svc, body), body.joints)
    out = schemas.LinkageResponse(
        name=built.name,
        root=built.root,
        links=[schemas.LinkageLink(**msgspec.structs.asdict(lk)) for lk in built.links],
        joints=built.joints,
        dof=built.dof,
        total_mass=built.total_mass,
    )
    if not body.export_urdf:
        return out
    try:
        text, usum = engine_assets.validate_urdf(engine_assets.to_urdf(built).encode())
    except engine_assets.AssetError as exc:  # means the linkage is wrong, not the upload: say so
        raise RidgelineError(422, "invalid_linkage", f"exported URDF rejected by the core: {exc}") from None
    expected = [j.name for j in built.joints if j.type != "fixed"]
    if usum.joint_names != expected:
        raise RidgelineError(
            500, "linkage_roundtrip_mismatch", f"the core read joints {usum.joint_names}, expected {expected}"
        )
    out.urdf = text
    out.verified = {
        "joint_names": usum.joint_names,
        "nq": usum.nq,
        "nv": usum.nv,
        "total_mass": usum.total_mass,
    }
    out.asset = await store_asset(
        svc,
        name=f"{built.name}.urdf",
        kind="urdf",
        fmt="urdf",
        source="linkage",
        filename=f"{built.name}.urdf",
        stored_name="source.urdf",
        data=text.encode(),
        summary=msgspec.to_builtins(usum),
        project_id=body.project_id,
    )
    return out


@post(
    "/api/design/segment", summary="Segment asset into parts", tags=["sim"], status_code=200, opt=raises(404)
)
async def segment_handler(
    request: Request[Any, Any, Any],
    svc: Service[SimService],
    data: Annotated[schemas.SegmentRequest, JSONBody],
) -> schemas.SegmentResponse:
    return await segment(svc, await strict_body(request, schemas.SegmentRequest))


@post(
    "/api/design/linkage",
    summary="Build linkage; optional export URDF",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def linkage_handler(
    request: Request[Any, Any, Any],
    svc: Service[SimService],
    data: Annotated[schemas.LinkageRequest, JSONBody],
) -> schemas.LinkageResponse:
    return await linkage(svc, await strict_body(request, schemas.LinkageRequest))


ROUTES = [segment_handler, linkage_handler]

"""``/v1/platform/deployments`` and ``/v1/platform/activation-audit`` (superadmin): deployment
profiles, their per-capability bindings, clone, delete, activation with provider preflight."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, patch, post, put
from litestar.params import JSONBody, PathParameter

from ridgeline.genai.api.platform import SUPER, Name, Slug
from ridgeline.genai.api.runtime import actor
from ridgeline.genai.runtime import BindingIn, PlatformService
from ridgeline.platform import paging
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset

DeploymentId = Annotated[str, PathParameter(max_length=64)]
Capability = Annotated[str, PathParameter(max_length=32)]
Description = Annotated[str, msgspec.Meta(max_length=4000)]


class DeploymentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    display_name: Name | None = None
    description: Description | None = None
    bindings: dict[str, BindingIn] = {}


class DeploymentPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: Slug | None = None
    display_name: Name | None = None
    description: Description | None = None


class CloneIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    display_name: Name | None = None
    description: Description | None = None


@get("/v1/platform/deployments", opt=SUPER)
async def list_deployments(platform: Service[PlatformService]) -> dict[str, Any]:
    return {"deployments": await platform.list_deployments()}


@get("/v1/platform/activation-audit", opt=SUPER)
async def activation_audit(
    platform: Service[PlatformService], limit: paging.limit(500) = 50, offset: Offset = 0
) -> dict[str, Any]:
    return await platform.activation_audit(limit, offset)


@post("/v1/platform/deployments", opt={**raises(404, 409), **SUPER})
async def create_deployment(
    platform: Service[PlatformService], data: JSONBody[DeploymentIn]
) -> dict[str, Any]:
    return {
        "deployment": await platform.create_deployment(
            data.slug, data.display_name, data.description, data.bindings
        )
    }


@patch("/v1/platform/deployments/{deployment_id:str}", opt={**raises(409), **SUPER})
async def patch_deployment(
    platform: Service[PlatformService], deployment_id: DeploymentId, data: JSONBody[DeploymentPatch]
) -> dict[str, Any]:
    return {"deployment": await platform.patch_deployment(deployment_id, msgspec.to_builtins(data))}


@put("/v1/platform/deployments/{deployment_id:str}", opt={**raises(409), **SUPER})
async def replace_deployment(
    platform: Service[PlatformService], deployment_id: DeploymentId, data: JSONBody[DeploymentIn]
) -> dict[str, Any]:
    dep = await platform.replace_deployment(
        deployment_id, data.slug, data.display_name, data.description, data.bindings
    )
    return {"deployment": dep}


@put("/v1/platform/deployments/{deployment_id:str}/bindings/{capability:str}", opt={**raises(409), **SUPER})
async def put_binding(
    platform: Service[PlatformService],
    deployment_id: DeploymentId,
    capability: Capability,
    data: JSONBody[BindingIn],
) -> dict[str, Any]:
    return {"deployment": await platform.put_binding(deployment_id, capability, data)}


@post("/v1/platform/deployments/{deployment_id:str}/clone", opt={**raises(409), **SUPER})
async def clone_deployment(
    platform: Service[PlatformService], deployment_id: DeploymentId, data: JSONBody[CloneIn]
) -> dict[str, Any]:
    return {
        "deployment": await platform.clone_deployment(
            deployment_id, data.slug, data.display_name, data.description
        )
    }


@delete("/v1/platform/deployments/{deployment_id:str}", status_code=200, opt={**raises(409), **SUPER})
async def delete_deployment(
    platform: Service[PlatformService], deployment_id: DeploymentId
) -> dict[str, Any]:
    await platform.delete_deployment(deployment_id)
    return {"deleted": True, "id": deployment_id}


@post("/v1/platform/deployments/{deployment_id:str}/activate", status_code=200, opt={**raises(409), **SUPER})
async def activate_deployment(
    request: Request[Any, Any, Any], platform: Service[PlatformService], deployment_id: DeploymentId
) -> dict[str, Any]:
    return await platform.activate(deployment_id, actor(request))


ROUTES = [
    list_deployments,
    activation_audit,
    create_deployment,
    patch_deployment,
    replace_deployment,
    put_binding,
    clone_deployment,
    delete_deployment,
    activate_deployment,
]

"""``/v1/platform``: capabilities, provider families, provider instances (CRUD, validation) and the
loaded-model slot of local model runtimes. Deployments are in ``platform_deployments``, the proof
routes in ``platform_proof``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import delete, get, post, put
from litestar.params import JSONBody, PathParameter

from ridgeline.genai import providers as P
from ridgeline.genai.runtime import PlatformService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.auth.roles import Role
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError

SUPER = Policy.role(Role.SUPERADMIN).opt()
ProviderId = Annotated[str, PathParameter(max_length=64)]
Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{0,127}$")]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]+$", max_length=1024)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ProviderIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider_key: Annotated[str, msgspec.Meta(max_length=64)]
    slug: Slug
    display_name: Name | None = None
    description: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    endpoint_url: Url | None = None
    healthcheck_url: Url | None = None
    enabled: bool = True
    config: dict[str, Any] = {}
    # name -> secret value or "modelops://credential/<id>"; sealed at rest, never returned
    secret_refs: dict[str, Annotated[str, msgspec.Meta(max_length=8192)]] = {}


class ProviderUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The family (and with it ``provider_origin``) is not editable: choose another family instead."""

    slug: Slug | None = None
    display_name: Name | None = None
    description: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    endpoint_url: Url | None = None
    healthcheck_url: Url | None = None
    enabled: bool | None = None
    config: dict[str, Any] | None = None
    secret_refs: dict[str, Annotated[str, msgspec.Meta(max_length=8192)]] | None = None


class LoadedModelIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    managed_model_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


async def _active_provider(platform: PlatformService, capability: str) -> dict[str, Any] | None:
    try:
        a = await platform.active(capability)
    except EngineError:  # unbound, no active deployment, or blocked offline: no active provider
        return None
    return {"id": a.provider["id"], "slug": a.provider["slug"], "provider_key": a.family.key,
            "provider_origin": a.family.provider_origin, "deployment_id": a.deployment["id"]}  # fmt: skip


@get("/v1/platform/capabilities", opt=Policy.bearer().opt())
async def list_capabilities(platform: Service[PlatformService]) -> dict[str, Any]:
    caps = []
    for key, c in P.CAPABILITIES.items():
        caps.append({"capability": key, "display_name": c["display_name"], "required": c["required"],
                     "model_bearing": c["model_bearing"],
                     "provider_keys": [f.key for f in P.FAMILIES.values() if f.capability == key],
                     "active_provider": await _active_provider(platform, key)})  # fmt: skip
    return {"capabilities": caps}


@get("/v1/platform/provider-families", opt=SUPER)
async def list_provider_families() -> dict[str, Any]:
    return {"provider_families": [P.family_payload(f) for f in P.FAMILIES.values()]}


@get("/v1/platform/providers", opt=SUPER)
async def list_providers(platform: Service[PlatformService]) -> dict[str, Any]:
    return {"providers": await platform.list_providers()}


@post("/v1/platform/providers", opt={**raises(409), **SUPER})
async def create_provider(platform: Service[PlatformService], data: JSONBody[ProviderIn]) -> dict[str, Any]:
    return {"provider": await platform.create_provider(msgspec.to_builtins(data))}


@put("/v1/platform/providers/{provider_id:str}", opt={**raises(409), **SUPER})
async def update_provider(
    platform: Service[PlatformService], provider_id: ProviderId, data: JSONBody[ProviderUpdate]
) -> dict[str, Any]:
    body = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not None}
    return {"provider": await platform.update_provider(provider_id, body)}


@delete("/v1/platform/providers/{provider_id:str}", status_code=200, opt={**raises(409), **SUPER})
async def delete_provider(platform: Service[PlatformService], provider_id: ProviderId) -> dict[str, Any]:
    await platform.delete_provider(provider_id)
    return {"deleted": True, "id": provider_id}


@post("/v1/platform/providers/{provider_id:str}/validate", status_code=200, opt={**raises(409), **SUPER})
async def validate_provider(platform: Service[PlatformService], provider_id: ProviderId) -> dict[str, Any]:
    return await platform.validate_provider(provider_id)


@post("/v1/platform/providers/{provider_id:str}/loaded-model", status_code=200, opt={**raises(409), **SUPER})
async def set_loaded_model(
    platform: Service[PlatformService], provider_id: ProviderId, data: JSONBody[LoadedModelIn]
) -> dict[str, Any]:
    return await platform.set_loaded_model(provider_id, data.managed_model_id)


@delete(
    "/v1/platform/providers/{provider_id:str}/loaded-model", status_code=200, opt={**raises(409), **SUPER}
)
async def clear_loaded_model(platform: Service[PlatformService], provider_id: ProviderId) -> dict[str, Any]:
    return await platform.clear_loaded_model(provider_id)


ROUTES = [
    list_capabilities,
    list_provider_families,
    list_providers,
    create_provider,
    update_provider,
    delete_provider,
    validate_provider,
    set_loaded_model,
    clear_loaded_model,
]

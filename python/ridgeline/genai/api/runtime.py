"""``/v1/runtime/profile``: the global runtime mode (online / offline). Any signed-in user reads it;
only a superadmin changes it. Switching to offline while the active deployment binds a cloud
provider is refused (409 ``offline_provider_blocked``)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, get, put
from litestar.params import JSONBody

from ridgeline.genai.runtime import PlatformService
from ridgeline.platform.auth.policy import Policy, current_principal
from ridgeline.platform.auth.roles import Role
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises


class RuntimeProfileIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    mode: Literal["online", "offline"]


def actor(request: Request[Any, Any, Any]) -> str | None:
    p = current_principal(request)
    return p.subject if p else None


def is_superadmin(request: Request[Any, Any, Any]) -> bool:
    p = current_principal(request)
    return bool(p and p.role is not None and p.role.at_least(Role.SUPERADMIN))


@get("/v1/runtime/profile", opt=Policy.bearer().opt())
async def get_runtime_profile(
    request: Request[Any, Any, Any], platform: Service[PlatformService]
) -> dict[str, Any]:
    return {**await platform.profile(), "can_edit": is_superadmin(request)}


@put("/v1/runtime/profile", opt={**raises(409), **Policy.role(Role.SUPERADMIN).opt()})
async def put_runtime_profile(
    request: Request[Any, Any, Any], platform: Service[PlatformService], data: JSONBody[RuntimeProfileIn]
) -> dict[str, Any]:
    return {**await platform.set_mode(data.mode, actor(request)), "can_edit": True}


ROUTES = [get_runtime_profile, put_runtime_profile]

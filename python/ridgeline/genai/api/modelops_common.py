"""What every ModelOps route module shares: the caller, the access rules, the model lookups."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.genai.api import modelops_store as ms
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.service import GenaiService
from ridgeline.genai.api.store import models
from ridgeline.genai.hub import ModelOpsSettings, settings_of
from ridgeline.genai.modelops_runtimes import HOOKS
from ridgeline.platform.auth import Policy, Role, current_principal
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError

TAGS = ["genai modelops"]
SUPERADMIN = Policy.role(Role.SUPERADMIN)
AUTHENTICATED = Policy.bearer()


def superadmin(*statuses: int) -> dict[str, Any]:
    return {**raises(*statuses), **SUPERADMIN.opt()}


def authenticated(*statuses: int) -> dict[str, Any]:
    return {**raises(*statuses), **AUTHENTICATED.opt()}


def caller(request: Request[Any, Any, Any]) -> tuple[str | None, Role | None]:
    p = current_principal(request)
    return (None, None) if p is None else (p.user_id, p.role)


def settings(svc: GenaiService) -> ModelOpsSettings:
    return settings_of(svc.ctx)


def err(code: str, **fields: Any) -> EngineError:
    return REASON_CODES.error(code, **fields)


def model_not_found(model_id: str) -> EngineError:
    return err("modelops_model_not_found", model_id=model_id)


async def require_model(conn: AsyncConnection, model_id: str) -> dict[str, Any]:
    m = await ms.get_model(conn, model_id)
    if m is None:
        raise model_not_found(model_id)
    return m


async def require_visible(
    conn: AsyncConnection, model_id: str, request: Request[Any, Any, Any]
) -> dict[str, Any]:
    """The model if the caller may read it; 404 otherwise (its existence is not disclosed)."""
    uid, role = caller(request)
    q = sa.select(models).where(models.c.id == model_id, ms.visible_clause(uid, role))
    row = (await conn.execute(q)).first()
    if row is None:
        raise model_not_found(model_id)
    return ms.row_dict(row)


async def refuse_if_bound(conn: AsyncConnection, model_id: str) -> None:
    bindings = await HOOKS.bindings_of(conn, model_id)
    if bindings:
        names = ", ".join(sorted({str(b.get("deployment_slug") or b.get("deployment_id")) for b in bindings}))
        raise err("modelops_model_bound", deployments=names, bindings=bindings)


async def remote_block(svc: GenaiService, conn: AsyncConnection) -> str | None:
    """Why remote hub access is closed right now, or None when it is open (fail closed)."""
    s = settings(svc)
    if s.hf_base_url is None:
        return "no_hub_configured"
    if s.offline or await HOOKS.runtime_offline(conn):
        return "runtime_offline"
    return None


def model_view(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": m["id"],
        "name": m["name"],
        "task": m["task"],
        "origin": m["origin"],
        "provider_family": m["provider_family"],
        "provider_model_id": m["provider_model_id"],
        "source": m["source"],
        "source_id": m["source_id"],
        "local_path": m["local_path"],
        "credential_id": m["credential_id"],
        "lifecycle_state": m["lifecycle_state"],
        "is_validation_current": bool(m["is_validation_current"]),
        "last_validation_status": m["last_validation_status"],
        "last_validated_at": m["last_validated_at"],
        "metadata": m["metadata"] or {},
        "owner_id": m["owner_id"],
        "visibility": m["visibility"],
        "created_at": m["created_at"],
        "updated_at": m["updated_at"],
    }

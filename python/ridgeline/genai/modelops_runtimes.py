"""Runtime side of ModelOps tests: which provider instances could serve a managed model, what their
loaded-model slot holds, and what the runtime itself advertises through its OpenAI-compatible
``/v1/models``.

Provider instances and deployments live in the platform control plane's tables
(``api/platform*.py``), which ModelOps does not own. ModelOps reads them only through
:data:`HOOKS`, which the family's declaration wires to the control plane:

- ``HOOKS.list_providers(conn) -> list[RuntimeProvider]``: the provider instances (with their slot);
- ``HOOKS.bindings_of(conn, model_id) -> list[dict]``: the deployment bindings that reference a model
  (``{"deployment_id", "deployment_slug", "capability", "is_default"}``); ``is_bound`` is derived;
- ``HOOKS.credential_referenced(conn, credential_id) -> bool``: a provider's ``secret_refs`` names it;
- ``HOOKS.runtime_offline(conn) -> bool``: the effective runtime profile is offline.

The defaults answer "none" (no control plane tables in this module's branch).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection


class RuntimeProvider(msgspec.Struct, kw_only=True):
    """One provider instance as ModelOps needs it (the control plane's row, flattened)."""

    id: str
    slug: str
    provider_family: str
    capability: str  # llm_inference | embeddings | ...
    origin: str  # local | cloud
    base_url: str | None
    enabled: bool = True
    display_name: str = ""
    # The loaded-model slot of a local model-bearing provider: the managed model id assigned to it.
    loaded_model_id: str | None = None
    # Resolved for validation/test dispatch only (cloud providers); never serialized by ModelOps.
    api_key: str | None = None


async def _no_providers(_conn: AsyncConnection) -> list[RuntimeProvider]:
    return []


async def _no_bindings(_conn: AsyncConnection, _model_id: str) -> list[dict[str, Any]]:
    return []


async def _not_referenced(_conn: AsyncConnection, _credential_id: str) -> bool:
    return False


async def _online(_conn: AsyncConnection) -> bool:
    return False


@dataclass
class ModelOpsHooks:
    list_providers: Callable[[AsyncConnection], Awaitable[list[RuntimeProvider]]] = _no_providers
    bindings_of: Callable[[AsyncConnection, str], Awaitable[list[dict[str, Any]]]] = _no_bindings
    credential_referenced: Callable[[AsyncConnection, str], Awaitable[bool]] = _not_referenced
    runtime_offline: Callable[[AsyncConnection], Awaitable[bool]] = _online


HOOKS = ModelOpsHooks()


async def is_bound(conn: AsyncConnection, model_id: str) -> bool:
    """True while any deployment binding references the model (delete/unregister/deactivate refuse)."""
    return bool(await HOOKS.bindings_of(conn, model_id))


def models_url(base_url: str) -> str:
    """``/v1/models`` of an OpenAI-compatible runtime whose base URL may or may not end in ``/v1``."""
    base = base_url.rstrip("/")
    return f"{base}/models" if base.endswith("/v1") else f"{base}/v1/models"


def chat_base(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith("/v1") else f"{base}/v1"


def _stem(name: str) -> str:
    leaf = PurePosixPath(name.replace("\\", "/")).name
    for ext in (".gguf", ".safetensors", ".onnx", ".bin"):
        if leaf.lower().endswith(ext):
            return leaf[: -len(ext)]
    return leaf


def model_candidates(model: Mapping[str, Any]) -> list[str]:
    """Names under which a runtime may advertise the managed model (most specific first)."""
    meta = model.get("metadata") or {}
    out: list[str] = []
    for value in (
        meta.get("runtime_model_id"),
        model.get("provider_model_id"),
        model.get("source_id"),
        model.get("local_path"),
        model.get("name"),
        model.get("id"),
    ):
        if isinstance(value, str) and value and value not in out:
            out.append(value)
    return out


def match_advertised(model: Mapping[str, Any], advertised_ids: Sequence[str]) -> str | None:
    """The advertised id that is this model: an exact match first, then by file stem (llama.cpp and
    vLLM advertise the path or the repo id they were started with)."""
    candidates = model_candidates(model)
    for cand in candidates:
        if cand in advertised_ids:
            return cand
    stems = {_stem(c).lower() for c in candidates}
    for adv in advertised_ids:
        if _stem(adv).lower() in stems:
            return adv
    return None


class Advertised(msgspec.Struct, kw_only=True):
    reachable: bool
    entries: list[dict[str, Any]]
    error: str | None = None


async def fetch_advertised(
    provider: RuntimeProvider, client: httpx.AsyncClient, *, wait_s: float = 5.0
) -> Advertised:
    """The runtime's ``/v1/models`` as structured entries, or why it could not be read."""
    if not provider.base_url:
        return Advertised(reachable=False, entries=[], error="no_base_url")
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    try:
        r = await client.get(models_url(provider.base_url), headers=headers, timeout=wait_s)
    except httpx.HTTPError as exc:
        return Advertised(reachable=False, entries=[], error=f"unreachable: {type(exc).__name__}")
    if r.status_code != 200:
        return Advertised(reachable=False, entries=[], error=f"status {r.status_code}")
    body: Any = None
    with contextlib.suppress(ValueError):
        body = r.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return Advertised(reachable=False, entries=[], error="not an OpenAI /v1/models body")
    entries = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            entries.append(
                {
                    "id": item["id"],
                    # typed as strings in the answer (ModelOps' AdvertisedEntry): anything else is dropped
                    "object": item.get("object") if isinstance(item.get("object"), str) else None,
                    "owned_by": item.get("owned_by") if isinstance(item.get("owned_by"), str) else None,
                    "created": item.get("created") if isinstance(item.get("created"), int) else None,
                    "meta": item.get("meta") if isinstance(item.get("meta"), dict) else None,
                }
            )
    return Advertised(reachable=True, entries=entries)


def compatible(model: Mapping[str, Any], provider: RuntimeProvider) -> str | None:
    """None when the provider could run tests of the model, else the reason it cannot."""
    if not provider.enabled:
        return "provider_disabled"
    if provider.capability != model["task"]:
        return "capability_mismatch"
    if provider.origin != model["origin"]:
        return "origin_mismatch"
    if model["origin"] == "cloud" and model.get("provider_family") not in (None, provider.provider_family):
        return "provider_family_mismatch"
    return None


async def runtime_reports(
    model: Mapping[str, Any],
    providers: Sequence[RuntimeProvider],
    model_names: Mapping[str, str],
    client: httpx.AsyncClient,
) -> list[dict[str, Any]]:
    """``test-runtimes``: each compatible provider with its slot state, the managed model loaded
    there, what the runtime advertises, and whether it serves *this* model right now.

    ``model_names`` maps managed model ids to names (for the loaded model). Only local providers are
    reported (the seed's "compatible local runtime providers"); cloud models are tested against their
    provider directly.
    """
    out = []
    chosen = [p for p in providers if p.origin == "local" and compatible(model, p) is None]
    probes = await asyncio.gather(*(fetch_advertised(p, client) for p in chosen))  # one round trip
    for p, adv in zip(chosen, probes, strict=True):
        ids = [e["id"] for e in adv.entries]
        runtime_model_id = match_advertised(model, ids) if adv.reachable else None
        slot_state = "empty" if p.loaded_model_id is None else "loaded"
        entries = [{**e, "matches_model": e["id"] == runtime_model_id} for e in adv.entries]
        serving, cause = serving_state(model, p, adv, runtime_model_id)
        out.append(
            {
                "provider_id": p.id,
                "provider_slug": p.slug,
                "provider_family": p.provider_family,
                "display_name": p.display_name,
                "capability": p.capability,
                "slot_state": slot_state,
                "loaded_model_id": p.loaded_model_id,
                "loaded_model_name": model_names.get(p.loaded_model_id or ""),
                "slot_holds_model": p.loaded_model_id == model["id"],
                "reachable": adv.reachable,
                "runtime_error": adv.error,
                "runtime_model_id": runtime_model_id,
                "advertised": entries,
                "serves_model": serving,
                "reason": cause,
            }
        )
    return out


def serving_state(
    model: Mapping[str, Any], provider: RuntimeProvider, adv: Advertised, runtime_model_id: str | None
) -> tuple[bool, str | None]:
    """(serves, cause): a local runtime serves the model only when its slot holds the model *and*
    the runtime advertises it; a cloud one when it lists the model's provider id."""
    if provider.origin == "local":
        if provider.loaded_model_id is None:
            return False, "slot_empty"
        if provider.loaded_model_id != model["id"]:
            return False, "slot_holds_other_model"
    if not adv.reachable:
        return False, "runtime_unreachable"
    if runtime_model_id is None:
        return False, "model_not_advertised"
    return True, None

"""``/v1/modelops/models...``: managed models, their life cycle, validation, tests and usage.

Life cycle: ``draft -> registered -> active <-> inactive``; ``registered | inactive -> unregistered
-> registered``; delete from any state. Activation needs a current successful validation; deactivate,
unregister and delete are refused (409 ``modelops_model_bound``) while a deployment binds the model.
Reads (list, get, validations, tests) are for any signed-in user, limited to the models they may see
(their own, shared with them or their role, public; superadmins see all); everything else is
superadmin.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import msgspec
import sqlalchemy as sa
from litestar import Request, delete, get, post
from litestar.params import JSONBody, Parameter, PathParameter

from ridgeline.genai import hub
from ridgeline.genai.api import modelops_store as ms
from ridgeline.genai.api.modelops_common import (
    TAGS,
    authenticated,
    caller,
    err,
    model_view,
    refuse_if_bound,
    require_model,
    require_visible,
    settings,
    superadmin,
)
from ridgeline.genai.api.modelops_schemas import (
    Deleted,
    ModelPage,
    ModelTestPage,
    ModelTestRecord,
    ModelTestRuntimes,
    ModelUsage,
    ModelView,
    Validated,
    ValidationPage,
    typed,
)
from ridgeline.genai.api.service import GenaiService
from ridgeline.genai.api.store import models
from ridgeline.genai.modelops_runtimes import (
    HOOKS,
    RuntimeProvider,
    chat_base,
    compatible,
    fetch_advertised,
    match_advertised,
    runtime_reports,
    serving_state,
)
from ridgeline.platform import paging
from ridgeline.platform.context import Service
from ridgeline.platform.paging import Offset, Page, page_window

ModelId = Annotated[str, PathParameter(description="ModelOps model id", max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortStr = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
LongStr = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Task = Literal["llm_inference", "embeddings"]
Visibility = Literal["private", "shared", "public"]
WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".bin", ".onnx", ".pt")


class ModelCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    task: Task
    origin: Literal["local", "cloud"]
    provider_family: ShortStr | None = None
    provider_model_id: LongStr | None = None
    source: Literal["manual", "huggingface", "bundled"] = "manual"
    source_id: LongStr | None = None
    local_path: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)] | None = None
    credential_id: ShortStr | None = None
    metadata: dict[str, Any] = {}
    visibility: Visibility = "private"


class ModelTest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider_id: ShortStr
    prompt: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)] = "Reply with the word OK."
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=512)] = 16
    texts: (
        Annotated[
            list[Annotated[str, msgspec.Meta(max_length=4000)]], msgspec.Meta(min_length=1, max_length=16)
        ]
        | None
    ) = None  # embeddings models: the texts to embed (one default sentence when omitted)


def _within(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _resolve_local(svc: GenaiService, data: JSONBody[ModelCreate]) -> str:
    """The model's directory: the bundled model's, a managed download's, or a path under the managed
    model directory. Anything else is refused (no reading arbitrary server paths)."""
    s = settings(svc)
    if data.source == "bundled":
        bundled = hub.bundled_model()
        if bundled is None:
            raise err("modelops_invalid_model", detail="the bundled embedding model is not installed")
        if data.source_id not in (None, bundled["source_id"]):
            raise err("modelops_invalid_model", detail=f"the bundled model is {bundled['source_id']}")
        return bundled["local_path"]
    if data.local_path is None:
        if data.source == "huggingface" and data.source_id:
            for m in hub.managed_models(s.model_dir):
                if m["source_id"] == data.source_id:
                    return m["local_path"]
            raise err("modelops_invalid_model", detail=f"{data.source_id} is not in the local model cache")
        raise err("modelops_invalid_model", detail="a local model needs local_path or a cached source_id")
    path = Path(data.local_path).resolve()
    if not _within(path, hub.allowed_local_roots(s.model_dir)):
        raise err("modelops_invalid_model", detail="local_path must be inside the managed model directory")
    if not path.is_dir():
        raise err("modelops_invalid_model", detail="local_path is not a directory")
    return str(path)


@get(
    "/v1/modelops/models",
    summary="List the managed models the caller may see",
    tags=TAGS,
    opt=authenticated(),
)
async def list_models(
    request: Request[Any, Any, Any],
    svc: Service[GenaiService],
    page: Page = 1,
    page_size: paging.page_size(200) = 50,
    task: Annotated[Task | None, Parameter(description="llm_inference or embeddings")] = None,
    lifecycle_state: Annotated[
        Literal["draft", "registered", "active", "inactive", "unregistered"] | None, Parameter()
    ] = None,
    origin: Annotated[Literal["local", "cloud"] | None, Parameter()] = None,
) -> ModelPage:
    uid, role = caller(request)
    where = [ms.visible_clause(uid, role)]
    if task:
        where.append(models.c.task == task)
    if lifecycle_state:
        where.append(models.c.lifecycle_state == lifecycle_state)
    if origin:
        where.append(models.c.origin == origin)
    w = page_window(page, page_size)
    async with svc.db.engine.connect() as conn:
        total = (
            await conn.execute(sa.select(sa.func.count()).select_from(models).where(*where))
        ).scalar_one()
        q = (
            sa.select(models)
            .where(*where)
            .order_by(models.c.created_at, models.c.id)
            .limit(w.limit)
            .offset(w.offset)
        )
        rows = [model_view(ms.row_dict(r)) for r in await conn.execute(q)]
    return typed({"items": rows, "page": page, "page_size": page_size, "total": total}, ModelPage)


@post(
    "/v1/modelops/models",
    summary="Create a managed model (draft)",
    tags=TAGS,
    status_code=201,
    opt=superadmin(409),
)
async def create_model(
    request: Request[Any, Any, Any], svc: Service[GenaiService], data: JSONBody[ModelCreate]
) -> ModelView:
    uid, _ = caller(request)
    if data.origin == "cloud":
        if not data.provider_model_id:
            raise err("modelops_invalid_model", detail="a cloud model needs provider_model_id")
        if data.local_path is not None or data.source == "bundled":
            raise err("modelops_invalid_model", detail="a cloud model has no local files")
        local_path = None
    else:
        local_path = await asyncio.to_thread(_resolve_local, svc, data)
    at = ms.now()
    source_id = data.source_id
    if data.source == "bundled" and source_id is None:
        source_id = hub.bundled_model()["source_id"]  # type: ignore[index]
    row = {
        "id": ms.new_id("mdl"),
        "name": data.name,
        "task": data.task,
        "origin": data.origin,
        "provider_family": data.provider_family,
        "provider_model_id": data.provider_model_id,
        "source": data.source,
        "source_id": source_id,
        "local_path": local_path,
        "credential_id": data.credential_id,
        "lifecycle_state": "draft",
        "is_validation_current": False,
        "last_validation_status": None,
        "last_validated_at": None,
        "metadata": data.metadata,
        "owner_id": uid,
        "visibility": data.visibility,
        "created_at": at,
        "updated_at": at,
    }
    async with svc.db.begin() as conn:
        if data.credential_id is not None and await ms.get_credential(conn, data.credential_id) is None:
            raise err("modelops_credential_not_found", credential_id=data.credential_id)
        await conn.execute(models.insert().values(**row))
    return typed(model_view(row), ModelView)


@get("/v1/modelops/models/{model_id:str}", summary="A managed model", tags=TAGS, opt=authenticated())
async def get_model(
    request: Request[Any, Any, Any], svc: Service[GenaiService], model_id: ModelId
) -> ModelView:
    async with svc.db.engine.connect() as conn:
        return typed(model_view(await require_visible(conn, model_id, request)), ModelView)


async def _transition(
    svc: GenaiService, model_id: str, action: str, allowed: tuple[str, ...], target: str, **extra: Any
) -> dict[str, Any]:
    async with svc.db.begin() as conn:
        m = await require_model(conn, model_id)
        if m["lifecycle_state"] not in allowed:
            raise err("modelops_invalid_transition", action=action, state=m["lifecycle_state"])
        if action == "activate" and not (
            m["is_validation_current"] and m["last_validation_status"] == "success"
        ):
            raise err("modelops_validation_required")
        if action in ("deactivate", "unregister"):
            await refuse_if_bound(conn, model_id)
        await ms.update_model(conn, model_id, lifecycle_state=target, **extra)
        return model_view(await require_model(conn, model_id))


@post(
    "/v1/modelops/models/{model_id:str}/register",
    summary="Register a draft model",
    tags=TAGS,
    status_code=200,
    opt=superadmin(409),
)
async def register_model(svc: Service[GenaiService], model_id: ModelId) -> ModelView:
    return typed(
        await _transition(svc, model_id, "register", ("draft", "unregistered"), "registered"), ModelView
    )


@post(
    "/v1/modelops/models/{model_id:str}/activate",
    summary="Activate a validated model",
    tags=TAGS,
    status_code=200,
    opt=superadmin(409),
)
async def activate_model(svc: Service[GenaiService], model_id: ModelId) -> ModelView:
    return typed(
        await _transition(svc, model_id, "activate", ("registered", "inactive"), "active"), ModelView
    )


@post(
    "/v1/modelops/models/{model_id:str}/deactivate",
    summary="Deactivate a model",
    tags=TAGS,
    status_code=200,
    opt=superadmin(409),
)
async def deactivate_model(svc: Service[GenaiService], model_id: ModelId) -> ModelView:
    return typed(await _transition(svc, model_id, "deactivate", ("active",), "inactive"), ModelView)


@post(
    "/v1/modelops/models/{model_id:str}/unregister",
    summary="Unregister a model",
    tags=TAGS,
    status_code=200,
    opt=superadmin(409),
)
async def unregister_model(svc: Service[GenaiService], model_id: ModelId) -> ModelView:
    # Re-registering later must validate again: the files or the provider may have changed.
    row = await _transition(
        svc, model_id, "unregister", ("registered", "inactive"), "unregistered", is_validation_current=False
    )
    return typed(row, ModelView)


@delete(
    "/v1/modelops/models/{model_id:str}",
    summary="Delete a model (refused while bound)",
    tags=TAGS,
    status_code=200,
    opt=superadmin(409),
)
async def delete_model(svc: Service[GenaiService], model_id: ModelId) -> Deleted:
    async with svc.db.begin() as conn:
        await require_model(conn, model_id)
        await refuse_if_bound(conn, model_id)
        await ms.delete_model(conn, model_id)
    return Deleted(id=model_id, deleted=True)


# ---------------------------------------------------------------- validation


def _local_checks(m: dict[str, Any], model_dir: Path) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    path = Path(m["local_path"] or "")
    ok_dir = bool(m["local_path"]) and path.is_dir()
    checks.append(
        {"name": "path_exists", "ok": ok_dir, "detail": str(path) if m["local_path"] else "no local_path"}
    )
    if not ok_dir:
        return checks
    roots = hub.allowed_local_roots(model_dir)
    checks.append({"name": "path_allowed", "ok": _within(path.resolve(), roots), "detail": None})
    files = [p for p in path.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix.lower() in WEIGHT_SUFFIXES]
    checks.append(
        {
            "name": "weights_present",
            "ok": bool(weights),
            "detail": ", ".join(sorted(p.name for p in weights)[:8]) or "no weights file",
        }
    )
    gguf = any(p.suffix.lower() == ".gguf" for p in weights)
    has_config = gguf or (path / "config.json").is_file()
    checks.append({"name": "config_present", "ok": has_config, "detail": "gguf" if gguf else "config.json"})
    if m["source"] == "bundled":
        from ridgeline.ai import embeddings

        try:
            embeddings.load_model_files(path)
            checks.append({"name": "hash_verified", "ok": True, "detail": embeddings.MODEL_SHA256})
        except embeddings.EmbeddingModelError as exc:
            checks.append({"name": "hash_verified", "ok": False, "detail": exc.reason_code})
    else:
        listed = [f for f in (m["metadata"] or {}).get("files") or [] if isinstance(f, dict)]
        bad = []
        for f in listed:
            p = path / str(f.get("path"))
            if not p.is_file():
                bad.append(f"{f.get('path')}: missing")
            elif f.get("sha256") and ms_sha256(p) != f["sha256"]:
                bad.append(f"{f.get('path')}: sha256 mismatch")
            elif not f.get("sha256") and f.get("blob_id") and hub.git_blob_sha1(p) != f["blob_id"]:
                bad.append(f"{f.get('path')}: blob id mismatch")
        if listed:
            checks.append(
                {"name": "hash_verified", "ok": not bad, "detail": "; ".join(bad) or f"{len(listed)} files"}
            )
    return checks


def ms_sha256(p: Path) -> str:
    from ridgeline.platform.hashing import sha256_file

    return sha256_file(p)


async def _cloud_checks(svc: GenaiService, conn: Any, m: dict[str, Any]) -> list[dict[str, Any]]:
    checks = [
        {"name": "provider_model_id", "ok": bool(m["provider_model_id"]), "detail": m["provider_model_id"]},
        {"name": "provider_family", "ok": bool(m["provider_family"]), "detail": m["provider_family"]},
    ]
    if m["credential_id"]:
        try:
            secret = await ms.resolve_credential(conn, svc.ctx.auth.secrets, m["credential_id"])
            checks.append(
                {
                    "name": "credential",
                    "ok": bool(secret),
                    "detail": "found" if secret is not None else "missing",
                }
            )
        except Exception as exc:  # a sealed value that no longer opens (key removed, tampered)
            checks.append(
                {"name": "credential", "ok": False, "detail": f"cannot be opened: {type(exc).__name__}"}
            )
    return checks


@post(
    "/v1/modelops/models/{model_id:str}/validate",
    summary="Validate a model (recorded in its history)",
    tags=TAGS,
    status_code=200,
    opt=superadmin(),
)
async def validate_model(
    request: Request[Any, Any, Any], svc: Service[GenaiService], model_id: ModelId
) -> Validated:
    uid, _ = caller(request)
    async with svc.db.engine.connect() as conn:
        m = await require_model(conn, model_id)
        if m["origin"] == "local":
            checks = await asyncio.to_thread(_local_checks, m, settings(svc).model_dir)
        else:
            checks = await _cloud_checks(svc, conn, m)
    status = "success" if checks and all(c["ok"] for c in checks) else "failure"
    at = ms.now()
    record = {
        "id": ms.new_id("val"),
        "model_id": model_id,
        "status": status,
        "checks": checks,
        "actor": uid,
        "created_at": at,
    }
    async with svc.db.begin() as conn:
        await require_model(conn, model_id)
        await conn.execute(ms.validations.insert().values(**record))
        await ms.update_model(
            conn, model_id, is_validation_current=True, last_validation_status=status, last_validated_at=at
        )
        return typed(
            {"validation": record, "model": model_view(await require_model(conn, model_id))}, Validated
        )


async def _history(
    svc: GenaiService, request: Any, table: Any, model_id: str, limit: int, offset: int
) -> dict[str, Any]:
    async with svc.db.engine.connect() as conn:
        await require_visible(conn, model_id, request)
        q = (
            sa.select(table)
            .where(table.c.model_id == model_id)
            .order_by(table.c.created_at.desc(), table.c.id)
            .limit(limit)
            .offset(offset)
        )
        # plain str keys (a Row's keys are quoted_name, which msgspec will not take)
        items = [{str(k): v for k, v in ms.row_dict(r).items()} for r in await conn.execute(q)]
    return {"items": items, "limit": limit, "offset": offset}


@get(
    "/v1/modelops/models/{model_id:str}/validations",
    summary="Validation history, newest first",
    tags=TAGS,
    opt=authenticated(),
)
async def list_validations(
    request: Request[Any, Any, Any],
    svc: Service[GenaiService],
    model_id: ModelId,
    limit: paging.limit(500) = 50,
    offset: Offset = 0,
) -> ValidationPage:
    return typed(await _history(svc, request, ms.validations, model_id, limit, offset), ValidationPage)


@get(
    "/v1/modelops/models/{model_id:str}/tests",
    summary="Test history, newest first",
    tags=TAGS,
    opt=authenticated(),
)
async def list_tests(
    request: Request[Any, Any, Any],
    svc: Service[GenaiService],
    model_id: ModelId,
    limit: paging.limit(500) = 50,
    offset: Offset = 0,
) -> ModelTestPage:
    return typed(await _history(svc, request, ms.model_tests, model_id, limit, offset), ModelTestPage)


# ---------------------------------------------------------------- runtimes and tests


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(30.0, connect=5.0))


async def _names(conn: Any, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await conn.execute(sa.select(models.c.id, models.c.name).where(models.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


@get(
    "/v1/modelops/models/{model_id:str}/test-runtimes",
    summary="Compatible local runtimes and what they serve",
    tags=TAGS,
    opt=superadmin(),
)
async def test_runtimes(svc: Service[GenaiService], model_id: ModelId) -> ModelTestRuntimes:
    async with svc.db.engine.connect() as conn:
        m = await require_model(conn, model_id)
        providers = await HOOKS.list_providers(conn)
        names = await _names(conn, [p.loaded_model_id for p in providers if p.loaded_model_id])
    async with _http() as client:
        items = await runtime_reports(m, providers, names, client)
    return typed({"model_id": model_id, "task": m["task"], "items": items}, ModelTestRuntimes)


async def _run_test(
    p: RuntimeProvider,
    m: dict[str, Any],
    runtime_model_id: str,
    data: JSONBody[ModelTest],
    api_key: str | None,
) -> tuple[dict[str, Any], str | None]:
    from ridgeline.ai import Message, OpenAICompatibleProvider, ProviderError, RetryPolicy

    provider = OpenAICompatibleProvider(
        chat_base(p.base_url or ""),
        api_key=api_key,
        default_model=runtime_model_id,
        timeout=60.0,
        retry=RetryPolicy(max_attempts=1),
    )
    try:
        async with provider:
            if m["task"] == "embeddings":
                emb = await provider.embed(
                    data.texts or ["ModelOps embeddings test."], model=runtime_model_id
                )
                arr = emb.array()
                return {
                    "vectors": int(arr.shape[0]),
                    "dimensions": int(arr.shape[1]) if arr.ndim == 2 else 0,
                }, None
            r = await provider.chat(
                [Message("user", data.prompt)], model=runtime_model_id, max_tokens=data.max_tokens
            )
            usage = (
                None
                if r.usage is None
                else {"input_tokens": r.usage.input_tokens, "output_tokens": r.usage.output_tokens}
            )
            return {"content": r.content[:2000], "finish_reason": r.finish_reason, "usage": usage}, None
    except ProviderError as exc:
        return {"reason_code": exc.reason_code}, exc.message


@post(
    "/v1/modelops/models/{model_id:str}/test",
    summary="Test a model on a runtime that serves it",
    tags=TAGS,
    status_code=200,
    opt=superadmin(409),
)
async def test_model(
    request: Request[Any, Any, Any], svc: Service[GenaiService], model_id: ModelId, data: JSONBody[ModelTest]
) -> ModelTestRecord:
    uid, _ = caller(request)
    async with svc.db.engine.connect() as conn:
        m = await require_model(conn, model_id)
        if m["lifecycle_state"] == "unregistered":
            raise err("modelops_invalid_transition", action="test", state="unregistered")
        providers = {p.id: p for p in await HOOKS.list_providers(conn)}
        p = providers.get(data.provider_id)
        if p is None:
            raise err("modelops_runtime_not_found", provider_id=data.provider_id)
        why = compatible(m, p)
        if why is not None:
            raise err("modelops_runtime_incompatible", provider_id=p.id, cause=why)
        if p.origin == "cloud" and (settings(svc).offline or await HOOKS.runtime_offline(conn)):
            raise err("offline_provider_blocked", provider=p.slug or p.id, provider_id=p.id)
        api_key = p.api_key
        if m["credential_id"]:
            api_key = await ms.resolve_credential(conn, svc.ctx.auth.secrets, m["credential_id"]) or api_key
    probe = msgspec.structs.replace(p, api_key=api_key)
    async with _http() as client:
        adv = await fetch_advertised(probe, client)
    runtime_model_id = match_advertised(m, [e["id"] for e in adv.entries]) if adv.reachable else None
    serves, cause = serving_state(m, p, adv, runtime_model_id)
    if not serves:
        raise err(
            "modelops_runtime_not_serving",
            provider_id=p.id,
            cause=cause,
            loaded_model_id=p.loaded_model_id,
            advertised=[e["id"] for e in adv.entries],
        )
    assert runtime_model_id is not None
    started = time.perf_counter()
    output, error = await _run_test(p, m, runtime_model_id, data, api_key)
    latency = (time.perf_counter() - started) * 1000.0
    record = {
        "id": ms.new_id("tst"),
        "model_id": model_id,
        "provider_id": p.id,
        "runtime_model_id": runtime_model_id,
        "status": "failure" if error else "success",
        "latency_ms": round(latency, 3),
        "output": output,
        "error": error,
        "actor": uid,
        "created_at": ms.now(),
    }
    async with svc.db.begin() as conn:
        await require_model(conn, model_id)
        await conn.execute(ms.model_tests.insert().values(**record))
    return typed(record, ModelTestRecord)


@get("/v1/modelops/models/{model_id:str}/usage", summary="Where a model is used", tags=TAGS, opt=superadmin())
async def model_usage(svc: Service[GenaiService], model_id: ModelId) -> ModelUsage:
    async with svc.db.engine.connect() as conn:
        m = await require_model(conn, model_id)
        bindings = await HOOKS.bindings_of(conn, model_id)
        out: dict[str, Any] = {
            "model_id": model_id,
            "lifecycle_state": m["lifecycle_state"],
            "bound": bool(bindings),
            "bindings": bindings,
        }
        for key, table in (("tests", ms.model_tests), ("validations", ms.validations)):
            count = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(table.c.model_id == model_id)
                )
            ).scalar_one()
            last = (
                await conn.execute(
                    sa.select(table.c.status, table.c.created_at)
                    .where(table.c.model_id == model_id)
                    .order_by(table.c.created_at.desc())
                    .limit(1)
                )
            ).first()
            out[key] = {
                "count": count,
                "last_status": last.status if last else None,
                "last_at": last.created_at if last else None,
            }
        providers = await HOOKS.list_providers(conn)
    out["loaded_in"] = [p.id for p in providers if p.loaded_model_id == model_id]
    return typed(out, ModelUsage)


ROUTES = [
    list_models,
    create_model,
    get_model,
    register_model,
    validate_model,
    list_tests,
    test_runtimes,
    test_model,
    activate_model,
    deactivate_model,
    unregister_model,
    delete_model,
    model_usage,
    list_validations,
]

"""Proof routes (superadmin): embeddings and vector ensure / upsert / query / delete through the
active deployment's bindings, for real, with no provider-specific payloads. The index must be a
resource of the active vector_store binding (its ``provider_resource_id``); omitted, the binding's
default. Documents are embedded through the active embeddings binding."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from litestar import post
from litestar.params import JSONBody

from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.platform import SUPER
from ridgeline.genai.runtime import Active, PlatformService
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises

E = REASON_CODES.error
Text = Annotated[str, msgspec.Meta(max_length=32_768)]
IndexName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")]
DocId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
PROOF = {**raises(409), **SUPER}


class EmbeddingsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    texts: Annotated[list[Text], msgspec.Meta(min_length=1, max_length=256)]
    model: Annotated[str, msgspec.Meta(max_length=255)] | None = None


class EnsureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    index_name: IndexName | None = None
    dimension: Annotated[int, msgspec.Meta(ge=1, le=8192)] | None = None
    metric: Literal["cosine", "l2", "ip"] = "cosine"


class DocumentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: DocId
    text: Text
    metadata: dict[str, str | int | float | bool] = {}


class UpsertIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    index_name: IndexName | None = None
    documents: Annotated[list[DocumentIn], msgspec.Meta(min_length=1, max_length=256)]


class QueryIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    index_name: IndexName | None = None
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=32_768)]
    top_k: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    filter: dict[str, str | int | bool | list[str]] | None = None
    threshold: Annotated[float, msgspec.Meta(ge=-1e6, le=1e6)] | None = None


class DeleteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    index_name: IndexName | None = None
    ids: Annotated[list[DocId], msgspec.Meta(min_length=1, max_length=1000)]


def _provider(a: Active) -> dict[str, Any]:
    return {"id": a.provider["id"], "slug": a.provider["slug"], "provider_key": a.family.key,
            "provider_origin": a.family.provider_origin}  # fmt: skip


@post("/v1/platform/embeddings", status_code=200, opt=PROOF)
async def proof_embeddings(
    platform: Service[PlatformService], data: JSONBody[EmbeddingsIn]
) -> dict[str, Any]:
    out = await platform.embed(data.texts, data.model)
    vectors = np.asarray(out["vectors"], dtype=np.float32)
    return {"capability": "embeddings", "deployment_id": out["active"].deployment["id"],
            "provider": _provider(out["active"]), "model": out["model"], "runtime_model_id": out["runtime_model_id"],
            "dimension": int(vectors.shape[1]), "count": int(vectors.shape[0]), "embeddings": vectors.tolist()}  # fmt: skip


async def _vectors(platform: PlatformService, texts: list[str]) -> np.ndarray:
    return np.asarray((await platform.embed(texts, None))["vectors"], dtype=np.float32)


async def _run(index: str, fn: Any, *args: Any, **kw: Any) -> Any:
    """A store call; store failures become 409 ``vector_operation_failed`` (or 503 when unreachable)."""
    from ridgeline.ai.vectors.base import VectorStoreError

    try:
        out = fn(*args, **kw)
        return await out if asyncio.iscoroutine(out) else out
    except VectorStoreError as exc:
        if exc.reason_code == "store_unavailable":
            raise E("provider_upstream_error", provider=index, detail=str(exc)[:300]) from None
        raise E(
            "vector_operation_failed", index_name=index, detail=f"{exc.reason_code}: {exc}"[:300]
        ) from None


async def _store(platform: PlatformService, a: Active, index: str, dim: int, metric: str = "cosine") -> Any:
    return await _run(index, platform.vector_store, a, index, dim, metric)


def _embedded(index: str) -> str:
    return f"genai.{index}"  # the platform's collections are shared: namespace ours


@post("/v1/platform/vector/indexes/ensure", status_code=200, opt=PROOF)
async def vector_ensure(platform: Service[PlatformService], data: JSONBody[EnsureIn]) -> dict[str, Any]:
    a = await platform.active("vector_store")
    index = platform.pick_index(a, data.index_name)
    dim = data.dimension or int((await _vectors(platform, ["dimension probe"])).shape[1])
    if a.family.adapter == "embedded_vector_index":
        vc = await platform._embedded_vectors()
        info = await _run(index, vc.create, _embedded(index), dim, data.metric)
        count = info.count
    else:
        store = await _store(platform, a, index, dim, data.metric)
        count = await _run(index, asyncio.to_thread, store.count)
    return {
        "index_name": index,
        "provider": _provider(a),
        "dimension": dim,
        "metric": data.metric,
        "count": count,
    }


@post("/v1/platform/vector/documents/upsert", status_code=200, opt=PROOF)
async def vector_upsert(platform: Service[PlatformService], data: JSONBody[UpsertIn]) -> dict[str, Any]:
    a = await platform.active("vector_store")
    index = platform.pick_index(a, data.index_name)
    vecs = await _vectors(platform, [d.text for d in data.documents])
    ids = [d.id for d in data.documents]
    meta = [{**d.metadata, "text": d.text} for d in data.documents]
    if a.family.adapter == "embedded_vector_index":
        vc = await platform._embedded_vectors()
        name = _embedded(index)
        if await vc.info(name) is None:
            await _run(index, vc.create, name, int(vecs.shape[1]), "cosine")
        info = await _run(index, vc.upsert, name, ids, vecs, meta, [d.text for d in data.documents])
        count = info.count
    else:
        store = await _store(platform, a, index, int(vecs.shape[1]))
        await _run(index, asyncio.to_thread, store.upsert, ids, vecs, meta)
        count = await _run(index, asyncio.to_thread, store.count)
    return {"index_name": index, "provider": _provider(a), "upserted": len(ids), "count": count}


@post("/v1/platform/vector/query", status_code=200, opt=PROOF)
async def vector_query(platform: Service[PlatformService], data: JSONBody[QueryIn]) -> dict[str, Any]:
    a = await platform.active("vector_store")
    index = platform.pick_index(a, data.index_name)
    q = (await _vectors(platform, [data.query]))[0]
    if a.family.adapter == "embedded_vector_index":
        vc = await platform._embedded_vectors()
        hits = await _run(
            index, vc.search, _embedded(index), q, data.top_k, filter=data.filter, threshold=data.threshold
        )
    else:
        store = await _store(platform, a, index, int(q.shape[0]))
        hits = await _run(index, asyncio.to_thread, store.search, q, data.top_k, filter=data.filter,
                          threshold=data.threshold)  # fmt: skip
    return {"index_name": index, "provider": _provider(a),
            "hits": [{"id": h.id, "score": float(h.score), "metadata": h.metadata} for h in hits]}  # fmt: skip


@post("/v1/platform/vector/documents/delete", status_code=200, opt=PROOF)
async def vector_delete(platform: Service[PlatformService], data: JSONBody[DeleteIn]) -> dict[str, Any]:
    a = await platform.active("vector_store")
    index = platform.pick_index(a, data.index_name)
    if a.family.adapter == "embedded_vector_index":
        vc = await platform._embedded_vectors()
        deleted = await _run(index, vc.delete, _embedded(index), data.ids)
    else:
        dim = int((await _vectors(platform, ["dimension probe"])).shape[1])
        store = await _store(platform, a, index, dim)
        deleted = await _run(index, asyncio.to_thread, store.delete, data.ids)
    return {"index_name": index, "provider": _provider(a), "deleted": int(deleted)}


ROUTES = [proof_embeddings, vector_ensure, vector_upsert, vector_query, vector_delete]

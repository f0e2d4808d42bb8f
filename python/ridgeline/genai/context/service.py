"""Context management as a service: schema profiles, knowledge bases, documents (chunked, embedded
once and upserted into the KB's vector store at write time), local-directory sources, sync runs (jobs)
and retrieval.

No Litestar here; errors are the family catalogue's. The control plane (:class:`PlatformService`)
resolves providers, models, the active deployment and the vector runtime; this module only adds the
knowledge-base records on top of it.

Where the work happens:

- chunking: ``ridgeline.ai.chunk`` with the tokenizer of the KB's embeddings target (resolved once per
  KB and cached), at document write time;
- embeddings: the KB's own embeddings provider/model (the embedded MiniLM, or the provider's
  OpenAI-compatible client through the control plane's cached client), at write time, never per query;
- keyword index: the embedded store's BM25 is built once per collection version by
  ``ridgeline.platform.vectors``; for Qdrant/Weaviate KBs one ``KeywordIndex`` per KB content
  version is built from the chunk table and cached;
- a query embeds only the query text, through the active deployment's embeddings binding.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa

from ridgeline.genai import providers as P
from ridgeline.genai.api import platform_store as T
from ridgeline.genai.api import store as GS
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.context import store as C
from ridgeline.genai.context.retrieval import KnowledgeBaseSummary, Mode, RetrievedChunk
from ridgeline.genai.context.settings import ContextSettings
from ridgeline.genai.runtime import BUILTIN_MODELS, Active, PlatformService
from ridgeline.platform.jobs import job_options

E = REASON_CODES.error
JOB_KIND = "context_sync"
ACTIVE_RUN = ("queued", "running")
ING_BATCH_DOCS = 64  # documents chunked + embedded + written per step of a sync

BUILTIN_PROFILES: list[dict[str, Any]] = [
    {
        "id": "weaviate-chunk-text",
        "provider_key": "weaviate_local",
        "name": "Chunk text with provenance",
        "description": "One object per chunk: text, title, document id, chunk index, source path; "
        "vectorizer none (vectors come from the KB's embeddings target).",
        "schema": {
            "vectorizer": "none",
            "properties": [
                {"name": "text", "data_type": "text"},
                {"name": "title", "data_type": "text"},
                {"name": "document_id", "data_type": "text"},
                {"name": "chunk_index", "data_type": "int"},
                {"name": "source_path", "data_type": "text"},
            ],
        },
    },
    {
        "id": "weaviate-minimal",
        "provider_key": "weaviate_local",
        "name": "Minimal chunk text",
        "description": "Chunk text and document id only; vectorizer none.",
        "schema": {
            "vectorizer": "none",
            "properties": [
                {"name": "text", "data_type": "text"},
                {"name": "document_id", "data_type": "text"},
            ],
        },
    },
]
DEFAULT_SCHEMA = {"properties": BUILTIN_PROFILES[0]["schema"]["properties"]}
DATA_TYPES = ("text", "int", "number", "boolean", "date")


def _id() -> str:
    return uuid.uuid4().hex


def _row(r: Any) -> dict[str, Any] | None:
    return dict(r._mapping) if r is not None else None


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\0{text}".encode()).hexdigest()


def index_name(provider_key: str, kb_id: str) -> str:
    """The KB's index (the binding's provider_resource_id); Weaviate class names start with a capital."""
    return f"{'Kb' if P.FAMILIES[provider_key].adapter == 'weaviate' else 'kb'}_{kb_id[:24]}"


def eligible(kb: Mapping[str, Any]) -> bool:
    """Active and ready: what deployments, knowledge chat and retrieval accept (checked per call)."""
    return kb["lifecycle_state"] == "active" and kb["sync_state"] != "error"


async def managed_knowledge_base(conn: Any, kb_id: str) -> dict[str, Any] | None:
    return _row(
        (await conn.execute(sa.select(C.knowledge_bases).where(C.knowledge_bases.c.id == kb_id))).first()
    )


@dataclass
class DocIn:
    """One document to write: its content replaces whatever the id held (chunks and vectors too)."""

    id: str
    title: str
    content: str
    source_type: str
    source_id: str | None = None
    source_path: str | None = None
    media_type: str = "text/plain"
    metadata: dict[str, Any] = field(default_factory=dict)


class ContextService:
    def __init__(self, ctx: Any, settings: ContextSettings) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.settings = settings
        self._tokenizers: dict[tuple[str, str], Any] = {}
        self._dims: dict[str, int] = {}
        self._keyword: dict[str, tuple[int, Any]] = {}  # kb id -> (content_version, KeywordIndex)
        self._write_locks: dict[str, asyncio.Lock] = {}

    @property
    def platform(self) -> PlatformService:
        return self.ctx.service(PlatformService)

    def _lock(self, kb_id: str) -> asyncio.Lock:
        return self._write_locks.setdefault(kb_id, asyncio.Lock())

    # ---- schema profiles ---------------------------------------------------------------------------

    async def list_schema_profiles(self, provider_key: str | None = None) -> list[dict[str, Any]]:
        out = [{**p, "is_builtin": True, "created_at": None} for p in BUILTIN_PROFILES]
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(C.schema_profiles).order_by(C.schema_profiles.c.created_at))
            ).all()
        out += [self._profile_view(dict(r._mapping)) for r in rows]
        return [p for p in out if provider_key is None or p["provider_key"] == provider_key]

    @staticmethod
    def _profile_view(r: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": r["id"], "provider_key": r["provider_key"], "name": r["name"], "description": r["description"],
                "schema": r["schema"], "is_builtin": False, "created_at": _iso(r["created_at"])}  # fmt: skip

    @staticmethod
    def _check_schema(provider_key: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        props = schema.get("properties")
        if not isinstance(props, list) or not props:
            raise E("invalid_request", detail="schema.properties must be a non-empty list")
        names = set()
        for p in props:
            if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"].isidentifier():
                raise E("invalid_request", detail="each schema property needs an identifier name")
            if p.get("data_type") not in DATA_TYPES:
                raise E(
                    "invalid_request", detail=f"data_type of {p['name']} must be one of {list(DATA_TYPES)}"
                )
            names.add(p["name"])
        if "text" not in names:
            raise E("invalid_request", detail="a schema needs a text property (the chunk text)")
        out = {"properties": [{"name": p["name"], "data_type": p["data_type"]} for p in props]}
        if provider_key == "weaviate_local":
            # the backend supplies vectors; native Weaviate vectorizer modules are never enabled
            if (schema.get("vectorizer") or "none") != "none":
                raise E("vectorization_invalid", detail="Weaviate collections use vectorizer none")
            out["vectorizer"] = "none"
        return out

    async def create_schema_profile(self, body: Mapping[str, Any], actor: str | None) -> dict[str, Any]:
        key = body["provider_key"]
        fam = P.FAMILIES.get(key)
        if fam is None or fam.capability != "vector_store":
            raise E("provider_family_not_found", provider_key=key)
        schema = self._check_schema(key, body["schema"])
        if any(p["name"] == body["name"] and p["provider_key"] == key for p in BUILTIN_PROFILES):
            raise E("schema_profile_exists", provider_key=key, name=body["name"])
        row = {"id": _id(), "provider_key": key, "name": body["name"], "description": body.get("description") or "",
               "schema": schema, "created_by": actor, "created_at": P.now()}  # fmt: skip
        try:
            async with self.db.begin() as conn:
                await conn.execute(C.schema_profiles.insert().values(**row))
        except sa.exc.IntegrityError:
            raise E("schema_profile_exists", provider_key=key, name=body["name"]) from None
        return self._profile_view(row)

    async def _profile(self, conn: Any, profile_id: str) -> dict[str, Any]:
        for p in BUILTIN_PROFILES:
            if p["id"] == profile_id:
                return p
        row = _row(
            (
                await conn.execute(sa.select(C.schema_profiles).where(C.schema_profiles.c.id == profile_id))
            ).first()
        )
        if row is None:
            raise E("schema_profile_not_found", schema_profile_id=profile_id)
        return row

    # ---- vectorization options ---------------------------------------------------------------------

    async def vectorization_options(self) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            provs = [
                dict(r._mapping)
                for r in (await conn.execute(sa.select(T.providers).order_by(T.providers.c.slug))).all()
            ]
            models = [dict(r._mapping) for r in (await conn.execute(
                sa.select(GS.models).where(GS.models.c.task == "embeddings", GS.BINDABLE_MODEL).order_by(GS.models.c.name))).all()]  # fmt: skip

        def brief(p: Mapping[str, Any]) -> dict[str, Any]:
            f = P.FAMILIES[p["provider_key"]]
            return {"id": p["id"], "slug": p["slug"], "display_name": p["display_name"], "provider_key": f.key,
                    "provider_origin": f.provider_origin, "enabled": p["enabled"]}  # fmt: skip

        emb = []
        for p in provs:
            if p["capability"] != "embeddings":
                continue
            builtin = BUILTIN_MODELS.get(p["provider_key"])
            ms = (
                [{"id": builtin, "name": builtin, "origin": "local", "provider_model_id": builtin}]
                if builtin
                else [
                    {
                        "id": m["id"],
                        "name": m["name"],
                        "origin": m["origin"],
                        "provider_model_id": m["provider_model_id"],
                    }
                    for m in models
                ]
            )
            emb.append({**brief(p), "models": ms})
        return {
            "modes": ["vanessa_embeddings", "self_provided"],
            "vector_store_providers": [brief(p) for p in provs if p["capability"] == "vector_store"],
            "embeddings_providers": emb,
            "chunking": {
                "strategies": ["fixed_length"],
                "unit": "tokens",
                "defaults": {"strategy": "fixed_length", "chunk_length": 256, "chunk_overlap": 32},
                "limits": {"chunk_length": {"min": 16, "max": 8192}, "chunk_overlap": {"min": 0}},
            },
        }

    # ---- knowledge bases -----------------------------------------------------------------------------

    def kb_view(self, r: Mapping[str, Any]) -> dict[str, Any]:
        ok = eligible(r)
        return {
            "id": r["id"], "name": r["name"], "description": r["description"],
            "provider_instance_id": r["provider_instance_id"], "index_name": r["index_name"],
            "provider_resource_id": r["index_name"], "schema_profile_id": r["schema_profile_id"], "schema": r["schema"],
            "vectorization": r["vectorization"], "chunking": r["chunking"], "lifecycle_state": r["lifecycle_state"],
            "sync_state": r["sync_state"], "ready": r["sync_state"] != "error", "eligible_for_binding": ok,
            "document_count": r["document_count"], "chunk_count": r["chunk_count"],
            "last_sync_at": _iso(r["last_sync_at"]), "last_sync_error": r["last_sync_error"],
            "last_sync_summary": r["last_sync_summary"], "created_at": _iso(r["created_at"]),
            "updated_at": _iso(r["updated_at"]),
        }  # fmt: skip

    async def _kb(self, conn: Any, kb_id: str) -> dict[str, Any]:
        row = await managed_knowledge_base(conn, kb_id)
        if row is None:
            raise E("knowledge_base_not_found", knowledge_base_id=kb_id)
        return row

    async def kb(self, kb_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            return await self._kb(conn, kb_id)

    async def list_kbs(self, limit: int, offset: int) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(C.knowledge_bases))
            ).scalar() or 0
            rows = (await conn.execute(sa.select(C.knowledge_bases).order_by(C.knowledge_bases.c.name)
                                       .limit(limit).offset(offset))).all()  # fmt: skip
        return {"knowledge_bases": [self.kb_view(dict(r._mapping)) for r in rows], "total": total,
                "limit": limit, "offset": offset}  # fmt: skip

    async def _check_vectorization(self, conn: Any, vz: Mapping[str, Any]) -> dict[str, Any]:
        mode = vz["mode"]
        pid, mid = vz.get("embedding_provider_instance_id"), vz.get("embedding_model_id")
        if mode == "self_provided":
            if pid or mid:
                raise E("vectorization_invalid", detail="self_provided takes no embeddings provider or model")
            return {"mode": mode}
        if not pid or not mid:
            raise E("vectorization_invalid",
                    detail="vanessa_embeddings needs embedding_provider_instance_id and embedding_model_id")  # fmt: skip
        prov = await self.platform._provider(conn, pid)
        if prov["capability"] != "embeddings":
            raise E("binding_provider_mismatch", provider_id=pid, provider_capability=prov["capability"],
                    capability="embeddings")  # fmt: skip
        builtin = BUILTIN_MODELS.get(prov["provider_key"])
        if builtin is not None:
            if mid != builtin:
                raise E("vectorization_invalid", detail=f"provider {prov['slug']} serves only {builtin}")
        else:
            model = await self.platform._model(conn, mid)
            if model["task"] != "embeddings":
                raise E(
                    "model_capability_mismatch", model_id=mid, task=model["task"], capability="embeddings"
                )
        return {"mode": mode, "embedding_provider_instance_id": pid, "embedding_model_id": mid}

    async def create_kb(self, body: Mapping[str, Any], actor: str | None) -> dict[str, Any]:
        ch = body["chunking"]
        if ch["chunk_overlap"] >= ch["chunk_length"]:
            raise E("chunking_invalid", detail="chunk_overlap must be smaller than chunk_length")
        async with self.db.engine.connect() as conn:
            prov = await self.platform._provider(conn, body["provider_instance_id"])
            if prov["capability"] != "vector_store":
                raise E("binding_provider_mismatch", provider_id=prov["id"], provider_capability=prov["capability"],
                        capability="vector_store")  # fmt: skip
            vz = await self._check_vectorization(conn, body["vectorization"])
            schema: dict[str, Any]
            if body.get("schema_profile_id"):
                prof = await self._profile(conn, body["schema_profile_id"])
                if prof["provider_key"] != prov["provider_key"]:
                    raise E("schema_profile_provider_mismatch", schema_profile_id=prof["id"],
                            profile_provider_key=prof["provider_key"], provider_key=prov["provider_key"])  # fmt: skip
                schema = dict(prof["schema"])
            elif body.get("schema"):
                schema = self._check_schema(prov["provider_key"], body["schema"])
            else:
                schema = self._check_schema(prov["provider_key"], DEFAULT_SCHEMA)
        kb_id = _id()
        now = P.now()
        row = {"id": kb_id, "name": body["name"], "description": body.get("description") or "",
               "provider_instance_id": prov["id"], "index_name": index_name(prov["provider_key"], kb_id),
               "schema_profile_id": body.get("schema_profile_id"), "schema": schema, "vectorization": vz,
               "chunking": {"strategy": ch["strategy"], "chunk_length": ch["chunk_length"], "chunk_overlap": ch["chunk_overlap"]},
               "lifecycle_state": body.get("lifecycle_state") or "active", "sync_state": "ready", "content_version": 0,
               "document_count": 0, "chunk_count": 0, "created_by": actor, "created_at": now, "updated_at": now}  # fmt: skip
        if vz["mode"] == "vanessa_embeddings":
            await self._tokenizer(row)  # fail at creation, not at the first document
        try:
            async with self.db.begin() as conn:
                await conn.execute(C.knowledge_bases.insert().values(**row))
        except sa.exc.IntegrityError:
            raise E("knowledge_base_name_taken", name=body["name"]) from None
        return self.kb_view({**row, "last_sync_at": None, "last_sync_error": None, "last_sync_summary": None})

    async def update_kb(self, kb_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            kb = await self._kb(conn, kb_id)
        for fld in ("provider_instance_id", "schema_profile_id", "schema", "vectorization", "chunking"):
            if body.get(fld) is None:
                continue
            new, old = body[fld], kb[fld]
            if fld == "vectorization":
                old = {k: v for k, v in old.items()}
                new = {k: v for k, v in new.items() if v is not None}
            if fld == "chunking":
                new = {**{"strategy": "fixed_length"}, **new}
            if new != old:
                raise E("knowledge_base_immutable", field=fld)
        changes = {k: body[k] for k in ("name", "description", "lifecycle_state") if body.get(k) is not None}
        if changes:
            changes["updated_at"] = P.now()
            try:
                async with self.db.begin() as conn:
                    await conn.execute(
                        C.knowledge_bases.update().where(C.knowledge_bases.c.id == kb_id).values(**changes)
                    )
            except sa.exc.IntegrityError:
                raise E("knowledge_base_name_taken", name=body["name"]) from None
        return self.kb_view(await self.kb(kb_id))

    async def _bound_in(self, conn: Any, kb_id: str) -> list[str]:
        d, b = T.deployments, T.bindings
        rows = (await conn.execute(sa.select(d.c.slug, b.c.resources).join(b, b.c.deployment_id == d.c.id)
                                   .where(b.c.capability == "vector_store"))).all()  # fmt: skip
        return sorted(
            {r.slug for r in rows for res in (r.resources or []) if res.get("knowledge_base_id") == kb_id}
        )

    async def delete_kb(self, kb_id: str) -> None:
        async with self.db.engine.connect() as conn:
            kb = await self._kb(conn, kb_id)
            bound = await self._bound_in(conn, kb_id)
            running = await self._active_run(conn, kb_id)
        if bound:
            raise E("knowledge_base_bound", knowledge_base_id=kb_id, deployments=", ".join(bound))
        if running is not None:
            raise E("sync_already_running", what=f"knowledge base {kb_id}")
        async with self._lock(kb_id):
            await self._drop_vectors(kb)
            async with self.db.begin() as conn:
                await conn.execute(C.chunks.delete().where(C.chunks.c.knowledge_base_id == kb_id))
                await conn.execute(C.documents.delete().where(C.documents.c.knowledge_base_id == kb_id))
                await conn.execute(C.sync_runs.delete().where(C.sync_runs.c.knowledge_base_id == kb_id))
                await conn.execute(C.sources.delete().where(C.sources.c.knowledge_base_id == kb_id))
                await conn.execute(C.knowledge_bases.delete().where(C.knowledge_bases.c.id == kb_id))
        self._keyword.pop(kb_id, None)
        self._dims.pop(kb_id, None)

    # ---- embeddings target, tokenizer, vectors ----------------------------------------------------------

    async def _embedding_target(
        self, kb: Mapping[str, Any]
    ) -> tuple[dict[str, Any], P.ProviderFamily, dict[str, Any]]:
        vz = kb["vectorization"]
        if vz["mode"] != "vanessa_embeddings":
            raise E("knowledge_base_self_provided", knowledge_base_id=kb["id"])
        async with self.db.engine.connect() as conn:
            prov = await self.platform._provider(conn, vz["embedding_provider_instance_id"])
            fam = P.FAMILIES[prov["provider_key"]]
            mid = vz["embedding_model_id"]
            if BUILTIN_MODELS.get(fam.key) == mid:
                res = {
                    "id": mid,
                    "ref_type": "builtin_model",
                    "name": mid,
                    "provider_model_id": mid,
                    "origin": "local",
                }
            else:
                m = await self.platform._model(conn, mid)
                res = {"id": mid, "ref_type": "managed_model", "name": m["name"], "origin": m["origin"],
                       "provider_model_id": m["provider_model_id"], "local_path": m["local_path"]}  # fmt: skip
        return prov, fam, res

    async def _tokenizer(self, kb: Mapping[str, Any]) -> Any:
        """The KB's chunking tokenizer, from its embeddings target: a local model's ``tokenizer.json``
        (the bundled MiniLM's, or the managed model's ``local_path``), tiktoken for cloud models
        (model-aware encoding, cl100k_base fallback)."""
        from ridgeline.ai import get_tokenizer

        prov, fam, res = await self._embedding_target(kb)
        key = (prov["id"], res["id"])
        tok = self._tokenizers.get(key)
        if tok is not None:
            return tok
        try:
            if fam.adapter == "local_embeddings":
                from ridgeline.ai.embeddings import model_dir

                path: Path | None = model_dir() / "tokenizer.json"
            elif fam.provider_origin == "cloud" or res.get("origin") == "cloud":
                path = None
            else:
                local = res.get("local_path")
                path = Path(local) / "tokenizer.json" if local else None
                if path is None or not path.is_file():
                    raise E("tokenizer_unavailable",
                            detail=f"local model {res['id']} has no tokenizer.json in its managed path ({local})")  # fmt: skip
            if path is None:
                tok = await asyncio.to_thread(
                    get_tokenizer, None, model=res.get("provider_model_id") or res["name"]
                )
            else:
                tok = await asyncio.to_thread(get_tokenizer, str(path))
        except Exception as exc:
            if getattr(exc, "reason_code", None) == "tokenizer_unavailable":
                raise
            raise E("tokenizer_unavailable", detail=f"{type(exc).__name__}: {exc}"[:300]) from None
        self._tokenizers[key] = tok
        return tok

    async def _embed(self, kb: Mapping[str, Any], texts: Sequence[str]) -> np.ndarray:
        """Embed with the KB's own target (ingestion); batches of CONTEXT_EMBED_BATCH."""
        from ridgeline.ai.providers import ProviderError

        prov, fam, res = await self._embedding_target(kb)
        mode = await self.platform.mode()
        if fam.provider_origin == "cloud" and mode != "online":
            raise E("offline_provider_blocked", provider=prov["slug"], capability="embeddings")
        if not prov["enabled"]:
            raise E("provider_unreachable", provider=prov["slug"], detail="the provider is disabled")
        if not texts:
            return np.zeros((0, self._dims.get(kb["id"], 1)), dtype=np.float32)
        out: list[np.ndarray] = []
        step = self.settings.context_embed_batch
        try:
            if fam.adapter == "local_embeddings":
                from ridgeline.ai import Embedder

                emb = await asyncio.to_thread(Embedder.local)
                out.append(await asyncio.to_thread(emb.embed, list(texts)))
            else:
                binding = {"capability": "embeddings", "resources": [res], "default_resource_id": res["id"]}
                a = Active({}, binding, prov, fam, mode)
                runtime_id = await self.platform.runtime_model_id(a, res)
                client = await self.platform._client(a)
                for i in range(0, len(texts), step):
                    out.append((await client.embed(list(texts[i : i + step]), model=runtime_id)).array())
        except ProviderError as exc:
            raise E(
                "provider_upstream_error", provider=prov["slug"], detail=f"{exc.reason_code}: {exc}"[:300]
            ) from None
        vecs = np.ascontiguousarray(np.concatenate(out), dtype=np.float32)
        self._dims[kb["id"]] = int(vecs.shape[1])
        return vecs

    async def _dim(self, kb: Mapping[str, Any]) -> int:
        if kb["id"] not in self._dims:
            await self._embed(kb, ["dimension probe"])
        return self._dims[kb["id"]]

    async def _store_provider(self, kb: Mapping[str, Any]) -> tuple[dict[str, Any], P.ProviderFamily]:
        async with self.db.engine.connect() as conn:
            prov = await self.platform._provider(conn, kb["provider_instance_id"])
        return prov, P.FAMILIES[prov["provider_key"]]

    @staticmethod
    def _collection(kb: Mapping[str, Any]) -> str:
        return f"genai.{kb['index_name']}"  # the namespace the /v1/platform/vector/* routes use

    async def _external(self, kb: Mapping[str, Any], prov: Mapping[str, Any], fam: P.ProviderFamily) -> Any:
        from ridgeline.genai.api.platform_proof import _run

        a = Active({}, {"capability": "vector_store", "resources": []}, dict(prov), fam, "online")
        dim = await self._dim(kb)
        return await _run(kb["index_name"], self.platform.vector_store, a, kb["index_name"], dim, "cosine")

    async def _upsert_vectors(self, kb: Mapping[str, Any], ids: list[str], vecs: np.ndarray,
                              meta: list[dict[str, Any]], texts: list[str]) -> None:  # fmt: skip
        from ridgeline.genai.api.platform_proof import _run

        if not ids:
            return
        prov, fam = await self._store_provider(kb)
        if fam.adapter == "embedded_vector_index":
            vc = await self.platform._embedded_vectors()
            name = self._collection(kb)
            if await vc.info(name) is None:
                await _run(kb["index_name"], vc.create, name, int(vecs.shape[1]), "cosine")
            await _run(kb["index_name"], vc.upsert, name, ids, vecs, meta, texts)
        else:
            store = await self._external(kb, prov, fam)
            full = [{**m, "text": t} for m, t in zip(meta, texts, strict=True)]
            await _run(kb["index_name"], asyncio.to_thread, store.upsert, ids, vecs, full)

    async def _delete_vectors(self, kb: Mapping[str, Any], ids: list[str]) -> None:
        from ridgeline.genai.api.platform_proof import _run

        if not ids:
            return
        prov, fam = await self._store_provider(kb)
        if fam.adapter == "embedded_vector_index":
            vc = await self.platform._embedded_vectors()
            if await vc.info(self._collection(kb)) is not None:
                await _run(kb["index_name"], vc.delete, self._collection(kb), ids)
        else:
            store = await self._external(kb, prov, fam)
            await _run(kb["index_name"], asyncio.to_thread, store.delete, ids)

    async def _drop_vectors(self, kb: Mapping[str, Any]) -> None:
        """Remove every vector of the KB (delete, rebuild)."""
        _prov, fam = await self._store_provider(kb)
        if fam.adapter == "embedded_vector_index":
            vc = await self.platform._embedded_vectors()
            await vc.drop(self._collection(kb))
            return
        async with self.db.engine.connect() as conn:
            ids = [r.id for r in (await conn.execute(
                sa.select(C.chunks.c.id).where(C.chunks.c.knowledge_base_id == kb["id"]))).all()]  # fmt: skip
        if ids and kb["vectorization"]["mode"] == "vanessa_embeddings":
            for i in range(0, len(ids), 1000):
                await self._delete_vectors(kb, ids[i : i + 1000])

    # ---- documents --------------------------------------------------------------------------------------

    async def write_documents(self, kb: Mapping[str, Any], docs: Sequence[DocIn]) -> int:
        """Chunk (the KB's tokenizer and chunking), embed once, upsert the vectors, then store documents
        and chunks in one transaction; chunks the new content no longer has lose their vectors.
        Returns the number of chunks written."""
        from ridgeline.ai import chunk

        if not docs:
            return 0
        if kb["vectorization"]["mode"] != "vanessa_embeddings":
            raise E("knowledge_base_self_provided", knowledge_base_id=kb["id"])
        tok = await self._tokenizer(kb)
        ch = kb["chunking"]

        def split() -> list[list[Any]]:
            return [chunk(d.content, tok, ch["chunk_length"], ch["chunk_overlap"]) for d in docs]

        pieces = await asyncio.to_thread(split)
        ids, texts, meta, rows = [], [], [], []
        for d, cs in zip(docs, pieces, strict=True):
            for c in cs:
                cid = f"{d.id}:{c.index}"
                ids.append(cid)
                texts.append(c.text)
                meta.append({"knowledge_base_id": kb["id"], "document_id": d.id, "chunk_index": c.index,
                             "title": d.title, "source_path": d.source_path or ""})  # fmt: skip
                rows.append({"id": cid, "document_id": d.id, "knowledge_base_id": kb["id"], "chunk_index": c.index,
                             "text": c.text, "token_count": c.token_count, "char_start": c.start, "char_end": c.end})  # fmt: skip
        vecs = await self._embed(kb, texts) if texts else None
        doc_ids = [d.id for d in docs]
        async with self._lock(kb["id"]):
            async with self.db.engine.connect() as conn:
                old = [r.id for r in (await conn.execute(
                    sa.select(C.chunks.c.id).where(C.chunks.c.document_id.in_(doc_ids)))).all()]  # fmt: skip
            stale = sorted(set(old) - set(ids))
            await self._delete_vectors(kb, stale)
            if vecs is not None:
                await self._upsert_vectors(kb, ids, vecs, meta, texts)
            now = P.now()
            counts: dict[str, int] = {}
            for r in rows:
                counts[r["document_id"]] = counts.get(r["document_id"], 0) + 1
            async with self.db.begin() as conn:
                existing = {r.id: r.created_at for r in (await conn.execute(
                    sa.select(C.documents.c.id, C.documents.c.created_at).where(C.documents.c.id.in_(doc_ids)))).all()}  # fmt: skip
                await conn.execute(C.chunks.delete().where(C.chunks.c.document_id.in_(doc_ids)))
                await conn.execute(C.documents.delete().where(C.documents.c.id.in_(doc_ids)))
                await conn.execute(C.documents.insert(), [
                    {"id": d.id, "knowledge_base_id": kb["id"], "title": d.title, "source_type": d.source_type,
                     "source_id": d.source_id, "source_path": d.source_path, "media_type": d.media_type,
                     "content": d.content, "content_hash": content_hash(d.title, d.content), "metadata": d.metadata,
                     "chunk_count": counts.get(d.id, 0), "created_at": existing.get(d.id, now), "updated_at": now}
                    for d in docs])  # fmt: skip
                if rows:
                    await conn.execute(C.chunks.insert(), rows)
                await self._recount(conn, kb["id"])
        return len(rows)

    async def _recount(self, conn: Any, kb_id: str) -> None:
        docs = (
            await conn.execute(sa.select(sa.func.count()).where(C.documents.c.knowledge_base_id == kb_id))
        ).scalar()
        chs = (
            await conn.execute(sa.select(sa.func.count()).where(C.chunks.c.knowledge_base_id == kb_id))
        ).scalar()
        await conn.execute(C.knowledge_bases.update().where(C.knowledge_bases.c.id == kb_id).values(
            document_count=docs or 0, chunk_count=chs or 0, updated_at=P.now(),
            content_version=C.knowledge_bases.c.content_version + 1))  # fmt: skip

    async def delete_documents(self, kb: Mapping[str, Any], doc_ids: Sequence[str]) -> int:
        if not doc_ids:
            return 0
        async with self._lock(kb["id"]):
            async with self.db.engine.connect() as conn:
                cids = [r.id for r in (await conn.execute(
                    sa.select(C.chunks.c.id).where(C.chunks.c.document_id.in_(list(doc_ids))))).all()]  # fmt: skip
            if kb["vectorization"]["mode"] == "vanessa_embeddings":
                await self._delete_vectors(kb, cids)
            async with self.db.begin() as conn:
                await conn.execute(C.chunks.delete().where(C.chunks.c.document_id.in_(list(doc_ids))))
                n = (
                    await conn.execute(C.documents.delete().where(C.documents.c.id.in_(list(doc_ids))))
                ).rowcount
                await self._recount(conn, kb["id"])
        return int(n or 0)

    @staticmethod
    def document_view(r: Mapping[str, Any], *, content: bool = False) -> dict[str, Any]:
        out = {"id": r["id"], "knowledge_base_id": r["knowledge_base_id"], "title": r["title"],
               "source_type": r["source_type"], "source_id": r["source_id"], "source_path": r["source_path"],
               "media_type": r["media_type"], "content_hash": r["content_hash"], "metadata": r["metadata"],
               "chunk_count": r["chunk_count"], "created_at": _iso(r["created_at"]), "updated_at": _iso(r["updated_at"])}  # fmt: skip
        if content:
            out["content"] = r["content"]
        return out

    async def list_documents(
        self, kb_id: str, limit: int, offset: int, source_id: str | None
    ) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            await self._kb(conn, kb_id)
            where = [C.documents.c.knowledge_base_id == kb_id]
            if source_id is not None:
                where.append(C.documents.c.source_id == source_id)
            total = (await conn.execute(sa.select(sa.func.count()).where(*where))).scalar() or 0
            rows = (await conn.execute(sa.select(C.documents).where(*where)
                                       .order_by(C.documents.c.source_path, C.documents.c.title, C.documents.c.id)
                                       .limit(limit).offset(offset))).all()  # fmt: skip
        return {"documents": [self.document_view(dict(r._mapping)) for r in rows], "total": total,
                "limit": limit, "offset": offset}  # fmt: skip

    async def _document(self, conn: Any, kb_id: str, doc_id: str) -> dict[str, Any]:
        row = _row((await conn.execute(sa.select(C.documents).where(
            C.documents.c.id == doc_id, C.documents.c.knowledge_base_id == kb_id))).first())  # fmt: skip
        if row is None:
            raise E("document_not_found", document_id=doc_id)
        return row

    @staticmethod
    def upload_id(kb_id: str, subject: str | None, key: str) -> str:
        """The document id an idempotent upload writes: the same knowledge base, caller and key always
        name the same document, so a retry (even one racing the first attempt) cannot add a second."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"ridgeline:upload\n{kb_id}\n{subject or ''}\n{key}").hex

    async def create_document(self, kb_id: str, title: str, content: str, metadata: dict[str, Any],
                              *, source_type: str = "manual", media_type: str = "text/plain",
                              doc_id: str | None = None, idempotency_key: str | None = None) -> dict[str, Any]:  # fmt: skip
        """A new document; with ``doc_id`` (an idempotent upload) the one already stored under that id
        is answered again when it holds the same title and content, and a different one is refused."""
        kb = await self.kb(kb_id)
        if doc_id is not None:
            async with self.db.engine.connect() as conn:
                cur = _row((await conn.execute(sa.select(C.documents).where(
                    C.documents.c.id == doc_id, C.documents.c.knowledge_base_id == kb_id))).first())  # fmt: skip
            if cur is not None:
                if cur["content_hash"] != content_hash(title, content):
                    raise E("idempotency_key_reused", key=(idempotency_key or "")[:80])
                return self.document_view(cur, content=True)
        d = DocIn(doc_id or _id(), title, content, source_type, media_type=media_type, metadata=metadata)
        await self.write_documents(kb, [d])
        async with self.db.engine.connect() as conn:
            return self.document_view(await self._document(conn, kb_id, d.id), content=True)

    async def update_document(self, kb_id: str, doc_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            kb = await self._kb(conn, kb_id)
            cur = await self._document(conn, kb_id, doc_id)
        d = DocIn(doc_id, changes.get("title") or cur["title"], changes.get("content") if changes.get("content") is not None else cur["content"],
                  cur["source_type"], cur["source_id"], cur["source_path"], cur["media_type"],
                  changes["metadata"] if changes.get("metadata") is not None else cur["metadata"])  # fmt: skip
        await self.write_documents(kb, [d])
        async with self.db.engine.connect() as conn:
            return self.document_view(await self._document(conn, kb_id, doc_id), content=True)

    async def delete_document(self, kb_id: str, doc_id: str) -> None:
        async with self.db.engine.connect() as conn:
            kb = await self._kb(conn, kb_id)
            await self._document(conn, kb_id, doc_id)
        await self.delete_documents(kb, [doc_id])

    # ---- retrieval -------------------------------------------------------------------------------------

    async def _check_runtime(self, kb: Mapping[str, Any]) -> None:
        """The active deployment must serve this KB: its vector_store provider is the KB's, its
        embeddings provider and default resource are the KB's embeddings target."""
        vec = await self.platform.active("vector_store")
        if vec.provider["id"] != kb["provider_instance_id"]:
            raise E("knowledge_base_provider_mismatch", knowledge_base_id=kb["id"],
                    kb_provider_id=kb["provider_instance_id"], provider_id=vec.provider["id"])  # fmt: skip
        emb = await self.platform.active("embeddings")
        vz = kb["vectorization"]
        want = (vz["embedding_provider_instance_id"], vz["embedding_model_id"])
        have = (emb.provider["id"], emb.binding["default_resource_id"])
        if want != have:
            raise E("knowledge_base_embeddings_mismatch", knowledge_base_id=kb["id"],
                    kb_target=f"{want[0]}/{want[1]}", deployment_target=f"{have[0]}/{have[1]}")  # fmt: skip

    async def _keyword_index(self, kb: Mapping[str, Any]) -> Any:
        """BM25 for an external-store KB: built from the chunk table once per KB content version."""
        from ridgeline.ai import KeywordIndex

        hit = self._keyword.get(kb["id"])
        if hit is not None and hit[0] == kb["content_version"]:
            return hit[1]
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(sa.select(C.chunks.c.id, C.chunks.c.text)
                                       .where(C.chunks.c.knowledge_base_id == kb["id"]).order_by(C.chunks.c.id))).all()  # fmt: skip
        kw = await asyncio.to_thread(KeywordIndex.build, [r.id for r in rows], [r.text for r in rows])
        self._keyword[kb["id"]] = (kb["content_version"], kw)
        return kw

    async def retrieve(self, knowledge_base_id: str, query: str, *, top_k: int = 5, mode: Mode = "hybrid",
                       threshold: float | None = None) -> list[RetrievedChunk]:  # fmt: skip
        """Retrieve through the active deployment's embeddings and vector runtime; 404
        ``knowledge_base_not_found``, 409 ``knowledge_base_not_ready`` (checked at call time)."""
        from ridgeline.ai import reciprocal_rank_fusion
        from ridgeline.genai.api.platform_proof import _run

        kb = await self.kb(knowledge_base_id)
        if not eligible(kb):
            raise E("knowledge_base_not_ready", knowledge_base_id=kb["id"],
                    state=f"{kb['lifecycle_state']}, {kb['sync_state']}")  # fmt: skip
        if kb["vectorization"]["mode"] != "vanessa_embeddings":
            raise E("knowledge_base_self_provided", knowledge_base_id=kb["id"])
        await self._check_runtime(kb)
        if kb["chunk_count"] == 0:
            return []
        prov, fam = await self._store_provider(kb)
        fetch = max(4 * top_k, 20)
        qv = None
        if mode != "keyword":
            qv = np.asarray((await self.platform.embed([query], kb["vectorization"]["embedding_model_id"]))["vectors"],
                            dtype=np.float32)[0]  # fmt: skip
        idx = kb["index_name"]
        if fam.adapter == "embedded_vector_index":
            vc = await self.platform._embedded_vectors()
            name = self._collection(kb)
            if await vc.info(name) is None:
                return []
            by_vec = await _run(idx, vc.search, name, qv, top_k if mode == "semantic" else fetch,
                                threshold=threshold) if qv is not None else []  # fmt: skip
            by_kw = await _run(idx, vc.keyword_search, name, query, top_k if mode == "keyword" else fetch) if mode != "semantic" else []  # fmt: skip
        else:
            by_vec = []
            if qv is not None:
                store = await self._external(kb, prov, fam)
                by_vec = await _run(idx, asyncio.to_thread, store.search, qv, top_k if mode == "semantic" else fetch,
                                    threshold=threshold)  # fmt: skip
            by_kw = (await self._keyword_index(kb)).search(query, top_k if mode == "keyword" else fetch) if mode != "semantic" else []  # fmt: skip
        if mode == "semantic":
            hits = by_vec[:top_k]
        elif mode == "keyword":
            hits = [h for h in by_kw if threshold is None or h.score >= threshold][:top_k]
        else:
            hits = reciprocal_rank_fusion([by_vec, by_kw], limit=top_k)
        return await self._materialise(hits)

    async def _materialise(self, hits: Sequence[Any]) -> list[RetrievedChunk]:
        if not hits:
            return []
        ids = [h.id for h in hits]
        q = (sa.select(C.chunks.c.id, C.chunks.c.document_id, C.chunks.c.chunk_index, C.chunks.c.text,
                       C.documents.c.title, C.documents.c.source_path)
             .join(C.documents, C.documents.c.id == C.chunks.c.document_id).where(C.chunks.c.id.in_(ids)))  # fmt: skip
        async with self.db.engine.connect() as conn:
            rows = {r.id: r for r in (await conn.execute(q)).all()}
        out = []
        for h in hits:
            r = rows.get(h.id)
            if r is None:  # a vector whose chunk row is gone (a write in flight): not an answer
                continue
            out.append(RetrievedChunk(document_id=r.document_id, chunk_id=r.id, chunk_index=r.chunk_index,
                                      text=r.text, score=float(h.score), title=r.title, source_path=r.source_path))  # fmt: skip
        return out

    async def bindable_knowledge_bases(self, deployment_id: str | None = None) -> list[KnowledgeBaseSummary]:
        """Active and ready KBs; with a deployment, only those its vector_store binding lists (on its
        provider)."""
        async with self.db.engine.connect() as conn:
            rows = [dict(r._mapping) for r in (await conn.execute(
                sa.select(C.knowledge_bases).order_by(C.knowledge_bases.c.name))).all()]  # fmt: skip
            if deployment_id is not None:
                await self.platform._deployment(conn, deployment_id)
                b = _row((await conn.execute(sa.select(T.bindings).where(
                    T.bindings.c.deployment_id == deployment_id, T.bindings.c.capability == "vector_store"))).first())  # fmt: skip
                bound = set() if b is None else {r.get("knowledge_base_id") for r in b["resources"] or []}
                rows = [
                    r
                    for r in rows
                    if r["id"] in bound and b is not None and r["provider_instance_id"] == b["provider_id"]
                ]
        return [KnowledgeBaseSummary(id=r["id"], name=r["name"], provider_instance_id=r["provider_instance_id"],
                                     status=r["lifecycle_state"], ready=r["sync_state"] != "error")
                for r in rows if eligible(r)]  # fmt: skip

    # ---- sources -----------------------------------------------------------------------------------------

    def resolve_source_path(self, path: str) -> str:
        """The real path of a source directory, which must lie under an allowed root (``..`` and
        symlinks resolved first, so neither can leave it)."""
        roots = [os.path.realpath(r) for r in self.settings.context_source_roots if r]
        if not roots:
            raise E("source_path_not_allowed", path=path)
        cand = path if os.path.isabs(path) else os.path.join(roots[0], path)
        real = os.path.realpath(cand)
        if not any(
            real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots
        ) or not os.path.isdir(real):
            raise E("source_path_not_allowed", path=path)
        return real

    @staticmethod
    def source_view(r: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": r["id"], "knowledge_base_id": r["knowledge_base_id"], "source_type": r["source_type"],
                "display_name": r["display_name"], "path": r["path"], "include_globs": r["include_globs"],
                "exclude_globs": r["exclude_globs"], "lifecycle_state": r["lifecycle_state"],
                "last_sync_at": _iso(r["last_sync_at"]), "last_sync_status": r["last_sync_status"],
                "last_sync_error": r["last_sync_error"], "created_at": _iso(r["created_at"]),
                "updated_at": _iso(r["updated_at"])}  # fmt: skip

    async def list_sources(self, kb_id: str) -> list[dict[str, Any]]:
        async with self.db.engine.connect() as conn:
            await self._kb(conn, kb_id)
            rows = (await conn.execute(sa.select(C.sources).where(C.sources.c.knowledge_base_id == kb_id)
                                       .order_by(C.sources.c.created_at))).all()  # fmt: skip
        return [self.source_view(dict(r._mapping)) for r in rows]

    async def _source(self, conn: Any, kb_id: str, source_id: str) -> dict[str, Any]:
        row = _row((await conn.execute(sa.select(C.sources).where(
            C.sources.c.id == source_id, C.sources.c.knowledge_base_id == kb_id))).first())  # fmt: skip
        if row is None:
            raise E("source_not_found", source_id=source_id)
        return row

    async def create_source(self, kb_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        kb = await self.kb(kb_id)
        if kb["vectorization"]["mode"] != "vanessa_embeddings":
            raise E("knowledge_base_self_provided", knowledge_base_id=kb_id)
        real = self.resolve_source_path(body["path"])
        now = P.now()
        row = {"id": _id(), "knowledge_base_id": kb_id, "source_type": body["source_type"],
               "display_name": body.get("display_name") or os.path.basename(real) or real, "path": real,
               "include_globs": list(body.get("include_globs") or ["*"]),
               "exclude_globs": list(body.get("exclude_globs") or []),
               "lifecycle_state": body.get("lifecycle_state") or "active", "created_at": now, "updated_at": now}  # fmt: skip
        async with self.db.begin() as conn:
            await conn.execute(C.sources.insert().values(**row))
        return self.source_view(
            {**row, "last_sync_at": None, "last_sync_status": None, "last_sync_error": None}
        )

    async def update_source(self, kb_id: str, source_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            await self._source(conn, kb_id, source_id)
        changes = {k: body[k] for k in ("display_name", "include_globs", "exclude_globs", "lifecycle_state")
                   if body.get(k) is not None}  # fmt: skip
        if body.get("path") is not None:
            changes["path"] = self.resolve_source_path(body["path"])
        changes["updated_at"] = P.now()
        async with self.db.begin() as conn:
            await conn.execute(C.sources.update().where(C.sources.c.id == source_id).values(**changes))
            return self.source_view(await self._source(conn, kb_id, source_id))

    async def delete_source(self, kb_id: str, source_id: str) -> None:
        """The source and the documents it manages (their chunks and vectors too)."""
        async with self.db.engine.connect() as conn:
            kb = await self._kb(conn, kb_id)
            await self._source(conn, kb_id, source_id)
            if await self._active_run(conn, kb_id, source_id) is not None:
                raise E("sync_already_running", what=f"source {source_id}")
            docs = [r.id for r in (await conn.execute(
                sa.select(C.documents.c.id).where(C.documents.c.source_id == source_id))).all()]  # fmt: skip
        await self.delete_documents(kb, docs)
        async with self.db.begin() as conn:
            await conn.execute(C.sources.delete().where(C.sources.c.id == source_id))

    # ---- sync runs ---------------------------------------------------------------------------------------

    @staticmethod
    def run_view(r: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": r["id"], "knowledge_base_id": r["knowledge_base_id"], "source_id": r["source_id"],
                "operation_type": r["operation_type"], "status": r["status"], "job_id": r["job_id"],
                "progress": r["progress"], "counters": r["counters"], "errors": r["errors"],
                "error_summary": r["error_summary"], "requested_by": r["requested_by"],
                "created_at": _iso(r["created_at"]), "started_at": _iso(r["started_at"]),
                "finished_at": _iso(r["finished_at"])}  # fmt: skip

    async def _reconcile(self, kb_id: str) -> None:
        """A run still queued/running whose job has ended (its worker died, it was cancelled or
        timed out) is closed as ``error`` with the job's reason, so it never blocks later syncs."""
        async with self.db.engine.connect() as conn:
            rows = [dict(r._mapping) for r in (await conn.execute(sa.select(C.sync_runs).where(
                C.sync_runs.c.knowledge_base_id == kb_id, C.sync_runs.c.status.in_(ACTIVE_RUN),
                C.sync_runs.c.job_id.is_not(None)))).all()]  # fmt: skip
        for run in rows:
            job = await self.ctx.jobs.get(run["job_id"])
            if job is not None and not job.status.terminal:
                continue
            why = "the job record is gone" if job is None else f"the job ended {job.status.value}"
            if job is not None and job.error:
                why += f" ({job.error.get('reason_code')}: {job.error.get('message', '')})"[:500]
            now = P.now()
            async with self.db.begin() as conn:
                done = await conn.execute(C.sync_runs.update().where(
                    C.sync_runs.c.id == run["id"], C.sync_runs.c.status.in_(ACTIVE_RUN)).values(
                    status="error", error_summary=f"sync run did not finish: {why}", finished_at=now))  # fmt: skip
                if done.rowcount:
                    await conn.execute(C.knowledge_bases.update().where(C.knowledge_bases.c.id == kb_id).values(
                        sync_state="error", last_sync_at=now, last_sync_error=f"sync run did not finish: {why}"))  # fmt: skip

    async def _active_run(self, conn: Any, kb_id: str, source_id: str | None = None) -> dict[str, Any] | None:
        where = [C.sync_runs.c.knowledge_base_id == kb_id, C.sync_runs.c.status.in_(ACTIVE_RUN)]
        if source_id is not None:
            where.append(sa.or_(C.sync_runs.c.source_id == source_id, C.sync_runs.c.source_id.is_(None)))
        return _row((await conn.execute(sa.select(C.sync_runs).where(*where).limit(1))).first())

    async def list_runs(self, kb_id: str, limit: int, offset: int) -> dict[str, Any]:
        await self._reconcile(kb_id)
        async with self.db.engine.connect() as conn:
            await self._kb(conn, kb_id)
            total = (
                await conn.execute(sa.select(sa.func.count()).where(C.sync_runs.c.knowledge_base_id == kb_id))
            ).scalar()
            rows = (await conn.execute(sa.select(C.sync_runs).where(C.sync_runs.c.knowledge_base_id == kb_id)
                                       .order_by(C.sync_runs.c.created_at.desc(), C.sync_runs.c.id)
                                       .limit(limit).offset(offset))).all()  # fmt: skip
        return {"sync_runs": [self.run_view(dict(r._mapping)) for r in rows], "total": total or 0,
                "limit": limit, "offset": offset}  # fmt: skip

    async def get_run(self, run_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = _row((await conn.execute(sa.select(C.sync_runs).where(C.sync_runs.c.id == run_id))).first())
        assert row is not None
        return row

    async def start_sync(self, kb_id: str, source_id: str | None, actor: str | None) -> dict[str, Any]:
        """Queue a source sync (``source_id``) or a KB resync (``None``): a platform job, 202."""
        await self._reconcile(kb_id)
        async with self.db.engine.connect() as conn:
            kb = await self._kb(conn, kb_id)
            if source_id is not None:
                await self._source(conn, kb_id, source_id)
            if kb["vectorization"]["mode"] != "vanessa_embeddings":
                raise E("knowledge_base_self_provided", knowledge_base_id=kb_id)
            if (await self._active_run(conn, kb_id, source_id)) is not None or (
                source_id is None and await self._active_run(conn, kb_id) is not None
            ):
                raise E(
                    "sync_already_running",
                    what=f"source {source_id}" if source_id else f"knowledge base {kb_id}",
                )
        run_id = _id()

        async def prepare(job: Any) -> None:
            async with self.db.begin() as conn:
                await conn.execute(C.sync_runs.insert().values(
                    id=run_id, knowledge_base_id=kb_id, source_id=source_id,
                    operation_type="source_sync" if source_id else "knowledge_base_resync", status="queued",
                    job_id=job.id, progress=0.0, counters={}, errors=[], requested_by=actor, created_at=P.now()))  # fmt: skip

        await self.ctx.jobs.submit("genai", JOB_KIND, {"run_id": run_id}, prepare=prepare)
        return self.run_view(await self.get_run(run_id))

    async def execute_run(self, run_id: str, job: Any = None) -> dict[str, Any]:
        from ridgeline.genai.context import sync

        run = await self.get_run(run_id)
        kb_id = run["knowledge_base_id"]
        now = P.now()
        async with self.db.begin() as conn:
            await conn.execute(
                C.sync_runs.update()
                .where(C.sync_runs.c.id == run_id)
                .values(status="running", started_at=now)
            )
            await conn.execute(
                C.knowledge_bases.update().where(C.knowledge_bases.c.id == kb_id).values(sync_state="syncing")
            )
        report = sync.Report(self, run_id, job)
        try:
            kb = await self.kb(kb_id)
            if run["source_id"] is not None:
                async with self.db.engine.connect() as conn:
                    src = await self._source(conn, kb_id, run["source_id"])
                await sync.sync_source(self, kb, src, report)
            else:
                await sync.resync_kb(self, kb, report)
        except Exception as exc:
            msg = str(getattr(exc, "message", None) or exc)[:2000] or type(exc).__name__
            await self._finish(run, report, "error", msg)
            raise
        await self._finish(run, report, "ready", None)
        return {"run_id": run_id, "counters": report.counters}

    async def _finish(self, run: Mapping[str, Any], report: Any, status: str, fatal: str | None) -> None:
        now = P.now()
        errors = report.errors
        summary = {
            **report.counters,
            "errors": len(errors),
            "operation_type": run["operation_type"],
            "status": status,
        }
        per_file = f"{len(errors)} file(s) failed: " + "; ".join(
            f"{e['path']} ({e['reason_code']})" for e in errors[:5]) if errors else None  # fmt: skip
        kb_error = fatal or per_file
        async with self.db.begin() as conn:
            await conn.execute(C.sync_runs.update().where(C.sync_runs.c.id == run["id"]).values(
                status=status, progress=1.0 if status == "ready" else report.progress, counters=report.counters,
                errors=errors[:500], error_summary=kb_error, finished_at=now))  # fmt: skip
            await conn.execute(C.knowledge_bases.update().where(C.knowledge_bases.c.id == run["knowledge_base_id"]).values(
                sync_state="error" if status == "error" else "ready", last_sync_at=now, last_sync_error=kb_error,
                last_sync_summary=summary))  # fmt: skip
            src_ids = [run["source_id"]] if run["source_id"] else report.sources_synced
            if src_ids:
                await conn.execute(C.sources.update().where(C.sources.c.id.in_(src_ids)).values(
                    last_sync_at=now, last_sync_status=status, last_sync_error=kb_error))  # fmt: skip


# Not idempotent: a sync run whose worker died is closed as error (its counters and summary describe a
# partial pass); the user starts a new one, which converges because document identity is deterministic.
# 2 h: a 1,000-document directory took 524 s under load, almost all of it embedding.
@job_options(timeout_s=2 * 3600)
async def context_sync_job(job: Any) -> dict[str, Any]:
    """The ``context_sync`` job kind: runs one persisted sync run."""
    svc = job.app.service(ContextService)
    return await svc.execute_run(job.params["run_id"], job)


JOB_KINDS = {JOB_KIND: context_sync_job}


async def _start(ctx: Any, _settings: None) -> ContextService:
    from ridgeline.genai.context.settings import load_context_settings

    return ContextService(ctx, load_context_settings())


def provider() -> Any:
    from ridgeline.platform.context import Provider

    return Provider(ContextService, _start, name="context")


__all__ = ["JOB_KINDS", "ContextService", "DocIn", "KnowledgeBaseSummary", "RetrievedChunk", "eligible",
           "managed_knowledge_base", "msgspec"]  # fmt: skip

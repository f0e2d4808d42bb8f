"""``/rag``: index markdown and OpenAPI documents, retrieve by HNSW semantic search, list and delete
sources.

Sources and chunks are rows of ``retail_rag_source`` / ``retail_rag_chunk`` (the chunk text is kept,
so a change of embedding model can re-index without the original files); the vectors live in the
platform collection ``retail_rag`` (:class:`ridgeline.platform.vectors.VectorCollections`: SQL is the
truth, searched in process on a usearch HNSW index). Indexing is idempotent by the SHA-256 of the
content and the embedding model: the same content again is ``unchanged`` and writes nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy.exc import IntegrityError

import ridgeline
from ridgeline.platform.context import AppContext, Ctx, Service
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError, NotFound
from ridgeline.retail.ai.documents import DocumentError, chunk_document
from ridgeline.retail.api.ai_service import COLLECTION, AIConfig, Embedding, RetailAIService
from ridgeline.retail.api.ai_store import rag_chunks, rag_sources
from ridgeline.retail.api.schemas.ai import (
    DeleteSourceResponse,
    IndexRequest,
    IndexResponse,
    ProjectDocsFile,
    ProjectDocsResponse,
    RetrievedChunk,
    RetrieveRequest,
    RetrieveResponse,
    SourceList,
    SourceOut,
)

OPENAPI_PATH = "openapi.json"


def project_root() -> Path:
    """The checkout this package runs from (python/ridgeline -> the project root)."""
    return Path(ridgeline.__file__).resolve().parents[2]


def bundled_paths(root: Path | None = None) -> list[str]:
    """The project's bundled documents: docs/*.md and README.md (relative paths), sorted."""
    root = root or project_root()
    paths = sorted(f"docs/{p.name}" for p in (root / "docs").glob("*.md")) if (root / "docs").is_dir() else []
    if (root / "README.md").is_file():
        paths.append("README.md")
    return paths


def _now() -> datetime:
    return datetime.now(UTC)


class RagController(Controller):
    path = "/rag"
    tags = ["retail: rag"]

    @post(
        "/index",
        summary="Index a markdown or OpenAPI document (idempotent by content hash)",
        description=(
            "status is indexed (new source), updated (its content changed: old chunks replaced) or "
            "unchanged (same SHA-256 and embedding model: nothing written). Without content, "
            "source_path names a bundled document (docs/<name>.md, README.md, openapi.json)."
        ),
        status_code=200,
        opt=raises(400, 502),
    )
    async def index(
        self, ctx: Ctx, ai: Service[RetailAIService], request: Request, data: JSONBody[IndexRequest]
    ) -> IndexResponse:
        content = data.content
        if content is None:
            content = bundled_content(data.source_path, lambda: served_openapi(request))
        return await index_document(ctx, ai, data.source_type, data.source_path, content, data.metadata)

    @post(
        "/index/project-docs",
        summary="Bulk-index the bundled docs/, README.md and the served OpenAPI",
        description="Per-file and aggregate summary; idempotent by content hash; 502 if the embedding provider fails.",
        status_code=200,
        opt=raises(502),
    )
    async def index_project_docs(
        self, ctx: Ctx, ai: Service[RetailAIService], request: Request
    ) -> ProjectDocsResponse:
        return await index_project_docs(ctx, ai, lambda: served_openapi(request))

    @post(
        "/retrieve",
        summary="Semantic search (HNSW) with top-k and a similarity threshold",
        description="relevance_score is the cosine similarity; defaults for top_k and the threshold come from the AI config.",
        status_code=200,
        opt=raises(502),
    )
    async def retrieve(
        self, ctx: Ctx, ai: Service[RetailAIService], data: JSONBody[RetrieveRequest]
    ) -> RetrieveResponse:
        return await retrieve(ctx, ai, data)

    @get("/sources", summary="List indexed sources")
    async def sources(self, ctx: Ctx) -> SourceList:
        return await list_sources(ctx)

    @delete("/sources/{source_id:str}", summary="Delete a source and its chunks", status_code=200)
    async def delete_source(
        self, ctx: Ctx, ai: Service[RetailAIService], source_id: FromPath[str]
    ) -> DeleteSourceResponse:
        return await delete_source(ctx, ai, source_id)


def served_openapi(request: Request) -> str:
    return json.dumps(request.app.openapi_schema.to_schema())


def bundled_content(source_path: str, openapi: Callable[[], str], root: Path | None = None) -> str:
    """The text of a bundled document; only the project's own docs are readable this way."""
    if source_path == OPENAPI_PATH:
        return openapi()
    if source_path not in bundled_paths(root):
        raise EngineError(
            400,
            "document_not_found",
            f"{source_path!r} is not a bundled document; send its content, or name one of docs/<name>.md, "
            f"README.md, {OPENAPI_PATH}",
            source_path=source_path,
        )
    return ((root or project_root()) / source_path).read_text(encoding="utf-8")


async def _source_row(ctx: AppContext, **where: Any) -> Any:
    cond = [getattr(rag_sources.c, k) == v for k, v in where.items()]
    async with ctx.db.engine.connect() as conn:
        return (await conn.execute(sa.select(rag_sources).where(*cond))).first()


async def index_document(
    ctx: AppContext,
    ai: RetailAIService,
    source_type: str,
    source_path: str,
    content: str,
    metadata: dict[str, Any] | None = None,
    *,
    cfg: AIConfig | None = None,
) -> IndexResponse:
    try:
        return await _index_document(ctx, ai, source_type, source_path, content, metadata, cfg=cfg)
    except IntegrityError:
        # Two requests indexed the same new source_path at once and the other one inserted first:
        # index again, now as an update of (or unchanged against) the row it wrote.
        return await _index_document(ctx, ai, source_type, source_path, content, metadata, cfg=cfg)


async def _index_document(
    ctx: AppContext,
    ai: RetailAIService,
    source_type: str,
    source_path: str,
    content: str,
    metadata: dict[str, Any] | None,
    *,
    cfg: AIConfig | None,
) -> IndexResponse:
    t0 = time.perf_counter()
    cfg = cfg or await ai.config()
    emb = Embedding(cfg)
    digest = sha256_hex(content)
    existing = await _source_row(ctx, source_path=source_path)
    if (
        existing is not None
        and existing.content_hash == digest
        and existing.source_type == source_type
        and existing.embedding_model == emb.model
        and existing.embedding_dimension == emb.dim
    ):
        return IndexResponse(
            source_id=existing.id,
            source_type=source_type,
            source_path=source_path,
            status="unchanged",
            content_hash=digest,
            chunks_created=0,
            token_count=existing.token_count,
            duration_ms=(time.perf_counter() - t0) * 1000,
        )
    try:
        chunks, doc_meta = chunk_document(
            source_type, content, cfg.rag_chunk_size, min(cfg.rag_chunk_overlap, cfg.rag_chunk_size - 1)
        )
    except DocumentError as exc:
        raise EngineError(400, exc.reason_code, str(exc), source_path=source_path) from exc
    vectors = await emb.embed([c.content for c in chunks])  # 502 before anything is written
    source_id = existing.id if existing is not None else uuid.uuid4().hex
    old_ids: list[str] = []
    now = _now()
    tokens = sum(c.token_count for c in chunks)
    ids = [f"{source_id}:{digest[:8]}:{c.chunk_index}" for c in chunks]
    meta = {**doc_meta, **(metadata or {})}
    await ai.ensure_collection(emb.dim)
    async with ctx.db.begin() as conn:
        if existing is not None:
            old_ids = list(
                (
                    await conn.execute(sa.select(rag_chunks.c.id).where(rag_chunks.c.source_id == source_id))
                ).scalars()
            )
            await conn.execute(sa.delete(rag_chunks).where(rag_chunks.c.source_id == source_id))
            await conn.execute(
                sa.update(rag_sources)
                .where(rag_sources.c.id == source_id)
                .values(
                    source_type=source_type,
                    content_hash=digest,
                    chunk_count=len(chunks),
                    token_count=tokens,
                    embedding_provider=emb.provider_name,
                    embedding_model=emb.model,
                    embedding_dimension=emb.dim,
                    metadata=meta,
                    indexed_at=now,
                )
            )
        else:
            await conn.execute(
                sa.insert(rag_sources).values(
                    id=source_id,
                    source_type=source_type,
                    source_path=source_path,
                    content_hash=digest,
                    chunk_count=len(chunks),
                    token_count=tokens,
                    embedding_provider=emb.provider_name,
                    embedding_model=emb.model,
                    embedding_dimension=emb.dim,
                    metadata=meta,
                    created_at=now,
                    indexed_at=now,
                )
            )
        if chunks:
            await conn.execute(
                sa.insert(rag_chunks),
                [
                    {
                        "id": cid,
                        "source_id": source_id,
                        "chunk_index": c.chunk_index,
                        "content": c.content,
                        "token_count": c.token_count,
                        "metadata": c.metadata,
                    }
                    for cid, c in zip(ids, chunks, strict=True)
                ],
            )
    if old_ids:
        await ai.vectors.delete(COLLECTION, old_ids)
    if chunks:
        await ai.vectors.upsert(
            COLLECTION,
            ids,
            vectors,
            [
                {"source_id": source_id, "source_type": source_type, "source_path": source_path}
                for _ in chunks
            ],
        )
    return IndexResponse(
        source_id=source_id,
        source_type=source_type,
        source_path=source_path,
        status="updated" if existing is not None else "indexed",
        content_hash=digest,
        chunks_created=len(chunks),
        token_count=tokens,
        duration_ms=(time.perf_counter() - t0) * 1000,
    )


async def index_project_docs(
    ctx: AppContext, ai: RetailAIService, openapi: Callable[[], str], root: Path | None = None
) -> ProjectDocsResponse:
    t0 = time.perf_counter()
    cfg = await ai.config()
    files: list[ProjectDocsFile] = []
    targets = [(p, "markdown") for p in bundled_paths(root)] + [(OPENAPI_PATH, "openapi")]
    for path, kind in targets:
        try:
            content = bundled_content(path, openapi, root)
            res = await index_document(ctx, ai, kind, path, content, {"bundled": True}, cfg=cfg)
        except EngineError as exc:
            if exc.status == 502:  # the provider is down: every further file would fail the same way
                raise
            files.append(ProjectDocsFile(source_path=path, source_type=kind, status="failed", error=str(exc)))
            continue
        files.append(
            ProjectDocsFile(
                source_path=path,
                source_type=kind,
                status=res.status,
                source_id=res.source_id,
                chunks_created=res.chunks_created,
                token_count=res.token_count,
            )
        )

    def n(status: str) -> int:
        return sum(1 for f in files if f.status == status)

    return ProjectDocsResponse(
        files=files,
        total_files=len(files),
        indexed=n("indexed"),
        updated=n("updated"),
        unchanged=n("unchanged"),
        failed=n("failed"),
        total_chunks=sum(f.chunks_created for f in files),
        duration_ms=(time.perf_counter() - t0) * 1000,
    )


async def retrieve(ctx: AppContext, ai: RetailAIService, req: RetrieveRequest) -> RetrieveResponse:
    t0 = time.perf_counter()
    cfg = await ai.config()
    top_k = req.top_k or cfg.rag_top_k
    threshold = cfg.rag_similarity_threshold if req.similarity_threshold is None else req.similarity_threshold
    flt = {k: v for k, v in (req.filters or {}).items() if k in ("source_type", "source_path", "source_id")}
    if req.filters and len(flt) != len(req.filters):
        bad = sorted(set(req.filters) - set(flt))
        raise EngineError(
            422,
            "invalid_request",
            f"Invalid request: unknown filter(s) {bad}",
            errors=[{"field": "filters", "message": f"unknown filter(s) {bad}"}],
        )
    emb = Embedding(cfg)
    info = await ai.vectors.info(COLLECTION)
    results: list[RetrievedChunk] = []
    searched = 0 if info is None else int(info.count)
    if info is not None and info.count > 0:
        qvec = (await emb.embed([req.query]))[0]
        hits = await ai.vectors.search(COLLECTION, qvec, top_k, filter=flt or None, threshold=threshold)
        if hits:
            async with ctx.db.engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(rag_chunks, rag_sources.c.source_path, rag_sources.c.source_type)
                        .join(rag_sources, rag_sources.c.id == rag_chunks.c.source_id)
                        .where(rag_chunks.c.id.in_([h.id for h in hits]))
                    )
                ).all()
            by_id = {r.id: r for r in rows}
            for h in hits:
                r = by_id.get(h.id)
                if r is None:
                    continue
                results.append(
                    RetrievedChunk(
                        chunk_id=r.id,
                        source_id=r.source_id,
                        source_path=r.source_path,
                        source_type=r.source_type,
                        content=r.content,
                        relevance_score=float(h.score),
                        chunk_index=r.chunk_index,
                        metadata=r.metadata or {},
                    )
                )
    return RetrieveResponse(
        query=req.query,
        results=results,
        top_k=top_k,
        similarity_threshold=threshold,
        total_chunks_searched=searched,
        embedding_provider=emb.provider_name,
        duration_ms=(time.perf_counter() - t0) * 1000,
    )


def _source_out(r: Any) -> SourceOut:
    return SourceOut(
        source_id=r.id,
        source_type=r.source_type,
        source_path=r.source_path,
        content_hash=r.content_hash,
        chunk_count=r.chunk_count,
        token_count=r.token_count,
        embedding_provider=r.embedding_provider,
        embedding_model=r.embedding_model,
        embedding_dimension=r.embedding_dimension,
        metadata=r.metadata or {},
        created_at=r.created_at,
        indexed_at=r.indexed_at,
    )


async def list_sources(ctx: AppContext) -> SourceList:
    async with ctx.db.engine.connect() as conn:
        rows = (await conn.execute(sa.select(rag_sources).order_by(rag_sources.c.source_path))).all()
    out = [_source_out(r) for r in rows]
    return SourceList(sources=out, total_sources=len(out), total_chunks=sum(s.chunk_count for s in out))


async def delete_source(ctx: AppContext, ai: RetailAIService, source_id: str) -> DeleteSourceResponse:
    async with ctx.db.begin() as conn:
        row = (await conn.execute(sa.select(rag_sources).where(rag_sources.c.id == source_id))).first()
        if row is None:
            raise NotFound(
                "source", source_id, source_id=source_id, message=f"RAG source {source_id!r} not found"
            )
        ids = list(
            (
                await conn.execute(sa.select(rag_chunks.c.id).where(rag_chunks.c.source_id == source_id))
            ).scalars()
        )
        # The chunk rows go by the foreign key's ON DELETE CASCADE.
        await conn.execute(sa.delete(rag_sources).where(rag_sources.c.id == source_id))
    if ids and await ai.vectors.info(COLLECTION) is not None:
        await ai.vectors.delete(COLLECTION, ids)
    return DeleteSourceResponse(source_id=source_id, source_path=row.source_path, chunks_deleted=len(ids))


async def chunk_count(ctx: AppContext) -> int:
    async with ctx.db.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(rag_chunks))).scalar_one())


async def reindex_all(ctx: AppContext, ai: RetailAIService, cfg: AIConfig) -> int:
    """Re-embed every stored chunk with ``cfg``'s embedding provider into a collection of its dimension
    (502 before anything changes if the provider fails). Returns the number of chunks re-indexed."""
    emb = Embedding(cfg)
    async with ctx.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    rag_chunks.c.id,
                    rag_chunks.c.content,
                    rag_chunks.c.source_id,
                    rag_sources.c.source_type,
                    rag_sources.c.source_path,
                )
                .join(rag_sources, rag_sources.c.id == rag_chunks.c.source_id)
                .order_by(rag_chunks.c.id)
            )
        ).all()
    vectors = await emb.embed([r.content for r in rows])
    if await ai.vectors.info(COLLECTION) is not None:
        await ai.vectors.drop(COLLECTION)
    await ai.vectors.create(COLLECTION, emb.dim, "cosine")
    if rows:
        await ai.vectors.upsert(
            COLLECTION,
            [r.id for r in rows],
            vectors,
            [
                {"source_id": r.source_id, "source_type": r.source_type, "source_path": r.source_path}
                for r in rows
            ],
        )
    async with ctx.db.begin() as conn:
        await conn.execute(
            sa.update(rag_sources).values(
                embedding_provider=emb.provider_name,
                embedding_model=emb.model,
                embedding_dimension=emb.dim,
                indexed_at=_now(),
            )
        )
    return len(rows)

"""``/v1/context``: schema profiles, vectorization options, knowledge bases, their sources, sync runs,
documents, uploads and the retrieval test (contract 004, context management). Parsing and shaping
only; the behaviour is :class:`ridgeline.genai.context.service.ContextService`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, HeaderParameter, JSONBody, PathParameter

from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.runtime import actor
from ridgeline.genai.context.service import ContextService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.auth.roles import Role
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset
from ridgeline.platform.paging import limit as limit_of
from ridgeline.platform.scanning import check_upload

E = REASON_CODES.error
ADMIN = Policy.role(Role.ADMIN).opt()
SUPER = Policy.role(Role.SUPERADMIN).opt()
TAGS = ["genai", "context"]
Id = Annotated[str, PathParameter(max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Desc = Annotated[str, msgspec.Meta(max_length=4000)]
RefId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Glob = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Globs = Annotated[list[Glob], msgspec.Meta(max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=5_000_000)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Meta = dict[str, str | int | float | bool | None]
UPLOAD_ROUTE_CAP = 1 << 30  # the route's hard cap; CONTEXT_UPLOAD_MAX_BYTES is the enforced limit


class SchemaProperty(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    data_type: Literal["text", "int", "number", "boolean", "date"]


class SchemaIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    properties: Annotated[list[SchemaProperty], msgspec.Meta(min_length=1, max_length=100)]
    vectorizer: Literal["none"] | None = None


class SchemaProfileIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider_key: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Name
    description: Desc | None = None
    schema: SchemaIn


class VectorizationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    mode: Literal["vanessa_embeddings", "self_provided"]
    embedding_provider_instance_id: RefId | None = None
    embedding_model_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None


class ChunkingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    strategy: Literal["fixed_length"] = "fixed_length"
    chunk_length: Annotated[int, msgspec.Meta(ge=16, le=8192)] = 256
    chunk_overlap: Annotated[int, msgspec.Meta(ge=0, le=8191)] = 32


class KnowledgeBaseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Desc | None = None
    provider_instance_id: RefId
    schema_profile_id: RefId | None = None
    schema: SchemaIn | None = None
    vectorization: VectorizationIn
    chunking: ChunkingIn = msgspec.field(default_factory=ChunkingIn)
    lifecycle_state: Literal["active", "archived"] = "active"


class KnowledgeBaseUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """name, description and lifecycle_state change; the others may be sent back unchanged (a view
    round-trips) and any change to them is 409 ``knowledge_base_immutable``."""

    name: Name | None = None
    description: Desc | None = None
    lifecycle_state: Literal["active", "archived"] | None = None
    provider_instance_id: RefId | None = None
    schema_profile_id: RefId | None = None
    schema: dict[str, Any] | None = None
    vectorization: VectorizationIn | None = None
    chunking: ChunkingIn | None = None


class QueryIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=32_768)]
    top_k: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    mode: Literal["semantic", "keyword", "hybrid"] = "hybrid"
    threshold: Annotated[float, msgspec.Meta(ge=-1e6, le=1e6)] | None = None


class SourceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    source_type: Literal["local_directory"] = "local_directory"
    path: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    display_name: Name | None = None
    include_globs: Globs = msgspec.field(default_factory=lambda: ["*"])
    exclude_globs: Globs = []
    lifecycle_state: Literal["active", "paused"] = "active"


class SourceUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    path: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)] | None = None
    display_name: Name | None = None
    include_globs: Globs | None = None
    exclude_globs: Globs | None = None
    lifecycle_state: Literal["active", "paused"] | None = None


class DocumentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Title
    content: Text
    metadata: Meta = {}


class DocumentUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Title | None = None
    content: Text | None = None
    metadata: Meta | None = None


@dataclass
class UploadForm:
    """multipart/form-data: ``file`` (.txt .md .json .jsonl .pdf, content-checked), optional ``title``."""

    file: UploadFile
    title: str | None = None


def _b(s: msgspec.Struct) -> dict[str, Any]:
    return msgspec.to_builtins(s)


# ---- schema profiles, vectorization options --------------------------------------------------------


@get("/v1/context/schema-profiles", tags=TAGS, opt=ADMIN)
async def list_schema_profiles(
    context: Service[ContextService],
    provider_key: FromQuery[Annotated[str, msgspec.Meta(max_length=64)] | None] = None,
) -> dict[str, Any]:
    return {"schema_profiles": await context.list_schema_profiles(provider_key)}


@post("/v1/context/schema-profiles", tags=TAGS, status_code=201, opt={**raises(409), **SUPER})
async def create_schema_profile(
    request: Request[Any, Any, Any], context: Service[ContextService], data: JSONBody[SchemaProfileIn]
) -> dict[str, Any]:
    return {"schema_profile": await context.create_schema_profile(_b(data), actor(request))}


@get("/v1/context/vectorization-options", tags=TAGS, opt=ADMIN)
async def vectorization_options(context: Service[ContextService]) -> dict[str, Any]:
    return await context.vectorization_options()


# ---- knowledge bases -------------------------------------------------------------------------------


@get("/v1/context/knowledge-bases", tags=TAGS, opt=ADMIN)
async def list_knowledge_bases(
    context: Service[ContextService], limit: limit_of(500) = 100, offset: Offset = 0
) -> dict[str, Any]:
    return await context.list_kbs(limit, offset)


@post("/v1/context/knowledge-bases", tags=TAGS, status_code=201, opt={**raises(404, 409), **SUPER})
async def create_knowledge_base(
    request: Request[Any, Any, Any], context: Service[ContextService], data: JSONBody[KnowledgeBaseIn]
) -> dict[str, Any]:
    return {"knowledge_base": await context.create_kb(_b(data), actor(request))}


@get("/v1/context/knowledge-bases/{kb_id:str}", tags=TAGS, opt=ADMIN)
async def get_knowledge_base(context: Service[ContextService], kb_id: Id) -> dict[str, Any]:
    return {"knowledge_base": context.kb_view(await context.kb(kb_id))}


@put("/v1/context/knowledge-bases/{kb_id:str}", tags=TAGS, opt={**raises(409), **SUPER})
async def update_knowledge_base(
    context: Service[ContextService], kb_id: Id, data: JSONBody[KnowledgeBaseUpdate]
) -> dict[str, Any]:
    body = {k: v for k, v in _b(data).items() if v is not None}
    return {"knowledge_base": await context.update_kb(kb_id, body)}


@delete("/v1/context/knowledge-bases/{kb_id:str}", tags=TAGS, status_code=204, opt={**raises(409), **SUPER})
async def delete_knowledge_base(context: Service[ContextService], kb_id: Id) -> None:
    await context.delete_kb(kb_id)


@post(
    "/v1/context/knowledge-bases/{kb_id:str}/resync", tags=TAGS, status_code=202, opt={**raises(409), **SUPER}
)
async def resync_knowledge_base(
    request: Request[Any, Any, Any], context: Service[ContextService], kb_id: Id
) -> dict[str, Any]:
    return {"sync_run": await context.start_sync(kb_id, None, actor(request))}


@post(
    "/v1/context/knowledge-bases/{kb_id:str}/query", tags=TAGS, status_code=200, opt={**raises(409), **ADMIN}
)
async def query_knowledge_base(
    context: Service[ContextService], kb_id: Id, data: JSONBody[QueryIn]
) -> dict[str, Any]:
    hits = await context.retrieve(
        kb_id, data.query, top_k=data.top_k, mode=data.mode, threshold=data.threshold
    )
    return {"knowledge_base_id": kb_id, "query": data.query, "mode": data.mode, "top_k": data.top_k,
            "results": [msgspec.to_builtins(h) for h in hits]}  # fmt: skip


# ---- sources and sync runs -------------------------------------------------------------------------


@get("/v1/context/knowledge-bases/{kb_id:str}/sources", tags=TAGS, opt=ADMIN)
async def list_sources(context: Service[ContextService], kb_id: Id) -> dict[str, Any]:
    return {"sources": await context.list_sources(kb_id)}


@post(
    "/v1/context/knowledge-bases/{kb_id:str}/sources",
    tags=TAGS,
    status_code=201,
    opt={**raises(409), **SUPER},
)
async def create_source(
    context: Service[ContextService], kb_id: Id, data: JSONBody[SourceIn]
) -> dict[str, Any]:
    return {"source": await context.create_source(kb_id, _b(data))}


@put("/v1/context/knowledge-bases/{kb_id:str}/sources/{source_id:str}", tags=TAGS, opt=SUPER)
async def update_source(
    context: Service[ContextService], kb_id: Id, source_id: Id, data: JSONBody[SourceUpdate]
) -> dict[str, Any]:
    return {"source": await context.update_source(kb_id, source_id, _b(data))}


@delete("/v1/context/knowledge-bases/{kb_id:str}/sources/{source_id:str}", tags=TAGS, status_code=204,
        opt={**raises(409), **SUPER})  # fmt: skip
async def delete_source(context: Service[ContextService], kb_id: Id, source_id: Id) -> None:
    await context.delete_source(kb_id, source_id)


@post("/v1/context/knowledge-bases/{kb_id:str}/sources/{source_id:str}/sync", tags=TAGS, status_code=202,
      opt={**raises(409), **SUPER})  # fmt: skip
async def sync_source(
    request: Request[Any, Any, Any], context: Service[ContextService], kb_id: Id, source_id: Id
) -> dict[str, Any]:
    return {"sync_run": await context.start_sync(kb_id, source_id, actor(request))}


@get("/v1/context/knowledge-bases/{kb_id:str}/sync-runs", tags=TAGS, opt=ADMIN)
async def list_sync_runs(
    context: Service[ContextService], kb_id: Id, limit: limit_of(200) = 50, offset: Offset = 0
) -> dict[str, Any]:
    return await context.list_runs(kb_id, limit, offset)


# ---- documents and uploads -------------------------------------------------------------------------


@get("/v1/context/knowledge-bases/{kb_id:str}/documents", tags=TAGS, opt=ADMIN)
async def list_documents(
    context: Service[ContextService], kb_id: Id, limit: limit_of(500) = 100, offset: Offset = 0,
    source_id: FromQuery[Annotated[str, msgspec.Meta(max_length=64)] | None] = None,
) -> dict[str, Any]:  # fmt: skip
    return await context.list_documents(kb_id, limit, offset, source_id)


@post("/v1/context/knowledge-bases/{kb_id:str}/documents", tags=TAGS, status_code=201,
      opt={**raises(409), **SUPER})  # fmt: skip
async def create_document(
    context: Service[ContextService], kb_id: Id, data: JSONBody[DocumentIn]
) -> dict[str, Any]:
    return {"document": await context.create_document(kb_id, data.title, data.content, dict(data.metadata))}


@put(
    "/v1/context/knowledge-bases/{kb_id:str}/documents/{document_id:str}",
    tags=TAGS,
    opt={**raises(409), **SUPER},
)
async def update_document(
    context: Service[ContextService], kb_id: Id, document_id: Id, data: JSONBody[DocumentUpdate]
) -> dict[str, Any]:
    return {"document": await context.update_document(kb_id, document_id, _b(data))}


@delete("/v1/context/knowledge-bases/{kb_id:str}/documents/{document_id:str}", tags=TAGS, status_code=204,
        opt=SUPER)  # fmt: skip
async def delete_document(context: Service[ContextService], kb_id: Id, document_id: Id) -> None:
    await context.delete_document(kb_id, document_id)


@post("/v1/context/knowledge-bases/{kb_id:str}/uploads", tags=TAGS, status_code=201,
      request_max_body_size=UPLOAD_ROUTE_CAP, opt={**raises(409, 413, 415, 422, 503), **SUPER})  # fmt: skip
async def upload_document(
    request: Request[Any, Any, Any], context: Service[ContextService], kb_id: Id,
    data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", min_length=1, max_length=255,
                               description="Send the same upload again with the same key after a lost "
                               "answer: the same document comes back, never a second one.")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Store one uploaded file as a document: size-limited (CONTEXT_UPLOAD_MAX_BYTES), its content
    checked and extracted like a synced file (encrypted and image-only PDFs are refused)."""
    from ridgeline.ai import extract
    from ridgeline.ai.extraction import ExtractionError

    if not isinstance(data.file, UploadFile):
        raise E("invalid_request", detail="file must be an uploaded file")
    await context.kb(kb_id)
    cap = context.settings.context_upload_max_bytes
    raw = await data.file.read(cap + 1)
    if len(raw) > cap:
        raise E("upload_too_large", limit=cap)
    await check_upload(context.ctx.scanner, raw, REASON_CODES)
    filename = (data.file.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    if not filename.lower().endswith((".txt", ".md", ".json", ".jsonl", ".pdf")):
        raise E("document_unsupported", filename=filename, detail="accepted: .txt .md .json .jsonl .pdf")
    try:
        doc = extract(raw, filename=filename, max_bytes=cap)
    except ExtractionError as exc:
        if exc.reason_code in ("pdf_encrypted", "pdf_no_text_layer"):
            raise E(exc.reason_code, filename=filename) from None
        if exc.reason_code == "unsupported_media_type":
            raise E("document_unsupported", filename=filename, detail=str(exc)[:300]) from None
        raise E("document_unreadable", filename=filename, detail=f"{exc.reason_code}: {exc}"[:300]) from None
    title = (data.title or doc.metadata.get("title") or filename)[:500]
    meta = {"filename": filename, "bytes": len(raw)}
    doc_id = context.upload_id(kb_id, actor(request), idempotency_key) if idempotency_key else None
    return {"document": await context.create_document(kb_id, str(title), doc.text, meta, source_type="upload",
                                                  media_type=doc.media_type, doc_id=doc_id,
                                                  idempotency_key=idempotency_key)}  # fmt: skip


ROUTES = [
    list_schema_profiles, create_schema_profile, vectorization_options, list_knowledge_bases,
    create_knowledge_base, get_knowledge_base, update_knowledge_base, delete_knowledge_base,
    resync_knowledge_base, query_knowledge_base, list_sources, create_source, update_source, delete_source,
    sync_source, list_sync_runs, list_documents, create_document, update_document, delete_document,
    upload_document,
]  # fmt: skip

"""``/v1/modelops/discovery/huggingface...`` and ``/v1/modelops/downloads...`` (superadmin).

Remote discovery and downloads need a configured hub (``MODELOPS_HF_BASE_URL`` / ``HF_ENDPOINT``)
and an online runtime profile; otherwise discovery lists the local model cache (the AI layer's
bundled model and finished downloads) and a download is refused with 409 ``modelops_remote_disabled``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Request, get, post
from litestar.params import JSONBody, Parameter, PathParameter

from ridgeline.genai import downloads as dl_jobs
from ridgeline.genai import hub
from ridgeline.genai.api import modelops_store as ms
from ridgeline.genai.api.modelops_common import TAGS, caller, err, remote_block, settings, superadmin
from ridgeline.genai.api.modelops_schemas import (
    DiscoveredLocal,
    DiscoveredRemote,
    DiscoveryLocal,
    DiscoveryRemote,
    DownloadPage,
    DownloadView,
    typed,
)
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform import paging
from ridgeline.platform.context import Service
from ridgeline.platform.jobs import JobStatus
from ridgeline.platform.paging import Offset

Task = Literal["llm_inference", "embeddings"]


@get(
    "/v1/modelops/discovery/huggingface",
    summary="Search the hub (or list the local model cache)",
    tags=TAGS,
    opt=superadmin(),
)
async def discover(
    svc: Service[GenaiService],
    search: Annotated[str | None, Parameter(max_length=200)] = None,
    task: Annotated[Task | None, Parameter()] = None,
    limit: paging.limit(100) = 20,
) -> DiscoveryRemote | DiscoveryLocal:
    async with svc.db.engine.connect() as conn:
        block = await remote_block(svc, conn)
    s = settings(svc)
    if block is None:
        async with hub.client_for(s) as client:
            items = await client.search(search=search, task=task, limit=limit)
        return typed({"hub": s.hf_base_url, "items": items[:limit]}, DiscoveryRemote)
    items = hub.local_cache(s.model_dir)
    if search:
        needle = search.lower()
        items = [i for i in items if needle in i["source_id"].lower()]
    if task:
        items = [i for i in items if i["task"] == task]
    return typed({"remote_disabled_reason": block, "items": items[:limit]}, DiscoveryLocal)


@get(
    "/v1/modelops/discovery/huggingface/{source_id:path}",
    summary="One hub model with its files",
    tags=TAGS,
    opt=superadmin(),
)
async def discover_one(
    svc: Service[GenaiService], source_id: Annotated[str, PathParameter(max_length=256)]
) -> DiscoveredRemote | DiscoveredLocal:
    source_id = source_id.lstrip("/")
    hub.check_source_id(source_id)
    async with svc.db.engine.connect() as conn:
        block = await remote_block(svc, conn)
    s = settings(svc)
    if block is None:
        async with hub.client_for(s) as client:
            info = await client.model_info(source_id)
        if info is None:
            raise err("modelops_source_not_found", source_id=source_id, where="hub")
        return typed(info, DiscoveredRemote)
    for item in hub.local_cache(s.model_dir):
        if item["source_id"] == source_id:
            return typed({**item, "remote_disabled_reason": block}, DiscoveredLocal)
    raise err("modelops_source_not_found", source_id=source_id, where="local model cache")


# ---------------------------------------------------------------- downloads


class DownloadCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    source_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    revision: Annotated[str, msgspec.Meta(pattern=hub.REVISION.pattern)] = "main"
    # A subset of the repository's files (all of them when omitted).
    files: (
        Annotated[
            list[Annotated[str, msgspec.Meta(min_length=1, max_length=512)]],
            msgspec.Meta(min_length=1, max_length=1000),
        ]
        | None
    ) = None
    task: Task | None = None


TERMINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


def _reconcile(r: dict[str, Any], job: Any) -> dict[str, Any]:
    """A row left queued/running by a job that ended without saying so (the process restarted:
    the platform marks such jobs FAILED) is failed too."""
    if job is not None and job.status in TERMINAL and r["status"] in ("queued", "running"):
        if job.status == JobStatus.CANCELLED:  # cancelled before its handler ran
            return {**r, "status": "cancelled", "error": {"reason_code": "cancelled", **(job.error or {})}}
        error = job.error or {"message": "the download job ended"}
        return {**r, "status": "failed", "error": {"reason_code": "modelops_download_failed", **error}}
    return r


async def _views(svc: GenaiService, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    jobs = await svc.ctx.jobs.get_many([r["job_id"] for r in rows if r["job_id"]])
    out = []
    for r in rows:
        job = jobs.get(r["job_id"]) if r["job_id"] else None
        r = _reconcile(r, job)
        total = r["bytes_total"]
        done = r["bytes_done"]
        if job is not None and job.status == JobStatus.RUNNING and total:
            # the row is written every few MiB; the job's live progress is per chunk
            done = max(done, min(total, int(job.progress * total)))
        progress = (done / total) if total else (1.0 if r["status"] == "succeeded" else 0.0)
        out.append(
            {
                "id": r["id"],
                "job_id": r["job_id"],
                "job_state": job.status.value if job else None,
                "source_id": r["source_id"],
                "revision": r["revision"],
                "status": r["status"],
                "task": r["task"],
                "bytes_total": total,
                "bytes_done": done,
                "resumed_bytes": r["resumed_bytes"],
                "progress": progress,
                "files": r["files"],
                "source_info": r["source_info"],
                "target_dir": r["target_dir"],
                "model_id": r["model_id"],
                "error": r["error"],
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
            }
        )
    return out


@post(
    "/v1/modelops/downloads",
    summary="Download a hub model into the managed model directory (a job)",
    tags=TAGS,
    status_code=202,
    opt=superadmin(404, 409, 413),
)
async def create_download(
    request: Request[Any, Any, Any], svc: Service[GenaiService], data: JSONBody[DownloadCreate]
) -> DownloadView:
    uid, _ = caller(request)
    hub.check_source_id(data.source_id)
    s = settings(svc)
    async with svc.db.engine.connect() as conn:
        block = await remote_block(svc, conn)
    if block is not None:
        raise err("modelops_remote_disabled", cause=block)
    async with hub.client_for(s) as client:
        info = await client.model_info(data.source_id, data.revision)
    if info is None:
        raise err("modelops_source_not_found", source_id=data.source_id, where="hub")
    by_path = {f["path"]: f for f in info["files"]}
    wanted = data.files if data.files is not None else list(by_path)
    unknown = [f for f in wanted if f not in by_path]
    if unknown:
        raise err("invalid_request", detail=f"not in {data.source_id}: {', '.join(unknown[:10])}")
    files = []
    for name in dict.fromkeys(wanted):
        f = by_path[name]
        hub.safe_relpath(name)
        if not f["sha256"] and not f["blob_id"]:
            raise err("modelops_download_unverifiable", path=name)
        files.append({**f, "verified": None})
    size = sum(int(f["size"] or 0) for f in files)
    if size > s.download_max_bytes:
        raise err("modelops_download_too_large", size=size, limit=s.download_max_bytes)
    task = data.task or info["task"]
    if task is None:
        raise err(
            "modelops_invalid_model",
            detail=f"the hub gives no task for {data.source_id} ({info['pipeline_tag']}); pass task",
        )
    at = ms.now()
    row = {
        "id": ms.new_id("dl"),
        "job_id": None,
        "source_id": data.source_id,
        "revision": data.revision,
        "status": "queued",
        "bytes_total": size,
        "bytes_done": 0,
        "resumed_bytes": 0,
        "files": files,
        "target_dir": str(dl_jobs.final_dir(Path(s.model_dir), data.source_id, data.revision)),
        "model_id": None,
        "task": task,
        "source_info": {k: info.get(k) for k in ("pipeline_tag", "license", "revision_sha", "library_name")},
        "error": None,
        "actor": uid,
        "created_at": at,
        "updated_at": at,
    }
    async with svc.db.begin() as conn:
        open_rows = list(
            await conn.execute(
                sa.select(ms.downloads.c.id, ms.downloads.c.job_id).where(
                    ms.downloads.c.source_id == data.source_id,
                    ms.downloads.c.revision == data.revision,
                    ms.downloads.c.status.in_(["queued", "running"]),
                )
            )
        )
        jobs = await svc.ctx.jobs.get_many([r.job_id for r in open_rows if r.job_id])
        for busy in open_rows:
            job = jobs.get(busy.job_id) if busy.job_id else None
            if job is not None and job.status in TERMINAL:  # interrupted: record it and carry on
                error = {"reason_code": "modelops_download_failed", **(job.error or {})}
                await conn.execute(
                    ms.downloads.update()
                    .where(ms.downloads.c.id == busy.id)
                    .values(status="failed", error=error)
                )
                continue
            raise err(
                "modelops_download_in_progress",
                source_id=data.source_id,
                revision=data.revision,
                download_id=busy.id,
            )
        await conn.execute(ms.downloads.insert().values(**row))
    job = await svc.ctx.jobs.submit("genai", dl_jobs.KIND, {"download_id": row["id"]})
    async with svc.db.begin() as conn:
        await conn.execute(ms.downloads.update().where(ms.downloads.c.id == row["id"]).values(job_id=job.id))
        stored = ms.row_dict(
            (await conn.execute(sa.select(ms.downloads).where(ms.downloads.c.id == row["id"]))).one()
        )
    return typed((await _views(svc, [stored]))[0], DownloadView)


@get("/v1/modelops/downloads", summary="Downloads, newest first", tags=TAGS, opt=superadmin())
async def list_downloads(
    svc: Service[GenaiService], limit: paging.limit(500) = 50, offset: Offset = 0
) -> DownloadPage:
    async with svc.db.engine.connect() as conn:
        q = (
            sa.select(ms.downloads)
            .order_by(ms.downloads.c.created_at.desc(), ms.downloads.c.id)
            .limit(limit)
            .offset(offset)
        )
        rows = [ms.row_dict(r) for r in await conn.execute(q)]
    return typed({"items": await _views(svc, rows), "limit": limit, "offset": offset}, DownloadPage)


@get(
    "/v1/modelops/downloads/{download_id:str}",
    summary="One download with its byte progress",
    tags=TAGS,
    opt=superadmin(),
)
async def get_download(
    svc: Service[GenaiService], download_id: Annotated[str, PathParameter(max_length=64)]
) -> DownloadView:
    async with svc.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(ms.downloads).where(ms.downloads.c.id == download_id))).first()
    if row is None:
        raise err("modelops_download_not_found", download_id=download_id)
    return typed((await _views(svc, [ms.row_dict(row)]))[0], DownloadView)


@post(
    "/v1/modelops/downloads/{download_id:str}/cancel",
    summary="Cancel a queued or running download (its platform job); the partial files are kept",
    tags=TAGS,
    status_code=200,
    opt=superadmin(404, 409),
)
async def cancel_download(
    svc: Service[GenaiService], download_id: Annotated[str, PathParameter(max_length=64)]
) -> DownloadView:
    async with svc.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(ms.downloads).where(ms.downloads.c.id == download_id))).first()
    if row is None:
        raise err("modelops_download_not_found", download_id=download_id)
    r = ms.row_dict(row)
    if r["status"] in ("succeeded", "failed"):
        raise err("modelops_download_finished", download_id=download_id, download_status=r["status"])
    if r["job_id"] and r["status"] != "cancelled":
        await svc.ctx.jobs.cancel(r["job_id"], wait_s=10)
    async with svc.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(ms.downloads).where(ms.downloads.c.id == download_id))).one()
    view = (await _views(svc, [ms.row_dict(row)]))[0]
    if view["status"] in ("succeeded", "failed"):  # it finished before the cancel reached it
        raise err("modelops_download_finished", download_id=download_id, download_status=view["status"])
    return typed(view, DownloadView)


ROUTES = [discover, discover_one, create_download, list_downloads, get_download, cancel_download]

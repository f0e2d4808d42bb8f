"""Hub downloads as platform jobs (kind ``genai/modelops_download``).

Files go to ``<model dir>/.partial/<org>--<name>/<revision>/`` first. A file already partly there
is resumed with ``Range: bytes=<size>-`` (a server that answers 200 instead of 206 is read from the
start), so a second download of the same source and revision after a failure continues where the
first stopped. Each file is verified against the hash the hub lists (SHA-256 of LFS files, the git
blob id of the others); a file without either is refused. When every file is verified the directory
is moved to ``<model dir>/<org>--<name>/<revision>/`` with a manifest, and a draft ModelOps model
(origin local, source huggingface) is created for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ridgeline.genai.api import modelops_store as ms
from ridgeline.genai.api.store import models
from ridgeline.genai.hub import (
    MANIFEST,
    HubError,
    client_for,
    dir_name,
    git_blob_sha1,
    safe_relpath,
    settings_of,
)
from ridgeline.platform.hashing import sha256_file
from ridgeline.platform.jobs import JobCancelled, JobContext, job_kind, job_options

KIND = "modelops_download"
_FLUSH_BYTES = 4 << 20  # write byte progress to the download row every 4 MiB (and at each file end)


def revision_dir(revision: str) -> str:
    return revision.replace("/", "--")


def partial_dir(model_dir: Path, source_id: str, revision: str) -> Path:
    return model_dir / ".partial" / dir_name(source_id) / revision_dir(revision)


def final_dir(model_dir: Path, source_id: str, revision: str) -> Path:
    return model_dir / dir_name(source_id) / revision_dir(revision)


async def _update(app: Any, download_id: str, **values: Any) -> None:
    async with app.db.begin() as conn:
        await conn.execute(
            ms.downloads.update()
            .where(ms.downloads.c.id == download_id)
            .values(updated_at=ms.now(), **values)
        )


def _verify(path: Path, f: dict[str, Any]) -> str:
    if f.get("sha256"):
        if sha256_file(path) != f["sha256"]:
            raise HubError(409, "modelops_download_integrity", f"{f['path']} does not match its SHA-256")
        return "sha256"
    if git_blob_sha1(path) != f["blob_id"]:
        raise HubError(409, "modelops_download_integrity", f"{f['path']} does not match its git blob id")
    return "git_blob_sha1"


@job_kind("genai", KIND)
# not idempotent: a re-run after the model row was inserted would register the model twice (a new download
# resumes the partial files instead); 12 h: multi-GB weights over a slow link
@job_options(timeout_s=12 * 3600)
async def download_job(ctx: JobContext) -> dict[str, Any]:
    """The download, stopped promptly by a cancel (``POST /v1/modelops/downloads/{id}/cancel``, the
    platform's job cancel): the token's callback cancels the work even while it waits on the hub,
    the row becomes ``cancelled`` and the partial files stay, so a later download resumes them."""
    app = ctx.app
    download_id = ctx.params["download_id"]
    loop = asyncio.get_running_loop()
    work = asyncio.ensure_future(_run(ctx, app, download_id))
    ctx.token.on_cancel(lambda: loop.call_soon_threadsafe(work.cancel))
    try:
        return await work
    except asyncio.CancelledError:
        me = asyncio.current_task()
        if me is not None and me.cancelling():  # the worker itself is stopping: the platform decides
            raise
        await _cancelled(app, download_id, ctx.token.reason)
        raise JobCancelled(ctx.job_id) from None
    except JobCancelled:
        await _cancelled(app, download_id, ctx.token.reason)
        raise
    except Exception as exc:
        code = getattr(exc, "reason_code", "modelops_download_failed")
        await _update(app, download_id, status="failed", error={"reason_code": code, "message": str(exc)})
        raise


async def _cancelled(app: Any, download_id: str, reason: str) -> None:
    if reason.startswith("timed out"):
        error = {"reason_code": "modelops_download_failed", "message": reason}
        await _update(app, download_id, status="failed", error=error)
    else:
        await _update(
            app, download_id, status="cancelled", error={"reason_code": "cancelled", "message": reason}
        )


async def _run(ctx: JobContext, app: Any, download_id: str) -> dict[str, Any]:
    settings = settings_of(app)
    async with app.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(ms.downloads).where(ms.downloads.c.id == download_id))).first()
    if row is None:
        raise HubError(404, "modelops_download_not_found", f"download {download_id} not found")
    dl = ms.row_dict(row)
    source_id, revision = dl["source_id"], dl["revision"]
    files: list[dict[str, Any]] = [dict(f) for f in dl["files"]]
    total = sum(int(f["size"] or 0) for f in files)
    work = partial_dir(settings.model_dir, source_id, revision)
    work.mkdir(parents=True, exist_ok=True)
    resumed = sum(
        min((work / f["path"]).stat().st_size, int(f["size"] or 0))
        for f in files
        if (work / f["path"]).is_file()
    )
    await _update(
        app, download_id, status="running", bytes_total=total, resumed_bytes=resumed, bytes_done=resumed
    )
    done_before = 0  # bytes of the files already finished
    async with client_for(settings) as hub:
        for f in files:
            ctx.check_cancelled()
            rel = safe_relpath(f["path"])
            part = work / rel
            part.parent.mkdir(parents=True, exist_ok=True)
            size = int(f["size"] or 0)
            have = part.stat().st_size if part.is_file() else 0
            if f["size"] is not None and have > size:  # longer than the file: not ours to resume
                part.unlink()
                have = 0
            if f["size"] is None or have < size:
                have = await _fetch(ctx, app, hub, dl, rel, part, have, done_before, total)
            try:
                f["verified"] = await asyncio.to_thread(_verify, part, f)
            except HubError:
                part.unlink(missing_ok=True)  # a corrupt file must not be resumed from
                raise
            done_before += have
            await _update(app, download_id, bytes_done=done_before, files=files)
            ctx.report_progress(done_before / total if total else 1.0)
    target = final_dir(settings.model_dir, source_id, revision)
    manifest = {
        "source_id": source_id,
        "revision": revision,
        "revision_sha": dl["source_info"].get("revision_sha"),
        "pipeline_tag": dl["source_info"].get("pipeline_tag"),
        "license": dl["source_info"].get("license"),
        "task": dl["task"],
        "files": [{k: f.get(k) for k in ("path", "size", "sha256", "blob_id", "verified")} for f in files],
        "downloaded_at": ms.now().isoformat(),
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1))
    await asyncio.to_thread(_install, work, target)
    model_id = await _register(app, dl, target, manifest)
    await _update(
        app, download_id, status="succeeded", target_dir=str(target), model_id=model_id, files=files
    )
    return {"download_id": download_id, "model_id": model_id, "target_dir": str(target), "bytes": done_before}


def _install(work: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(work, target)


async def _fetch(
    ctx: JobContext,
    app: Any,
    hub: Any,
    dl: dict[str, Any],
    rel: str,
    part: Path,
    have: int,
    base: int,
    total: int,
) -> int:
    """Append the rest of one file to ``part``; returns its final size."""
    flushed = have
    mode = "ab"
    fh = None
    try:
        async for status, _size, chunk in hub.stream_file(dl["source_id"], dl["revision"], rel, have):
            if fh is None:
                if status == 200 and have:  # the server ignored Range: start over
                    have = 0
                    flushed = 0
                    mode = "wb"
                fh = part.open(mode)
            if status == 416:
                break
            ctx.check_cancelled()
            fh.write(chunk)
            have += len(chunk)
            ctx.report_progress((base + have) / total if total else 0.0)
            if have - flushed >= _FLUSH_BYTES:
                fh.flush()
                flushed = have
                await _update(app, dl["id"], bytes_done=base + have)
    finally:
        if fh is not None:
            fh.close()
    return have


async def _register(app: Any, dl: dict[str, Any], target: Path, manifest: dict[str, Any]) -> str:
    model_id = ms.new_id("mdl")
    at = ms.now()
    async with app.db.begin() as conn:
        await conn.execute(
            models.insert().values(
                id=model_id,
                name=dl["source_id"].rsplit("/", 1)[-1],
                task=dl["task"] or "llm_inference",
                origin="local",
                source="huggingface",
                source_id=dl["source_id"],
                local_path=str(target),
                lifecycle_state="draft",
                is_validation_current=False,
                metadata={
                    "revision": dl["revision"],
                    "revision_sha": manifest["revision_sha"],
                    "license": manifest["license"],
                    "download_id": dl["id"],
                    "files": manifest["files"],
                },
                owner_id=dl["actor"],
                visibility="private",
                created_at=at,
                updated_at=at,
            )
        )
    return model_id

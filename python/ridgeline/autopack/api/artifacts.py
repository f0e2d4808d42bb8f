"""Contract 003 section 10: a run's artifacts (index, file content, browser artifacts).

The run directory is ``<AUTOPACK_RUNS_DIR>/<run_id>``. ``path`` is checked by
:func:`ridgeline.autopack.workspace.resolve_inside` (decoded until stable, no ``..``, no absolute or
drive paths, no NUL, and the *real* path must stay under the run directory's real path), the file
is opened with ``O_NOFOLLOW`` and streamed in 64 KiB chunks with its media type; the index and the
browser list never follow symlinks.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from litestar import get
from litestar.params import Parameter
from litestar.response import Stream

from ridgeline.autopack import workspace
from ridgeline.autopack.api import schemas as S
from ridgeline.autopack.api.policies import OPERATOR_READ
from ridgeline.autopack.api.runs import RunIdPath
from ridgeline.autopack.api.service import AutopackService
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound

TAGS = ["autopack operator"]
CHUNK = 64 * 1024
SCREENSHOT_EXT = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})
HTML_EXT = frozenset({".html", ".htm"})
OPT = {**raises(400, 401, 403), **OPERATOR_READ.opt()}


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, UTC)


def _index(root: Path) -> list[tuple[str, os.stat_result]]:
    return sorted(workspace.walk_files(root), key=lambda item: item[0])


@get("/runs/{run_id:str}/artifacts/index", tags=TAGS, summary="Every artifact file of a run", opt=OPT)
async def artifact_index(svc: Service[AutopackService], run_id: RunIdPath) -> S.ArtifactIndex:
    await svc.runs.ensure_run(run_id)
    files = await asyncio.to_thread(_index, svc.runs.run_dir(run_id))
    entries = [S.ArtifactEntry(path=p, size_bytes=st.st_size, modified_at=_mtime(st)) for p, st in files]
    return S.ArtifactIndex(
        run_id=run_id, artifacts=entries, total_size_bytes=sum(e.size_bytes for e in entries)
    )


def _media_type(path: Path, head: bytes) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None:
        guessed = "application/octet-stream" if b"\x00" in head else "text/plain"
    if guessed.startswith("text/") or guessed in ("application/json", "application/x-ndjson"):
        return f"{guessed}; charset=utf-8"
    return guessed


def _open(target: Path) -> tuple[int, int, bytes]:
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return -1, 0, b""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return -1, 0, b""
    head = os.pread(fd, 8192, 0)
    return fd, st.st_size, head


class _TypedStream(Stream):
    """A stream whose own media type wins over the route's declared one (``text/plain`` in OpenAPI,
    while a PNG goes out as ``image/png``)."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = self.media_type
        return super().to_asgi_response(*args, **kwargs)


async def _chunks(fd: int) -> AsyncIterator[bytes]:
    try:
        offset = 0
        while True:
            block = await asyncio.to_thread(os.pread, fd, CHUNK, offset)
            if not block:
                return
            offset += len(block)
            yield block
    finally:
        os.close(fd)


@get(
    "/runs/{run_id:str}/artifacts/file",
    tags=TAGS,
    summary="One artifact file's content, streamed with its media type",
    description="Text files are text/plain (or their own text type) in UTF-8; binary files carry their "
    "media type (image/png, application/octet-stream ...). A path that leaves the run directory: 400 invalid_path.",
    media_type="text/plain",
    opt=OPT,
)
async def artifact_file(
    svc: Service[AutopackService],
    run_id: RunIdPath,
    path: Annotated[str, Parameter(description="Path relative to the run directory.", max_length=4096)],
) -> Stream:
    await svc.runs.ensure_run(run_id)
    target = workspace.resolve_inside(svc.runs.run_dir(run_id), path)
    fd, size, head = await asyncio.to_thread(_open, target)
    if fd < 0:
        raise NotFound("artifact", path, run_id=run_id, path=path)
    return _TypedStream(
        _chunks(fd),
        media_type=_media_type(target, head),
        headers={"Content-Length": str(size), "X-Content-Type-Options": "nosniff"},
    )


def _browser(root: Path) -> tuple[list[S.BrowserArtifact], list[S.BrowserArtifact]]:
    shots: list[S.BrowserArtifact] = []
    html: list[S.BrowserArtifact] = []
    for rel, st in workspace.walk_files(root):
        ext = Path(rel).suffix.lower()
        item = S.BrowserArtifact(path=rel, timestamp=_mtime(st), size_bytes=st.st_size)
        if ext in SCREENSHOT_EXT:
            shots.append(item)
        elif ext in HTML_EXT:
            html.append(item)
    shots.sort(key=lambda a: (a.timestamp, a.path), reverse=True)
    html.sort(key=lambda a: (a.timestamp, a.path), reverse=True)
    return shots, html


@get(
    "/runs/{run_id:str}/browser/artifacts",
    tags=TAGS,
    summary="A run's screenshots and HTML files",
    opt=OPT,
)
async def browser_artifacts(svc: Service[AutopackService], run_id: RunIdPath) -> S.BrowserArtifacts:
    await svc.runs.ensure_run(run_id)
    shots, html = await asyncio.to_thread(_browser, svc.runs.run_dir(run_id))
    return S.BrowserArtifacts(
        run_id=run_id,
        screenshots=shots,
        html_files=html,
        total_size_bytes=sum(a.size_bytes for a in shots) + sum(a.size_bytes for a in html),
    )


ROUTES = [artifact_index, artifact_file, browser_artifacts]

"""File uploads (contract 003 section 12): a multipart body streamed to disk part by part (never held
in memory), with a byte limit (413), the media type decided from the content's magic bytes
(``filetype``) against an allow-list (415), the client's file name sanitised, and SHA-256 computed
while writing. A refused upload leaves no file behind."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import filetype
import msgspec
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.platform.scanning import Scanner, check_upload

SNIFF_BYTES = 8192  # filetype needs 262; text detection looks a little further
MAX_FORM_FIELDS = 16
WRITE_BATCH = 1024 * 1024
MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def sanitize_filename(name: str | None) -> str:
    """A safe base name: no directories (``/`` or ``\\``), no control or shell characters, no leading
    dots, not a Windows device name, at most 120 characters; ``upload`` when nothing is left."""
    text = unicodedata.normalize("NFKC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _UNSAFE.sub("_", text).strip("._-")
    text = re.sub(r"_+", "_", text)
    stem, dot, ext = text.rpartition(".")
    if (stem if dot else text).lower() in _WINDOWS_RESERVED:
        text = f"_{text}"
    if len(text) > MAX_NAME:
        ext = ext[:16] if dot else ""
        text = text[: MAX_NAME - len(ext) - 1].rstrip("._-") + (f".{ext}" if ext else "")
    return text or "upload"


def sniff(head: bytes) -> str:
    """The media type of content starting with ``head``: magic bytes first, else plain text when it
    is UTF-8 with no NUL byte, else ``application/octet-stream``."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 3:  # a character cut by the sniff window
                return "text/plain"
    return "application/octet-stream"


def _open_temp(directory: Path) -> tuple[BinaryIO, str]:
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=directory)
    return os.fdopen(fd, "wb"), tmp


def _finish(out: BinaryIO, tail: bytes) -> None:
    out.write(tail)
    out.flush()
    os.fsync(out.fileno())
    out.close()


def _discard(tmp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


class StoredUpload(msgspec.Struct, frozen=True):
    original_name: str
    safe_name: str
    temp_path: Path
    size_bytes: int
    sha256: str
    media_type: str


def boundary_of(content_type: str) -> str:
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise OPS.error("upload_invalid", why="Content-Type must be multipart/form-data")
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"')
    raise OPS.error("upload_invalid", why="no multipart boundary")


async def receive_upload(
    chunks: AsyncIterator[bytes],
    content_type: str,
    directory: Path,
    *,
    max_bytes: int,
    allowed: tuple[str, ...],
    overhead: int = 1024 * 1024,
) -> StoredUpload:
    """Stream the first file part into ``directory``; the whole body may exceed ``max_bytes`` by at
    most ``overhead`` (multipart headers and small form fields)."""
    parser = PushMultipartParser(boundary_of(content_type), max_segment_count=MAX_FORM_FIELDS, strict=True)
    out, tmp = await asyncio.to_thread(_open_temp, directory)
    pending = bytearray()  # written on a worker thread in 1 MiB batches, off the event loop
    digest, size, head = hashlib.sha256(), 0, bytearray()
    current: MultipartSegment | None = None
    taken: MultipartSegment | None = None
    done = False
    ok = False
    try:
        received = 0
        async for chunk in chunks:
            received += len(chunk)
            if received > max_bytes + overhead:
                raise OPS.error("upload_too_large", limit=max_bytes)
            try:
                events = list(parser.parse(chunk))
            except MultipartError as exc:
                raise OPS.error("upload_invalid", why=str(exc)[:200]) from None
            for event in events:
                if isinstance(event, MultipartSegment):
                    current = event
                    if taken is None and event.filename is not None:
                        taken = event  # the first file part is the upload; form fields are skipped
                elif event is None:  # end of a segment
                    if current is taken and taken is not None:
                        done = True
                    current = None
                elif current is not None and current is taken and not done:
                    size += len(event)
                    if size > max_bytes:
                        raise OPS.error("upload_too_large", limit=max_bytes)
                    digest.update(event)
                    if len(head) < SNIFF_BYTES:
                        head.extend(event[: SNIFF_BYTES - len(head)])
                    pending.extend(event)
                    if len(pending) >= WRITE_BATCH:
                        await asyncio.to_thread(out.write, bytes(pending))
                        pending.clear()
            if not chunk:
                break
        if taken is None or not done:
            raise OPS.error("upload_invalid", why="no complete file part")
        await asyncio.to_thread(_finish, out, bytes(pending))
        media_type = sniff(bytes(head))
        if media_type not in allowed:
            raise OPS.error("upload_type_not_allowed", media_type=media_type)
        ok = True
        return StoredUpload(
            original_name=(taken.filename or "")[:1000],
            safe_name=sanitize_filename(taken.filename),
            temp_path=Path(tmp),
            size_bytes=size,
            sha256=digest.hexdigest(),
            media_type=media_type,
        )
    finally:
        if not out.closed:
            out.close()
        if not ok:
            await asyncio.to_thread(_discard, tmp)


class UploadService:
    """Records uploads in ``autopack_uploads`` and moves the file to ``<dir>/<id>_<safe name>``."""

    def __init__(
        self, db: object, directory: Path, settings: object, clock: object, scanner: Scanner | None = None
    ) -> None:
        self.db = db
        self.scanner = scanner  # malware scan before the file is kept (None: not configured)
        self.directory = directory
        self.settings = settings
        self.clock = clock

    async def receive(self, chunks: AsyncIterator[bytes], content_type: str, actor: str) -> dict[str, object]:
        import uuid

        from ridgeline.autopack.api.ops_store import uploads

        stored = await receive_upload(
            chunks,
            content_type,
            self.directory,
            max_bytes=self.settings.autopack_upload_max_bytes,  # type: ignore[attr-defined]
            allowed=tuple(self.settings.autopack_upload_allowed_types),  # type: ignore[attr-defined]
        )
        try:
            await check_upload(self.scanner, stored.temp_path, OPS)
        except BaseException:
            await asyncio.to_thread(_discard, str(stored.temp_path))
            raise
        file_id = uuid.uuid4().hex
        final = f"{file_id}_{stored.safe_name}"
        await asyncio.to_thread(os.replace, stored.temp_path, self.directory / final)
        now = self.clock()  # type: ignore[operator]
        try:
            async with self.db.begin() as conn:  # type: ignore[attr-defined]
                await conn.execute(
                    uploads.insert().values(
                        id=file_id,
                        original_name=stored.original_name,
                        stored_name=final,
                        size_bytes=stored.size_bytes,
                        sha256=stored.sha256,
                        media_type=stored.media_type,
                        uploaded_by=actor[:200],
                        created_at=now,
                    )
                )
        except BaseException:
            await asyncio.to_thread(_discard, str(self.directory / final))
            raise
        return {
            "file_id": file_id,
            "filename": final,
            "original_filename": stored.original_name,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
            "media_type": stored.media_type,
            "uploaded_at": now,
        }

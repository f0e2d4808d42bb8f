"""``POST /files/upload`` (contract 003 section 12, ``X-API-Key``): ``multipart/form-data`` with one
file part, streamed to disk (``AUTOPACK_UPLOAD_DIR``) under ``AUTOPACK_UPLOAD_MAX_BYTES`` (413), its
media type checked from its content against ``AUTOPACK_UPLOAD_ALLOWED_TYPES`` (415), its name
sanitised and its SHA-256 recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, post

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.autopack.api.ops_service import OpsService, actor_of
from ridgeline.platform.auth import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises


class UploadResponse(msgspec.Struct, kw_only=True):
    file_id: str
    filename: str  # the stored name: <file_id>_<sanitised client name>
    original_filename: str
    size_bytes: int
    sha256: str
    media_type: str
    uploaded_at: datetime


@post(
    "/files/upload",
    status_code=201,
    tags=["autopack: files"],
    summary="Upload a file (multipart/form-data, one file part)",
    opt={**raises(400, 413, 415, 422, 503), **Policy.api_key().opt()},
    request_max_body_size=None,  # the upload's own limit is enforced while streaming
)
async def upload_file(request: Request[Any, Any, Any], ops: Service[OpsService]) -> UploadResponse:
    limit = ops.settings.autopack_upload_max_bytes
    announced = request.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > limit + 1024 * 1024:
        raise OPS.error("upload_too_large", limit=limit)  # before reading a byte
    view = await ops.uploads.receive(
        request.stream(), request.headers.get("content-type", ""), actor_of(request)
    )
    return msgspec.convert(view, UploadResponse)


ROUTES = [upload_file]

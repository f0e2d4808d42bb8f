"""One way to serve a stored file: verified, cacheable, with the right headers.

:func:`artifact_response` reads the artifact through
:meth:`~ridgeline.platform.artifacts.ArtifactStore.read_verified` (SHA-256 checked before a byte is
served; a file that no longer matches is the family's 409, e.g. ``artifact_integrity``), and sets
``ETag`` (the quoted SHA-256), ``X-Content-SHA256``, ``Content-Disposition`` and the media type. An
``If-None-Match`` that names the ETag (or ``*``) is a 304 with no body; a HEAD request gets the
headers only. Declare the route with ``@route(path, http_method=["GET", "HEAD"])`` to answer HEAD.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from litestar import Request, Response

from ridgeline.platform.artifacts import Artifact, ArtifactStore

MEDIA_TYPES: Mapping[str, str] = {
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".geojson": "application/geo+json",
    ".zip": "application/zip",
    ".json": "application/json",
    ".ndjson": "application/x-ndjson",
    ".npz": "application/x-npz",
    ".txt": "text/plain",
    ".html": "text/html",
    ".png": "image/png",
    ".parquet": "application/vnd.apache.parquet",
}


def media_type_for(name: str, default: str = "application/octet-stream") -> str:
    """The media type of a file name by its extension (``report.pdf`` -> ``application/pdf``)."""
    return MEDIA_TYPES.get(PurePosixPath(name).suffix.lower(), default)


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


async def artifact_response(
    request: Request[Any, Any, Any],
    store: ArtifactStore,
    artifact: Artifact,
    *,
    filename: str | None = None,
    media_type: str | None = None,
    attachment: bool = True,
    integrity_code: str = "artifact_integrity",
    headers: Mapping[str, str] | None = None,
) -> Response[bytes]:
    """The verified file (or 304 / HEAD headers); see the module docstring.

    ``media_type`` defaults to the recorded one, or the extension's when the record says only
    ``application/octet-stream``; ``filename`` (default: the artifact name) goes into
    ``Content-Disposition`` (``attachment`` or ``inline``).
    """
    data = await asyncio.to_thread(store.read_verified, artifact, reason_code=integrity_code)
    etag = f'"{artifact.sha256}"'
    out = {
        **(headers or {}),
        "ETag": etag,
        "X-Content-SHA256": artifact.sha256,
        "Content-Disposition": f'{"attachment" if attachment else "inline"}; filename="{filename or artifact.name}"',
    }
    media = media_type or (
        artifact.media_type
        if artifact.media_type != "application/octet-stream"
        else media_type_for(artifact.name)
    )
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=out, media_type=media)
    return Response(data, media_type=media, headers=out)


__all__ = ["MEDIA_TYPES", "artifact_response", "media_type_for"]

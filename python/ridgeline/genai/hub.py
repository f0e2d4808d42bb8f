"""A Hugging Face Hub compatible discovery and download client, and the local model cache.

The hub API used (what the Hub, its mirrors and ``HF_ENDPOINT``-style proxies serve):

- ``GET /api/models?search=&pipeline_tag=&limit=`` -> ``[{"id", "pipeline_tag", "downloads", "likes", ...}]``
- ``GET /api/models/{id}[/revision/{rev}]?blobs=true`` -> ``{"id", "sha", "pipeline_tag", "siblings":
  [{"rfilename", "size", "blobId", "lfs": {"sha256", "size"}}], "cardData": {...}}``
- ``GET /{id}/resolve/{rev}/{file}`` with ``Range: bytes=N-`` for resuming.

Written on httpx rather than ``huggingface_hub`` because downloads must report byte progress into a
platform job, resume into our own partial files and verify each file against the hash the hub lists,
under the managed model directory; ``hf_hub_download`` owns its cache layout and progress bars.
Nothing here runs unless a hub base URL is configured (``MODELOPS_HF_BASE_URL`` or ``HF_ENDPOINT``):
with none, or with the runtime profile offline, remote discovery fails closed and discovery lists
the local model cache instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from ridgeline.platform.problems import EngineError

SOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")
MANIFEST = ".ridgeline-model.json"

# Hub pipeline tags -> the capability a managed model serves.
TASKS = {
    "text-generation": "llm_inference",
    "text2text-generation": "llm_inference",
    "conversational": "llm_inference",
    "image-text-to-text": "llm_inference",
    "feature-extraction": "embeddings",
    "sentence-similarity": "embeddings",
}
PIPELINE_TAGS = {"llm_inference": "text-generation", "embeddings": "feature-extraction"}


def task_of(pipeline_tag: str | None) -> str | None:
    return TASKS.get(pipeline_tag or "")


class ModelOpsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Read from the environment on first use (see docs/genai-modelops.md)."""

    model_dir: Path
    hf_base_url: str | None = None
    hf_token: str | None = None
    offline: bool = False
    hub_timeout_s: float = 30.0
    download_max_bytes: int = 64 * 1024**3

    @classmethod
    def from_env(cls, data_dir: Path, env: Mapping[str, str] | None = None) -> ModelOpsSettings:
        e = os.environ if env is None else env
        base = (e.get("MODELOPS_HF_BASE_URL") or e.get("HF_ENDPOINT") or "").strip() or None
        if base is not None and not base.startswith(("http://", "https://")):
            raise ValueError(f"MODELOPS_HF_BASE_URL / HF_ENDPOINT must be an http(s) URL, got {base!r}")
        model_dir = Path(e.get("MODELOPS_MODEL_DIR") or (data_dir / "genai" / "models"))
        return cls(
            model_dir=model_dir,
            hf_base_url=base.rstrip("/") if base else None,
            hf_token=(e.get("MODELOPS_HF_TOKEN") or e.get("HF_TOKEN") or "").strip() or None,
            offline=_flag(e, "MODELOPS_OFFLINE"),
            hub_timeout_s=_number(e, "MODELOPS_HUB_TIMEOUT_S", 30.0, float),
            download_max_bytes=_number(e, "MODELOPS_DOWNLOAD_MAX_BYTES", 64 * 1024**3, int),
        )


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        return False
    if raw in {"1", "true", "yes", "on"}:
        return True
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _number(env: Mapping[str, str], name: str, default: Any, kind: Any) -> Any:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


class HubError(EngineError):
    pass


def hub_unavailable(message: str) -> HubError:
    return HubError(503, "modelops_hub_unavailable", f"The model hub is unavailable: {message}")


def check_source_id(source_id: str) -> str:
    if not SOURCE_ID.match(source_id) or ".." in source_id:
        raise HubError(422, "invalid_request", f"Invalid request: not a hub model id: {source_id!r}")
    return source_id


def safe_relpath(name: str) -> str:
    """A sibling file name as a relative path that cannot leave the model directory."""
    p = PurePosixPath(name)
    if not name or p.is_absolute() or any(part in ("", ".", "..") for part in p.parts) or "\\" in name:
        raise HubError(422, "invalid_request", f"Invalid request: unsafe file name {name!r}")
    return str(p)


def dir_name(source_id: str) -> str:
    return source_id.replace("/", "--")


class HubClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "ridgeline-modelops"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            trust_env=False,
            transport=transport,
        )

    async def __aenter__(self) -> HubClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    async def _json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            r = await self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise hub_unavailable(type(exc).__name__) from None
        if r.status_code in (401, 403, 404):
            return None
        if r.status_code != 200:
            raise hub_unavailable(f"HTTP {r.status_code} from {path}")
        try:
            return r.json()
        except ValueError:
            raise hub_unavailable(f"{path} did not answer JSON") from None

    async def search(self, *, search: str | None, task: str | None, limit: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if search:
            params["search"] = search
        if task:
            params["pipeline_tag"] = PIPELINE_TAGS.get(task, task)
        body = await self._json("/api/models", params)
        if not isinstance(body, list):
            raise hub_unavailable("/api/models did not answer a list")
        return [summary(m) for m in body if isinstance(m, dict) and isinstance(m.get("id"), str)]

    async def model_info(self, source_id: str, revision: str = "main") -> dict[str, Any] | None:
        check_source_id(source_id)
        path = f"/api/models/{source_id}"
        if revision != "main":
            path += f"/revision/{quote(revision, safe='')}"
        body = await self._json(path, {"blobs": "true"})
        if body is None:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise hub_unavailable(f"{path} is not a model description")
        return detail(body)

    async def stream_file(
        self, source_id: str, revision: str, filename: str, offset: int
    ) -> AsyncIterator[tuple[int, int | None, bytes]]:
        """Yields ``(status, total_size, chunk)``; status 206 means the server honoured ``offset``."""
        url = f"/{source_id}/resolve/{quote(revision, safe='')}/{quote(filename)}"
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            async with self._client.stream("GET", url, headers=headers) as r:
                if r.status_code == 416:  # already complete
                    yield 416, None, b""
                    return
                if r.status_code not in (200, 206):
                    raise hub_unavailable(f"HTTP {r.status_code} for {filename}")
                total = _content_total(r)
                async for chunk in r.aiter_bytes(1 << 16):
                    yield r.status_code, total, chunk
        except httpx.HTTPError as exc:
            raise hub_unavailable(f"{type(exc).__name__} while downloading {filename}") from None


def _content_total(r: httpx.Response) -> int | None:
    cr = r.headers.get("content-range")
    if cr and "/" in cr:
        tail = cr.rsplit("/", 1)[1]
        return int(tail) if tail.isdigit() else None
    cl = r.headers.get("content-length")
    return int(cl) if cl and cl.isdigit() else None


def summary(m: Mapping[str, Any]) -> dict[str, Any]:
    tag = m.get("pipeline_tag")
    return {
        "source_id": m["id"],
        "name": m["id"].rsplit("/", 1)[-1],
        "author": m.get("author") or (m["id"].split("/", 1)[0] if "/" in m["id"] else None),
        "pipeline_tag": tag,
        "task": task_of(tag),
        "downloads": m.get("downloads") if isinstance(m.get("downloads"), int) else None,
        "likes": m.get("likes") if isinstance(m.get("likes"), int) else None,
        "tags": [t for t in m.get("tags") or [] if isinstance(t, str)],
        "library_name": m.get("library_name"),
        "gated": bool(m.get("gated")),
        "private": bool(m.get("private")),
    }


def detail(m: Mapping[str, Any]) -> dict[str, Any]:
    files = []
    for s in m.get("siblings") or []:
        if not isinstance(s, dict) or not isinstance(s.get("rfilename"), str):
            continue
        lfs = s.get("lfs") if isinstance(s.get("lfs"), dict) else {}
        size = lfs.get("size", s.get("size"))
        files.append(
            {
                "path": s["rfilename"],
                "size": size if isinstance(size, int) else None,
                "sha256": lfs.get("sha256") if isinstance(lfs.get("sha256"), str) else None,
                "blob_id": s.get("blobId") if isinstance(s.get("blobId"), str) else None,
                "lfs": bool(lfs),
            }
        )
    card = m.get("cardData") if isinstance(m.get("cardData"), dict) else {}
    return {
        **summary(m),
        "revision_sha": m.get("sha") if isinstance(m.get("sha"), str) else None,
        "license": card.get("license") if isinstance(card.get("license"), str) else None,
        "files": files,
        "total_size": sum(f["size"] or 0 for f in files),
    }


def git_blob_sha1(path: Path) -> str:
    """The git blob id of a file (what the hub lists as ``blobId`` for non-LFS files)."""
    h = hashlib.sha1(usedforsecurity=False)
    h.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- the local model cache


def _files_of(root: Path) -> list[dict[str, Any]]:
    return [
        {"path": str(p.relative_to(root)), "size": p.stat().st_size}
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
    ]


def bundled_model() -> dict[str, Any] | None:
    """The AI layer's bundled all-MiniLM-L6-v2 (``ridgeline.ai.embeddings``), when installed."""
    from ridgeline.ai import embeddings

    try:
        root = embeddings.model_dir()
    except embeddings.EmbeddingModelError:
        return None
    files = _files_of(root)
    for f in files:
        if f["path"] == "model.safetensors":
            f["sha256"] = embeddings.MODEL_SHA256  # checked by the AI layer before any load
    return {
        "source_id": embeddings.MODEL_NAME,
        "name": embeddings.MODEL_NAME.rsplit("/", 1)[-1],
        "source": "bundled",
        "pipeline_tag": "sentence-similarity",
        "task": "embeddings",
        "license": "apache-2.0",
        "revision": embeddings.MODEL_PACKAGE,
        "local_path": str(root),
        "files": files,
        "total_size": sum(f["size"] for f in files),
    }


def managed_models(model_dir: Path) -> list[dict[str, Any]]:
    """Models the downloader finished under the managed directory (each has a manifest)."""
    out = []
    if not model_dir.is_dir():
        return out
    for manifest in sorted(model_dir.glob(f"*/*/{MANIFEST}")):
        try:
            m = json.loads(manifest.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(m, dict) or not isinstance(m.get("source_id"), str):
            continue
        out.append(
            {
                "source_id": m["source_id"],
                "name": m["source_id"].rsplit("/", 1)[-1],
                "source": "huggingface",
                "pipeline_tag": m.get("pipeline_tag"),
                "task": m.get("task"),
                "license": m.get("license"),
                "revision": m.get("revision"),
                "local_path": str(manifest.parent),
                "files": m.get("files") or [],
                "total_size": sum(int(f.get("size") or 0) for f in m.get("files") or []),
            }
        )
    return out


def local_cache(model_dir: Path) -> list[dict[str, Any]]:
    bundled = bundled_model()
    return ([bundled] if bundled else []) + managed_models(model_dir)


def allowed_local_roots(model_dir: Path) -> list[Path]:
    roots = [model_dir.resolve()]
    bundled = bundled_model()
    if bundled:
        roots.append(Path(bundled["local_path"]).resolve())
    return roots


def settings_of(ctx: Any) -> ModelOpsSettings:
    """The process's ModelOps settings (read once per app context from the environment)."""
    s = ctx.state.get("genai.modelops.settings")
    if s is None:
        try:
            s = ModelOpsSettings.from_env(ctx.settings.data_dir)
        except ValueError as exc:  # a bad variable: say which, as a 503 rather than a bare 500
            raise EngineError(503, "service_unavailable", f"ModelOps settings: {exc}") from None
        ctx.state["genai.modelops.settings"] = s
    return s


def client_for(settings: ModelOpsSettings) -> HubClient:
    assert settings.hf_base_url is not None
    return HubClient(settings.hf_base_url, token=settings.hf_token, timeout=settings.hub_timeout_s)

"""``/runs/{run_id}/*`` (manifests, signatures, provenance, artifacts) and ``/verify/signature``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar import route as http_route
from litestar.params import FromPath, JSONBody

from ridgeline.platform.artifacts import Artifact
from ridgeline.platform.context import Ctx, Service
from ridgeline.platform.downloads import artifact_response
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound
from ridgeline.platform.signing import canonical_bytes, verify
from ridgeline.routing.api import schemas
from ridgeline.routing.api.service import RoutingService
from ridgeline.routing.reports import ARTIFACT_MEDIA_TYPES, ARTIFACT_NAMES


@get("/runs/{run_id:str}/manifest", summary="Signed run manifest", tags=["routing: runs"])
async def run_manifest(svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    return (await svc.run(run_id))["manifest"]  # type: ignore[no-any-return]


@get("/runs/{run_id:str}/scenario-manifest", summary="Signed scenario manifest", tags=["routing: runs"])
async def run_scenario_manifest(svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    return (await svc.run(run_id))["scenario_manifest"]  # type: ignore[no-any-return]


@get("/runs/{run_id:str}/provenance", summary="Where the run's inputs came from", tags=["routing: runs"])
async def run_provenance(svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    return (await svc.run(run_id))["provenance"]  # type: ignore[no-any-return]


def _sig(ctx: Any, run_id: str, manifest: dict[str, Any], signature: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "algorithm": "Ed25519",
        "key_id": ctx.signer.key_id,
        "public_key_b64": ctx.signer.public_key_b64(),
        "signature": signature,
        "signed_sha256": sha256_hex(canonical_bytes(manifest)),
        "canonicalization": "JSON, keys sorted, no whitespace, UTF-8",
    }


@get("/runs/{run_id:str}/signature", summary="Ed25519 signature of the manifest", tags=["routing: runs"])
async def run_signature(ctx: Ctx, svc: Service[RoutingService], run_id: FromPath[str]) -> dict[str, Any]:
    row = await svc.run(run_id)
    return _sig(ctx, run_id, row["manifest"], row["signature"])


@get(
    "/runs/{run_id:str}/scenario-signature",
    summary="Ed25519 signature of the scenario manifest",
    tags=["routing: runs"],
)
async def run_scenario_signature(
    ctx: Ctx, svc: Service[RoutingService], run_id: FromPath[str]
) -> dict[str, Any]:
    row = await svc.run(run_id)
    return _sig(ctx, run_id, row["scenario_manifest"], row["scenario_signature"])


def _diff(a: Any, b: Any, path: str = "$") -> list[str]:
    """JSON paths where ``b`` differs from ``a`` (keys missing on either side included)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}")
            else:
                out += _diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} (length {len(b)} != {len(a)})"]
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path]


@post(
    "/verify/signature",
    summary="Verify a manifest signature (and say what does not match)",
    tags=["routing: runs"],
    status_code=200,
    opt=raises(404),
)
async def verify_signature(
    ctx: Ctx, svc: Service[RoutingService], data: JSONBody[schemas.VerifyRequest]
) -> dict[str, Any]:
    stored_manifest = stored_sig = None
    if data.run_id is not None:
        row = await svc.run(data.run_id)
        stored_manifest = row["manifest"] if data.kind == "manifest" else row["scenario_manifest"]
        stored_sig = row["signature"] if data.kind == "manifest" else row["scenario_signature"]
    manifest = data.manifest if data.manifest is not None else stored_manifest
    signature = data.signature if data.signature is not None else stored_sig
    if manifest is None or signature is None:
        raise RidgelineError(422, "invalid_request", "Give run_id, or both manifest and signature.")
    key = data.public_key or ctx.signer.public_key_b64()
    check = verify(key, manifest, signature)
    mismatches: list[str] = []
    if stored_manifest is not None and data.manifest is not None:
        mismatches = _diff(stored_manifest, data.manifest)
    signature_matches_stored = (
        None if stored_sig is None or data.signature is None else (stored_sig == data.signature)
    )
    return {
        "valid": check.valid,
        "reason": check.reason,
        "run_id": data.run_id,
        "kind": data.kind,
        "key_id": ctx.signer.key_id if data.public_key is None else None,
        "mismatched_fields": mismatches,
        "signature_matches_stored": signature_matches_stored,
    }


def _artifact_out(base: str, a: Artifact) -> dict[str, Any]:
    return {
        "name": a.name,
        "sha256": a.sha256,
        "size": a.size,
        "media_type": a.media_type,
        "url": f"{base}/{a.name}",  # an absolute path: under /routing when mounted, at / with --only
    }


@get(
    "/runs/{run_id:str}/artifacts",
    summary="The run's artifacts (generated on first request)",
    tags=["routing: runs"],
)
async def run_artifacts(
    svc: Service[RoutingService], request: Request[Any, Any, Any], run_id: FromPath[str]
) -> dict[str, Any]:
    arts = await svc.ensure_artifacts(run_id)
    base = request.url.path.rstrip("/")
    return {"run_id": run_id, "artifacts": [_artifact_out(base, a) for a in arts]}


async def _artifact_file(
    request: Request[Any, Any, Any], ctx: Ctx, svc: RoutingService, run_id: str, name: str
) -> Response[bytes]:
    if name not in ARTIFACT_NAMES:
        raise NotFound(
            "artifact", name, message=f"No artifact {name!r}; available: {', '.join(ARTIFACT_NAMES)}."
        )
    arts = {a.name: a for a in await svc.ensure_artifacts(run_id)}
    # The platform checks the SHA-256 before serving: 409 artifact_integrity_failed on a mismatch.
    return await artifact_response(
        request,
        ctx.artifacts,
        arts[name],
        filename=f"{run_id}-{name}",
        integrity_code="artifact_integrity_failed",
    )


def _artifact_route(name: str, media_type: str) -> Any:
    """One declared operation per artifact file (as contract 000 lists them), sharing one body."""

    async def handler(
        request: Request[Any, Any, Any], ctx: Ctx, svc: Service[RoutingService], run_id: FromPath[str]
    ) -> Response[bytes]:
        return await _artifact_file(request, ctx, svc, run_id, name)

    handler.__name__ = f"run_artifact_{name.replace('.', '_')}"
    return http_route(
        f"/runs/{{run_id:str}}/artifacts/{name}",
        http_method=["GET", "HEAD"],
        summary=f"The run's {name} ({media_type}; SHA-256 checked, ETag, If-None-Match and HEAD)",
        tags=["routing: runs"],
        media_type=media_type,
        opt=raises(409),
    )(handler)


ARTIFACT_FILE_HANDLERS = [
    _artifact_route(name, media_type) for name, media_type in ARTIFACT_MEDIA_TYPES.items()
]


# Any other name: the reason-coded 404 listing the files that exist (undocumented: not an operation).
@http_route("/runs/{run_id:str}/artifacts/{name:str}", http_method=["GET", "HEAD"], include_in_schema=False)
async def run_artifact_file(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    svc: Service[RoutingService],
    run_id: FromPath[str],
    name: FromPath[str],
) -> Response[bytes]:
    return await _artifact_file(request, ctx, svc, run_id, name)


HANDLERS = [
    run_manifest,
    run_scenario_manifest,
    run_provenance,
    run_signature,
    run_scenario_signature,
    verify_signature,
    run_artifacts,
    *ARTIFACT_FILE_HANDLERS,
    run_artifact_file,
]

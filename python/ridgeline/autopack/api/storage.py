"""``/storage/*`` (contract 003 section 11): scans of the configured roots (``AUTOPACK_STORAGE_ROOTS``)
as platform jobs, their detail and approval, Steam library detection (``AUTOPACK_STEAM_ROOT``),
pattern analysis, learned rules and recommendations. Auth as the contract lists: the scan list,
detail and approval need ``X-API-Key`` (and so does starting a scan, which the contract leaves
unlisted); the Steam, pattern, rule and recommendation endpoints are public. The service never
deletes anything."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from ridgeline.autopack.api.ops_service import OpsService, actor_of
from ridgeline.autopack.api.ops_types import OptionalQueryId, PathId, text
from ridgeline.autopack.steam import scan_steam
from ridgeline.platform import paging
from ridgeline.platform.auth import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset

# Explicit, so a non-public family default (default_policy) never covers the contract's open rows.
PUBLIC = Policy.public().opt()
TAGS = ["autopack: storage"]


class ScanStartRequest(msgspec.Struct, kw_only=True):
    root: Annotated[str, text(4000)] | None = None


class CategoryTotals(msgspec.Struct):
    files: int
    bytes: int


class StorageScanResponse(msgspec.Struct, kw_only=True):
    scan_id: str
    root: str
    status: Literal["queued", "running", "completed", "failed"]
    job_id: str | None
    progress: float
    created_at: datetime
    finished_at: datetime | None
    total_files: int
    total_bytes: int
    summary: dict[str, Any]
    error: str | None
    approved: bool
    approved_at: datetime | None
    approved_by: str | None
    approval_note: str | None


class ScannedFileOut(msgspec.Struct, kw_only=True):
    path: str
    size_bytes: int
    modified_at: datetime
    extension: str
    category: str
    sha256: str | None


class DuplicateGroup(msgspec.Struct, kw_only=True):
    sha256: str
    size_bytes: int
    paths: list[str]
    reclaimable_bytes: int


class StorageScanDetailResponse(StorageScanResponse, kw_only=True):
    files: list[ScannedFileOut] = []
    files_limit: int = 0
    files_offset: int = 0
    duplicates: list[DuplicateGroup] = []


class StorageScanList(msgspec.Struct, kw_only=True):
    scans: list[StorageScanResponse]
    total: int
    limit: int
    offset: int


class ScanApproveRequest(msgspec.Struct, kw_only=True):
    note: Annotated[str, text(2000)] | None = None


class SteamLibraryOut(msgspec.Struct, kw_only=True):
    path: str
    available: bool
    label: str | None


class SteamGameOut(msgspec.Struct, kw_only=True):
    app_id: str
    name: str
    install_dir: str
    library_path: str
    size_on_disk_bytes: int
    size_gb: float
    last_updated: datetime | None
    last_played: datetime | None
    installed: bool


class SteamGamesListResponse(msgspec.Struct, kw_only=True):
    steam_available: bool
    steam_path: str | None
    libraries: list[SteamLibraryOut]
    games: list[SteamGameOut]
    total_count: int
    total_size_bytes: int
    total_size_gb: float
    errors: list[str]


class PatternResponse(msgspec.Struct, kw_only=True):
    rule_id: str
    scan_id: str
    pattern_type: Literal["extension_cluster", "stale_directory", "large_files"]
    path_pattern: str
    category: str
    suggested_action: Literal["archive", "review", "deduplicate"]
    confidence: float
    description: str
    file_count: int
    total_bytes: int
    examples: list[str]


class LearnedRuleResponse(msgspec.Struct, kw_only=True):
    rule_id: str
    pattern_type: str
    path_pattern: str
    category: str
    suggested_action: str
    confidence: float
    description: str
    file_count: int
    total_bytes: int
    status: Literal["proposed", "approved"]
    created_at: datetime
    approved_at: datetime | None
    approved_by: str | None


class Recommendation(msgspec.Struct, kw_only=True):
    type: str
    action: str
    rule_id: str | None
    description: str
    potential_savings_bytes: int
    paths: list[str]


class RecommendationsListResponse(msgspec.Struct, kw_only=True):
    scan_id: str | None
    recommendations: list[Recommendation]
    total_potential_savings_bytes: int
    deletes_nothing: bool = True  # advice only: the service never deletes


ScanId = PathId


@post(
    "/storage/scan",
    status_code=202,
    tags=TAGS,
    summary="Start a scan of a configured root (a platform job with progress)",
    opt={**raises(422), **Policy.api_key().opt()},
)
async def start_scan(
    request: Request[Any, Any, Any], ops: Service[OpsService], data: JSONBody[ScanStartRequest]
) -> StorageScanResponse:
    view = await ops.storage.start_scan(data.root, actor_of(request))
    return msgspec.convert(view, StorageScanResponse)


@get("/storage/scans", tags=TAGS, summary="List storage scans", opt=Policy.api_key().opt())
async def list_scans(
    ops: Service[OpsService], limit: paging.limit(100) = 20, offset: Offset = 0
) -> StorageScanList:
    rows, total = await ops.storage.list_scans(limit, offset)
    return StorageScanList(
        scans=[msgspec.convert(r, StorageScanResponse) for r in rows], total=total, limit=limit, offset=offset
    )


@get(
    "/storage/scans/{scan_id:str}",
    tags=TAGS,
    summary="Storage scan detail: files, duplicates, summary",
    opt=Policy.api_key().opt(),
)
async def scan_detail(
    ops: Service[OpsService],
    scan_id: ScanId,
    files_limit: paging.limit(1000) = 100,
    files_offset: Offset = 0,
) -> StorageScanDetailResponse:
    view = await ops.storage.get_scan(scan_id, files_limit=files_limit, files_offset=files_offset)
    return msgspec.convert(
        {**view, "files_limit": files_limit, "files_offset": files_offset}, StorageScanDetailResponse
    )


@post(
    "/storage/scans/{scan_id:str}/approve",
    status_code=200,
    tags=TAGS,
    summary="Approve a completed scan's plan (records consent; deletes nothing)",
    opt={**raises(409), **Policy.api_key().opt()},
)
async def approve_scan(
    request: Request[Any, Any, Any],
    ops: Service[OpsService],
    scan_id: ScanId,
    data: JSONBody[ScanApproveRequest | None] = None,
) -> StorageScanResponse:
    view = await ops.storage.approve_scan(scan_id, actor_of(request), data.note if data else None)
    return msgspec.convert(view, StorageScanResponse)


@get("/storage/steam/games", tags=TAGS, summary="Steam games found under AUTOPACK_STEAM_ROOT", opt=PUBLIC)
async def steam_games(
    ops: Service[OpsService],
    min_size_gb: Annotated[float | None, QueryParameter(ge=0, le=1_000_000)] = None,
) -> SteamGamesListResponse:
    root = ops.settings.autopack_steam_root
    if root is None or not root.is_dir():
        return SteamGamesListResponse(
            steam_available=False,
            steam_path=str(root) if root else None,
            libraries=[],
            games=[],
            total_count=0,
            total_size_bytes=0,
            total_size_gb=0.0,
            errors=[],
        )
    found = await asyncio.to_thread(scan_steam, root)
    games = [
        SteamGameOut(**msgspec.structs.asdict(g), size_gb=round(g.size_on_disk_bytes / 1024**3, 3))
        for g in found.games
        if min_size_gb is None or g.size_on_disk_bytes >= min_size_gb * 1024**3
    ]
    total = sum(g.size_on_disk_bytes for g in games)
    return SteamGamesListResponse(
        steam_available=True,
        steam_path=str(root),
        libraries=[SteamLibraryOut(**msgspec.structs.asdict(lib)) for lib in found.libraries],
        games=games,
        total_count=len(games),
        total_size_bytes=total,
        total_size_gb=round(total / 1024**3, 3),
        errors=found.errors,
    )


@post(
    "/storage/patterns/analyze",
    status_code=200,
    tags=TAGS,
    summary="Find file patterns in a completed scan (latest by default); each becomes a proposed rule",
    opt={**raises(404, 409), **PUBLIC},
)
async def analyze_patterns(
    ops: Service[OpsService], scan_id: OptionalQueryId = None
) -> list[PatternResponse]:
    return [msgspec.convert(p, PatternResponse) for p in await ops.storage.analyze_patterns(scan_id)]


@get("/storage/learned-rules", tags=TAGS, summary="Learned file organisation rules", opt=PUBLIC)
async def learned_rules(
    ops: Service[OpsService], status: FromQuery[Literal["proposed", "approved"] | None] = None
) -> list[LearnedRuleResponse]:
    return [msgspec.convert(r, LearnedRuleResponse) for r in await ops.storage.rules(status)]


@post(
    "/storage/learned-rules/{rule_id:str}/approve",
    status_code=200,
    tags=TAGS,
    summary="Approve a learned rule",
    opt=PUBLIC,
)
async def approve_rule(
    request: Request[Any, Any, Any], ops: Service[OpsService], rule_id: ScanId
) -> LearnedRuleResponse:
    return msgspec.convert(await ops.storage.approve_rule(rule_id, actor_of(request)), LearnedRuleResponse)


@get(
    "/storage/recommendations",
    tags=TAGS,
    summary="File organisation recommendations (advice; nothing is deleted)",
    opt={**raises(404, 409), **PUBLIC},
)
async def recommendations(
    ops: Service[OpsService], scan_id: OptionalQueryId = None
) -> RecommendationsListResponse:
    return msgspec.convert(await ops.storage.recommendations(scan_id), RecommendationsListResponse)


ROUTES = [
    start_scan,
    list_scans,
    scan_detail,
    approve_scan,
    steam_games,
    analyze_patterns,
    learned_rules,
    approve_rule,
    recommendations,
]

"""Storage management (contract 003 section 11) over the scan engine: scans of configured roots run
as platform jobs (kind ``storage_scan``) with progress; their files, duplicates and summaries are
stored; pattern analysis proposes learned rules; recommendations combine approved rules,
duplicates and old large files. **Nothing is ever deleted, moved or written under a root**: an
approval records the operator's consent to a plan, and recommendations are advice.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.autopack.api.ops_store import record_audit, storage_files, storage_rules, storage_scans
from ridgeline.autopack.ops_settings import OpsSettings
from ridgeline.autopack.storage_scan import scan
from ridgeline.platform.db import Database
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.jobs import JobContext
from ridgeline.platform.problems import NotFound

FAMILY, SCAN_KIND = "autopack", "storage_scan"
LARGE_FILE_BYTES = 100 * 1024 * 1024
STALE_DAYS = 365
CLUSTER_MIN_FILES = 5
INSERT_BATCH = 1000


def _scan_view(row: Any, progress: float | None = None) -> dict[str, Any]:
    r = dict(row._mapping)
    return {
        "scan_id": r["id"],
        "root": r["root"],
        "status": r["status"],
        "job_id": r["job_id"],
        "progress": 1.0 if r["status"] == "completed" else (progress or 0.0),
        "created_at": r["created_at"],
        "finished_at": r["finished_at"],
        "total_files": r["total_files"],
        "total_bytes": r["total_bytes"],
        "summary": r["summary"],
        "error": r["error"],
        "approved": r["approved_at"] is not None,
        "approved_at": r["approved_at"],
        "approved_by": r["approved_by"],
        "approval_note": r["approval_note"],
    }


def _rule_view(row: Any) -> dict[str, Any]:
    r = dict(row._mapping)
    return {
        "rule_id": r["id"],
        "pattern_type": r["pattern_type"],
        "path_pattern": r["path_pattern"],
        "category": r["category"],
        "suggested_action": r["suggested_action"],
        "confidence": r["confidence"],
        "description": r["description"],
        "file_count": r["file_count"],
        "total_bytes": r["total_bytes"],
        "status": r["status"],
        "created_at": r["created_at"],
        "approved_at": r["approved_at"],
        "approved_by": r["approved_by"],
    }


class StorageService:
    def __init__(self, ctx: Any, settings: OpsSettings, clock: Callable[[], datetime]) -> None:
        self.ctx = ctx
        self.db: Database = ctx.db
        self.settings = settings
        self.clock = clock

    # ---- scans ---------------------------------------------------------------------------------

    def allowed_root(self, root: str | None) -> Path:
        """The real path of ``root`` if it is (under) a configured root; the first root when None."""
        roots = [Path(os.path.realpath(r)) for r in self.settings.autopack_storage_roots]
        if root is None:
            if not roots:
                raise OPS.error("storage_root_not_allowed", root="(none configured: AUTOPACK_STORAGE_ROOTS)")
            return roots[0]
        if "\x00" in root:
            raise OPS.error("storage_root_not_allowed", root=repr(root))
        real = Path(os.path.realpath(root))
        if not any(real == r or r in real.parents for r in roots) or not real.is_dir():
            raise OPS.error("storage_root_not_allowed", root=root[:500])
        return real

    async def start_scan(self, root: str | None, actor: str) -> dict[str, Any]:
        path = self.allowed_root(root)
        scan_id = uuid.uuid4().hex
        now = self.clock()
        async with self.db.begin() as conn:
            await conn.execute(
                storage_scans.insert().values(
                    id=scan_id, root=str(path), status="queued", created_at=now, summary={}
                )
            )
            await record_audit(
                conn,
                kind="storage",
                subject_id=scan_id,
                at=now,
                actor=actor,
                action="scan_requested",
                outcome="queued",
                detail={"root": str(path)},
            )
        job = await self.ctx.jobs.submit(FAMILY, SCAN_KIND, {"scan_id": scan_id, "root": str(path)})
        async with self.db.begin() as conn:
            await conn.execute(
                storage_scans.update().where(storage_scans.c.id == scan_id).values(job_id=job.id)
            )
        return await self.get_scan(scan_id)

    async def run_scan_job(self, job: JobContext) -> dict[str, Any]:
        scan_id, root = job.params["scan_id"], Path(job.params["root"])
        async with self.db.begin() as conn:
            await conn.execute(
                storage_scans.update().where(storage_scans.c.id == scan_id).values(status="running")
            )
        try:
            result = await asyncio.to_thread(
                scan,
                root,
                now=self.clock(),
                progress=lambda f: job.report_progress(0.9 * f),
                check_cancelled=job.check_cancelled,
            )
        except Exception as exc:
            async with self.db.begin() as conn:
                await conn.execute(
                    storage_scans.update()
                    .where(storage_scans.c.id == scan_id)
                    .values(
                        status="failed", error=f"{type(exc).__name__}: {exc}"[:1000], finished_at=self.clock()
                    )
                )
            raise
        async with self.db.begin() as conn:
            rows = [
                {
                    "scan_id": scan_id,
                    "path": f.path,
                    "size_bytes": f.size_bytes,
                    "modified_at": f.modified_at,
                    "extension": f.extension,
                    "category": f.category,
                    "sha256": f.sha256,
                }
                for f in result.files
            ]
            for i in range(0, len(rows), INSERT_BATCH):
                await conn.execute(storage_files.insert(), rows[i : i + INSERT_BATCH])
                job.report_progress(0.9 + 0.1 * min(i + INSERT_BATCH, len(rows)) / max(len(rows), 1))
            await conn.execute(
                storage_scans.update()
                .where(storage_scans.c.id == scan_id)
                .values(
                    status="completed",
                    finished_at=self.clock(),
                    total_files=len(result.files),
                    total_bytes=result.total_bytes,
                    summary={**result.summary, "skipped": result.skipped},
                )
            )
        return {"scan_id": scan_id, "total_files": len(result.files), "total_bytes": result.total_bytes}

    async def fail_orphaned_scans(self) -> None:
        """Scans whose job the platform marked FAILED/CANCELLED at start-up (in-process jobs do not
        survive a restart) are failed too, instead of staying "running" for ever."""
        dead = self.ctx.jobs.ids_where(family=FAMILY, status=["FAILED", "CANCELLED"])
        async with self.db.begin() as conn:
            await conn.execute(
                storage_scans.update()
                .where(storage_scans.c.status.in_(["queued", "running"]), storage_scans.c.job_id.in_(dead))
                .values(status="failed", error="the scan's job did not finish", finished_at=self.clock())
            )

    async def _require_scan(self, conn: Any, scan_id: str) -> Any:
        row = (await conn.execute(storage_scans.select().where(storage_scans.c.id == scan_id))).first()
        if row is None:
            raise NotFound("storage_scan", scan_id, scan_id=scan_id)
        return row

    async def _progress(self, job_ids: list[str]) -> dict[str, float]:
        jobs = await self.ctx.jobs.get_many(job_ids)
        return {jid: job.progress for jid, job in jobs.items()}

    async def list_scans(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        async with self.db.engine.connect() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(storage_scans))).scalar_one()
            rows = (
                await conn.execute(
                    storage_scans.select()
                    .order_by(storage_scans.c.created_at.desc(), storage_scans.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        progress = await self._progress([r.job_id for r in rows if r.job_id])
        return [_scan_view(r, progress.get(r.job_id)) for r in rows], total

    async def get_scan(self, scan_id: str, *, files_limit: int = 0, files_offset: int = 0) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = await self._require_scan(conn, scan_id)
            out = _scan_view(
                row, (await self._progress([row.job_id])).get(row.job_id) if row.job_id else None
            )
            if files_limit:
                q = (
                    storage_files.select()
                    .where(storage_files.c.scan_id == scan_id)
                    .order_by(storage_files.c.size_bytes.desc(), storage_files.c.path)
                    .limit(files_limit)
                    .offset(files_offset)
                )
                out["files"] = [
                    {
                        k: r._mapping[k]
                        for k in ("path", "size_bytes", "modified_at", "extension", "category", "sha256")
                    }
                    for r in await conn.execute(q)
                ]
                out["duplicates"] = await self._duplicates(conn, scan_id)
        return out

    async def _duplicates(self, conn: Any, scan_id: str, limit: int = 100) -> list[dict[str, Any]]:
        dup = (
            sa.select(
                storage_files.c.sha256,
                sa.func.count().label("n"),
                sa.func.max(storage_files.c.size_bytes).label("size"),
            )
            .where(storage_files.c.scan_id == scan_id, storage_files.c.sha256.is_not(None))
            .group_by(storage_files.c.sha256)
            .having(sa.func.count() > 1)
            .order_by(sa.desc("size"), storage_files.c.sha256)
            .limit(limit)
            .subquery()
        )
        q = (
            sa.select(storage_files.c.sha256, storage_files.c.path, storage_files.c.size_bytes)
            .join(dup, dup.c.sha256 == storage_files.c.sha256)
            .where(storage_files.c.scan_id == scan_id)
            .order_by(storage_files.c.sha256, storage_files.c.path)
        )
        groups: dict[str, dict[str, Any]] = {}
        for sha, path, size in await conn.execute(q):
            g = groups.setdefault(sha, {"sha256": sha, "size_bytes": size, "paths": []})
            g["paths"].append(path)
        out = list(groups.values())
        for g in out:
            g["reclaimable_bytes"] = g["size_bytes"] * (len(g["paths"]) - 1)
        out.sort(key=lambda g: (-g["reclaimable_bytes"], g["sha256"]))
        return out

    async def approve_scan(self, scan_id: str, actor: str, note: str | None) -> dict[str, Any]:
        now = self.clock()
        async with self.db.begin() as conn:
            row = await self._require_scan(conn, scan_id)
            if row.status != "completed":
                raise OPS.error("storage_scan_not_ready", scan_id=scan_id, state=row.status)
            res = await conn.execute(
                storage_scans.update()
                .where(storage_scans.c.id == scan_id, storage_scans.c.approved_at.is_(None))
                .values(
                    approved_at=now, approved_by=actor[:200], approval_note=(note or None) and note[:2000]
                )
            )
            if not res.rowcount:
                raise OPS.error("storage_scan_already_approved", scan_id=scan_id)
            await record_audit(
                conn,
                kind="storage",
                subject_id=scan_id,
                at=now,
                actor=actor,
                action="scan_approved",
                outcome="approved",
                detail={"note": note or "", "deleted": 0},
            )
        return await self.get_scan(scan_id)

    # ---- patterns, rules, recommendations ------------------------------------------------------

    async def _latest_completed(self, conn: Any, scan_id: str | None) -> Any | None:
        if scan_id is not None:
            row = await self._require_scan(conn, scan_id)
            if row.status != "completed":
                raise OPS.error("storage_scan_not_ready", scan_id=scan_id, state=row.status)
            return row
        q = (
            storage_scans.select()
            .where(storage_scans.c.status == "completed")
            .order_by(storage_scans.c.finished_at.desc(), storage_scans.c.id)
            .limit(1)
        )
        return (await conn.execute(q)).first()

    async def analyze_patterns(self, scan_id: str | None) -> list[dict[str, Any]]:
        """Patterns in a completed scan (the latest by default); each is kept as a proposed learned rule."""
        now = self.clock()
        async with self.db.begin() as conn:
            row = await self._latest_completed(conn, scan_id)
            if row is None:
                return []
            files = (
                await conn.execute(
                    sa.select(
                        storage_files.c.path,
                        storage_files.c.size_bytes,
                        storage_files.c.modified_at,
                        storage_files.c.extension,
                        storage_files.c.category,
                    ).where(storage_files.c.scan_id == row.id)
                )
            ).all()
            patterns = _patterns(files, now)
            for p in patterns:
                fingerprint = sha256_hex(
                    f"{p['pattern_type']}|{row.root}|{p['path_pattern']}|{p['category']}"
                )
                existing = (
                    await conn.execute(
                        sa.select(storage_rules.c.id).where(storage_rules.c.fingerprint == fingerprint)
                    )
                ).scalar_one_or_none()
                if existing is None:
                    existing = uuid.uuid4().hex
                    await conn.execute(
                        storage_rules.insert().values(
                            id=existing,
                            fingerprint=fingerprint,
                            status="proposed",
                            created_at=now,
                            **{
                                k: p[k]
                                for k in (
                                    "pattern_type",
                                    "path_pattern",
                                    "category",
                                    "suggested_action",
                                    "confidence",
                                    "description",
                                    "file_count",
                                    "total_bytes",
                                )
                            },
                        )
                    )
                else:
                    await conn.execute(
                        storage_rules.update()
                        .where(storage_rules.c.id == existing)
                        .values(
                            file_count=p["file_count"],
                            total_bytes=p["total_bytes"],
                            confidence=p["confidence"],
                        )
                    )
                p["rule_id"] = existing
                p["scan_id"] = row.id
        return patterns

    async def rules(self, status: str | None) -> list[dict[str, Any]]:
        q = storage_rules.select().order_by(storage_rules.c.created_at, storage_rules.c.id)
        if status is not None:
            q = q.where(storage_rules.c.status == status)
        async with self.db.engine.connect() as conn:
            return [_rule_view(r) for r in await conn.execute(q)]

    async def approve_rule(self, rule_id: str, actor: str) -> dict[str, Any]:
        now = self.clock()
        async with self.db.begin() as conn:
            row = (await conn.execute(storage_rules.select().where(storage_rules.c.id == rule_id))).first()
            if row is None:
                raise NotFound("storage_rule", rule_id, rule_id=rule_id)
            if row.status != "approved":
                await conn.execute(
                    storage_rules.update()
                    .where(storage_rules.c.id == rule_id)
                    .values(status="approved", approved_at=now, approved_by=actor[:200])
                )
                await record_audit(
                    conn,
                    kind="storage_rule",
                    subject_id=rule_id,
                    at=now,
                    actor=actor,
                    action="rule_approved",
                    outcome="approved",
                    detail={},
                )
            row = (await conn.execute(storage_rules.select().where(storage_rules.c.id == rule_id))).first()
        return _rule_view(row)

    async def recommendations(self, scan_id: str | None) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = await self._latest_completed(conn, scan_id)
            if row is None:
                return {"scan_id": None, "recommendations": [], "total_potential_savings_bytes": 0}
            recs: list[dict[str, Any]] = []
            for g in await self._duplicates(conn, row.id, limit=50):
                recs.append(
                    {
                        "type": "deduplicate",
                        "action": "review_duplicates",
                        "rule_id": None,
                        "description": f"{len(g['paths'])} identical copies ({g['size_bytes']} bytes each)",
                        "potential_savings_bytes": g["reclaimable_bytes"],
                        "paths": g["paths"][:20],
                    }
                )
            approved = (
                await conn.execute(storage_rules.select().where(storage_rules.c.status == "approved"))
            ).all()
            for rule in approved:
                recs.append(
                    {
                        "type": rule.pattern_type,
                        "action": rule.suggested_action,
                        "rule_id": rule.id,
                        "description": rule.description,
                        "potential_savings_bytes": rule.total_bytes,
                        "paths": [rule.path_pattern],
                    }
                )
            large = (
                await conn.execute(
                    sa.select(storage_files.c.path, storage_files.c.size_bytes)
                    .where(storage_files.c.scan_id == row.id, storage_files.c.size_bytes >= LARGE_FILE_BYTES)
                    .order_by(storage_files.c.size_bytes.desc())
                    .limit(20)
                )
            ).all()
            if large:
                recs.append(
                    {
                        "type": "large_files",
                        "action": "review",
                        "rule_id": None,
                        "description": f"{len(large)} files of {LARGE_FILE_BYTES // (1024 * 1024)} MiB or more",
                        "potential_savings_bytes": sum(s for _p, s in large),
                        "paths": [p for p, _s in large],
                    }
                )
        recs.sort(key=lambda r: -r["potential_savings_bytes"])
        return {
            "scan_id": row.id,
            "recommendations": recs,
            "total_potential_savings_bytes": sum(r["potential_savings_bytes"] for r in recs),
        }


def _patterns(files: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Clusters of one extension in one directory, directories whose files are all stale, large files."""
    by_dir_ext: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    by_dir: dict[str, list[Any]] = defaultdict(list)
    for f in files:
        parent = f.path.rsplit("/", 1)[0] if "/" in f.path else "."
        by_dir_ext[(parent, f.extension, f.category)].append(f)
        by_dir[parent].append(f)
    out: list[dict[str, Any]] = []
    for (parent, ext, cat), group in sorted(by_dir_ext.items()):
        if len(group) < CLUSTER_MIN_FILES or not ext:
            continue
        action = "archive" if cat in ("log", "temp", "archive") else "review"
        out.append(
            {
                "pattern_type": "extension_cluster",
                "path_pattern": f"{parent}/*.{ext}",
                "category": cat,
                "suggested_action": action,
                "confidence": round(min(0.5 + len(group) / 100, 0.95), 3),
                "description": f"{len(group)} .{ext} files in {parent}",
                "file_count": len(group),
                "total_bytes": sum(f.size_bytes for f in group),
                "examples": sorted(f.path for f in group)[:5],
            }
        )
    for parent, group in sorted(by_dir.items()):
        ages = [(now - f.modified_at.astimezone(UTC)).days for f in group]
        if len(group) >= 2 and min(ages) >= STALE_DAYS:
            out.append(
                {
                    "pattern_type": "stale_directory",
                    "path_pattern": f"{parent}/*",
                    "category": "mixed",
                    "suggested_action": "archive",
                    "confidence": 0.8,
                    "description": f"every file in {parent} is older than {STALE_DAYS} days",
                    "file_count": len(group),
                    "total_bytes": sum(f.size_bytes for f in group),
                    "examples": sorted(f.path for f in group)[:5],
                }
            )
    large = [f for f in files if f.size_bytes >= LARGE_FILE_BYTES]
    if large:
        out.append(
            {
                "pattern_type": "large_files",
                "path_pattern": "**/*",
                "category": "mixed",
                "suggested_action": "review",
                "confidence": 0.6,
                "description": f"{len(large)} files of {LARGE_FILE_BYTES // (1024 * 1024)} MiB or more",
                "file_count": len(large),
                "total_bytes": sum(f.size_bytes for f in large),
                "examples": sorted(f.path for f in large)[:5],
            }
        )
    return out

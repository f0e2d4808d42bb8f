"""Local-directory ingestion: scan a source under its allowed root, extract each supported file
(.txt, .md, .json, .jsonl, text-extractable .pdf: one logical document per file), write what changed
and delete what is gone. Document identity is ``sha256(source_id, source_path, position)``, so a
re-sync updates or deletes the same rows instead of adding new ones.

Globs are :func:`fnmatch.fnmatchcase` against the source-relative POSIX path (``*`` crosses ``/``;
no brace expansion). Symlinks are resolved, and a file whose real path leaves the source root is
refused (``path_outside_root``) and listed in the run's errors; symlinked directories are not
followed."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ridgeline.genai.context import store as C

SUPPORTED = (".txt", ".md", ".json", ".jsonl", ".pdf")
_FLUSH_S = 1.0  # how often a running sync writes its progress to its run row


def document_id(source_id: str, source_path: str, position: int = 0) -> str:
    return hashlib.sha256(f"{source_id}\0{source_path}\0{position}".encode()).hexdigest()[:40]


@dataclass
class Scan:
    files: list[tuple[str, str]] = field(default_factory=list)  # (relative posix path, real path)
    refused: list[dict[str, str]] = field(default_factory=list)
    skipped: int = 0


def matches(rel: str, include: list[str], exclude: list[str]) -> bool:
    inc = include or ["*"]
    return any(fnmatch.fnmatchcase(rel, g) for g in inc) and not any(
        fnmatch.fnmatchcase(rel, g) for g in exclude
    )


def scan(root: str, include: list[str], exclude: list[str]) -> Scan:
    out = Scan()
    real_root = os.path.realpath(root)
    prefix = real_root.rstrip(os.sep) + os.sep
    for dirpath, dirnames, filenames in os.walk(real_root, followlinks=False):
        dirnames.sort()
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                dirnames.remove(d)
                rel = os.path.relpath(full, real_root).replace(os.sep, "/")
                if not os.path.realpath(full).startswith(prefix):
                    out.refused.append({"path": rel, "reason_code": "path_outside_root",
                                        "message": "a symlinked directory leaves the source root"})  # fmt: skip
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, real_root).replace(os.sep, "/")
            if not matches(rel, include, exclude):
                continue
            if not name.lower().endswith(SUPPORTED):
                out.skipped += 1
                continue
            real = os.path.realpath(full)
            if not real.startswith(prefix):
                out.refused.append({"path": rel, "reason_code": "path_outside_root",
                                    "message": "the file's real path leaves the source root"})  # fmt: skip
                continue
            out.files.append((rel, real))
    return out


class Report:
    """Counters, per-file errors and progress of one run, written to its row as it goes."""

    def __init__(self, svc: Any, run_id: str, job: Any = None) -> None:
        self.svc = svc
        self.run_id = run_id
        self.job = job
        self.counters: dict[str, int] = {k: 0 for k in (
            "files_seen", "files_processed", "files_failed", "files_skipped", "files_refused",
            "documents_created", "documents_updated", "documents_unchanged", "documents_deleted",
            "documents_rebuilt", "chunks_written")}  # fmt: skip
        self.errors: list[dict[str, str]] = []
        self.progress = 0.0
        self.sources_synced: list[str] = []
        self._flushed = 0.0

    def add(self, key: str, n: int = 1) -> None:
        self.counters[key] += n

    async def set_progress(self, fraction: float, *, force: bool = False) -> None:
        self.progress = max(self.progress, min(fraction, 1.0))
        if self.job is not None:
            self.job.report_progress(self.progress)
            self.job.check_cancelled()
        if force or time.monotonic() - self._flushed >= _FLUSH_S:
            self._flushed = time.monotonic()
            async with self.svc.db.begin() as conn:
                await conn.execute(C.sync_runs.update().where(C.sync_runs.c.id == self.run_id).values(
                    progress=self.progress, counters=self.counters, errors=self.errors[:500]))  # fmt: skip


def _extract(path: str) -> tuple[str, str, str, dict[str, Any]]:
    """(title, text, media_type, metadata) of one file, or ExtractionError."""
    from ridgeline.ai import extract

    doc = extract(path, filename=os.path.basename(path))
    meta: dict[str, Any] = {}
    if doc.media_type == "application/pdf":
        meta["page_count"] = doc.metadata.get("page_count")
    title = doc.metadata.get("title") or os.path.splitext(os.path.basename(path))[0]
    return str(title)[:500], doc.text, doc.media_type, meta


async def sync_source(svc: Any, kb: Mapping[str, Any], src: Mapping[str, Any], report: Report,
                      *, span: tuple[float, float] = (0.0, 1.0)) -> None:  # fmt: skip
    from ridgeline.ai.extraction import ExtractionError
    from ridgeline.genai.context.service import ING_BATCH_DOCS, DocIn, content_hash

    lo, hi = span
    found = await asyncio.to_thread(scan, src["path"], src["include_globs"], src["exclude_globs"])
    report.add("files_skipped", found.skipped)
    report.add("files_refused", len(found.refused))
    report.errors.extend(found.refused)
    report.add("files_seen", len(found.files))
    async with svc.db.engine.connect() as conn:
        existing = {r.id: r.content_hash for r in (await conn.execute(
            sa.select(C.documents.c.id, C.documents.c.content_hash).where(C.documents.c.source_id == src["id"]))).all()}  # fmt: skip
    keep: set[str] = set()
    pending: list[DocIn] = []
    total = max(len(found.files), 1)

    async def flush() -> None:
        if pending:
            report.add("chunks_written", await svc.write_documents(kb, pending))
            pending.clear()

    for i, (rel, real) in enumerate(found.files):
        did = document_id(src["id"], rel)
        try:
            title, text, media_type, meta = await asyncio.to_thread(_extract, real)
        except ExtractionError as exc:
            report.add("files_failed")
            report.errors.append({"path": rel, "reason_code": exc.reason_code, "message": str(exc)[:500]})
            keep.add(did)  # a file that fails keeps its last good document; only a gone file is deleted
            continue
        except OSError as exc:
            report.add("files_failed")
            report.errors.append({"path": rel, "reason_code": "file_unreadable", "message": str(exc)[:500]})
            keep.add(did)
            continue
        report.add("files_processed")
        keep.add(did)
        h = content_hash(title, text)
        if existing.get(did) == h:
            report.add("documents_unchanged")
        else:
            report.add("documents_updated" if did in existing else "documents_created")
            pending.append(DocIn(did, title, text, "local_directory", src["id"], rel, media_type, meta))
            if len(pending) >= ING_BATCH_DOCS:
                await flush()
        await report.set_progress(lo + (hi - lo) * (i + 1) / total)
    await flush()
    gone = sorted(set(existing) - keep)
    report.add("documents_deleted", await svc.delete_documents(kb, gone))
    report.sources_synced.append(src["id"])
    await report.set_progress(hi, force=True)


async def resync_kb(svc: Any, kb: Mapping[str, Any], report: Report) -> None:
    """Reconcile every active local-directory source, then rebuild the KB's vectors from the final
    stored documents (re-chunked and re-embedded)."""
    from ridgeline.genai.context.service import ING_BATCH_DOCS, DocIn

    async with svc.db.engine.connect() as conn:
        srcs = [dict(r._mapping) for r in (await conn.execute(sa.select(C.sources).where(
            C.sources.c.knowledge_base_id == kb["id"], C.sources.c.lifecycle_state == "active")
            .order_by(C.sources.c.created_at))).all()]  # fmt: skip
    n = len(srcs)
    for i, src in enumerate(srcs):
        await sync_source(svc, kb, src, report, span=(0.5 * i / max(n, 1), 0.5 * (i + 1) / max(n, 1)))
    kb = await svc.kb(kb["id"])
    await svc._drop_vectors(kb)
    async with svc.db.engine.connect() as conn:
        ids = [r.id for r in (await conn.execute(sa.select(C.documents.c.id).where(
            C.documents.c.knowledge_base_id == kb["id"]).order_by(C.documents.c.id))).all()]  # fmt: skip
    total = max(len(ids), 1)
    for start in range(0, len(ids), ING_BATCH_DOCS):
        async with svc.db.engine.connect() as conn:
            rows = (await conn.execute(sa.select(C.documents).where(
                C.documents.c.id.in_(ids[start : start + ING_BATCH_DOCS])))).all()  # fmt: skip
        docs = [DocIn(r.id, r.title, r.content, r.source_type, r.source_id, r.source_path, r.media_type, r.metadata)
                for r in rows]  # fmt: skip
        report.add("chunks_written", await svc.write_documents(kb, docs))
        report.add("documents_rebuilt", len(docs))
        await report.set_progress(0.5 + 0.5 * min(start + ING_BATCH_DOCS, len(ids)) / total)
    await report.set_progress(1.0, force=True)

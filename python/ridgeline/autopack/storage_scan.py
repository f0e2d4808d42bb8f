"""Storage scans (contract 003 section 11): walk a configured root, record each file's size, type
and age, and find duplicates by content hash. Read-only by construction: this module opens files
only to hash them, never writes, moves or deletes anything under a root.

Symlinks are not followed (a link out of the root must not make the scan read elsewhere) and are
not counted. Only files sharing their size with another file are hashed (SHA-256), since files of
different sizes cannot be duplicates; that keeps the hashing to the candidates.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from ridgeline.platform.hashing import sha256_file

CATEGORIES: dict[str, tuple[str, ...]] = {
    "image": ("jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "heic", "svg", "raw"),
    "video": ("mp4", "mkv", "avi", "mov", "wmv", "webm", "m4v", "flv"),
    "audio": ("mp3", "wav", "flac", "aac", "ogg", "m4a", "wma"),
    "document": ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "txt", "md", "rtf", "csv"),
    "archive": ("zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst"),
    "code": (
        "py",
        "rs",
        "js",
        "ts",
        "java",
        "c",
        "h",
        "cpp",
        "go",
        "rb",
        "sh",
        "json",
        "yaml",
        "yml",
        "toml",
        "html",
        "css",
    ),
    "executable": ("exe", "msi", "dll", "so", "dylib", "bin", "appimage", "deb", "rpm", "dmg", "iso"),
    "log": ("log", "out", "err"),
    "temp": ("tmp", "temp", "bak", "old", "swp", "cache", "part", "crdownload"),
}
_BY_EXT = {ext: cat for cat, exts in CATEGORIES.items() for ext in exts}
MAX_PATH = 4000  # autopack_storage_files.path
AGE_BUCKETS = ((30, "under_30_days"), (180, "30_to_180_days"), (365, "180_to_365_days"))


def category_of(name: str) -> tuple[str, str]:
    ext = name.rsplit(".", 1)[1].lower()[:32] if "." in name.lstrip(".") else ""
    return ext, _BY_EXT.get(ext, "other")


def age_bucket(age_days: float) -> str:
    for limit, name in AGE_BUCKETS:
        if age_days < limit:
            return name
    return "over_1_year"


class ScannedFile(msgspec.Struct, frozen=True):
    path: str  # relative to the root, "/"-separated
    size_bytes: int
    modified_at: datetime
    extension: str
    category: str
    sha256: str | None


class ScanResult(msgspec.Struct):
    files: list[ScannedFile]
    total_bytes: int
    summary: dict[str, object]
    skipped: int


def scan(
    root: Path,
    *,
    now: datetime | None = None,
    progress: Callable[[float], None] = lambda _f: None,
    check_cancelled: Callable[[], None] = lambda: None,
) -> ScanResult:
    """Scan ``root`` (a directory): every regular file under it, symlinks not followed."""
    now = now or datetime.now(UTC)
    entries: list[tuple[str, Path, int, float]] = []
    skipped = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        check_cancelled()
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not (base / d).is_symlink())
        for name in sorted(filenames):
            full = base / name
            try:
                st = full.lstat()
            except OSError:
                skipped += 1
                continue
            if not stat.S_ISREG(st.st_mode):  # symlinks, sockets, devices
                skipped += 1
                continue
            rel = full.relative_to(root).as_posix()
            if len(rel) > MAX_PATH:  # longer than the column holds: counted as skipped, not cut
                skipped += 1
                continue
            entries.append((rel, full, st.st_size, st.st_mtime))
    progress(0.3)
    by_size: dict[int, list[int]] = defaultdict(list)
    for i, (_rel, _full, size, _mtime) in enumerate(entries):
        by_size[size].append(i)
    candidates = [i for size, idx in by_size.items() if len(idx) > 1 and size > 0 for i in idx]
    hashes: dict[int, str] = {}
    to_hash = sum(entries[i][2] for i in candidates) or 1
    hashed = 0
    for i in candidates:
        check_cancelled()
        try:
            hashes[i] = sha256_file(entries[i][1])
        except OSError:
            skipped += 1
        hashed += entries[i][2]
        progress(0.3 + 0.65 * hashed / to_hash)
    files: list[ScannedFile] = []
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "bytes": 0})
    by_age: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "bytes": 0})
    for i, (rel, _full, size, mtime) in enumerate(entries):
        ext, cat = category_of(rel.rsplit("/", 1)[-1])
        modified = datetime.fromtimestamp(mtime, UTC)
        files.append(ScannedFile(rel, size, modified, ext, cat, hashes.get(i)))
        by_category[cat]["files"] += 1
        by_category[cat]["bytes"] += size
        bucket = age_bucket((now - modified).total_seconds() / 86400)
        by_age[bucket]["files"] += 1
        by_age[bucket]["bytes"] += size
    groups: dict[str, list[ScannedFile]] = defaultdict(list)
    for f in files:
        if f.sha256:
            groups[f.sha256].append(f)
    dup_groups = [g for g in groups.values() if len(g) > 1]
    summary: dict[str, object] = {
        "by_category": dict(by_category),
        "by_age": dict(by_age),
        "duplicate_groups": len(dup_groups),
        "duplicate_files": sum(len(g) for g in dup_groups),
        # Bytes freed by keeping one copy of each group (a recommendation; nothing is deleted).
        "duplicate_reclaimable_bytes": sum(g[0].size_bytes * (len(g) - 1) for g in dup_groups),
    }
    progress(1.0)
    return ScanResult(files, sum(f.size_bytes for f in files), summary, skipped)

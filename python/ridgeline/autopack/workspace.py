"""Paths inside a run directory, resolved so that nothing a client names can leave it.

A client-supplied relative path is refused (:class:`UnsafePath`) when, after percent-decoding it
until it stops changing (bounded), it is empty, holds a NUL or other control byte, is absolute
(POSIX, Windows drive ``C:``, UNC ``\\\\host``), has a ``..`` segment (either separator), or when
its *real* path (symlinks resolved) is not under the run directory's real path. The last check is
the one that matters; the others give a precise reason and refuse before touching the disk.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from ridgeline.platform.problems import EngineError

_DRIVE = re.compile(r"^[A-Za-z]:")
_IIS_UNICODE = re.compile(r"%u([0-9a-fA-F]{4})")
# Characters some file systems, proxies or normalisers treat as a path separator.
_SLASHES = str.maketrans({c: "/" for c in "\\\u2215\u2216\u2044\u29f8\u29f9\uff0f\uff3c"})
_MAX_DECODES = 4


class UnsafePath(EngineError):
    """400 ``invalid_path``: the path would leave the run directory (or is malformed)."""

    def __init__(self, why: str) -> None:
        super().__init__(400, "invalid_path", f"Invalid artifact path: {why}.", why=why)


def _decoded_forms(raw: str) -> list[str]:
    """``raw`` and each successive decoding (percent, IIS ``%uXXXX``, NFKC) until a fixed point."""
    forms = [raw]
    for _ in range(_MAX_DECODES):
        cur = forms[-1]
        nxt = _IIS_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), cur)
        nxt = unquote(nxt, errors="strict")
        nxt = unicodedata.normalize("NFKC", nxt)
        if nxt == cur:
            break
        forms.append(nxt)
    else:
        raise UnsafePath("encoded more times than any legitimate path")
    return forms


def _segment_is_unsafe(seg: str) -> bool:
    # "..", and what some servers turn into it: "...", "....", "..;", ".. " (Windows drops trailing
    # dots and spaces, Tomcat drops ";params").
    core = seg.split(";", 1)[0].rstrip(" .")
    return seg.startswith("..") or (core == "" and seg != "")


def check_relative(raw: str) -> PurePosixPath:
    """The normalised relative path ``raw`` names, or :class:`UnsafePath`. Every decoded form is
    checked, so ``%252e%252e%252f`` is refused like ``../``."""
    if not raw or not raw.strip():
        raise UnsafePath("empty path")
    try:
        forms = _decoded_forms(raw)
    except UnicodeDecodeError:
        raise UnsafePath("invalid (overlong or truncated) UTF-8 once decoded") from None
    for form in forms:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in form):
            raise UnsafePath("control character (NUL) in path")
        if "\ufffd" in form:  # what a lenient decoder made of overlong or invalid UTF-8
            raise UnsafePath("invalid (overlong or truncated) UTF-8 once decoded")
        unified = form.translate(_SLASHES)
        if unified.startswith("/") or _DRIVE.match(unified) or unified.startswith("~"):
            raise UnsafePath("absolute path")
        parts = [p for p in unified.split("/") if p not in ("", ".")]
        if any(_segment_is_unsafe(p) for p in parts):
            raise UnsafePath("parent directory segment")
        if any(":" in p for p in parts):  # Windows drive-relative paths, alternate data streams, URLs
            raise UnsafePath("colon in path segment")
    rel = PurePosixPath(*[p for p in forms[-1].translate(_SLASHES).split("/") if p not in ("", ".")])
    if not rel.parts:
        raise UnsafePath("empty path")
    return rel


def resolve_inside(root: Path, raw: str) -> Path:
    """The real path of ``raw`` under ``root``; refuses anything whose real path leaves ``root``
    (symlinks included)."""
    rel = check_relative(raw)
    base = root.resolve()
    try:
        target = (base / rel).resolve(strict=False)
    except (OSError, RuntimeError):  # a symlink loop, a name too long for the file system
        raise UnsafePath("cannot be resolved") from None
    if target != base and not target.is_relative_to(base):
        raise UnsafePath("resolves outside the run directory")
    return target


def walk_files(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Regular files under ``root`` (relative POSIX path, stat), never following a symlink: linked
    files and directories are skipped, so the index cannot list anything outside the run."""
    if not root.is_dir() or root.is_symlink():
        return
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                yield Path(entry.path).relative_to(root).as_posix(), st

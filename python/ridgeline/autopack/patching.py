"""Apply a builder's unified diff to a run's workspace: all files or none.

Parsing is the ``unidiff`` library's (hunk lengths counted, ``/dev/null`` for added and removed
files, ``\\ No newline at end of file``, renames). Applying is ours and strict: every context and
removed line of a hunk must match the file exactly, at the line the hunk names or at the nearest
offset where it matches (GNU patch's offset search, no fuzz). Every path is checked with
:func:`ridgeline.autopack.workspace.resolve_inside` before anything is read.

Nothing is written until every file's new content has been computed; then each file is written to a
temporary file beside it and moved into place, and a failure while moving restores the files already
replaced. A patch that does not apply, or names a path outside the workspace, changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import unidiff
from unidiff.constants import (
    LINE_TYPE_ADDED,
    LINE_TYPE_CONTEXT,
    LINE_TYPE_EMPTY,
    LINE_TYPE_NO_NEWLINE,
    LINE_TYPE_REMOVED,
)

from ridgeline.autopack.workspace import UnsafePath, resolve_inside
from ridgeline.platform.problems import EngineError

ChangeKind = Literal["added", "modified", "deleted", "renamed"]


class PatchError(EngineError):
    """422 ``patch_malformed`` / ``patch_unsupported``, 409 ``patch_does_not_apply``, 400
    ``patch_path_outside_workspace``."""


@dataclass(frozen=True)
class FileChange:
    path: str
    kind: ChangeKind
    lines_added: int
    lines_removed: int
    source_path: str | None = None


@dataclass
class PatchOutcome:
    files: list[FileChange] = field(default_factory=list)

    @property
    def lines_added(self) -> int:
        return sum(f.lines_added for f in self.files)

    @property
    def lines_removed(self) -> int:
        return sum(f.lines_removed for f in self.files)


def _strip_prefix(name: str) -> str:
    # unidiff keeps git's a/ and b/ prefixes on source_file / target_file
    for prefix in ("a/", "b/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _hunk_sides(hunk: unidiff.Hunk) -> tuple[list[str], list[str]]:
    old: list[str] = []
    new: list[str] = []
    last: str | None = None
    for line in hunk:
        kind = line.line_type
        if kind == LINE_TYPE_NO_NEWLINE:
            # The previous line had no newline at the end of its side(s).
            if last in (" ", "-") and old:
                old[-1] = old[-1].removesuffix("\n")
            if last in (" ", "+") and new:
                new[-1] = new[-1].removesuffix("\n")
            continue
        if kind in (LINE_TYPE_CONTEXT, LINE_TYPE_EMPTY):
            old.append(line.value)
            new.append(line.value)
        elif kind == LINE_TYPE_REMOVED:
            old.append(line.value)
        elif kind == LINE_TYPE_ADDED:
            new.append(line.value)
        last = kind
    return old, new


def _find(lines: list[str], old: list[str], expected: int, floor: int) -> int | None:
    """Where ``old`` occurs in ``lines`` at or after ``floor``, nearest to ``expected``."""
    n = len(old)
    if n == 0:
        return min(max(expected, floor), len(lines))
    limit = len(lines) - n
    for delta in range(max(limit + 1, 1)):
        for pos in (expected - delta, expected + delta) if delta else (expected,):
            if floor <= pos <= limit and lines[pos : pos + n] == old:
                return pos
        if expected - delta < floor and expected + delta > limit:
            break
    return None


def _apply_file(path: str, lines: list[str], pfile: unidiff.PatchedFile) -> list[str]:
    out: list[str] = []
    cursor = 0
    for number, hunk in enumerate(pfile, start=1):
        old, new = _hunk_sides(hunk)
        expected = max(hunk.source_start - 1, 0) if old else hunk.source_start
        pos = _find(lines, old, expected, cursor)
        if pos is None:
            raise PatchError(
                409,
                "patch_does_not_apply",
                f"Hunk {number} of {path} does not match the workspace (expected at line {hunk.source_start}).",
                path=path,
                hunk=number,
            )
        out.extend(lines[cursor:pos])
        out.extend(new)
        cursor = pos + len(old)
    out.extend(lines[cursor:])
    return out


def _read_lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8", errors="surrogateescape").splitlines(keepends=True)


def _checked(workspace: Path, name: str) -> Path:
    try:
        return resolve_inside(workspace, name)
    except UnsafePath as exc:
        raise PatchError(
            400,
            "patch_path_outside_workspace",
            f"The patch names a path outside the run's workspace: {name!r} ({exc.extra['why']}).",
            path=name,
        ) from None


def plan(workspace: Path, diff_text: str) -> tuple[PatchOutcome, dict[Path, list[str] | None]]:
    """The changes ``diff_text`` makes and each touched file's new lines (None: delete), without
    writing anything."""
    try:
        patch = unidiff.PatchSet(diff_text)
    except (unidiff.UnidiffParseError, ValueError) as exc:
        raise PatchError(422, "patch_malformed", f"The patch is not a valid unified diff: {exc}.") from None
    if len(patch) == 0:
        raise PatchError(422, "patch_malformed", "The patch is not a valid unified diff: it changes no file.")
    state: dict[Path, list[str] | None] = {}
    outcome = PatchOutcome()
    for pfile in patch:
        if pfile.is_binary_file:
            raise PatchError(422, "patch_unsupported", "Binary patches are not supported.", path=pfile.path)
        added, removed = pfile.is_added_file, pfile.is_removed_file
        if added and removed:  # /dev/null on both sides names no file (found by fuzzing)
            raise PatchError(
                422,
                "patch_malformed",
                "The patch is not a valid unified diff: a file diff from /dev/null to /dev/null.",
            )
        source_name = _strip_prefix(pfile.source_file)
        target_name = _strip_prefix(pfile.target_file)
        source = None if added else _checked(workspace, source_name)
        target = None if removed else _checked(workspace, target_name)
        display = target_name if target is not None else source_name

        def current(p: Path) -> list[str] | None:
            if p in state:
                return state[p]
            return _read_lines(p) if p.is_file() else None

        if added:
            assert target is not None
            if current(target) is not None or target.is_dir():
                raise PatchError(
                    409, "patch_does_not_apply", f"{display} already exists in the workspace.", path=display
                )
            base: list[str] = []
        else:
            assert source is not None
            existing = current(source)
            if existing is None:
                raise PatchError(
                    409,
                    "patch_does_not_apply",
                    f"{source_name} does not exist in the workspace.",
                    path=display,
                )
            base = existing
        new_lines = _apply_file(display, base, pfile)
        if removed:
            assert source is not None
            if new_lines:
                raise PatchError(
                    409,
                    "patch_does_not_apply",
                    f"{display} has content the deletion does not remove.",
                    path=display,
                )
            state[source] = None
            kind: ChangeKind = "deleted"
        else:
            assert target is not None
            kind = "added" if added else "modified"
            if source is not None and source != target:
                if current(target) is not None:
                    raise PatchError(
                        409, "patch_does_not_apply", f"Rename target {display} already exists.", path=display
                    )
                state[source] = None
                kind = "renamed"
            state[target] = new_lines
        outcome.files.append(
            FileChange(
                path=display,
                kind=kind,
                lines_added=pfile.added,
                lines_removed=pfile.removed,
                source_path=source_name if kind == "renamed" else None,
            )
        )
    return outcome, state


def apply(workspace: Path, diff_text: str) -> PatchOutcome:
    """Apply ``diff_text`` to ``workspace`` completely, or raise :class:`PatchError` having changed
    nothing."""
    workspace.mkdir(parents=True, exist_ok=True)
    outcome, state = plan(workspace, diff_text)
    staged: list[tuple[Path, Path | None]] = []  # (target, temp file or None to delete)
    try:
        for target, lines in state.items():
            if lines is None:
                staged.append((target, None))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".patch-", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write("".join(lines).encode("utf-8", errors="surrogateescape"))
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            staged.append((target, Path(tmp)))
    except OSError:
        for _, tmp in staged:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise
    done: list[tuple[Path, bytes | None]] = []  # (target, its bytes before, None if it was absent)
    try:
        for target, tmp in staged:
            before = target.read_bytes() if target.is_file() else None
            if tmp is None:
                target.unlink()
            else:
                os.replace(tmp, target)
            done.append((target, before))
    except OSError:
        for target, before in reversed(done):
            if before is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(before)
        for _, tmp in staged:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise
    return outcome

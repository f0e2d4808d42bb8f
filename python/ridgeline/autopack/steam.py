"""Steam library detection (contract 003 section 11): read ``steamapps/libraryfolders.vdf`` under a
Steam root and each library's ``steamapps/appmanifest_*.acf`` with the ``vdf`` library (Valve's
KeyValues text format). Both the current ``libraryfolders`` layout (numbered blocks with ``path``)
and the legacy ``LibraryFolders`` one (numbered keys whose value is the path) are understood; the
root itself is always a library. Read-only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import vdf


class SteamLibrary(msgspec.Struct, frozen=True):
    path: str
    available: bool
    label: str | None = None


class SteamGame(msgspec.Struct, frozen=True):
    app_id: str
    name: str
    install_dir: str
    library_path: str
    size_on_disk_bytes: int
    last_updated: datetime | None
    last_played: datetime | None
    installed: bool  # the install directory exists


class SteamScan(msgspec.Struct, frozen=True):
    libraries: list[SteamLibrary]
    games: list[SteamGame]
    errors: list[str]


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        return vdf.load(fh)


def _ci(mapping: dict[str, Any], key: str) -> Any:
    """KeyValues keys are case-insensitive (``LibraryFolders`` vs ``libraryfolders``)."""
    for k, v in mapping.items():
        if k.lower() == key.lower():
            return v
    return None


def _int(value: Any) -> int:
    try:
        return max(int(str(value)), 0)
    except (TypeError, ValueError):
        return 0


def _time(value: Any) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def library_paths(steam_root: Path) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(path, label) of each library, the root first; errors met while reading."""
    out: list[tuple[str, str | None]] = [(str(steam_root), None)]
    errors: list[str] = []
    file = steam_root / "steamapps" / "libraryfolders.vdf"
    if not file.is_file():
        return out, errors
    try:
        doc = _load(file)
    except (OSError, SyntaxError, ValueError) as exc:
        return out, [f"libraryfolders.vdf: {type(exc).__name__}: {exc}"]
    block = _ci(doc, "libraryfolders") or {}
    for key, value in block.items():
        if not key.isdigit():
            continue  # TimeNextStatsReport, ContentStatsID ...
        if isinstance(value, dict):
            path, label = _ci(value, "path"), _ci(value, "label") or None
        else:
            path, label = value, None
        if isinstance(path, str) and path and all(Path(path) != Path(p) for p, _ in out):
            out.append((path, label))
    return out, errors


def scan_steam(steam_root: Path) -> SteamScan:
    libraries: list[SteamLibrary] = []
    games: list[SteamGame] = []
    paths, errors = library_paths(steam_root)
    for path, label in paths:
        apps = Path(path) / "steamapps"
        available = apps.is_dir()
        libraries.append(SteamLibrary(path, available, label))
        if not available:
            continue
        for manifest in sorted(apps.glob("appmanifest_*.acf")):
            try:
                state = _ci(_load(manifest), "AppState")
            except (OSError, SyntaxError, ValueError) as exc:
                errors.append(f"{manifest.name}: {type(exc).__name__}: {exc}")
                continue
            if not isinstance(state, dict) or _ci(state, "appid") is None:
                errors.append(f"{manifest.name}: no AppState/appid")
                continue
            install_dir = str(_ci(state, "installdir") or "")
            games.append(
                SteamGame(
                    app_id=str(_ci(state, "appid")),
                    name=str(_ci(state, "name") or ""),
                    install_dir=install_dir,
                    library_path=path,
                    size_on_disk_bytes=_int(_ci(state, "SizeOnDisk")),
                    last_updated=_time(_ci(state, "LastUpdated")),
                    last_played=_time(_ci(state, "LastPlayed")),
                    installed=bool(install_dir) and (apps / "common" / install_dir).is_dir(),
                )
            )
    games.sort(key=lambda g: (-g.size_on_disk_bytes, g.name))
    return SteamScan(libraries, games, errors)

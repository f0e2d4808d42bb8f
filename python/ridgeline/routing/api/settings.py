"""The routing family's settings (``RIDGELINE_ROUTING_*``), validated at start-up with the platform's.

| variable | meaning | default |
|---|---|---|
| RIDGELINE_ROUTING_ASSETS | directory built by ``ridgeline assets build`` | unset = the sample region (seeded) |
| RIDGELINE_ROUTING_TRUSTED_KEYS | extra Ed25519 public keys (base64, comma-separated) trusted to sign assets | none |
| RIDGELINE_ROUTING_DEM_VERSION | refuse assets whose DEM version differs | unset = any |
| RIDGELINE_ROUTING_MIN_COVERAGE | least terrain coverage (0..1) an asset must have | 0.9 |
| RIDGELINE_ROUTING_HEURISTIC_CACHE_MB | bytes (MB) of Pareto heuristics (backward searches per target) the native core keeps between queries; read once per process, at the first search | 64 in the service (the core's own default, 4, holds 2 Andorra targets on the turn-expanded graph) |
| RIDGELINE_ROUTING_RUNS_SYNC | SQLite: ``full`` fsyncs the WAL at each run-record commit (a run id given out survives power loss), ``normal`` only at checkpoints (survives a process crash, not power loss) | full |
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from ridgeline.platform.settings import SettingsError


class RoutingSettings(msgspec.Struct, frozen=True, kw_only=True):
    assets: Path | None = None
    trusted_keys: list[str] = []
    dem_version: str | None = None
    min_coverage: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.9
    runs_sync: Literal["full", "normal"] = "full"
    heuristic_cache_mb: Annotated[float, msgspec.Meta(ge=0.0, le=65536.0)] = 64.0

    def validate(self) -> None:
        if self.assets is not None and not self.assets.is_dir():
            raise SettingsError(f"RIDGELINE_ROUTING_ASSETS is not a directory: {self.assets}")

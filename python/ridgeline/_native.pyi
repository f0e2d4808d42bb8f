"""Type stubs for the PyO3 extension `ridgeline._native` (thin bindings over ridgeline-core)."""

from typing import TypedDict

class BuildInfo(TypedDict):
    version: str
    profile: str
    target: str
    target_features: list[str]

def build_info() -> BuildInfo: ...

"""The autopack family's settings, under the contract's own variable names (contract 003).

``AUTOPACK_*`` variables are read by the composer through ``Family.settings`` (a bad value stops
``ridgeline serve`` with a message naming the variable); the contract's three unprefixed variables
(``DEBUG_DB_IDENTITY``, ``QDRANT_URL``, ``AUTO_APPROVE_BUILD113``) are read by :func:`unprefixed`.
The API key (``AUTOPACK_API_KEY``) is not here: the platform's ``AuthSettings`` holds it as the
bootstrap key (a ``SecretStr``, never logged).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from ridgeline.platform.settings import load_env_struct

PREFIX = "AUTOPACK_"


class AutopackSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``AUTOPACK_<FIELD>``. Kill switches default OFF."""

    env: Literal["development", "production"] = "development"
    public_read: bool = False
    enable_consolidated_metrics: bool = False
    enable_phase6_metrics: bool = False
    # Where run directories (artifacts, the patch workspace) live; default <data dir>/autopack/runs.
    runs_dir: Path | None = None
    # The human-notes file; default <data dir>/autopack/human_notes.md.
    notes_file: Path | None = None
    # Largest unified diff a builder result may carry.
    max_patch_bytes: Annotated[int, msgspec.Meta(ge=1, le=64 * 1024 * 1024)] = 8 * 1024 * 1024


class UnprefixedSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The contract's variables without the ``AUTOPACK_`` prefix."""

    debug_db_identity: bool = False
    qdrant_url: str | None = None
    # Contract 003: auto-approve risky decisions unless set to false (shown by /health).
    auto_approve_build113: bool = True


def unprefixed(env: Mapping[str, str] | None = None) -> UnprefixedSettings:
    return load_env_struct(UnprefixedSettings, "", env)


def load(env: Mapping[str, str] | None = None) -> AutopackSettings:
    return load_env_struct(AutopackSettings, PREFIX, env)

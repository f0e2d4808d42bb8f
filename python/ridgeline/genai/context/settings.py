"""Settings of context management, under the contract's own names (no ``RIDGELINE_`` prefix, as the
rest of the genai family reads them: :mod:`ridgeline.genai.settings`).

| variable | meaning | default |
|---|---|---|
| CONTEXT_SOURCE_ROOTS | comma-separated directories that local_directory sources must live under | none (no source can be created) |
| CONTEXT_UPLOAD_MAX_BYTES | largest accepted upload (one file) | 20 MiB |
| CONTEXT_EMBED_BATCH | chunks embedded per provider call during ingestion | 128 |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec

from ridgeline.platform.settings import load_env_struct


class ContextSettings(msgspec.Struct, frozen=True, kw_only=True):
    context_source_roots: list[str] = []
    context_upload_max_bytes: Annotated[int, msgspec.Meta(ge=1, le=1 << 31)] = 20 * 1024 * 1024
    context_embed_batch: Annotated[int, msgspec.Meta(ge=1, le=4096)] = 128


def load_context_settings(env: Mapping[str, str] | None = None, **overrides: object) -> ContextSettings:
    return load_env_struct(ContextSettings, "", env, **overrides)

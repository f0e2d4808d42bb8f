"""The one SHA-256 helper (bytes, files, canonical JSON); stdlib and msgspec only, so engines may use it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec

_CANONICAL = msgspec.json.Encoder(order="sorted")


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of ``data`` (a str is hashed as UTF-8)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def canonical_sha256(obj: Any) -> str:
    """SHA-256 of the canonical JSON (keys sorted, compact) of builtins or Structs."""
    return hashlib.sha256(_CANONICAL.encode(obj)).hexdigest()

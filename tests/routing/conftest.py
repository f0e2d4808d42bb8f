from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def data_file(rel: str) -> Path:
    """A file under ``<project root>/../shared/data``, or skip the test when it is absent."""
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"real data file {p} is absent (see ../shared/data/README.md)")
    return p

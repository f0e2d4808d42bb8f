"""docs/autopack.md's reason-code table lists exactly the family's catalogue."""

from __future__ import annotations

from pathlib import Path

from ridgeline.app import load_family
from ridgeline.platform.testing import documented_reason_codes

ROOT = Path(__file__).resolve().parents[3]


def test_reason_code_table_matches_the_catalogue() -> None:
    fam = load_family("autopack")
    assert fam.reason_codes is not None
    documented = documented_reason_codes(ROOT / p for p in fam.doc_pages)
    assert documented == fam.reason_codes.codes, {
        "undocumented": sorted(fam.reason_codes.codes - documented),
        "not in catalogue": sorted(documented - fam.reason_codes.codes),
    }

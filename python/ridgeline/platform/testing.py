"""Helpers for family tests (no pytest dependency): the reason codes a doc page lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_HEADING = re.compile(r"^#{2,6}\s+(.*)$")
_CODE = re.compile(r"`([A-Za-z][A-Za-z0-9_]*)`")


def documented_reason_codes(pages: Iterable[Path]) -> set[str]:
    """Codes in the first column of the tables under a "Reason codes" heading of the pages.

    A row may list several codes (``| `run_not_found`, `job_not_found` | 404 | ... |``).
    """
    codes: set[str] = set()
    for page in pages:
        in_section = False
        for line in Path(page).read_text(encoding="utf-8").splitlines():
            heading = _HEADING.match(line)
            if heading:
                in_section = "reason code" in heading.group(1).lower()
                continue
            if in_section and line.startswith("|"):
                first = line.strip("|").split("|", 1)[0]
                codes.update(_CODE.findall(first))
    return codes

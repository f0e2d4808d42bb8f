"""The platform auth catalogue (ridgeline.platform.auth.errors) and docs/security.md "Reason codes"
list the same codes, and the new endpoints answer only with catalogued codes."""

from __future__ import annotations

from pathlib import Path

from ridgeline.platform.auth.errors import REASON_CODES
from ridgeline.platform.testing import documented_reason_codes

ROOT = Path(__file__).resolve().parents[3]


def test_security_page_lists_exactly_the_auth_catalogue() -> None:
    documented = documented_reason_codes([ROOT / "docs" / "security.md"])
    assert documented == REASON_CODES.codes, {
        "undocumented": sorted(REASON_CODES.codes - documented),
        "not in catalogue": sorted(documented - REASON_CODES.codes),
    }


def test_every_code_raised_in_the_auth_package_is_catalogued() -> None:
    import re

    raised: set[str] = set()
    for path in (ROOT / "python" / "ridgeline" / "platform" / "auth").glob("*.py"):
        text = path.read_text()
        raised.update(re.findall(r'RidgelineError\(\s*\d{3},\s*"([a-z_]+)"', text))
        raised.update(re.findall(r'UserError\(\s*"([a-z_]+)"', text))
        raised.update(re.findall(r'_deny\(\s*connection,\s*\d{3},\s*"([a-z_]+)"', text))
    assert raised and raised <= REASON_CODES.codes, sorted(raised - REASON_CODES.codes)

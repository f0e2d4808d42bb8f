"""The engines are embeddable: importing them must not pull in the server, the ORM or the app."""

import subprocess
import sys

import pytest

from ridgeline.platform.modules import module_exists

SERVER_MODULES = ("litestar", "sqlalchemy", "granian", "alembic", "ridgeline.app", "ridgeline.platform.db")
ENGINES = ["ridgeline"] + [
    f"ridgeline.{f}" for f in ("routing", "sim", "retail") if module_exists(f"ridgeline.{f}")
]


@pytest.mark.parametrize("module", ENGINES)
def test_engine_import_pulls_in_no_server_code(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"bad = [m for m in {SERVER_MODULES!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "", f"{module} imported server modules: {out.stdout.strip()}"

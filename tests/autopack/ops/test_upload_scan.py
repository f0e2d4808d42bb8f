"""Uploads are scanned for malware when RIDGELINE_CLAMD_URL is set (platform/scanning.py): a flagged
file is 422 ``file_infected`` and leaves neither a file nor a record; a daemon that cannot be reached
is 503 ``scanner_unavailable``, also leaving nothing."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tests.autopack.ops.conftest import KEY, call, ops_of
from tests.clamav import EICAR

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"

pytestmark = pytest.mark.db


@pytest.fixture
def clamd_url(clamd) -> str:  # type: ignore[no-untyped-def]
    return clamd.url


@pytest.fixture
def settings(settings, clamd_url: str):  # type: ignore[no-untyped-def]
    return msgspec.structs.replace(settings, clamd_url=clamd_url)


def _records(client) -> int:  # type: ignore[no-untyped-def]
    from ridgeline.autopack.api.ops_store import uploads

    async def count() -> int:
        async with ops_of(client).db.engine.connect() as conn:
            return len((await conn.execute(uploads.select())).all())

    return call(client, count)


def test_a_flagged_upload_is_refused_and_leaves_nothing(make_ops_client, ops_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    up = tmp_path / "uploads"
    ops_env(AUTOPACK_UPLOAD_DIR=str(up))
    c = make_ops_client()
    r = c.post("/files/upload", files={"file": ("invoice.pdf", PDF + EICAR, "application/pdf")}, headers=KEY)
    assert r.status_code == 422 and r.json()["reason_code"] == "file_infected", r.text
    assert "Ridgeline.Test.EICAR" in r.json()["detail"]
    assert (sorted(up.iterdir()) if up.exists() else []) == [] and _records(c) == 0
    ok = c.post("/files/upload", files={"file": ("invoice.pdf", PDF, "application/pdf")}, headers=KEY)
    assert ok.status_code == 201, ok.text
    assert [p.name for p in up.iterdir()] == [ok.json()["filename"]] and _records(c) == 1


@pytest.mark.parametrize("clamd_url", ["unix:///nonexistent/clamd.sock"])
def test_without_a_reachable_scanner_nothing_is_stored(make_ops_client, ops_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    up = tmp_path / "uploads"
    ops_env(AUTOPACK_UPLOAD_DIR=str(up))
    c = make_ops_client()
    r = c.post("/files/upload", files={"file": ("invoice.pdf", PDF, "application/pdf")}, headers=KEY)
    assert r.status_code == 503 and r.json()["reason_code"] == "scanner_unavailable", r.text
    assert (sorted(up.iterdir()) if up.exists() else []) == [] and _records(c) == 0

"""Asset imports are scanned for malware when RIDGELINE_CLAMD_URL is set: a flagged file is 422
``file_infected`` and no asset is created; an unreachable scanner is 503 ``scanner_unavailable``."""

from __future__ import annotations

from tests.clamav import EICAR
from tests.sim.api_helpers import SIM, assert_error
from tests.sim.test_api_assets import two_part_stl, upload


def _meshes(c) -> int:  # type: ignore[no-untyped-def]
    return c.get(f"{SIM}/api/assets", params={"kind": "mesh"}).json()["count"]


def test_a_flagged_asset_is_refused_and_nothing_is_created(make_client, clamd) -> None:  # type: ignore[no-untyped-def]
    c = make_client(clamd_url=clamd.url)
    stl = two_part_stl()
    body = assert_error(upload(c, "parts.stl", stl + EICAR), 422, "file_infected")
    assert clamd.signature in body["detail"]
    assert _meshes(c) == 0
    assert upload(c, "parts.stl", stl).status_code == 201
    assert _meshes(c) == 1


def test_an_unreachable_scanner_refuses_the_import(make_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = make_client(clamd_url=f"unix://{tmp_path / 'none.sock'}")
    assert_error(upload(c, "parts.stl", two_part_stl()), 503, "scanner_unavailable")
    assert _meshes(c) == 0

"""Knowledge-base uploads are scanned for malware when RIDGELINE_CLAMD_URL is set: a flagged file is
422 ``file_infected`` and no document, chunk or vector is stored."""

from __future__ import annotations

import msgspec
import pytest

from tests.clamav import EICAR

KBS = "/v1/context/knowledge-bases"


@pytest.fixture
def settings(settings, clamd):  # type: ignore[no-untyped-def]
    return msgspec.structs.replace(settings, clamd_url=clamd.url)


def test_a_flagged_upload_stores_no_document(cx) -> None:  # type: ignore[no-untyped-def]
    kb = cx.make_kb("scanned")
    up = f"{KBS}/{kb['id']}/uploads"
    notes = b"# Dock notes\nGate B closes at 18:00.\n"
    cx.refused("POST", up, 422, "file_infected", files={"file": ("n.md", notes + EICAR, "text/markdown")})
    assert cx.ok("GET", f"{KBS}/{kb['id']}/documents")["documents"] == []
    d = cx.ok("POST", up, status=201, files={"file": ("n.md", notes, "text/markdown")})["document"]
    assert "Gate B" in d["content"]
    assert [x["id"] for x in cx.ok("GET", f"{KBS}/{kb['id']}/documents")["documents"]] == [d["id"]]

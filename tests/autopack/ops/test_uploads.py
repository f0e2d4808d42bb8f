"""Uploads (section 12): API key, streamed size limit (413), media type from magic bytes (415),
sanitised names, SHA-256 recorded; a refused upload leaves no file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ridgeline.autopack.uploads import sanitize_filename, sniff
from tests.autopack.ops.conftest import KEY, call, ops_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def _files(dir_: Path) -> list[str]:
    return sorted(p.name for p in dir_.iterdir()) if dir_.exists() else []


@pytest.mark.db
def test_upload_png_records_hash_and_sanitised_name(make_ops_client, ops_env, tmp_path: Path) -> None:
    up = tmp_path / "uploads"
    ops_env(AUTOPACK_UPLOAD_DIR=str(up))
    c = make_ops_client()
    files = {"file": ("../../etc/évil name;rm -rf.png", PNG, "text/plain")}
    assert c.post("/files/upload", files=files).status_code == 401
    r = c.post("/files/upload", files=files, headers=KEY)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["media_type"] == "image/png"  # from the bytes, not the declared text/plain
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest() and body["size_bytes"] == len(PNG)
    assert body["filename"] == f"{body['file_id']}_evil_name_rm_-rf.png"
    assert body["original_filename"] == "../../etc/évil name;rm -rf.png"
    assert (up / body["filename"]).read_bytes() == PNG
    from ridgeline.autopack.api.ops_store import uploads

    async def row() -> object:
        async with ops_of(c).db.engine.connect() as conn:
            return (await conn.execute(uploads.select())).one()

    rec = call(c, row)
    assert rec.sha256 == body["sha256"] and rec.stored_name == body["filename"]


@pytest.mark.db
def test_upload_too_large_is_413_and_leaves_nothing(make_ops_client, ops_env, tmp_path: Path) -> None:
    up = tmp_path / "uploads"
    ops_env(AUTOPACK_UPLOAD_DIR=str(up), AUTOPACK_UPLOAD_MAX_BYTES="1000")
    c = make_ops_client()
    r = c.post(
        "/files/upload", files={"file": ("big.pdf", PDF + b"x" * 2000, "application/pdf")}, headers=KEY
    )
    assert r.status_code == 413 and r.json()["reason_code"] == "upload_too_large"
    assert _files(up) == []
    ok = c.post("/files/upload", files={"file": ("small.pdf", PDF, "application/pdf")}, headers=KEY)
    assert ok.status_code == 201 and ok.json()["media_type"] == "application/pdf"


@pytest.mark.db
def test_upload_announced_too_large_refused_before_reading(make_ops_client, ops_env, tmp_path: Path) -> None:
    ops_env(AUTOPACK_UPLOAD_DIR=str(tmp_path / "u"), AUTOPACK_UPLOAD_MAX_BYTES="10")
    c = make_ops_client()
    headers = {
        **KEY,
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(5 * 1024 * 1024),
    }
    r = c.post("/files/upload", content=b"--x--", headers=headers)
    assert r.status_code == 413


@pytest.mark.db
def test_upload_type_not_allowed_is_415(make_ops_client, ops_env, tmp_path: Path) -> None:
    up = tmp_path / "uploads"
    ops_env(AUTOPACK_UPLOAD_DIR=str(up))
    c = make_ops_client()
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
    r = c.post("/files/upload", files={"file": ("photo.png", elf, "image/png")}, headers=KEY)
    assert r.status_code == 415 and r.json()["reason_code"] == "upload_type_not_allowed"
    assert _files(up) == []
    ops_env(AUTOPACK_UPLOAD_ALLOWED_TYPES="image/png")
    c2 = make_ops_client()
    r = c2.post("/files/upload", files={"file": ("notes.txt", b"hello", "text/plain")}, headers=KEY)
    assert r.status_code == 415


@pytest.mark.db
def test_upload_not_multipart_or_no_file_is_400(make_ops_client, ops_env, tmp_path: Path) -> None:
    ops_env(AUTOPACK_UPLOAD_DIR=str(tmp_path / "u"))
    c = make_ops_client()
    r = c.post("/files/upload", content=PNG, headers={**KEY, "Content-Type": "image/png"})
    assert r.status_code == 400 and r.json()["reason_code"] == "upload_invalid"
    r = c.post(
        "/files/upload",
        content=b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--b--\r\n',
        headers={**KEY, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400 and r.json()["reason_code"] == "upload_invalid"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\cmd.exe", "cmd.exe"),
        ("...hidden", "hidden"),
        ("CON.txt", "_CON.txt"),
        ("a\x00b.png", "a_b.png"),
        ("", "upload"),
        ("////", "upload"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_sanitize_filename(raw: str, safe: str) -> None:
    assert sanitize_filename(raw) == safe


def test_sniff() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(PDF) == "application/pdf"
    assert sniff("héllo".encode()) == "text/plain"
    assert sniff(b"a\x00b") == "application/octet-stream"

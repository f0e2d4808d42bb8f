import asyncio
import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.artifacts import ArtifactError, ArtifactStore
from ridgeline.platform.signing import Signer, verify

from ..conftest import require_shared

MANIFEST = {"run_id": "r1", "files": [{"name": "results.json", "sha256": "ab" * 32}], "params": {"k": 3}}


def test_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    s1 = Signer.load_or_create(tmp_path)
    key_file = tmp_path / "keys" / "signing_ed25519.pem"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert Signer.load_or_create(tmp_path).key_id == s1.key_id


def test_concurrent_first_starts_agree_on_one_complete_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: Signer.load_or_create(tmp_path).key_id, range(32)))
    assert len(ids) == 1
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["signing_ed25519.pem"]


def test_key_can_come_from_a_file(tmp_path: Path) -> None:
    original = Signer.load_or_create(tmp_path / "a")
    loaded = Signer.load_or_create(tmp_path / "b", tmp_path / "a" / "keys" / "signing_ed25519.pem")
    assert loaded.key_id == original.key_id


def test_signature_round_trip_with_public_key_only(tmp_path: Path) -> None:
    signer = Signer.load_or_create(tmp_path)
    sig = signer.sign(MANIFEST)
    assert verify(signer.public_key_pem(), MANIFEST, sig).valid
    assert verify(
        signer.public_key_b64(), dict(reversed(list(MANIFEST.items()))), sig
    ).valid  # key order is canonical


def test_any_tampering_is_rejected(tmp_path: Path) -> None:
    signer = Signer.load_or_create(tmp_path)
    sig = signer.sign(MANIFEST)
    tampered = {**MANIFEST, "params": {"k": 4}}
    assert not signer.verify(tampered, sig).valid
    raw = bytearray(base64.b64decode(sig))
    raw[0] ^= 1
    check = signer.verify(MANIFEST, base64.b64encode(bytes(raw)).decode())
    assert not check.valid and check.reason == "signature does not match the manifest"
    assert not signer.verify(MANIFEST, "not base64!").valid
    other = Signer.load_or_create(tmp_path / "other")
    assert not verify(other.public_key_pem(), MANIFEST, sig).valid


@pytest.mark.db
def test_artifacts_record_sha256_and_detect_tampering(settings) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        dbmod.upgrade(settings)
        db = dbmod.Database(settings)
        store = ArtifactStore(db, settings.data_dir / "artifacts")
        art = await store.put("routing", "run1", "results.json", b'{"ok": true}', "application/json")
        assert art.sha256 == hashlib.sha256(b'{"ok": true}').hexdigest()
        assert store.verify(art)
        again = await store.get("routing", "run1", "results.json")
        assert again is not None and again.sha256 == art.sha256
        assert [a.name for a in await store.list("routing", "run1")] == ["results.json"]
        store.path_of(art).write_bytes(b'{"ok": false}')
        assert not store.verify(art)
        await db.dispose()

    asyncio.run(main())


def test_artifact_names_cannot_escape_the_store(tmp_path: Path) -> None:
    vectors = require_shared("security/path_traversal_vectors.txt").read_text().splitlines()
    # The store sits 16 folders deep, so a relative traversal that got through would land inside
    # tmp_path, where the final check sees it (a check outside the sandbox could not).
    root = tmp_path.joinpath(*(f"d{i}" for i in range(16)), "store")
    store = ArtifactStore(None, root)  # type: ignore[arg-type]

    async def main() -> None:
        for vector in filter(None, (v.strip() for v in vectors)):
            with pytest.raises(ArtifactError):
                await store.put("ns", "owner", vector, b"x")

    asyncio.run(main())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []

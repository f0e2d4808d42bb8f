"""Secrets at rest: AES-256-GCM, key ring outside the database, key id per ciphertext, masking."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from ridgeline.platform.auth.secrets import SecretBox, SecretError, mask
from ridgeline.platform.auth.service import load_secret_box
from ridgeline.platform.auth.settings import AuthSettings, SecretStr


def test_seal_and_open_round_trip_with_a_key_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    box = SecretBox.from_file(tmp_path / "keys" / "ring.json")
    sealed = box.seal("sk-live-provider-credential", "genai:credential:7")
    assert "sk-live" not in sealed
    assert sealed.startswith(f"v1.{box.active_key_id}.")
    assert box.open(sealed, "genai:credential:7") == b"sk-live-provider-credential"
    assert box.seal("same") != box.seal("same")  # fresh nonce each time


def test_tampering_or_moving_a_ciphertext_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    box = SecretBox.from_file(tmp_path / "ring.json")
    sealed = box.seal("value", "row:1")
    with pytest.raises(SecretError):
        box.open(sealed, "row:2")  # copied onto another row
    head, body = sealed.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 1
    with pytest.raises(SecretError):
        box.open(head + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode(), "row:1")
    with pytest.raises(SecretError):
        box.open("v1.unknownkid." + body, "row:1")


def test_key_file_is_private_and_is_aes_256(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys" / "ring.json"
    SecretBox.from_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    import json

    ring = json.loads(path.read_text())
    assert len(base64.urlsafe_b64decode(ring["keys"][ring["active"]] + "==")) == 32
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError):
        SecretBox.from_file(path)


def test_rotation_keeps_old_ciphertexts_readable_and_reseals(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ring.json"
    box = SecretBox.from_file(path)
    old_kid = box.active_key_id
    old = box.seal("v", "a")
    new_kid = box.rotate()
    assert new_kid != old_kid
    reloaded = SecretBox.from_file(path)  # another worker reading the ring
    assert reloaded.active_key_id == new_kid
    assert reloaded.open(old, "a") == b"v"
    resealed = reloaded.reseal(old, "a")
    assert reloaded.key_id_of(resealed) == new_kid and reloaded.open(resealed, "a") == b"v"


def test_key_from_a_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = base64.b64encode(os.urandom(32)).decode()
    settings = AuthSettings(secrets_key=SecretStr(key))
    box = load_secret_box(settings, tmp_path)
    assert box.open(box.seal("x")) == b"x"
    assert not (tmp_path / "keys").exists()  # no file written when the setting gives the key
    with pytest.raises(ValueError):
        SecretBox.from_key(base64.b64encode(os.urandom(16)).decode())


def test_mask_shows_a_prefix_and_a_hash_never_the_value() -> None:
    long_value = "sk-proj-abcdefghijklmnopqrstuvwxyz"
    masked = mask(long_value)
    assert masked.startswith("sk-p****#") and len(masked.split("#")[1]) == 8
    assert long_value not in masked and long_value[4:12] not in masked
    short = mask("hunter2hunter2")
    assert short.startswith("****#") and "hunter" not in short
    assert mask("a" * 30) != mask("a" * 29 + "b")

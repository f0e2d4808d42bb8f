"""Secrets at rest: AES-256-GCM with a key ring kept outside the database.

A sealed value is ``v1.<key id>.<base64url(nonce | ciphertext | tag)>``; the key id travels with the
ciphertext, so the ring can gain a new active key while older ciphertexts stay readable (and can be
re-sealed with :meth:`SecretBox.reseal`). An optional associated-data string binds a ciphertext to
its row (e.g. ``genai:credential:<id>``), so a sealed value copied onto another row fails to open.

The ring lives in a JSON file (mode 0600, ``RIDGELINE_AUTH_SECRETS_KEY_FILE`` or
``<data dir>/keys/secrets_keyring.json``), or comes whole from ``RIDGELINE_AUTH_SECRETS_KEY`` (one
base64 32-byte key). :func:`mask` is the only form in which an endpoint shows a secret.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ridgeline.platform.auth import keyfiles

_VERSION = "v1"


class SecretError(ValueError):
    """A sealed value cannot be opened (unknown key id, tampered, wrong associated data)."""


class KeyRing(msgspec.Struct):
    active: str
    keys: dict[str, str]  # key id -> base64 32-byte key


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_ring() -> KeyRing:
    kid = os.urandom(6).hex()
    return KeyRing(active=kid, keys={kid: _b64e(AESGCM.generate_key(bit_length=256))})


class SecretBox:
    def __init__(self, ring: KeyRing, path: Path | None = None) -> None:
        if ring.active not in ring.keys:
            raise ValueError("secrets key ring: the active key id is not in the ring")
        self._path = path
        self._load(ring)

    def _load(self, ring: KeyRing) -> None:
        self._ring = ring
        self._aead = {kid: AESGCM(_b64d(key)) for kid, key in ring.keys.items()}
        for kid, key in ring.keys.items():
            if len(_b64d(key)) != 32:
                raise ValueError(f"secrets key {kid} is not 32 bytes (AES-256)")

    @classmethod
    def from_file(cls, path: Path) -> SecretBox:
        raw = keyfiles.load_or_create(path, lambda: msgspec.json.encode(_new_ring()))
        return cls(msgspec.json.decode(raw, type=KeyRing), path)

    @classmethod
    def from_key(cls, key_b64: str) -> SecretBox:
        key = _b64d(key_b64.strip())
        if len(key) != 32:
            raise ValueError("RIDGELINE_AUTH_SECRETS_KEY must be 32 bytes, base64")
        kid = hashlib.sha256(key).hexdigest()[:12]  # stable id, so the key can later join a ring file
        return cls(KeyRing(active=kid, keys={kid: _b64e(key)}))

    @property
    def active_key_id(self) -> str:
        return self._ring.active

    def seal(self, plaintext: bytes | str, associated_data: str = "") -> str:
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(12)  # 96-bit random nonce: safe far beyond our volume per key
        kid = self._ring.active
        ct = self._aead[kid].encrypt(nonce, data, self._aad(kid, associated_data))
        return f"{_VERSION}.{kid}.{_b64e(nonce + ct)}"

    def open(self, sealed: str, associated_data: str = "") -> bytes:
        try:
            version, kid, body = sealed.split(".", 2)
        except ValueError:
            raise SecretError("not a sealed value") from None
        if version != _VERSION or kid not in self._aead:
            raise SecretError("sealed with an unknown key")
        blob = _b64d(body)
        try:
            return self._aead[kid].decrypt(blob[:12], blob[12:], self._aad(kid, associated_data))
        except InvalidTag:
            raise SecretError("sealed value does not authenticate") from None

    def key_id_of(self, sealed: str) -> str:
        return sealed.split(".", 2)[1]

    def reseal(self, sealed: str, associated_data: str = "") -> str:
        """The same value sealed with the active key (after a rotation)."""
        return self.seal(self.open(sealed, associated_data), associated_data)

    def rotate(self) -> str:
        """Add a new active key (older keys stay to open older values); persist the ring file."""
        if self._path is None:
            raise SecretError("a key given by RIDGELINE_AUTH_SECRETS_KEY is rotated by changing the setting")
        kid = os.urandom(6).hex()
        ring = KeyRing(active=kid, keys={**self._ring.keys, kid: _b64e(AESGCM.generate_key(bit_length=256))})
        keyfiles.write_private(self._path, msgspec.json.encode(ring))
        self._load(ring)
        return kid

    @staticmethod
    def _aad(kid: str, associated_data: str) -> bytes:
        return f"{_VERSION}|{kid}|{associated_data}".encode()


def mask(value: str) -> str:
    """What an endpoint may show of a secret: a short plain prefix (long values only) and a hash prefix.

    ``sk-p****…#1a2b3c4d``: four characters for values of 20 or more, none for shorter ones (where four
    would be a real share of the secret), and the first 8 hex digits of its SHA-256 so two masked
    values can be told apart.
    """
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    shown = value[:4] if len(value) >= 20 else ""
    return f"{shown}****#{digest}"

"""Ed25519 signing of manifests, verifiable by anyone holding the public key.

A manifest is any JSON-able mapping. It is signed over its canonical encoding: JSON with keys
sorted, no insignificant white space, UTF-8 (msgspec ``order="sorted"``). The key is generated on
first start under ``<data_dir>/keys`` with file mode 0600, or loaded from
``RIDGELINE_SIGNING_KEY_FILE`` (PEM, PKCS8).
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"


def canonical_bytes(manifest: Any) -> bytes:
    return msgspec.json.encode(msgspec.to_builtins(manifest), order="sorted")


class SignatureCheck(msgspec.Struct, frozen=True):
    valid: bool
    reason: str | None = None


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def load_or_create(cls, data_dir: Path, key_file: Path | None = None) -> Signer:
        if key_file is not None:
            return cls(_load_private(key_file))
        path = data_dir / "keys" / "signing_ed25519.pem"
        if path.exists():
            return cls(_load_private(path))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Publish atomically: write the whole key to a private temp file (0600 from creation), then link it
        # into place. link() fails if another process got there first, and what it published is complete,
        # so concurrent first starts (several workers) all end up with the same, fully written key.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return cls(_load_private(path))
        finally:
            tmp.unlink(missing_ok=True)
        return cls(key)

    def sign(self, manifest: Any) -> str:
        """Base64 signature of the manifest's canonical bytes."""
        return base64.b64encode(self._key.sign(canonical_bytes(manifest))).decode()

    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def public_key_b64(self) -> str:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def verify(self, manifest: Any, signature: str) -> SignatureCheck:
        return verify(self.public_key, manifest, signature)


def verify(public_key: Ed25519PublicKey | str, manifest: Any, signature: str) -> SignatureCheck:
    """Check a signature with a public key (object, PEM text or raw base64)."""
    if isinstance(public_key, str):
        try:
            public_key = load_public_key(public_key)
        except ValueError as exc:
            return SignatureCheck(False, f"bad public key: {exc}")
    try:
        sig = base64.b64decode(signature, validate=True)
    except (ValueError, TypeError):
        return SignatureCheck(False, "signature is not valid base64")
    try:
        public_key.verify(sig, canonical_bytes(manifest))
    except InvalidSignature:
        return SignatureCheck(False, "signature does not match the manifest")
    return SignatureCheck(True)


def load_public_key(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def _load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key

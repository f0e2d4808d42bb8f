"""JWT access tokens (RFC 9068 profile), signed with Ed25519 keys of their own, published as JWKS.

:class:`TokenVerifier` knows nothing of Litestar or the database: it takes a token and a snapshot of
the key set and returns the claims or raises :class:`TokenError`. The rules (RFC 8725, RFC 9068):

- the header must not carry ``jku``, ``jwk``, ``x5u`` or ``x5c`` (keys are never taken from a token);
- ``typ`` must be ``at+jwt`` (or ``application/at+jwt``);
- ``kid`` must name a key of the published set that is still inside its verification window;
- the algorithm allow-list is exactly that key's algorithm (so ``none``, HS256 with the public key as
  the secret, or any other algorithm under that ``kid`` are refused before any signature check);
- ``exp``, ``iat``, ``iss``, ``aud`` and ``sub`` are required, ``iss`` and ``aud`` must match, ``nbf``
  is honoured, each with a small leeway.

:class:`JwtKeyStore` keeps the key set in ``auth_jwt_keys`` (private keys sealed by the secrets box),
so every worker signs and verifies with the same set; rotation retires the signing key, which keeps
verifying (and stays in the JWKS) for the overlap.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
import msgspec
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ridgeline.platform.auth.secrets import SecretBox
from ridgeline.platform.auth.store import jwt_keys_table
from ridgeline.platform.db import Database

ALGORITHM = "EdDSA"
TOKEN_TYPES = ("at+jwt", "application/at+jwt")
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c")
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")


class TokenError(Exception):
    """A token was refused; ``reason`` is a short code (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VerificationKey(msgspec.Struct, frozen=True):
    kid: str
    alg: str
    public_key: Any
    public_jwk: dict[str, Any]
    verify_until: float | None  # epoch seconds; None = current signing key


class KeySnapshot(msgspec.Struct, frozen=True):
    keys: dict[str, VerificationKey]
    signing_kid: str | None

    def jwks(self, now: float) -> dict[str, Any]:
        return {
            "keys": [
                k.public_jwk for k in self.keys.values() if k.verify_until is None or k.verify_until > now
            ]
        }


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ed25519_jwk(public_key: Ed25519PublicKey) -> dict[str, Any]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = _b64e(raw)
    # RFC 7638 thumbprint over the required members in lexicographic order.
    thumb = _b64e(
        hashlib.sha256(
            json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":")).encode()
        ).digest()
    )
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumb, "alg": ALGORITHM, "use": "sig"}


class TokenVerifier:
    """Checks access tokens. A token whose signature verified is remembered (its claims and key id,
    up to ``cache_size`` tokens, least recently used dropped first): presenting it again skips the
    signature check, which is most of the cost, but never the checks that can change over its life
    (its key still verifies, the time claims against now). Revocation is checked by the caller."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        leeway_s: int,
        clock: Callable[[], float] = time.time,
        cache_size: int = 4096,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self.clock = clock
        self.cache_size = cache_size
        self._verified: OrderedDict[str, tuple[str, str, dict[str, Any]]] = OrderedDict()

    def verify(self, token: str, keys: KeySnapshot) -> dict[str, Any]:
        hit = self._verified.get(token)
        if hit is not None:
            kid, alg, claims = hit
            key = keys.keys.get(kid)
            now = self.clock()
            if key is None or (key.verify_until is not None and key.verify_until <= now):
                raise TokenError("unknown_kid")
            if key.alg == alg:
                self._verified.move_to_end(token)
                return self._check_times(dict(claims), now)
        claims, kid, alg = self._verify_signed(token, keys)
        if self.cache_size > 0:
            self._verified[token] = (kid, alg, dict(claims))
            while len(self._verified) > self.cache_size:
                self._verified.popitem(last=False)
        return claims

    def _verify_signed(self, token: str, keys: KeySnapshot) -> tuple[dict[str, Any], str, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("malformed") from None
        if any(name in header for name in FORBIDDEN_HEADERS):
            raise TokenError("key_reference_header")
        if str(header.get("typ", "")).lower() not in TOKEN_TYPES:
            raise TokenError("wrong_typ")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenError("missing_kid")
        key = keys.keys.get(kid)
        now = self.clock()
        if key is None or (key.verify_until is not None and key.verify_until <= now):
            raise TokenError("unknown_kid")
        if header.get("alg") != key.alg:
            raise TokenError("algorithm_mismatch")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.MissingRequiredClaimError:
            raise TokenError("missing_claim") from None
        except jwt.InvalidAudienceError:
            raise TokenError("wrong_aud") from None
        except jwt.InvalidIssuerError:
            raise TokenError("wrong_iss") from None
        except jwt.InvalidSignatureError:
            raise TokenError("bad_signature") from None
        except jwt.PyJWTError:
            raise TokenError("invalid") from None
        # Time claims are checked here against our clock (PyJWT's uses the wall clock), same leeway.
        for name in ("exp", "iat", "nbf"):
            if name in claims and not isinstance(claims[name], int | float):
                raise TokenError("invalid")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise TokenError("invalid")
        return self._check_times(claims, now), kid, key.alg

    def _check_times(self, claims: dict[str, Any], now: float) -> dict[str, Any]:
        if claims["exp"] <= now - self.leeway_s:
            raise TokenError("expired")
        if claims["iat"] > now + self.leeway_s:
            raise TokenError("issued_in_future")
        if "nbf" in claims and claims["nbf"] > now + self.leeway_s:
            raise TokenError("not_yet_valid")
        return claims


class SigningKey(msgspec.Struct, frozen=True):
    kid: str
    private_key: Any


class JwtKeyStore:
    """The key set in the database, cached per worker for ``cache_s`` seconds."""

    def __init__(
        self, db: Database, box: SecretBox, cache_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.box = box
        self.cache_s = cache_s
        self.clock = clock
        self._snapshot: KeySnapshot | None = None
        self._signing: SigningKey | None = None
        self._loaded_at = -1e18
        self._lock = asyncio.Lock()

    async def snapshot(self, *, refresh: bool = False, loaded_after: float | None = None) -> KeySnapshot:
        """The key set: reloaded when older than the cache setting, when loaded before the monotonic
        time ``loaded_after``, or always with ``refresh``. Concurrent callers share one reload."""

        def stale() -> bool:
            if refresh or self._snapshot is None:
                return True
            if loaded_after is not None:
                return self._loaded_at < loaded_after
            return time.monotonic() - self._loaded_at >= self.cache_s

        if not stale():
            return self._snapshot  # type: ignore[return-value]
        async with self._lock:
            if stale():
                await self._load()
        assert self._snapshot is not None
        return self._snapshot

    async def signing_key(self) -> SigningKey:
        await self.snapshot()
        if self._signing is None:
            await self.ensure_signing_key()
            await self.snapshot(refresh=True)
        assert self._signing is not None
        return self._signing

    async def _load(self) -> None:
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(jwt_keys_table).order_by(jwt_keys_table.c.created_at, jwt_keys_table.c.kid)
                )
            ).all()
        keys: dict[str, VerificationKey] = {}
        signing: SigningKey | None = None
        signing_row: Any = None
        for row in rows:
            jwk = dict(row.public_jwk)
            until = _epoch(row.verify_until) if row.verify_until is not None else None
            public = Ed25519PublicKey.from_public_bytes(
                base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            )
            keys[row.kid] = VerificationKey(row.kid, row.alg, public, jwk, until)
            if row.retired_at is None:
                signing_row = row  # the newest key not retired signs (rows are in creation order)
        if signing_row is not None:
            der = self.box.open(signing_row.private_sealed, f"auth:jwt:{signing_row.kid}")
            signing = SigningKey(signing_row.kid, serialization.load_der_private_key(der, None))
        self._snapshot = KeySnapshot(keys, signing.kid if signing else None)
        self._signing = signing
        self._loaded_at = time.monotonic()

    async def ensure_signing_key(self) -> str:
        snap = await self.snapshot(refresh=True)
        if snap.signing_kid is not None:
            return snap.signing_kid
        return await self._insert_new_key()

    async def _insert_new_key(self) -> str:
        private = Ed25519PrivateKey.generate()
        jwk = ed25519_jwk(private.public_key())
        der = private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        async with self.db.begin() as conn:
            await conn.execute(
                jwt_keys_table.insert().values(
                    kid=jwk["kid"],
                    alg=ALGORITHM,
                    public_jwk=jwk,
                    private_sealed=self.box.seal(der, f"auth:jwt:{jwk['kid']}"),
                    created_at=_dt(self.clock()),
                )
            )
        await self.snapshot(refresh=True)
        return jwk["kid"]

    async def rotate(self, overlap_s: int) -> tuple[str, list[str]]:
        """A new signing key; the current ones stop signing and verify for ``overlap_s`` more seconds."""
        now = self.clock()
        async with self.db.begin() as conn:
            retired = [
                r.kid
                for r in (
                    await conn.execute(
                        sa.select(jwt_keys_table.c.kid).where(jwt_keys_table.c.retired_at.is_(None))
                    )
                ).all()
            ]
            await conn.execute(
                jwt_keys_table.update()
                .where(jwt_keys_table.c.retired_at.is_(None))
                .values(retired_at=_dt(now), verify_until=_dt(now + overlap_s))
            )
        new_kid = await self._insert_new_key()
        return new_kid, retired

    async def purge_expired(self) -> int:
        async with self.db.begin() as conn:
            result = await conn.execute(
                jwt_keys_table.delete().where(jwt_keys_table.c.verify_until < _dt(self.clock() - 86400))
            )
        return int(result.rowcount or 0)


class TokenIssuer:
    def __init__(
        self,
        keys: JwtKeyStore,
        issuer: str,
        audience: str,
        ttl_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s
        self.clock = clock

    async def issue(self, subject: str, extra: Mapping[str, Any] | None = None) -> tuple[str, int]:
        key = await self.keys.signing_key()
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_s,
            "jti": os.urandom(16).hex(),
            "client_id": self.issuer,
            **(extra or {}),
        }
        token = jwt.encode(
            claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "at+jwt"}
        )
        return token, self.ttl_s


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite returns naive datetimes; we only write UTC
    return value.timestamp()


__all__ = [
    "ALGORITHM",
    "JwtKeyStore",
    "KeySnapshot",
    "TokenError",
    "TokenIssuer",
    "TokenVerifier",
    "VerificationKey",
    "ed25519_jwk",
]

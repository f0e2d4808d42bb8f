"""API keys: ``rk_<id>_<secret>``, 256 random bits from the OS CSPRNG, shown once.

Only ``HMAC-SHA256(pepper, key)`` is stored. The pepper is a 32-byte file outside the database
(``RIDGELINE_AUTH_PEPPER_FILE`` or ``<data dir>/keys/auth_pepper.key``, mode 0600), so a copy of the
database alone cannot even confirm a guessed key. A fast keyed hash is right here: the key has 256
bits of entropy, so slow hashing would buy nothing and cost every request. The id part locates the
row; the comparison of digests is :func:`hmac.compare_digest` (constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import msgspec
import sqlalchemy as sa

from ridgeline.platform.auth.store import api_keys_table
from ridgeline.platform.db import Database

KEY_PATTERN = re.compile(r"^rk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
ALL_SCOPES = "*"
_TOUCH_EVERY_S = 60.0  # last_used_at is written at most once a minute per key, not on every request


class ApiKeyInfo(msgspec.Struct, kw_only=True):
    id: str
    prefix: str
    name: str
    owner: str | None
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rotated_to: str | None = None

    def allows(self, scope: str | None) -> bool:
        return scope is None or ALL_SCOPES in self.scopes or scope in self.scopes


class NewApiKey(msgspec.Struct, kw_only=True):
    """The one moment a key exists in plain text."""

    key: str
    info: ApiKeyInfo


def digest(pepper: bytes, presented: str) -> str:
    return hmac.new(pepper, presented.encode(), hashlib.sha256).hexdigest()


class ApiKeys:
    def __init__(self, db: Database, pepper: bytes, clock: Callable[[], float] = time.time) -> None:
        if len(pepper) < 32:
            raise ValueError("the API key pepper must be at least 32 bytes")
        self.db = db
        self._pepper = pepper
        self.clock = clock
        self._bootstrap: list[tuple[str, str]] = []  # (name, digest of the key)

    def add_bootstrap(self, name: str, key: str) -> None:
        """A key given by a setting (e.g. AUTOPACK_API_KEY): all scopes, never stored, never logged."""
        self._bootstrap.append((name, digest(self._pepper, key)))

    @property
    def has_bootstrap(self) -> bool:
        return bool(self._bootstrap)

    async def create(
        self,
        *,
        name: str = "",
        owner: str | None = None,
        scopes: Sequence[str] = (ALL_SCOPES,),
        expires_at: datetime | None = None,
    ) -> NewApiKey:
        key_id = os.urandom(8).hex()
        key = f"rk_{key_id}_{secrets.token_urlsafe(32)}"
        info = ApiKeyInfo(
            id=key_id,
            prefix=key[:24],
            name=name,
            owner=owner,
            scopes=list(scopes),
            created_at=self._now(),
            expires_at=expires_at,
        )
        async with self.db.begin() as conn:
            await conn.execute(
                api_keys_table.insert().values(
                    **{f: getattr(info, f) for f in info.__struct_fields__},
                    key_hash=digest(self._pepper, key),
                )
            )
        return NewApiKey(key=key, info=info)

    async def verify(self, presented: str) -> ApiKeyInfo | None:
        """The key's record when ``presented`` is a live key, else None. Bootstrap keys come first."""
        presented_digest = digest(self._pepper, presented)
        for name, expected in self._bootstrap:
            if hmac.compare_digest(presented_digest, expected):
                return ApiKeyInfo(
                    id=f"bootstrap:{name}",
                    prefix=f"bootstrap:{name}",
                    name=name,
                    owner=None,
                    scopes=[ALL_SCOPES],
                    created_at=datetime.fromtimestamp(0, UTC),
                )
        match = KEY_PATTERN.match(presented)
        if match is None:
            return None
        async with self.db.begin() as conn:
            row = (
                await conn.execute(sa.select(api_keys_table).where(api_keys_table.c.id == match.group(1)))
            ).first()
        if row is None or not hmac.compare_digest(presented_digest, row.key_hash):
            return None
        info = _info(row)
        now = self._now()
        if info.revoked_at is not None or (info.expires_at is not None and info.expires_at <= now):
            return None
        if info.last_used_at is None or (now - info.last_used_at).total_seconds() >= _TOUCH_EVERY_S:
            async with self.db.begin() as conn:
                await conn.execute(
                    api_keys_table.update().where(api_keys_table.c.id == info.id).values(last_used_at=now)
                )
            info.last_used_at = now
        return info

    async def get(self, key_id: str) -> ApiKeyInfo | None:
        async with self.db.begin() as conn:
            row = (await conn.execute(sa.select(api_keys_table).where(api_keys_table.c.id == key_id))).first()
        return _info(row) if row is not None else None

    async def list(self, owner: str | None = None) -> list[ApiKeyInfo]:
        query = sa.select(api_keys_table).order_by(api_keys_table.c.created_at)
        if owner is not None:
            query = query.where(api_keys_table.c.owner == owner)
        async with self.db.begin() as conn:
            return [_info(r) for r in (await conn.execute(query)).all()]

    async def revoke(self, key_id: str) -> bool:
        async with self.db.begin() as conn:
            result = await conn.execute(
                api_keys_table.update()
                .where(api_keys_table.c.id == key_id, api_keys_table.c.revoked_at.is_(None))
                .values(revoked_at=self._now())
            )
        return bool(result.rowcount)

    async def rotate(self, key_id: str, overlap_s: int) -> NewApiKey | None:
        """A new key with the same owner, name and scopes; the old one expires after ``overlap_s``."""
        old = await self.get(key_id)
        if old is None or old.revoked_at is not None:
            return None
        new = await self.create(name=old.name, owner=old.owner, scopes=old.scopes, expires_at=old.expires_at)
        until = datetime.fromtimestamp(self.clock() + overlap_s, UTC)
        if old.expires_at is not None and old.expires_at < until:
            until = old.expires_at
        async with self.db.begin() as conn:
            await conn.execute(
                api_keys_table.update()
                .where(api_keys_table.c.id == key_id)
                .values(expires_at=until, rotated_to=new.info.id)
            )
        return new

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


def _info(row: sa.Row) -> ApiKeyInfo:
    data = {k: getattr(row, k) for k in ApiKeyInfo.__struct_fields__}
    for k, v in data.items():
        if isinstance(v, datetime) and v.tzinfo is None:
            data[k] = v.replace(tzinfo=UTC)
    return ApiKeyInfo(**data)

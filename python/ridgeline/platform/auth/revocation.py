"""Access-token revocation: logout (one token, by its ``jti``) and user-wide revocation (every token
of a user issued before a password change or reset, by the ``gen`` claim).

Every worker keeps a snapshot of the list (the revoked jtis still inside their lifetime, and each
user's current session generation) and re-reads a version counter at most every
``RIDGELINE_AUTH_REVOCATION_RECHECK_S`` seconds (the ``genai_platform_version`` pattern); only when the
counter moved is the list itself re-read. A revocation made by this worker is seen at once; one made
by another worker within the recheck interval. Entries expire with the token they name.

The list lives in the database, or in Redis when the rate limits do (``RIDGELINE_REDIS_URL`` set):
a sorted set of jtis scored by expiry, a hash of generations and an ``INCR`` counter.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ridgeline.platform.auth.store import (
    revocation_version_table,
    revoked_tokens_table,
    user_sessions_table,
)
from ridgeline.platform.db import Database


class Snapshot(msgspec.Struct, frozen=True):
    version: int
    jtis: frozenset[str]
    generations: dict[str, int]


class RevocationStore(Protocol):
    async def version(self) -> int: ...

    async def load(self, now: float) -> Snapshot: ...

    async def revoke(self, jti: str, user_id: str | None, expires_at: float, now: float) -> None: ...

    async def bump_generation(self, user_id: str) -> int:
        """Increment the user's session generation; return the new value."""
        ...

    async def generation_of(self, user_id: str) -> int: ...


class DatabaseRevocationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = sqlite_insert if db.backend == "sqlite" else pg_insert

    def _bump(self) -> sa.Executable:
        t = revocation_version_table
        return (
            self._insert(t)
            .values(key="global", version=1)
            .on_conflict_do_update(index_elements=[t.c.key], set_={"version": t.c.version + 1})
        )

    async def version(self) -> int:
        t = revocation_version_table
        async with self.db.engine.connect() as conn:
            value = (await conn.execute(sa.select(t.c.version).where(t.c.key == "global"))).scalar()
        return int(value or 0)

    async def load(self, now: float) -> Snapshot:
        t, v, s = revoked_tokens_table, revocation_version_table, user_sessions_table
        async with self.db.begin() as conn:
            version = (await conn.execute(sa.select(v.c.version).where(v.c.key == "global"))).scalar()
            jtis = (await conn.execute(sa.select(t.c.jti).where(t.c.expires_at > _dt(now)))).scalars().all()
            gens = (await conn.execute(sa.select(s.c.user_id, s.c.generation))).all()
        return Snapshot(int(version or 0), frozenset(jtis), {r.user_id: int(r.generation) for r in gens})

    async def revoke(self, jti: str, user_id: str | None, expires_at: float, now: float) -> None:
        t = revoked_tokens_table
        stmt = (
            self._insert(t)
            .values(jti=jti, user_id=user_id, expires_at=_dt(expires_at), revoked_at=_dt(now))
            .on_conflict_do_nothing(index_elements=[t.c.jti])
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)
            await conn.execute(self._bump())
            if random.random() < 0.05:  # amortised purge of entries whose token has expired anyway
                await conn.execute(t.delete().where(t.c.expires_at < _dt(now - 3600)))

    async def bump_generation(self, user_id: str) -> int:
        s = user_sessions_table
        stmt = (
            self._insert(s)
            .values(user_id=user_id, generation=1)
            .on_conflict_do_update(index_elements=[s.c.user_id], set_={"generation": s.c.generation + 1})
            .returning(s.c.generation)
        )
        async with self.db.begin() as conn:
            generation = int((await conn.execute(stmt)).scalar_one())
            await conn.execute(self._bump())
        return generation

    async def generation_of(self, user_id: str) -> int:
        s = user_sessions_table
        async with self.db.engine.connect() as conn:
            value = (await conn.execute(sa.select(s.c.generation).where(s.c.user_id == user_id))).scalar()
        return int(value or 0)


class RedisRevocationStore:
    _JTIS = "ridgeline:auth:revoked"
    _GENS = "ridgeline:auth:generations"
    _VERSION = "ridgeline:auth:revocation_version"

    def __init__(self, redis: object) -> None:
        self.redis = redis  # the rate-limit store's client: one connection pool

    async def version(self) -> int:
        return int(await self.redis.get(self._VERSION) or 0)  # type: ignore[attr-defined]

    async def load(self, now: float) -> Snapshot:
        async with self.redis.pipeline(transaction=True) as pipe:  # type: ignore[attr-defined]
            pipe.get(self._VERSION)
            pipe.zremrangebyscore(self._JTIS, "-inf", now)
            pipe.zrange(self._JTIS, 0, -1)
            pipe.hgetall(self._GENS)
            version, _, jtis, gens = await pipe.execute()
        return Snapshot(
            int(version or 0),
            frozenset(j.decode() for j in jtis),
            {k.decode(): int(v) for k, v in gens.items()},
        )

    async def revoke(self, jti: str, user_id: str | None, expires_at: float, now: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:  # type: ignore[attr-defined]
            pipe.zadd(self._JTIS, {jti: expires_at})
            pipe.incr(self._VERSION)
            await pipe.execute()

    async def bump_generation(self, user_id: str) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:  # type: ignore[attr-defined]
            pipe.hincrby(self._GENS, user_id, 1)
            pipe.incr(self._VERSION)
            generation, _ = await pipe.execute()
        return int(generation)

    async def generation_of(self, user_id: str) -> int:
        return int(await self.redis.hget(self._GENS, user_id) or 0)  # type: ignore[attr-defined]


class RevocationList:
    """The per-worker view. :meth:`is_revoked` is on every bearer request: a set lookup, plus one
    small read of the version counter at most every ``recheck_s`` seconds."""

    def __init__(
        self,
        store: RevocationStore,
        recheck_s: float,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.recheck_s = recheck_s
        self.clock = clock
        self.on_change = on_change  # e.g. drop the users cache: another worker changed something
        self._snapshot: Snapshot | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _current(self) -> Snapshot:
        now = time.monotonic()
        if self._snapshot is not None and now - self._checked_at < self.recheck_s:
            return self._snapshot
        async with self._lock:
            if self._snapshot is None or time.monotonic() - self._checked_at >= self.recheck_s:
                version = await self.store.version()
                if self._snapshot is None or version != self._snapshot.version:
                    self._snapshot = await self.store.load(self.clock())
                    if self.on_change is not None:
                        self.on_change()
                self._checked_at = time.monotonic()
        assert self._snapshot is not None
        return self._snapshot

    async def is_revoked(self, claims: dict[str, object]) -> bool:
        snap = await self._current()
        jti = claims.get("jti")
        if isinstance(jti, str) and jti in snap.jtis:
            return True
        generation = snap.generations.get(str(claims.get("sub")), 0)
        token_gen = claims.get("gen", 0)
        return not isinstance(token_gen, int) or token_gen < generation

    async def generation(self, user_id: str) -> int:
        """The generation a token issued now carries: read from the store, not the snapshot, since
        a snapshot older than another worker's password change would mint an already-revoked token."""
        return await self.store.generation_of(user_id)

    async def revoke(self, claims: dict[str, object]) -> None:
        jti = claims.get("jti")
        if not isinstance(jti, str):
            return
        exp = claims.get("exp")
        expires = float(exp) if isinstance(exp, int | float) else self.clock() + 86400
        await self.store.revoke(jti, str(claims.get("sub")), expires, self.clock())
        self._invalidate()

    async def revoke_user(self, user_id: str) -> int:
        """End every token of the user issued so far; return the generation new tokens carry."""
        generation = await self.store.bump_generation(user_id)
        self._invalidate()
        return generation

    def _invalidate(self) -> None:
        self._snapshot = None
        self._checked_at = float("-inf")


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)

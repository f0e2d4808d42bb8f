"""Rate limits counted in a store every worker shares, and the client address they are keyed by.

The database store is a fixed-window counter: one row per (bucket, window start), incremented by a
single ``INSERT .. ON CONFLICT DO UPDATE .. RETURNING`` statement, which is atomic on SQLite (3.35+)
and PostgreSQL alike, so N granian workers together allow exactly the limit. The Redis store (used
when ``RIDGELINE_REDIS_URL`` is set) implements the same :class:`RateLimitStore` with ``INCR`` and
``EXPIRE`` in one MULTI/EXEC transaction.

Answers carry the IETF draft headers ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the window resets), and ``Retry-After`` on 429.
"""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ridgeline.platform.auth.store import rate_counters_table
from ridgeline.platform.db import Database

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimit(msgspec.Struct, frozen=True):
    """``limit`` requests per ``window_s`` seconds per client, counted in ``bucket``."""

    bucket: str
    limit: int
    window_s: int


class Decision(msgspec.Struct, frozen=True):
    allowed: bool
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.reset_s)
        return out


class RateLimitStore(Protocol):
    async def hit(self, key: str, window_start: int, window_s: int) -> int:
        """Count one request in the window and return the count including it."""
        ...


class DatabaseRateLimitStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._insert = sqlite_insert if db.backend == "sqlite" else pg_insert

    async def hit(self, key: str, window_start: int, window_s: int) -> int:
        t = rate_counters_table
        stmt = self._insert(t).values(bucket=key, window_start=window_start, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.bucket, t.c.window_start], set_={"count": t.c.count + 1}
        ).returning(t.c.count)
        async with self.db.begin() as conn:
            count = int((await conn.execute(stmt)).scalar_one())
            if random.random() < 0.01:  # amortised clean-up of finished windows
                await conn.execute(
                    t.delete().where(t.c.window_start < window_start - 2 * max(window_s, 3600))
                )
        return count


class RedisRateLimitStore:
    def __init__(self, url: str) -> None:
        try:
            from redis.asyncio import Redis  # optional dependency: only when RIDGELINE_REDIS_URL is set
        except ImportError:
            from ridgeline.platform.settings import SettingsError

            raise SettingsError(
                "RIDGELINE_REDIS_URL is set but the redis client is not installed (pip install 'ridgeline[redis]'),"
                " or set RIDGELINE_AUTH_RATE_LIMIT_STORE=database"
            ) from None
        self.redis = Redis.from_url(url)

    async def hit(self, key: str, window_start: int, window_s: int) -> int:
        name = f"ridgeline:ratelimit:{key}:{window_start}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, 2 * window_s)  # the window's key outlives it a little, then vanishes
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self.redis.aclose()


class RateLimiter:
    def __init__(self, store: RateLimitStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def check(self, rule: RateLimit, client: str) -> Decision:
        now = self.clock()
        window_start = int(now // rule.window_s) * rule.window_s
        count = await self.store.hit(f"{rule.bucket}|{client}", window_start, rule.window_s)
        reset = max(1, int(window_start + rule.window_s - now + 0.999))
        return Decision(
            allowed=count <= rule.limit,
            limit=rule.limit,
            remaining=max(0, rule.limit - count),
            reset_s=reset,
        )


def client_address(
    peer: str | None, headers: Sequence[tuple[bytes, bytes]], trusted: Sequence[Network]
) -> str:
    """The client's address: the socket peer, unless the peer is a trusted proxy, in which case the
    right-most address in ``Forwarded`` / ``X-Forwarded-For`` that is not itself a trusted proxy."""
    peer = peer or "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded: list[str] = []
    xff: list[str] = []
    for name, value in headers:
        if name == b"forwarded":
            forwarded.extend(_parse_forwarded(value.decode("latin-1")))
        elif name == b"x-forwarded-for":
            xff.extend(p.strip() for p in value.decode("latin-1").split(",") if p.strip())
    chain = forwarded or xff
    for hop in reversed(chain):
        address = _normalise(hop)
        if address is None:
            return peer  # a malformed hop: do not guess past it
        if not _is_trusted(address, trusted):
            return address
    # Every hop is a trusted proxy: the left-most is the furthest we can see.
    first = _normalise(chain[0]) if chain else None
    return first or peer


def _parse_forwarded(value: str) -> list[str]:
    out: list[str] = []
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, val = pair.strip().partition("=")
            if key.lower() == "for":
                out.append(val.strip().strip('"'))
    return out


def _normalise(hop: str) -> str | None:
    hop = hop.strip()
    if hop.startswith("["):  # [v6]:port
        hop = hop[1:].split("]", 1)[0]
    elif hop.count(":") == 1:  # v4:port
        hop = hop.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)

"""State shared through Redis when ``RIDGELINE_REDIS_URL`` is set: job events and a result cache.

- :class:`JobEvents`: every job state change and progress write is published on the job's channel
  (``ridgeline:job:<id>``), so a process waiting on or streaming a job that runs on another host
  wakes on the event instead of polling the database; the database record stays the source of
  truth (an event only says "read it again"), and a lost message costs one slow poll, not a hang.
- :class:`SharedCache`: a TTL'd key/value cache shared by every process (the routing result cache
  uses it behind its in-process LRU); values are JSON.

Without Redis neither exists and callers keep their local behaviour (polling, a per-process LRU).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec

log = logging.getLogger("ridgeline.jobs.redis")

PREFIX = "ridgeline"


def _client(url: str) -> Any:
    import redis.asyncio as aioredis

    return aioredis.from_url(url)


class JobEvent(msgspec.Struct, frozen=True):
    id: str
    status: str
    progress: float


class JobEvents:
    """Publish and subscribe to job events on Redis pub/sub (one channel per job)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: Any = None

    @staticmethod
    def channel(job_id: str) -> str:
        return f"{PREFIX}:job:{job_id}"

    def _conn(self) -> Any:
        if self._redis is None:
            self._redis = _client(self.url)
        return self._redis

    async def publish(self, job_id: str, status: str, progress: float) -> None:
        """Best effort: Redis being away never fails a job (waiters fall back to their slow poll)."""
        try:
            await self._conn().publish(
                self.channel(job_id), msgspec.json.encode(JobEvent(job_id, str(status), progress))
            )
        except Exception as exc:
            log.debug("job event for %s not published: %s", job_id, exc)

    @contextlib.asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[Subscription]:
        pubsub = self._conn().pubsub()
        try:
            await pubsub.subscribe(self.channel(job_id))
        except Exception:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        try:
            yield Subscription(pubsub)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
                await pubsub.aclose()

    async def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None


class Subscription:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def next(self, timeout_s: float) -> JobEvent | None:
        """The next event, or None when ``timeout_s`` passes (or the connection failed) first."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while (left := end - loop.time()) > 0:
            try:
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            except Exception as exc:
                log.debug("job event subscription failed: %s", exc)
                await asyncio.sleep(min(left, 0.5))
                return None
            if msg is not None and msg.get("type") == "message":
                try:
                    return msgspec.json.decode(msg["data"], type=JobEvent)
                except msgspec.DecodeError:
                    continue
        return None


class SharedCache:
    """A JSON cache in Redis under ``ridgeline:cache:<namespace>:``; keys are hashed (requests are long).
    Reads and writes are best effort: Redis being away is a miss, never an error."""

    def __init__(self, url: str, namespace: str, ttl_s: int = 3600) -> None:
        self.url = url
        self.namespace = namespace
        self.ttl_s = ttl_s
        self._redis: Any = None

    def _key(self, key: str) -> str:
        return f"{PREFIX}:cache:{self.namespace}:{hashlib.sha256(key.encode()).hexdigest()}"

    def _conn(self) -> Any:
        if self._redis is None:
            self._redis = _client(self.url)
        return self._redis

    async def get(self, key: str) -> Any:
        try:
            raw = await self._conn().get(self._key(key))
        except Exception as exc:
            log.debug("shared cache %s: get failed: %s", self.namespace, exc)
            return None
        return None if raw is None else msgspec.json.decode(raw)

    async def put(self, key: str, value: Any) -> None:
        try:
            await self._conn().set(self._key(key), msgspec.json.encode(value), ex=self.ttl_s)
        except Exception as exc:
            log.debug("shared cache %s: put failed: %s", self.namespace, exc)

    async def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None


def shared_cache(settings: Any, namespace: str, ttl_s: int = 3600) -> SharedCache | None:
    """The shared cache for ``namespace`` when ``settings.redis_url`` is set, else None."""
    url = getattr(settings, "redis_url", None)
    return SharedCache(url, namespace, ttl_s) if url else None

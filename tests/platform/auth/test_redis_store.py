"""The Redis rate-limit store: the same interface, atomic counts, chosen when RIDGELINE_REDIS_URL is set."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from ridgeline.platform.auth.ratelimit import RateLimit, RateLimiter, RedisRateLimitStore


def test_counts_are_atomic_under_concurrency(redis_url: str) -> None:
    async def main() -> list[int]:
        store = RedisRateLimitStore(redis_url)
        try:
            return await asyncio.gather(*(store.hit("b|c", 1000, 60) for _ in range(50)))
        finally:
            await store.close()

    assert sorted(asyncio.run(main())) == list(range(1, 51))


def test_limiter_on_redis_allows_exactly_the_limit(redis_url: str) -> None:
    async def main() -> list[bool]:
        store = RedisRateLimitStore(redis_url)
        limiter = RateLimiter(store, clock=lambda: 1_000_000.0)
        try:
            return [(await limiter.check(RateLimit("x", 3, 60), "1.2.3.4")).allowed for _ in range(5)]
        finally:
            await store.close()

    assert asyncio.run(main()) == [True, True, True, False, False]


@pytest.mark.db
def test_the_app_uses_redis_when_the_url_is_set(make_auth_client, settings, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.platform.auth.ratelimit import DatabaseRateLimitStore
    from ridgeline.platform.auth.settings import AuthSettings, RateLimitSpec

    auth = AuthSettings(password_profile="test", login_rate_limit=RateLimitSpec(2, 60))
    with_redis = msgspec.structs.replace(settings, redis_url=redis_url)
    with TestClient(create_app(with_redis, families=[], auth_settings=auth)) as c:
        assert isinstance(c.app.state["auth"].rate_store, RedisRateLimitStore)
        codes = [c.post("/auth/login", json={"username": "x", "password": "y"}).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
    forced = msgspec.structs.replace(auth, rate_limit_store="database")
    with TestClient(create_app(with_redis, families=[], auth_settings=forced)) as c:
        assert isinstance(c.app.state["auth"].rate_store, DatabaseRateLimitStore)


def test_redis_store_without_a_url_is_a_configuration_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.auth.service import AuthService
    from ridgeline.platform.auth.settings import AuthSettings
    from ridgeline.platform.settings import SettingsError

    with pytest.raises(SettingsError, match="RIDGELINE_REDIS_URL"):
        AuthService._rate_store(None, AuthSettings(rate_limit_store="redis"), None, lambda: 0.0)  # type: ignore[arg-type]

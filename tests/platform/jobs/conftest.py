from tests.platform.auth.conftest import redis_url  # noqa: F401  (a private redis-server per test)

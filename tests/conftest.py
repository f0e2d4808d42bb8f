"""Shared fixtures.

- ``shared_data``: ``../shared/data`` beside the project; tests that need a file skip when it is absent.
- ``settings``: isolated settings on a temp data dir. SQLite by default; when
  ``RIDGELINE_TEST_DATABASE_URL`` points at a PostgreSQL server, each test gets a fresh database
  created on it and dropped afterwards (CI runs the ``db``-marked tests a second time that way).
- ``make_client``: a Litestar test client over ``create_app(settings)`` (startup hooks run).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
TEST_PG_URL = os.environ.get("RIDGELINE_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


def require_shared(relpath: str) -> Path:
    """Path to a file under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / relpath
    if not path.exists():
        pytest.skip(f"shared data file not present: {path}")
    return path


def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    plain = url.replace("postgresql+asyncpg://", "postgresql://")

    async def run() -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A private ClamAV daemon knowing one test signature (tests/clamav.py), for the session."""
    from tests.clamav import start_clamd, stop_clamd

    daemon = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield daemon
    stop_clamd(daemon)


@pytest.fixture
def database_url() -> Iterator[str]:
    """'' for the default SQLite, or a fresh PostgreSQL database for this test."""
    if not TEST_PG_URL:
        yield ""
        return
    name = f"rl_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(TEST_PG_URL, f'CREATE DATABASE "{name}"')
    base, _, _ = TEST_PG_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        _pg_admin(TEST_PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    from ridgeline.platform.settings import Settings

    return Settings(
        data_dir=tmp_path / "var", database_url=database_url, seed_defaults=False, log_level="WARNING"
    )


@pytest.fixture
def make_client(settings) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """``make_client(families=None, **overrides)`` -> an entered TestClient; all are closed at teardown."""
    import msgspec
    from litestar.testing import TestClient

    from ridgeline.app import create_app

    opened: list[TestClient] = []

    def make(families: object = None, **overrides: object) -> TestClient:
        s = msgspec.structs.replace(settings, **overrides) if overrides else settings
        client = TestClient(create_app(s, families=families))  # type: ignore[arg-type]
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)

"""Fixtures for the autopack run tests: an ``--only autopack`` app (the contract's root paths) with
the contract's environment variables set per test, the family service behind it, and run builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from ridgeline.autopack.api.service import AutopackService
from ridgeline.platform.auth.settings import AuthSettings, SecretStr

API_KEY = "ap-test-key-0123456789abcdef"
KEY = {"X-API-Key": API_KEY}
CONTRACT_VARS = (
    "AUTOPACK_ENV",
    "AUTOPACK_PUBLIC_READ",
    "AUTOPACK_ENABLE_CONSOLIDATED_METRICS",
    "AUTOPACK_ENABLE_PHASE6_METRICS",
    "AUTOPACK_RUNS_DIR",
    "AUTOPACK_NOTES_FILE",
    "AUTOPACK_API_KEY",
    "DEBUG_DB_IDENTITY",
    "QDRANT_URL",
)


@pytest.fixture(autouse=True)
def _clean_contract_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CONTRACT_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_ap(settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """``make_ap(env={...}, api_key=False, mounted=False, **settings_overrides)`` -> an entered TestClient."""
    from litestar.testing import TestClient

    from ridgeline.app import create_app

    opened: list[Any] = []

    def make(
        env: dict[str, str] | None = None, *, api_key: bool = False, mounted: bool = False, **overrides: Any
    ) -> Any:
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        s = msgspec.structs.replace(settings, only=None if mounted else "autopack", **overrides)
        auth = AuthSettings(
            password_profile="test", bootstrap_api_key=SecretStr(API_KEY) if api_key else None
        )
        client = TestClient(create_app(s, auth_settings=auth))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in reversed(opened):
        c.__exit__(None, None, None)


@pytest.fixture
def ap(make_ap) -> Any:  # type: ignore[no-untyped-def]
    return make_ap()


def service(client: Any) -> AutopackService:
    return client.app.state["ctx"].services[AutopackService]


def call(client: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a service coroutine on the app's loop (its database engine lives there)."""

    async def run() -> Any:
        return await fn(*args, **kwargs)

    return client.blocking_portal.call(run)


def plan(run_id: str, tiers: int = 1, phases_per_tier: int = 2, **run: Any) -> dict[str, Any]:
    return {
        "run": {"run_id": run_id, "goal": f"goal of {run_id}", **run},
        "tiers": [{"tier_id": f"T{t}", "tier_index": t, "name": f"tier {t}"} for t in range(tiers)],
        "phases": [
            {"phase_id": f"P{t}.{p}", "tier_id": f"T{t}", "phase_index": p, "name": f"phase {t}.{p}"}
            for t in range(tiers)
            for p in range(phases_per_tier)
        ],
    }


def start(client: Any, run_id: str, headers: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    r = client.post("/runs/start", json=plan(run_id, **kw), headers=headers or {})
    assert r.status_code == 201, r.text
    return r.json()


def move(client: Any, run_id: str, phase_id: str, state: str, **body: Any) -> Any:
    return client.post(f"/runs/{run_id}/phases/{phase_id}/update_status", json={"state": state, **body})


def create(client: Any, run_id: str, **kw: Any) -> None:
    """A run made through the service (not the rate-limited endpoint), for tests that need many."""
    from ridgeline.autopack.api.schemas import RunStartRequest

    call(client, service(client).runs.start_run, msgspec.convert(plan(run_id, **kw), RunStartRequest))


def away_from_window_edge(window_s: int = 60, margin_s: float = 15.0) -> None:
    """Wait until the fixed rate-limit window has ``margin_s`` left, so a burst counts in one window."""
    import time

    while window_s - (time.time() % window_s) < margin_s:
        time.sleep(0.5)

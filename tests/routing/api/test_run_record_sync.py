"""The run record's commit on SQLite: the dedicated run writer's connection is at
``synchronous=FULL`` (the WAL is fsynced before the response; ``RIDGELINE_ROUTING_RUNS_SYNC=normal``
opts out), the row is committed before the response, and it reads back exactly as the engine path
(SQLAlchemy's bind processors) would have written it."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.routing.api_support import (  # noqa: F401 (fixtures)
    SAMPLE_A,
    SAMPLE_B,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db


def _service(client: Any) -> Any:
    from ridgeline.routing.api.service import RoutingService

    return client.app.state["ctx"].service(RoutingService)


@pytest.mark.parametrize(("setting", "level"), [(None, 2), ("normal", 1)])
def test_run_commit_synchronous_level(
    routing_client: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    level: int,
) -> None:
    if setting is not None:
        monkeypatch.setenv("RIDGELINE_ROUTING_RUNS_SYNC", setting)
    c = routing_client()
    if c.app.state["ctx"].db.backend != "sqlite":
        pytest.skip("SQLite's synchronous levels; PostgreSQL commits are durable as they are")
    r = c.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B})
    assert r.status_code == 200, r.text
    run_id = r.json()["run_id"]
    svc = _service(c)
    writer = svc.store.run_writer(fsync=svc.settings.runs_sync == "full")
    assert writer is not None
    assert writer.synchronous() == level  # FULL = 2 (WAL fsynced at commit), NORMAL = 1
    # committed before the response: another connection of the file sees the row already
    with sqlite3.connect(writer.path) as other:
        assert other.execute("SELECT count(*) FROM routing_runs WHERE id = ?", (run_id,)).fetchone() == (1,)
    assert c.get(f"/routing/runs/{run_id}/manifest").json()["run_id"] == run_id


def test_writer_rows_read_back_as_engine_rows(routing_client: Any) -> None:  # noqa: F811
    """A row written by the run writer and the same row written through SQLAlchemy's insert read
    back identically (JSON columns, the aware-UTC timestamp)."""
    import msgspec

    from ridgeline.routing.api.store import now, runs_table

    c = routing_client()
    if c.app.state["ctx"].db.backend != "sqlite":
        pytest.skip("the run writer is SQLite's")
    svc = _service(c)
    created = now()
    body = {
        "kind": "route",
        "request": {"a": [1, 2.5, None], "b": "x"},
        "results": {"routes": [{"coords": msgspec.Raw(b"[[1.5,2.25],[3.0,4.0]]")}], "n": 3},
        "manifest": {"run_id": "m", "k": [1, 2]},
        "signature": "sig",
        "scenario_manifest": {"s": {"t": True}},
        "scenario_signature": "ssig",
        "provenance": {"p": 1.0},
        "created_at": created,
    }

    async def write_both() -> tuple[Any, Any]:
        await svc.store.insert_runs([{"id": "a" * 32, **body}], fsync=True)
        raw_results = {"routes": [{"coords": [[1.5, 2.25], [3.0, 4.0]]}], "n": 3}
        async with svc.ctx.db.begin() as conn:
            await conn.execute(runs_table.insert(), [{"id": "b" * 32, **body, "results": raw_results}])
        return await svc.store.get_run("a" * 32), await svc.store.get_run("b" * 32)

    fast, engine = c.blocking_portal.call(write_both)
    assert fast is not None and engine is not None
    fast.pop("id")
    engine.pop("id")
    assert fast == engine
    assert fast["created_at"] == created


def test_runs_sync_setting_is_validated() -> None:
    from ridgeline.platform.settings import SettingsError, load_env_struct
    from ridgeline.routing.api.settings import RoutingSettings

    assert load_env_struct(RoutingSettings, "RIDGELINE_ROUTING_", {}).runs_sync == "full"
    with pytest.raises(SettingsError, match="RIDGELINE_ROUTING_RUNS_SYNC"):
        load_env_struct(RoutingSettings, "RIDGELINE_ROUTING_", {"RIDGELINE_ROUTING_RUNS_SYNC": "off"})


def test_failed_batch_rolls_back_and_the_next_commits(routing_client: Any) -> None:  # noqa: F811
    """A batch that fails (here a duplicate run id) raises and writes none of its rows; the writer's
    next batch starts a clean transaction and commits."""
    from ridgeline.routing.api.store import now

    c = routing_client()
    if c.app.state["ctx"].db.backend != "sqlite":
        pytest.skip("the run writer is SQLite's")
    svc = _service(c)

    def row(run_id: str) -> dict[str, Any]:
        return {
            "id": run_id,
            "kind": "route",
            "request": {},
            "results": {},
            "manifest": {},
            "signature": "s",
            "scenario_manifest": {},
            "scenario_signature": "s",
            "provenance": {},
            "created_at": now(),
        }

    c.blocking_portal.call(lambda: svc.store.insert_runs([row("c" * 32)], fsync=True))
    with pytest.raises(sqlite3.IntegrityError):
        c.blocking_portal.call(lambda: svc.store.insert_runs([row("d" * 32), row("c" * 32)], fsync=True))
    assert c.blocking_portal.call(svc.store.get_run, "d" * 32) is None  # the failed batch wrote nothing
    c.blocking_portal.call(lambda: svc.store.insert_runs([row("e" * 32)], fsync=True))
    assert c.blocking_portal.call(svc.store.get_run, "e" * 32) is not None

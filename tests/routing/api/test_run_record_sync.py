"""The run record's commit on SQLite: ``synchronous=FULL`` for that transaction (the WAL is fsynced
before the response; ``RIDGELINE_ROUTING_RUNS_SYNC=normal`` opts out), and the connection goes back
to the pool at the platform's NORMAL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from tests.routing.api_support import (  # noqa: F401 (fixtures)
    SAMPLE_A,
    SAMPLE_B,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db


def _level(dbapi_conn: Any) -> int:
    cur = dbapi_conn.cursor()  # a raw cursor: not seen by the statement listener
    try:
        cur.execute("PRAGMA synchronous")
        return int(cur.fetchone()[0])
    finally:
        cur.close()


def _watch(client: Any) -> list[tuple[int, str, int]]:
    """(connection id, statement, its connection's synchronous level) per statement executed."""
    engine = client.app.state["ctx"].db.engine.sync_engine
    seen: list[tuple[int, str, int]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        seen.append((id(dbapi), statement.lstrip().upper(), _level(dbapi)))

    event.listen(engine, "before_cursor_execute", before)
    return seen


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
    seen = _watch(c)
    r = c.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B})
    assert r.status_code == 200, r.text
    run_id = r.json()["run_id"]
    at = [i for i, (_, st, _) in enumerate(seen) if st.startswith("INSERT INTO ROUTING_RUNS")]
    assert [seen[i][2] for i in at] == [level]  # FULL = 2 (WAL fsynced at commit), NORMAL = 1
    writer = seen[at[0]][0]
    # the writer connection, when next used for anything else, is back at NORMAL
    for _ in range(20):
        assert c.get(f"/routing/runs/{run_id}/manifest").json()["run_id"] == run_id
        later = [lvl for cid, st, lvl in seen[at[0] + 1 :] if cid == writer and not st.startswith("PRAGMA")]
        if later:
            assert later[0] == 1
            break
    else:
        pytest.fail("the connection that wrote the run was not used again")


def test_runs_sync_setting_is_validated() -> None:
    from ridgeline.platform.settings import SettingsError, load_env_struct
    from ridgeline.routing.api.settings import RoutingSettings

    assert load_env_struct(RoutingSettings, "RIDGELINE_ROUTING_", {}).runs_sync == "full"
    with pytest.raises(SettingsError, match="RIDGELINE_ROUTING_RUNS_SYNC"):
        load_env_struct(RoutingSettings, "RIDGELINE_ROUTING_", {"RIDGELINE_ROUTING_RUNS_SYNC": "off"})

"""The issue's loopback test: PostgreSQL, Redis, one ``ridgeline serve --workers 2`` and two
``ridgeline worker`` processes; 100 jobs of three families (routing batch Pareto, sim runs, retail
backtests and trainings) submitted over HTTP. One worker is SIGKILLed while it runs a long sim run,
a long run on the other worker is cancelled (its rollout stops), and some pending jobs are cancelled.
Every job ends in exactly one terminal state, each result is stored once, and no job is lost.

Runs in ``.ci/run``'s Redis pass (marker ``redis``), where ``RIDGELINE_TEST_DATABASE_URL`` points at
PostgreSQL: five processes writing one SQLite file is not a deployment, so without it the test skips.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobs import JobStatus, jobs_table, options_of
from tests.conftest import TEST_PG_URL
from tests.netutil import children, free_port
from tests.retail.test_forecast_api import _ingest
from tests.routing.api_support import SAMPLE_A, SAMPLE_B, SAMPLE_C

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(not TEST_PG_URL, reason="needs PostgreSQL (RIDGELINE_TEST_DATABASE_URL)"),
]

FAMILIES = "routing,sim,retail"
SHORT = {"steps": 40, "dt": 0.005}
# Runs for minutes unless stopped: the job the victim holds when it dies, and the one cancelled.
LONG = {"steps": 200_000, "episodes": 64, "dt": 0.001, "record": False}
N_LONG, N_ROUTING, N_SIM, N_BACKTEST, N_TRAIN = 3, 35, 35, 20, 7
PAIRS = [
    {"origin": SAMPLE_A, "destination": SAMPLE_B, "label": "a-b"},
    {"origin": SAMPLE_B, "destination": SAMPLE_C, "label": "b-c"},
]


def _wait(cond, limit_s: float, what: str, state=None):  # type: ignore[no-untyped-def]
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {limit_s} s" + (f": {state()}" if state else ""))


class Rows:
    """Direct reads of ``platform_jobs`` (and the routing run table) from the test process."""

    def __init__(self, settings: Any, redis_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = dbmod.Database(settings)
        self.redis_url = redis_url

    def jobs(self, ids: list[str]) -> dict[str, Any]:
        async def q() -> dict[str, Any]:
            async with self.db.engine.connect() as conn:
                rows = (await conn.execute(jobs_table.select().where(jobs_table.c.id.in_(ids)))).all()
            return {r.id: r for r in rows}

        return self.loop.run_until_complete(q())

    def summary(self, ids: list[str], kinds: dict[str, str]) -> dict[str, int]:
        """How many jobs of each kind are in each status (for a failure message)."""
        out: dict[str, int] = {}
        for jid, r in self.jobs(ids).items():
            key = f"{kinds[jid]} {r.status} {(r.owner or '-').split(':')[-2:]}"
            out[key] = out.get(key, 0) + 1
        return out

    def saq_state(self, ids: list[str], kinds: dict[str, str]) -> dict[str, Any]:
        """The SAQ entry of each job still QUEUED in the database (a failure message's evidence)."""
        import json

        import redis

        client = redis.Redis.from_url(self.redis_url)
        out: dict[str, Any] = {}
        try:
            for jid, r in self.jobs(ids).items():
                if r.status != JobStatus.QUEUED:
                    continue
                fam = kinds[jid].split("/")[0]
                key = f"saq:job:ridgeline:{fam}:{jid}:{r.attempts}"
                raw = client.get(key)
                entry = json.loads(raw) if raw else None
                out[f"{kinds[jid]} {jid}:{r.attempts}"] = (
                    None
                    if entry is None
                    else {
                        k: entry.get(k)
                        for k in ("status", "attempts", "worker_id", "error", "queued", "started", "touched")
                    }
                    | {
                        "in_active": key.encode() in client.lrange(f"saq:ridgeline:{fam}:active", 0, -1),
                        "in_queued": key.encode() in client.lrange(f"saq:ridgeline:{fam}:queued", 0, -1),
                        "db_error": r.error,
                        "db_queued_at": str(r.queued_at),
                    }
                )
        finally:
            client.close()
        return out

    def routing_runs(self) -> list[str]:
        from ridgeline.routing.api.store import runs_table

        async def q() -> list[str]:
            async with self.db.engine.connect() as conn:
                return list((await conn.execute(sa.select(runs_table.c.id))).scalars())

        return self.loop.run_until_complete(q())

    def close(self) -> None:
        self.loop.run_until_complete(self.db.dispose())
        self.loop.close()


def test_hundred_mixed_jobs_kill_a_worker_cancel_some(settings, redis_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.signing import Signer
    from ridgeline.routing.assets import build_sample_assets

    dbmod.upgrade(settings)
    assets = tmp_path / "assets"
    build_sample_assets(assets, Signer.load_or_create(settings.data_dir))
    port = free_port()
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(settings.data_dir),
        "RIDGELINE_DATABASE_URL": settings.resolved_database_url,
        "RIDGELINE_REDIS_URL": redis_url,
        "RIDGELINE_ROUTING_ASSETS": str(assets),
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        # short enough to recover the victim's jobs in seconds, long enough that a live worker's
        # heartbeat, late on a loaded 2-core box, is not taken for a death
        "RIDGELINE_JOBS_HEARTBEAT_S": "0.5",
        "RIDGELINE_JOBS_STALE_S": "6",
        "RIDGELINE_JOBS_CANCEL_POLL_S": "0.1",
    }
    cli = [sys.executable, "-m", "ridgeline.cli"]
    logs = {name: tmp_path / f"{name}.log" for name in ("serve", "w1", "w2")}
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, args: list[str]) -> None:
        procs[name] = subprocess.Popen(
            cli + args, env=env, stdout=logs[name].open("wb"), stderr=subprocess.STDOUT
        )

    start("serve", ["serve", "--port", str(port), "--workers", "2"])
    # two job slots per worker process in all, shared by its three family queues
    worker_args = ["worker", "--families", FAMILIES, "--concurrency", "2"]
    env["RIDGELINE_MIGRATED"] = "1"  # migrated above (serve checks again; the workers need not)
    start("w1", worker_args)
    start("w2", worker_args)
    rows = Rows(settings, redis_url)
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            for name, p in procs.items():
                assert p.poll() is None, f"{name} exited: {logs[name].read_text()[-3000:]}"
            workers_ready = all("running routing, sim, retail" in logs[n].read_text() for n in ("w1", "w2"))
            try:
                healthy = httpx.get(base + "/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False
            return workers_ready and healthy and len(children(procs["serve"].pid)) >= 2

        _wait(up, 240, "serve (2 workers) and two job workers")  # bounded: start-up on a loaded box
        with httpx.Client(base_url=base, timeout=60) as c:
            _scenario(c, rows, procs)
            assert httpx.get(base + "/health", timeout=5).status_code == 200  # the service kept serving
    finally:
        rows.close()
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _submit_all(c: httpx.Client) -> tuple[list[str], dict[str, str]]:
    """The 100 jobs: the long sim runs first (they take slots at once), then the rest interleaved."""
    store_id, product_id, _ = _ingest(c)
    kinds: dict[str, str] = {}

    def sim(config: dict[str, Any]) -> str:
        r = c.post("/sim/v1/runs", json={"config": config, "options": {"wait": False}})
        assert r.status_code == 202, r.text
        kinds[r.json()["job_id"]] = "sim/run"
        return r.json()["job_id"]

    def routing() -> str:
        r = c.post("/routing/batch/pareto", json={"pairs": PAIRS, "sync_limit": 0})
        assert r.status_code == 202, r.text
        kinds[r.json()["job_id"]] = "routing/batch_pareto"
        return r.json()["job_id"]

    def retail(job_type: str) -> str:
        params: dict[str, Any] = {"store_id": store_id, "product_id": product_id}
        if job_type == "backtest":
            params.update(horizon=7, n_folds=2, models=[{"model_type": "seasonal_naive"}])
        else:
            params["config"] = {"model_type": "seasonal_naive"}
        r = c.post("/retail/jobs", json={"job_type": job_type, "params": params})
        assert r.status_code == 202, r.text
        kinds[r.json()["job_id"]] = f"retail/{job_type}"
        return r.json()["job_id"]

    long = [sim(LONG) for _ in range(N_LONG)]
    plan = (
        [routing] * N_ROUTING
        + [lambda: sim(SHORT)] * N_SIM
        + [lambda: retail("backtest")] * N_BACKTEST
        + [lambda: retail("train")] * N_TRAIN
    )
    # round-robin over the families, so all three queues are busy at once
    by_family: list[list[Any]] = [
        plan[:N_ROUTING],
        plan[N_ROUTING : N_ROUTING + N_SIM],
        plan[N_ROUTING + N_SIM :],
    ]
    order: list[Any] = []
    while any(by_family):
        for group in by_family:
            if group:
                order.append(group.pop(0))
    for make in order:
        make()
    assert len(kinds) == 100
    return long, kinds


def _pid(owner: str | None) -> int | None:
    try:
        return int((owner or "").rsplit(":", 2)[1])
    except (IndexError, ValueError):
        return None


def _scenario(c: httpx.Client, rows: Rows, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    from ridgeline.app import load_family

    long, kinds = _submit_all(c)
    ids = list(kinds)
    worker_pids = {procs["w1"].pid: "w1", procs["w2"].pid: "w2"}

    # The victim: the worker running a long sim run that has made progress (mid-job).
    def long_running() -> Any:
        for jid, r in rows.jobs(long).items():
            if r.status == JobStatus.RUNNING and r.progress > 0 and _pid(r.owner) in worker_pids:
                return jid, r.owner
        return None

    state = lambda: (rows.summary(ids, kinds), rows.saq_state(ids, kinds))  # noqa: E731
    victim_job, victim_owner = _wait(long_running, 120, "a long sim run in progress on a worker", state)
    victim = procs[worker_pids[_pid(victim_owner)]]  # type: ignore[index]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    killed_at = datetime.now(UTC)
    # what it held at its death (recovery waits for a stale heartbeat, seconds away)
    held = {jid for jid, r in rows.jobs(ids).items() if r.owner == victim_owner and r.status == "RUNNING"}
    assert victim_job in held
    survivor_pid = next(p for p in worker_pids if p != victim.pid)

    # A long run running on the survivor is cancelled over HTTP: its rollout stops.
    def on_survivor() -> Any:
        for jid, r in rows.jobs(long).items():
            if r.status == JobStatus.RUNNING and _pid(r.owner) == survivor_pid and r.progress > 0:
                return jid
        return None

    cancelled_running = _wait(on_survivor, 120, "a long sim run in progress on the surviving worker", state)
    r = c.post(f"/sim/v1/runs/{cancelled_running}/cancel")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "CANCELLED" and body["cancelled"] is True, body
    assert sum(body["steps_completed"]) < LONG["steps"] * LONG["episodes"]
    # The other long runs (the victim's, re-queued, and any still waiting or running) are cancelled too:
    # the test does not wait minutes for them.
    for jid in long:
        if jid != cancelled_running:
            r = c.post(f"/sim/v1/runs/{jid}/cancel")
            assert r.status_code in (200, 409), r.text
    # Some of the last-submitted jobs are cancelled: pending ones end CANCELLED; one that already
    # finished keeps its outcome (400 job_not_cancellable / 409 run_finished).
    late_retail = [j for j in ids if kinds[j].startswith("retail/")][-4:]
    late_sim = [j for j in ids if kinds[j] == "sim/run" and j not in long][-3:]
    for jid in late_retail:
        r = c.delete(f"/retail/jobs/{jid}")
        assert r.status_code in (200, 400), r.text
    for jid in late_sim:
        r = c.post(f"/sim/v1/runs/{jid}/cancel")
        assert r.status_code in (200, 409), r.text

    def all_terminal() -> dict[str, Any] | None:
        got = rows.jobs(ids)
        return got if len(got) == 100 and all(JobStatus(r.status).terminal for r in got.values()) else None

    final = _wait(all_terminal, 180, "every job terminal", state)

    options = {}
    for fam in FAMILIES.split(","):
        for kind, handler in load_family(fam).job_kinds.items():
            options[f"{fam}/{kind}"] = options_of(handler)
    for jid, rec in final.items():
        status = JobStatus(rec.status)
        assert rec.finished_at is not None, (kinds[jid], rec)
        cancelled_while_dying = status == JobStatus.CANCELLED and rec.cancel_requested_at is not None
        if _pid(rec.owner) == victim.pid and status != JobStatus.FAILED:
            if jid in held:  # a cancel that reached it while its worker was dead: recovered as CANCELLED
                assert cancelled_while_dying, (kinds[jid], rec)
            else:  # finished before the kill
                assert rec.finished_at <= killed_at, (kinds[jid], rec)
        if status == JobStatus.SUCCEEDED:
            assert rec.result is not None, (kinds[jid], rec)
        else:
            assert rec.result is None, (kinds[jid], rec)
        if jid in held:
            if options[kinds[jid]].idempotent:  # re-queued, then run again elsewhere (or cancelled)
                assert status in (JobStatus.SUCCEEDED, JobStatus.CANCELLED), (kinds[jid], rec.error)
                assert rec.attempts <= 2
                if status == JobStatus.SUCCEEDED:
                    assert rec.attempts == 2 and _pid(rec.owner) == survivor_pid
            elif not cancelled_while_dying:
                assert status == JobStatus.FAILED and rec.error["reason_code"] == "job_worker_lost"
        else:
            assert rec.attempts <= 1, (kinds[jid], rec)  # ran at most once
            assert status != JobStatus.FAILED, (kinds[jid], rec.error)
    assert JobStatus(final[cancelled_running].status) == JobStatus.CANCELLED
    for jid in long:
        assert JobStatus(final[jid].status) == JobStatus.CANCELLED, final[jid]
    # Stored once: one routing run row per succeeded batch job, none for the others.
    routing = [j for j in ids if kinds[j] == "routing/batch_pareto"]
    stored = rows.routing_runs()
    assert len(stored) == len(set(stored))
    succeeded = {final[j].result["run_id"] for j in routing if final[j].status == JobStatus.SUCCEEDED}
    assert set(stored) == succeeded
    # each finished sim run has its metrics; each succeeded retail job its result
    for jid in ids:
        if kinds[jid] == "sim/run" and final[jid].status == JobStatus.SUCCEEDED:
            run = c.get(f"/sim/v1/runs/{jid}").json()
            assert run["status"] == "SUCCEEDED" and run["metrics"] is not None, run
    counts = {
        s: sum(1 for r in final.values() if r.status == s) for s in ("SUCCEEDED", "FAILED", "CANCELLED")
    }
    assert sum(counts.values()) == 100 and counts["SUCCEEDED"] >= 80, counts

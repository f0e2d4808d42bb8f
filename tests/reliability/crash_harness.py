"""Crash durability: drive writes at a real ``ridgeline serve``, SIGKILL its whole process group at random
moments, restart it on the same data, and check every write whose answer the client received.

What a write is and how it is checked, per family:

- routing: ``POST /routing/route``. Acknowledged = a 200 with a ``run_id``. After the restart its
  manifest is served and its Ed25519 signature verifies against the stored manifest (intact).
- retail: ``POST /retail/ingest/sales-daily`` of one day's CSV batch with known quantities. Acknowledged
  = a 200. After the restart an acknowledged day totals exactly its batch, and an unacknowledged day
  totals its batch or nothing (never part of it: no half-written batch is visible). Replaying every
  batch at the end leaves every total unchanged (upserts by natural key, no duplicates).
- sim: ``POST /sim/api/sim/run``. Acknowledged = a 200 with a ``run_id``. After the restart the run is
  served (``GET /sim/v1/runs/{id}``) and is in a known state, never lost.

The whole process group is killed (``killpg`` SIGKILL), as a host crash or the OOM killer would: the
granian parent and its workers die together, mid-request and mid-commit.

``python -m tests.reliability.crash_harness --kills 50 [--database-url postgresql://...]`` runs a long
campaign and prints the counts; the test suite runs a short one.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

ROUTING_A = (45.905, 6.105)  # the embedded sample region (RIDGELINE_SEED_DEFAULTS)
ROUTING_B = (45.962, 6.160)
RETAIL_STORES = ("S1", "S2", "S3")
RETAIL_SKUS = ("A", "B", "C", "D")
RETAIL_DAY0 = date(1990, 1, 1)  # years before the embedded sample data, which the totals would include
SIM_STATES = {"CREATED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``ridgeline serve`` in its own process group on a fixed data dir and port."""

    def __init__(self, data_dir: Path, database_url: str, port: int, workers: int = 2) -> None:
        self.data_dir, self.database_url, self.port, self.workers = data_dir, database_url, port, workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self, limit_s: float = 180) -> None:
        env = {**os.environ, "RIDGELINE_DATA_DIR": str(self.data_dir), "RIDGELINE_LOG_LEVEL": "WARNING"}
        env.pop("RIDGELINE_DATABASE_URL", None)
        if self.database_url:
            env["RIDGELINE_DATABASE_URL"] = self.database_url
        log = open(self.data_dir.parent / "serve.log", "ab")  # the child keeps its own copy
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ridgeline.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.data_dir.parent / "serve.log").read_bytes()[-3000:].decode(errors="replace")
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{tail}")
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("serve did not become ready")

    def crash(self) -> None:
        """SIGKILL the whole process group and wait until the port is free again."""
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", self.port))
                    return
                except OSError:
                    time.sleep(0.1)
        raise RuntimeError("port still taken after the crash")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.crash()


def retail_batch(day: int) -> tuple[bytes, dict[str, int]]:
    """One day's rows (3 stores x 4 SKUs); quantities known from the day number."""
    d = RETAIL_DAY0 + timedelta(days=day)
    buf = io.StringIO()
    buf.write("date,store_code,sku,quantity,unit_price,on_promotion,transactions\n")
    total = 0
    for i, store in enumerate(RETAIL_STORES):
        for j, sku in enumerate(RETAIL_SKUS):
            q = 1 + (day * 7 + i * 5 + j * 3) % 23
            total += q
            buf.write(f"{d.isoformat()},{store},{sku},{q},2.5,false,{1 + j}\n")
    return buf.getvalue().encode(), {d.isoformat(): total}


@dataclass
class Ledger:
    """What the client sent and what it was told."""

    routing_acked: list[str] = field(default_factory=list)
    sim_acked: list[str] = field(default_factory=list)
    retail_sent: dict[int, bool] = field(default_factory=dict)  # day -> acknowledged
    next_day: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _drive(base: str, ledger: Ledger, family: str, stop: threading.Event, rng: random.Random) -> None:
    """One client loop; any transport error (the server died) ends it."""
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            try:
                if family == "routing":
                    jitter = rng.uniform(-0.004, 0.004)
                    r = c.post(
                        "/routing/route",
                        json={
                            "origin": {"lat": ROUTING_A[0] + jitter, "lon": ROUTING_A[1]},
                            "destination": {"lat": ROUTING_B[0], "lon": ROUTING_B[1] + jitter},
                        },
                    )
                    if r.status_code == 200:
                        with ledger.lock:
                            ledger.routing_acked.append(r.json()["run_id"])
                elif family == "retail":
                    with ledger.lock:
                        day = ledger.next_day
                        ledger.next_day += 1
                        ledger.retail_sent[day] = False
                    body, _ = retail_batch(day)
                    r = c.post(
                        "/retail/ingest/sales-daily?create_missing=true",
                        content=body,
                        headers={"content-type": "text/csv"},
                    )
                    if r.status_code == 200:
                        with ledger.lock:
                            ledger.retail_sent[day] = True
                elif family == "sim":
                    r = c.post(
                        "/sim/api/sim/run",
                        json={
                            "profile": "default",
                            "steps": 40,
                            "episodes": 1,
                            "seed": rng.randrange(1 << 30),
                        },
                    )
                    if r.status_code == 200:
                        with ledger.lock:
                            ledger.sim_acked.append(r.json()["run_id"])
            except httpx.HTTPError:
                return


@dataclass
class Verdict:
    kills: int = 0
    writes_checked: int = 0
    routing_checked: int = 0
    sim_checked: int = 0
    retail_acked: int = 0
    retail_unacked_committed: int = 0
    retail_unacked_absent: int = 0
    failures: list[str] = field(default_factory=list)


def _retail_totals(c: httpx.Client, days: int, window: int = 300) -> dict[str, int]:
    """Units per day for the first ``days`` days, in windows the timeseries endpoint accepts."""
    out: dict[str, int] = {}
    for first in range(0, days, window):
        start = RETAIL_DAY0 + timedelta(days=first)
        end = RETAIL_DAY0 + timedelta(days=min(days, first + window) - 1)
        r = c.get(
            "/retail/analytics/timeseries",
            params={"granularity": "day", "start_date": start.isoformat(), "end_date": end.isoformat()},
        )
        r.raise_for_status()
        out.update({p["period_start"]: int(p["total_units"]) for p in r.json()["points"]})
    return out


def verify(base: str, ledger: Ledger, verdict: Verdict, *, checked: set[str]) -> None:
    """Every acknowledged write is there and intact; nothing half-written is visible."""
    with httpx.Client(base_url=base, timeout=60) as c:
        for run_id in ledger.routing_acked:
            m = c.get(f"/routing/runs/{run_id}/manifest")
            if m.status_code != 200:
                verdict.failures.append(f"routing run {run_id} acknowledged but {m.status_code}")
                continue
            v = c.post("/routing/verify/signature", json={"run_id": run_id})
            if v.status_code != 200 or not v.json().get("valid"):
                verdict.failures.append(
                    f"routing run {run_id}: stored manifest fails its signature: {v.text}"
                )
            if run_id not in checked:
                checked.add(run_id)
                verdict.routing_checked += 1
        for run_id in ledger.sim_acked:
            r = c.get(f"/sim/v1/runs/{run_id}")
            if r.status_code != 200:
                verdict.failures.append(f"sim run {run_id} acknowledged but {r.status_code}")
                continue
            state = str(r.json().get("status", r.json().get("state", ""))).upper()
            if state not in SIM_STATES:
                verdict.failures.append(f"sim run {run_id} in an unknown state {state!r}")
            if run_id not in checked:
                checked.add(run_id)
                verdict.sim_checked += 1
        totals = _retail_totals(c, ledger.next_day)
        for day, acked in sorted(ledger.retail_sent.items()):
            _, want = retail_batch(day)
            ((d, total),) = want.items()
            got = totals.get(d, 0)
            if acked and got != total:
                verdict.failures.append(f"retail day {d} acknowledged with {total} units, holds {got}")
            elif not acked and got not in (0, total):
                verdict.failures.append(f"retail day {d} half-written: {got} of {total} units")
            key = f"retail:{day}"
            if key not in checked:
                checked.add(key)
                if acked:
                    verdict.retail_acked += 1
                elif got:
                    verdict.retail_unacked_committed += 1
                else:
                    verdict.retail_unacked_absent += 1


def replay_retail(base: str, ledger: Ledger, verdict: Verdict) -> None:
    """Send every batch again: totals must not change (no duplicates)."""
    with httpx.Client(base_url=base, timeout=60) as c:
        for day in sorted(ledger.retail_sent):
            body, _ = retail_batch(day)
            r = c.post(
                "/retail/ingest/sales-daily?create_missing=true",
                content=body,
                headers={"content-type": "text/csv"},
            )
            if r.status_code != 200:
                verdict.failures.append(f"replay of retail day {day}: {r.status_code} {r.text[:200]}")
                continue
            ledger.retail_sent[day] = True
        totals = _retail_totals(c, ledger.next_day)
        for day in sorted(ledger.retail_sent):
            _, want = retail_batch(day)
            ((d, total),) = want.items()
            if totals.get(d, 0) != total:
                verdict.failures.append(f"retail day {d} after replay holds {totals.get(d, 0)}, not {total}")


def campaign(
    work_dir: Path,
    *,
    kills: int,
    database_url: str = "",
    seed: int = 0,
    families: tuple[str, ...] = ("routing", "retail", "sim"),
    window_s: tuple[float, float] = (0.3, 2.5),
) -> Verdict:
    """``kills`` rounds of: start, drive writes for a random window, SIGKILL mid-flight, restart, verify."""
    rng = random.Random(seed)
    data_dir = work_dir / "var"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = Server(data_dir, database_url, free_port())
    ledger, verdict, checked = Ledger(), Verdict(), set[str]()
    try:
        server.start()
        for _ in range(kills):
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=_drive, args=(server.base, ledger, f, stop, random.Random(rng.random()))
                )
                for f in families
                for _ in range(2)  # two clients per family: commits overlap
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(*window_s))
            server.crash()  # mid-request: the clients see their connections drop
            stop.set()
            for t in threads:
                t.join(timeout=60)
            verdict.kills += 1
            server.start()
            verify(server.base, ledger, verdict, checked=checked)
        replay_retail(server.base, ledger, verdict)
        verify(server.base, ledger, verdict, checked=checked)
        verdict.writes_checked = verdict.routing_checked + verdict.sim_checked + verdict.retail_acked
    finally:
        server.stop()
    return verdict


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=50)
    p.add_argument("--database-url", default="")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work-dir", type=Path, default=Path("var/crash-campaign"))
    a = p.parse_args()
    v = campaign(a.work_dir, kills=a.kills, database_url=a.database_url, seed=a.seed)
    print(
        f"kills survived: {v.kills}; writes checked: {v.writes_checked} (routing {v.routing_checked}, "
        f"sim {v.sim_checked}, retail acknowledged {v.retail_acked}; unacknowledged retail batches "
        f"committed {v.retail_unacked_committed}, absent {v.retail_unacked_absent}); failures: {len(v.failures)}"
    )
    for f in v.failures[:50]:
        print("  " + f)
    return 1 if v.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

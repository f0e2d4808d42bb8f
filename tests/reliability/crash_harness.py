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
- autopack: ``POST /autopack/runs/{run}/phases/{phase}/update_status``. Each client owns one run and
  moves its phases EXECUTING <-> QUEUED (re-queue), every update carrying the next cumulative
  ``tokens_used`` n (EXECUTING for odd n). Acknowledged = a 200. After the restart each phase holds its
  last acknowledged update, or the one in flight when the server died, and its state and tokens come
  from the same update (never the state of one and the tokens of another). Replaying the
  acknowledged update leaves both unchanged (tokens are the executor's cumulative count, not summed).
- genai: ``POST /genai/v1/context/knowledge-bases/{kb}/uploads`` of a small text file with a unique
  marker and an ``Idempotency-Key``. Acknowledged = a 201. After the restart an acknowledged upload is
  one document whose content is the file's, an unacknowledged one is one document or none, and a
  knowledge-base query for a marker finds chunks of stored documents only (a vector written before a
  crash that lost its document must not be served). Replaying every upload with its key creates
  nothing new.

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

from tests.netutil import free_port

ROUTING_A = (45.905, 6.105)  # the embedded sample region (RIDGELINE_SEED_DEFAULTS)
ROUTING_B = (45.962, 6.160)
RETAIL_STORES = ("S1", "S2", "S3")
RETAIL_SKUS = ("A", "B", "C", "D")
RETAIL_DAY0 = date(1990, 1, 1)  # years before the embedded sample data, which the totals would include
SIM_STATES = {"CREATED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"}
FAMILIES = ("routing", "retail", "sim", "autopack", "genai")
CLIENTS_PER_FAMILY = 2  # two clients per family: commits overlap
AUTOPACK_PHASES = 4  # per run
GENAI_USER = ("crash-admin", "crash-harness-pass-1")
GENAI_KBS = "/genai/v1/context/knowledge-bases"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


class Server:
    """``ridgeline serve`` in its own process group on a fixed data dir and port."""

    def __init__(self, data_dir: Path, database_url: str, port: int, workers: int = 2) -> None:
        self.data_dir, self.database_url, self.port, self.workers = data_dir, database_url, port, workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{port}"

    def env(self) -> dict[str, str]:
        """The service's settings; a day-long token so one login serves the whole campaign."""
        env = {
            "RIDGELINE_DATA_DIR": str(self.data_dir),
            "RIDGELINE_LOG_LEVEL": "WARNING",
            "RIDGELINE_AUTH_TOKEN_TTL_S": "86400",
            "RIDGELINE_AUTH_JWT_ROTATION_OVERLAP_S": "86400",
        }
        if self.database_url:
            env["RIDGELINE_DATABASE_URL"] = self.database_url
        return env

    def start(self, limit_s: float = 180) -> None:
        env = {**os.environ, **self.env()}
        if not self.database_url:
            env.pop("RIDGELINE_DATABASE_URL", None)
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


def phase_state(n: int) -> str:
    """The state the n-th update of a phase moves it to (it starts QUEUED with 0 tokens)."""
    return "EXECUTING" if n % 2 else "QUEUED"


@dataclass
class PhaseLedger:
    acked: int = 0  # the last acknowledged update's n (= its cumulative tokens_used)
    in_flight: int | None = None  # sent, not answered


@dataclass
class AutopackRun:
    run_id: str
    phases: dict[str, PhaseLedger]
    turn: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # one client drives a run at a time


def genai_upload(marker: str) -> tuple[str, bytes]:
    """A small text file whose marker names it (and is the text a query looks for)."""
    return f"{marker}.txt", f"Dock note {marker}: gate {marker[-3:]} opens at dawn.".encode()


@dataclass
class Ledger:
    """What the client sent and what it was told."""

    routing_acked: list[str] = field(default_factory=list)
    sim_acked: list[str] = field(default_factory=list)
    retail_sent: dict[int, bool] = field(default_factory=dict)  # day -> acknowledged
    next_day: int = 0
    autopack_runs: list[AutopackRun] = field(default_factory=list)
    genai_kb: str = ""
    genai_token: str = ""
    genai_sent: dict[str, bool] = field(default_factory=dict)  # marker -> acknowledged
    next_upload: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _write(c: httpx.Client, ledger: Ledger, family: str, rng: random.Random) -> bool:
    """One write of ``family``, recorded in the ledger; False when the client should stop."""
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
    elif family == "autopack":
        _autopack_step(c, ledger, rng)
    elif family == "genai":
        with ledger.lock:
            marker = f"crash-{ledger.next_upload:06d}"
            ledger.next_upload += 1
            ledger.genai_sent[marker] = False
        return _genai_upload(c, ledger, marker)
    elif family == "sim":
        r = c.post(
            "/sim/api/sim/run",
            json={"profile": "default", "steps": 40, "episodes": 1, "seed": rng.randrange(1 << 30)},
        )
        if r.status_code == 200:
            with ledger.lock:
                ledger.sim_acked.append(r.json()["run_id"])
    return True


def _drive(base: str, ledger: Ledger, family: str, stop: threading.Event, rng: random.Random) -> None:
    """One client loop; any transport error (the server died) ends it."""
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            try:
                if not _write(c, ledger, family, rng):
                    return
            except httpx.HTTPError:
                return


def _autopack_step(c: httpx.Client, ledger: Ledger, rng: random.Random) -> None:
    """The next update of one phase of a run no other client is driving (EXECUTING <-> QUEUED)."""
    runs = [r for r in ledger.autopack_runs if r.lock.acquire(blocking=False)]
    if not runs:
        time.sleep(0.01)
        return
    run = rng.choice(runs)
    for r in runs:
        if r is not run:
            r.lock.release()
    try:
        ids = sorted(run.phases)
        phase_id = ids[run.turn % len(ids)]
        run.turn += 1
        ph = run.phases[phase_id]
        n = ph.acked + 1
        ph.in_flight = n
        r = c.post(
            f"/autopack/runs/{run.run_id}/phases/{phase_id}/update_status",
            json={"state": phase_state(n), "tokens_used": n},
        )
        if r.status_code == 200 and r.json()["tokens_used"] == n:
            ph.acked, ph.in_flight = n, None
    finally:
        run.lock.release()


def _genai_upload(c: httpx.Client, ledger: Ledger, marker: str) -> bool:
    name, body = genai_upload(marker)
    r = c.post(
        f"{GENAI_KBS}/{ledger.genai_kb}/uploads",
        files={"file": (name, body, "text/plain")},
        headers={"Authorization": f"Bearer {ledger.genai_token}", "Idempotency-Key": marker},
    )
    if r.status_code == 201:
        with ledger.lock:
            ledger.genai_sent[marker] = True
    return r.status_code != 401


# Families whose first write on a fresh worker can outlast a kill window: genai loads its embedding
# model (seconds), and a sim run is a queued job that, on a busy 2-core machine, takes 1-5 s while the
# other families' clients contend. A window can close before either answers once; CI saw four kills
# in a row with no sim run acknowledged.
SLOW_START = ("genai", "sim")


def warm(base: str, ledger: Ledger, families: tuple[str, ...], rng: random.Random) -> None:
    """Two concurrent writes of each slow-start family, answered before the window opens, so kills land
    mid-write and not only mid-load, and every family has acknowledged writes to check. They are
    writes like the others, in the ledger and checked."""

    def one(family: str, seed: float) -> None:
        with httpx.Client(base_url=base, timeout=180) as c:
            _write(c, ledger, family, random.Random(seed))

    threads = [
        threading.Thread(target=one, args=(f, rng.random()))
        for f in families
        if f in SLOW_START
        for _ in range(CLIENTS_PER_FAMILY)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=200)


def setup_autopack(base: str, ledger: Ledger, clients: int) -> None:
    """One run per client, each with a few phases (created once: run starts are rate limited)."""
    with httpx.Client(base_url=base, timeout=60) as c:
        for i in range(clients):
            run_id = f"crash-run-{i}"
            phases = [f"P{j}" for j in range(AUTOPACK_PHASES)]
            r = c.post(
                "/autopack/runs/start",
                json={
                    "run": {
                        "run_id": run_id,
                        "goal": "crash harness",
                        "max_phases": AUTOPACK_PHASES,
                        "max_duration_minutes": 525_600,
                    },
                    "tiers": [{"tier_id": "T0", "tier_index": 0, "name": "only"}],
                    "phases": [
                        {"phase_id": p, "tier_id": "T0", "phase_index": j, "name": p}
                        for j, p in enumerate(phases)
                    ],
                },
            )
            r.raise_for_status()
            ledger.autopack_runs.append(AutopackRun(run_id, {p: PhaseLedger() for p in phases}))


def setup_genai(server: Server, ledger: Ledger) -> None:
    """A superadmin (created with the CLI, as an operator would) and a knowledge base on the embedded
    vector index and local embeddings."""
    user, password = GENAI_USER
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "ridgeline.cli",
            "users",
            "create",
            user,
            "--role",
            "superadmin",
            "--password-stdin",
        ],
        input=password + "\n",
        env={**os.environ, **server.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if made.returncode != 0:
        raise RuntimeError(f"users create failed: {made.stderr}")
    with httpx.Client(base_url=server.base, timeout=60) as c:
        r = c.post("/auth/login", json={"username": user, "password": password})
        r.raise_for_status()
        ledger.genai_token = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {ledger.genai_token}"}
        r = c.get("/genai/v1/platform/providers", headers=auth)
        r.raise_for_status()
        ids = {p["slug"]: p["id"] for p in r.json()["providers"]}
        r = c.post(
            GENAI_KBS,
            headers=auth,
            json={
                "name": "crash-kb",
                "provider_instance_id": ids["ridgeline-embedded-vector-index"],
                "vectorization": {
                    "mode": "vanessa_embeddings",
                    "embedding_provider_instance_id": ids["ridgeline-local-embeddings"],
                    "embedding_model_id": MINILM,
                },
                "chunking": {"strategy": "fixed_length", "chunk_length": 64, "chunk_overlap": 8},
            },
        )
        r.raise_for_status()
        ledger.genai_kb = r.json()["knowledge_base"]["id"]


@dataclass
class Verdict:
    kills: int = 0
    writes_checked: int = 0
    routing_checked: int = 0
    sim_checked: int = 0
    retail_acked: int = 0
    retail_unacked_committed: int = 0
    retail_unacked_absent: int = 0
    autopack_checked: int = 0  # acknowledged phase updates found in place after a restart
    autopack_in_flight_committed: int = 0
    genai_acked: int = 0
    genai_unacked_committed: int = 0
    genai_unacked_absent: int = 0
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
        _verify_autopack(c, ledger, verdict)
        if ledger.genai_kb:
            _verify_genai(c, ledger, verdict, checked)
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


def _verify_autopack(c: httpx.Client, ledger: Ledger, verdict: Verdict) -> None:
    """Each phase holds its last acknowledged update or the one in flight, state and tokens from the
    same update; the client then carries on from what the server holds."""
    for run in ledger.autopack_runs:
        r = c.get(f"/autopack/runs/{run.run_id}")
        if r.status_code != 200:
            verdict.failures.append(f"autopack run {run.run_id} created but {r.status_code}")
            continue
        held = {p["phase_id"]: p for p in r.json()["phases"]}
        for phase_id, ph in run.phases.items():
            got = held.get(phase_id)
            if got is None:
                verdict.failures.append(f"autopack phase {run.run_id}/{phase_id} is gone")
                continue
            n = int(got["tokens_used"])
            if n not in (ph.acked, ph.in_flight):
                verdict.failures.append(
                    f"autopack phase {run.run_id}/{phase_id}: acknowledged update {ph.acked} "
                    f"(in flight {ph.in_flight}) but the server holds {n}"
                )
            elif got["state"] != phase_state(n):
                verdict.failures.append(
                    f"autopack phase {run.run_id}/{phase_id}: tokens of update {n} with state "
                    f"{got['state']} (half an update)"
                )
            else:
                verdict.autopack_checked += ph.acked > 0
                verdict.autopack_in_flight_committed += n == ph.in_flight != ph.acked
                ph.acked, ph.in_flight = n, None
        total = sum(int(p["tokens_used"]) for p in held.values())
        if int(r.json()["tokens_used"]) != total:
            verdict.failures.append(
                f"autopack run {run.run_id}: run tokens {r.json()['tokens_used']} != its phases' {total}"
            )


def _genai_documents(c: httpx.Client, ledger: Ledger) -> list[dict[str, object]]:
    auth = {"Authorization": f"Bearer {ledger.genai_token}"}
    out: list[dict[str, object]] = []
    while True:
        r = c.get(
            f"{GENAI_KBS}/{ledger.genai_kb}/documents",
            params={"limit": 500, "offset": len(out)},
            headers=auth,
        )
        r.raise_for_status()
        page = r.json()["documents"]
        out.extend(page)
        if not page or len(out) >= r.json()["total"]:
            return out


def _verify_genai(c: httpx.Client, ledger: Ledger, verdict: Verdict, checked: set[str]) -> None:
    """An acknowledged upload is one intact document; an unacknowledged one is one or none; a query
    never serves a chunk of a document that is not stored."""
    import hashlib

    docs = _genai_documents(c, ledger)
    by_title: dict[str, list[dict[str, object]]] = {}
    for d in docs:
        by_title.setdefault(str(d["title"]), []).append(d)
    for marker, acked in sorted(ledger.genai_sent.items()):
        name, body = genai_upload(marker)
        held = by_title.get(name, [])
        if len(held) > 1:
            verdict.failures.append(f"genai upload {marker} stored {len(held)} times")
            continue
        if acked and not held:
            verdict.failures.append(f"genai upload {marker} acknowledged but not stored")
            continue
        if held:
            want = hashlib.sha256(f"{name}\0{body.decode()}".encode()).hexdigest()
            d = held[0]
            if d["content_hash"] != want or not int(str(d["chunk_count"])) > 0:
                verdict.failures.append(f"genai upload {marker} stored but not intact: {d}")
        key = f"genai:{marker}"
        if key not in checked:
            checked.add(key)
            if acked:
                verdict.genai_acked += 1
            elif held:
                verdict.genai_unacked_committed += 1
            else:
                verdict.genai_unacked_absent += 1
    stored = {str(d["id"]) for d in docs}
    missing = [m for m, a in ledger.genai_sent.items() if not a and genai_upload(m)[0] not in by_title]
    for marker in missing[-3:]:  # a lost upload's vectors, if any were written, must not be served
        r = c.post(
            f"{GENAI_KBS}/{ledger.genai_kb}/query",
            json={"query": f"Dock note {marker}", "mode": "hybrid", "top_k": 5},
            headers={"Authorization": f"Bearer {ledger.genai_token}"},
        )
        if r.status_code == 409 and r.json().get("reason_code") == "knowledge_base_not_ready":
            continue  # nothing stored yet
        if r.status_code != 200:
            verdict.failures.append(f"genai query after a lost upload: {r.status_code} {r.text[:200]}")
            continue
        for hit in r.json()["results"]:
            if str(hit.get("document_id")) not in stored:
                verdict.failures.append(f"genai query served a chunk of a document not stored: {hit}")


def replay_autopack(base: str, ledger: Ledger, verdict: Verdict) -> None:
    """Send every phase's last update again: a metrics-only update, tokens not added twice."""
    with httpx.Client(base_url=base, timeout=60) as c:
        for run in ledger.autopack_runs:
            for phase_id, ph in run.phases.items():
                if ph.acked == 0:
                    continue
                r = c.post(
                    f"/autopack/runs/{run.run_id}/phases/{phase_id}/update_status",
                    json={"state": phase_state(ph.acked), "tokens_used": ph.acked},
                )
                if r.status_code != 200 or r.json()["tokens_used"] != ph.acked:
                    verdict.failures.append(
                        f"replay of autopack {run.run_id}/{phase_id} update {ph.acked}: "
                        f"{r.status_code} {r.text[:200]}"
                    )


def replay_genai(base: str, ledger: Ledger, verdict: Verdict) -> None:
    """Send every upload again with its key: the same document answers, nothing new is stored."""
    with httpx.Client(base_url=base, timeout=60) as c:
        for marker in sorted(ledger.genai_sent):
            if not _genai_upload(c, ledger, marker) or not ledger.genai_sent[marker]:
                verdict.failures.append(f"replay of genai upload {marker} was not answered 201")


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
    families: tuple[str, ...] = FAMILIES,
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
        if "autopack" in families:
            setup_autopack(server.base, ledger, CLIENTS_PER_FAMILY)
        if "genai" in families:
            setup_genai(server, ledger)
        for _ in range(kills):
            warm(server.base, ledger, families, rng)
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=_drive, args=(server.base, ledger, f, stop, random.Random(rng.random()))
                )
                for f in families
                for _ in range(CLIENTS_PER_FAMILY)
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
        replay_autopack(server.base, ledger, verdict)
        if ledger.genai_kb:
            replay_genai(server.base, ledger, verdict)
        verify(server.base, ledger, verdict, checked=checked)
        verdict.writes_checked = (
            verdict.routing_checked
            + verdict.sim_checked
            + verdict.retail_acked
            + verdict.autopack_checked
            + verdict.genai_acked
        )
    finally:
        server.stop()
    return verdict


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=50)
    p.add_argument("--database-url", default="")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work-dir", type=Path, default=Path("var/crash-campaign"))
    p.add_argument("--families", default=",".join(FAMILIES), help="comma-separated subset")
    a = p.parse_args()
    fams = tuple(f for f in a.families.split(",") if f)
    v = campaign(a.work_dir, kills=a.kills, database_url=a.database_url, seed=a.seed, families=fams)
    print(
        f"kills survived: {v.kills}; writes checked: {v.writes_checked} (routing {v.routing_checked}, "
        f"sim {v.sim_checked}, retail acknowledged {v.retail_acked}, autopack phase updates "
        f"{v.autopack_checked}, genai uploads acknowledged {v.genai_acked}; unacknowledged retail batches "
        f"committed {v.retail_unacked_committed}, absent {v.retail_unacked_absent}; in-flight autopack "
        f"updates committed {v.autopack_in_flight_committed}; unacknowledged genai uploads committed "
        f"{v.genai_unacked_committed}, absent {v.genai_unacked_absent}); failures: {len(v.failures)}"
    )
    for f in v.failures[:50]:
        print("  " + f)
    return 1 if v.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

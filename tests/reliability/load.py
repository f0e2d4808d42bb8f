"""A bounded open-loop load test on each family's main endpoints of a real ``ridgeline serve``, and a soak.

Requests are sent on a fixed schedule (request ``i`` at ``start + i / rate``) whether or not earlier
ones have answered, and latency is measured from the scheduled time, so a stalled server shows up in
p99 instead of slowing the generator down (no coordinated omission). In-flight requests are capped;
a request that could not be sent on time counts as late and its lateness is in its latency.

``python -m tests.reliability.load --rate 50 --duration 20`` prints per endpoint: sent, errors, p50,
p99. ``--soak 600`` then drives every endpoint round-robin for that many seconds and samples the
resident memory and open file descriptors of every server process every 30 s (the growth is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.netutil import free_port
from tests.reliability.crash_harness import ROUTING_A, ROUTING_B, Server

PASSWORD = "load-test-pass-word-1"


@dataclass(frozen=True, eq=False)  # hashed by identity: the body is a dict
class Endpoint:
    family: str
    method: str
    path: str
    json: Any = None
    auth: str = ""  # "", "bearer" or "key"


ENDPOINTS = (
    Endpoint(
        "routing",
        "POST",
        "/routing/route",
        {
            "origin": {"lat": ROUTING_A[0], "lon": ROUTING_A[1]},
            "destination": {"lat": ROUTING_B[0], "lon": ROUTING_B[1]},
        },
    ),
    Endpoint(
        "sim", "POST", "/sim/api/sim/run", {"profile": "default", "steps": 20, "episodes": 1, "seed": 1}
    ),
    Endpoint("retail", "GET", "/retail/analytics/kpis?start_date=2023-01-01&end_date=2023-03-31"),
    Endpoint("autopack", "GET", "/autopack/runs", auth="key"),
    Endpoint("genai", "GET", "/genai/v1/platform/capabilities", auth="bearer"),
)


@dataclass
class Result:
    endpoint: Endpoint
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def credentials(server: Server) -> dict[str, dict[str, str]]:
    """A superadmin made with the CLI, its bearer token from /auth/login, and a '*' API key."""
    env = {**os.environ, "RIDGELINE_DATA_DIR": str(server.data_dir)}
    if server.database_url:
        env["RIDGELINE_DATABASE_URL"] = server.database_url
    cli = [sys.executable, "-m", "ridgeline.cli"]
    subprocess.run(
        [*cli, "users", "create", "loadadmin", "--role", "superadmin", "--password-stdin"],
        input=PASSWORD.encode(),
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [*cli, "apikeys", "create", "--name", "load", "--scope", "*", "--owner", "loadadmin"],
        env=env,
        check=True,
        capture_output=True,
    ).stdout.decode()
    key = json.loads(out)["key"]
    return {"": {}, "bearer": bearer(server), "key": {"X-API-Key": key}}


def bearer(server: Server) -> dict[str, str]:
    """A fresh access token (the soak logs in again before each chunk, as a long-lived client would)."""
    r = httpx.post(
        server.base + "/auth/login", json={"username": "loadadmin", "password": PASSWORD}, timeout=30
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def drive(
    base: str,
    endpoints: list[Endpoint],
    creds: dict[str, dict[str, str]],
    rate: float,
    duration_s: float,
    max_in_flight: int = 64,
) -> dict[Endpoint, Result]:
    """Open-loop at ``rate`` requests/s in total, endpoints taken round-robin."""
    results = {e: Result(e) for e in endpoints}
    gate = asyncio.Semaphore(max_in_flight)
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one(e: Endpoint, scheduled: float) -> None:
            async with gate:
                try:
                    r = await client.request(e.method, e.path, json=e.json, headers=creds[e.auth])
                    if r.status_code >= 400:
                        results[e].errors.append(f"{r.status_code} {r.text[:120]}")
                except httpx.HTTPError as exc:
                    results[e].errors.append(f"{type(exc).__name__}: {exc}")
                finally:
                    results[e].latencies_ms.append((time.perf_counter() - scheduled) * 1000)

        start = time.perf_counter()
        tasks = []
        n = int(rate * duration_s)
        for i in range(n):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(endpoints[i % len(endpoints)], scheduled)))
        await asyncio.gather(*tasks)
    return results


def each_endpoint(
    server: Server, creds: dict[str, dict[str, str]], rate: float, duration_s: float
) -> list[dict[Endpoint, Result]]:
    """Every main endpoint on its own, one after the other, at ``rate`` for ``duration_s``."""
    return [asyncio.run(drive(server.base, [e], creds, rate, duration_s)) for e in ENDPOINTS]


def process_tree(root_pid: int) -> list[int]:
    """The server's processes: every pid whose process group is the server's (it runs in its own session)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == root_pid:
                    pids.append(int(name))
            except ProcessLookupError:
                continue
    return pids


def footprint(root_pid: int) -> tuple[float, int]:
    """(resident MB summed over the server's processes, open file descriptors summed)."""
    rss_kb, fds = 0, 0
    for pid in process_tree(root_pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss_kb += int(line.split()[1])
            fds += len(os.listdir(f"/proc/{pid}/fd"))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return rss_kb / 1024, fds


def report(results: dict[Endpoint, Result]) -> str:
    lines = [f"{'endpoint':<45} {'sent':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}"]
    for e, r in results.items():
        lines.append(
            f"{e.method + ' ' + e.path.split('?')[0]:<45} {len(r.latencies_ms):>6} {len(r.errors):>6} "
            f"{r.pct(0.5):>8.1f} {r.pct(0.99):>8.1f}"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=50, help="requests/s per endpoint")
    p.add_argument("--duration", type=float, default=20, help="seconds per endpoint")
    p.add_argument("--soak", type=float, default=0, help="then a soak of this many seconds, all endpoints")
    p.add_argument("--soak-rate", type=float, default=25, help="requests/s in total during the soak")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--database-url", default="")
    p.add_argument("--work-dir", type=Path, default=Path("var/load"))
    a = p.parse_args()
    (a.work_dir / "var").mkdir(parents=True, exist_ok=True)
    server = Server(a.work_dir / "var", a.database_url, free_port(), workers=a.workers)
    server.start()
    failed = False
    try:
        creds = credentials(server)
        for res in each_endpoint(server, creds, a.rate, a.duration):
            print(report(res), flush=True)
            failed |= any(r.errors for r in res.values())
            for r in res.values():
                for err in r.errors[:3]:
                    print("   ", err)
        if a.soak:
            assert server.proc is not None
            samples = [footprint(server.proc.pid)]
            t_end = time.monotonic() + a.soak
            total: dict[Endpoint, Result] = {e: Result(e) for e in ENDPOINTS}
            while time.monotonic() < t_end:
                chunk = min(30.0, t_end - time.monotonic())
                creds["bearer"] = bearer(server)
                res = asyncio.run(drive(server.base, list(ENDPOINTS), creds, a.soak_rate, chunk))
                for e, r in res.items():
                    total[e].latencies_ms += r.latencies_ms
                    total[e].errors += r.errors
                samples.append(footprint(server.proc.pid))
                print(
                    f"soak t={a.soak - (t_end - time.monotonic()):.0f}s rss={samples[-1][0]:.1f} MB "
                    f"fds={samples[-1][1]}",
                    flush=True,
                )
            print(report(total))
            for r in total.values():
                for err in sorted(set(r.errors))[:3]:
                    print("   ", r.endpoint.path, err)
            (rss0, fd0), (rss1, fd1) = samples[1] if len(samples) > 2 else samples[0], samples[-1]
            print(f"soak growth after the first 30 s: rss {rss1 - rss0:+.1f} MB, fds {fd1 - fd0:+d}")
            failed |= any(r.errors for r in total.values())
    finally:
        server.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""HTTP layer: GET /health on Ridgeline (Litestar + msgspec on granian) against a minimal FastAPI +
uvicorn app doing the same work, both loaded on loopback by the same bounded load generator (wrk),
one worker process each, in one run. Reports requests/s, p50 and p99 and the ratios.

Target: Ridgeline's throughput >= 3x and p99 <= 1/3 of the FastAPI app's.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DURATION_S = int(os.environ.get("BENCH_HTTP_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_HTTP_CONNECTIONS", "64"))
results: dict[str, dict[str, float]] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server did not start: {cmd}")


def _to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def _wrk(url: str) -> dict[str, float]:
    subprocess.run(["wrk", "-t1", "-c16", "-d2s", url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"non-2xx responses under load: {errors.group(1)}"
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


@pytest.fixture(scope="module", autouse=True)
def need_wrk() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/bench.sh installs it)")


@pytest.mark.parametrize("server", ["ridgeline", "fastapi"])
def test_health_under_load(server: str, tmp_path: Path, benchmark) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    url = f"http://127.0.0.1:{port}/health"
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(tmp_path),
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "PEER_DB": str(tmp_path / "peer.db"),
    }
    if server == "ridgeline":
        cmd = [sys.executable, "-m", "ridgeline.cli", "serve", "--port", str(port), "--workers", "1"]
    else:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.peers.fastapi_health:app",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    proc = _start(cmd, env, url)
    try:
        figures = benchmark.pedantic(_wrk, args=(url,), rounds=1, iterations=1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    benchmark.extra_info.update(figures)
    results[server] = figures


def test_report_ratio() -> None:
    if set(results) != {"ridgeline", "fastapi"}:
        pytest.skip("both servers must have run")
    r, f = results["ridgeline"], results["fastapi"]
    lines = [
        f"{'server':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}",
        *(f"{k:<10} {v['rps']:>10.0f} {v['p50_ms']:>8.2f} {v['p99_ms']:>8.2f}" for k, v in results.items()),
        f"throughput ratio ridgeline/fastapi = {r['rps'] / f['rps']:.2f}x (target >= 3x)",
        f"p99 ratio ridgeline/fastapi = {r['p99_ms'] / f['p99_ms']:.2f} (target <= 0.33)",
    ]
    print("\n" + "\n".join(lines))

"""Autopack (contract 003): ``GET /runs`` over 10,000 runs of 20 phases each, and
``POST /runs/{id}/phases/{pid}/update_status`` under load, on Ridgeline (Litestar + msgspec on
granian) against a minimal FastAPI + SQLAlchemy app issuing the same statements
(``bench/peers/fastapi_autopack.py``, on uvicorn), one worker each, both on a copy of the same SQLite
database, loaded by wrk at 32 connections in one run. Reports requests/s, p50 and p99 and the ratios.

Run with ``scripts/bench.sh bench/test_bench_autopack.py`` (``BENCH_AUTOPACK_SECONDS``,
``BENCH_AUTOPACK_RUNS`` to change the defaults).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.test_bench_http import _free_port, _start, _to_ms

ROOT = Path(__file__).resolve().parents[1]
DURATION_S = int(os.environ.get("BENCH_AUTOPACK_SECONDS", "8"))
RUNS = int(os.environ.get("BENCH_AUTOPACK_RUNS", "10000"))
PHASES = 20
CONNECTIONS = 32
HOT_RUNS = min(
    2000, RUNS
)  # update_status cycles over phase P0 of these runs (EXECUTING -> EXECUTING updates)
results: dict[tuple[str, str], dict[str, float]] = {}

POST_LUA = """
counter = 0
wrk.method = "POST"
wrk.body = '{"state": "EXECUTING", "tokens_used": 100}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local path = string.format("/runs/r-%%05d/phases/P0/update_status", counter %% %d)
  return wrk.format(nil, path)
end
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with RUNS runs of PHASES phases (phase P0 of the first HOT_RUNS
    runs EXECUTING, the rest in a realistic mix of states)."""
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/bench.sh installs it)")
    from ridgeline.app import load_family
    from ridgeline.autopack.api.store import phases, runs, tiers
    from ridgeline.platform import db as dbmod
    from ridgeline.platform.family import metadata_of
    from ridgeline.platform.settings import Settings

    data_dir = tmp_path_factory.mktemp("autopack-bench") / "rl"
    settings = Settings(data_dir=data_dir, seed_defaults=False, log_level="WARNING")
    dbmod.upgrade(settings, metadata=metadata_of([load_family("autopack")]))
    engine = sa.create_engine(f"sqlite:///{data_dir / 'ridgeline.db'}")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    states = ["COMPLETE"] * 8 + ["QUEUED"] * 9 + ["SKIPPED", "FAILED", "GATE"]
    with engine.begin() as conn:
        for lo in range(0, RUNS, 1000):
            ids = range(lo, min(lo + 1000, RUNS))
            conn.execute(
                runs.insert(),
                [
                    {
                        "id": f"r-{i:05d}",
                        "state": "PHASE_EXECUTION",
                        "goal": f"goal {i}",
                        "safety_profile": "normal",
                        "run_scope": "multi_tier",
                        "token_cap": 5_000_000,
                        "max_phases": PHASES,
                        "max_duration_minutes": 120,
                        "max_minor_issues_total": 50,
                        "metadata": {},
                        "created_at": t0 + timedelta(seconds=i),
                        "started_at": t0 + timedelta(seconds=i),
                        "updated_at": t0 + timedelta(seconds=i),
                    }
                    for i in ids
                ],
            )
            conn.execute(
                tiers.insert(),
                [
                    {
                        "run_id": f"r-{i:05d}",
                        "tier_id": "T",
                        "tier_index": 0,
                        "name": "t",
                        "state": "QUEUED",
                        "created_at": t0,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                phases.insert(),
                [
                    {
                        "run_id": f"r-{i:05d}",
                        "phase_id": f"P{p}",
                        "tier_id": "T",
                        "phase_index": p,
                        "name": f"phase {p}",
                        "scope": {"paths": [], "read_only_context": []},
                        "state": "EXECUTING" if p == 0 and i < HOT_RUNS else states[(i + p) % len(states)],
                        "max_builder_attempts": 5,
                        "created_at": t0,
                        "updated_at": t0,
                    }
                    for i in ids
                    for p in range(PHASES)
                ],
            )
    engine.dispose()
    return data_dir


def _wrk(url: str, script: Path | None = None) -> dict[str, float]:
    import re

    extra = ["-s", str(script)] if script else []
    subprocess.run(["wrk", "-t1", "-c8", "-d2s", *extra, url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"non-2xx responses under load: {errors.group(1)}\n{out}"
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


@pytest.mark.parametrize("server", ["ridgeline", "fastapi"])
def test_autopack_under_load(server: str, database: Path, tmp_path: Path, benchmark) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "rl"
    shutil.copytree(database, data_dir)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(data_dir),
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "PEER_DB": str(data_dir / "ridgeline.db"),
    }
    for name in ("RIDGELINE_DATABASE_URL", "AUTOPACK_API_KEY", "AUTOPACK_ENV", "AUTOPACK_PUBLIC_READ"):
        env.pop(name, None)
    if server == "ridgeline":
        cmd = [
            sys.executable,
            "-m",
            "ridgeline.cli",
            "serve",
            "--only",
            "autopack",
            "--port",
            str(port),
            "--workers",
            "1",
        ]
    else:
        cmd = [
            sys.executable, "-m", "uvicorn", "bench.peers.fastapi_autopack:app", "--port", str(port),
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    proc = _start(cmd, env, base + "/runs?limit=1")
    script = tmp_path / "post.lua"
    script.write_text(POST_LUA % HOT_RUNS)
    try:
        listing = benchmark.pedantic(_wrk, args=(base + "/runs?limit=20",), rounds=1, iterations=1)
        update = _wrk(base + "/", script)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    benchmark.extra_info.update({"list": listing, "update": update})
    results[(server, "GET /runs")] = listing
    results[(server, "POST update_status")] = update


def test_report_ratio() -> None:
    if len(results) != 4:
        pytest.skip("both servers must have run")
    lines = [f"{'server':<10} {'endpoint':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"]
    for (server, endpoint), v in results.items():
        lines.append(f"{server:<10} {endpoint:<20} {v['rps']:>8.0f} {v['p50_ms']:>8.2f} {v['p99_ms']:>8.2f}")
    for endpoint in ("GET /runs", "POST update_status"):
        r, f = results[("ridgeline", endpoint)], results[("fastapi", endpoint)]
        lines.append(
            f"{endpoint}: throughput ridgeline/fastapi = {r['rps'] / f['rps']:.2f}x, "
            f"p50 ratio = {r['p50_ms'] / f['p50_ms']:.2f}, p99 ratio = {r['p99_ms'] / f['p99_ms']:.2f}"
        )
    print(
        f"\n{RUNS} runs x {PHASES} phases, {CONNECTIONS} connections, {DURATION_S} s per load\n"
        + "\n".join(lines)
    )

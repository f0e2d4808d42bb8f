"""Routing HTTP family on Andorra (OSM + SRTM), served by ``ridgeline serve --only routing`` (2 granian
workers by default, ``BENCH_ROUTING_WORKERS``) on loopback:

* ``POST /route`` and ``POST /pareto`` under a bounded load (wrk, 32 connections), the request body
  rotating over 8 origin/destination pairs whose origin latitude is jittered by a few micro-degrees
  per request (the same road node, but a new cache key): every request is searched and recorded;
* time to the first streamed route of ``POST /pareto/stream`` (client side, 30 sequential requests).

Targets (issue 4): /route p99 < 25 ms at 32 connections; first streamed route < 20 ms.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "routing"
DURATION_S = int(os.environ.get("BENCH_HTTP_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_HTTP_CONNECTIONS", "32"))
WORKERS = os.environ.get("BENCH_ROUTING_WORKERS", "2")  # one granian worker per core of the 2-core target
PAIRS = [
    ((42.5063, 1.5218), (42.5670, 1.5980)),
    ((42.5450, 1.5160), (42.4630, 1.4910)),
    ((42.5100, 1.5380), (42.5780, 1.6650)),
    ((42.4630, 1.4910), (42.5063, 1.5218)),
    ((42.5340, 1.5810), (42.5450, 1.5160)),
    ((42.5567, 1.5335), (42.5100, 1.5380)),
    ((42.5780, 1.6650), (42.5340, 1.5810)),
    ((42.4900, 1.4700), (42.5567, 1.5335)),
]
LUA = """
counter = 0
bodies = %s
request = function()
  counter = counter + 1
  local b = bodies[(counter %% #bodies) + 1]
  b = string.gsub(b, "JITTER", string.format("%%09d", counter))
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, b)
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _body(o: tuple[float, float], d: tuple[float, float], **extra: object) -> dict[str, object]:
    return {"origin": {"lat": o[0], "lon": o[1]}, "destination": {"lat": d[0], "lon": d[1]}, **extra}


def _jittered(o: tuple[float, float], d: tuple[float, float], **extra: object) -> str:
    """JSON with the origin latitude written as ``<lat>JITTER`` -> the Lua script appends digits."""
    text = json.dumps(_body((12345.678, o[1]), d, **extra))
    return text.replace("12345.678", f"{o[0]:.4f}JITTER")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if not (SHARED / "osm" / "andorra.osm.pbf").exists():
        pytest.skip("shared Andorra data absent")
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/bench.sh installs it)")
    d = tmp_path_factory.mktemp("routing-bench")
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(d / "var"),
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "RIDGELINE_SEED_DEFAULTS": "0",
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ridgeline.cli",
            "assets",
            "build",
            "--osm",
            str(SHARED / "osm" / "andorra.osm.pbf"),
            "--dem",
            str(SHARED / "dem" / "N42E001.hgt.zip"),
            str(SHARED / "dem" / "N41E001.hgt.zip"),
            "--out",
            str(d / "andorra"),
            "--name",
            "andorra",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    env["RIDGELINE_ROUTING_ASSETS"] = str(d / "andorra")
    cmd = [
        sys.executable,
        "-m",
        "ridgeline.cli",
        "serve",
        "--only",
        "routing",
        "--port",
        str(port),
        "--workers",
        WORKERS,
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("server did not start")
    yield url, d
    proc.terminate()
    proc.wait(timeout=20)


def _ms(v: str) -> float:
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()  # type: ignore[union-attr]
    return float(n) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def _wrk(url: str, bodies: list[str], script: Path) -> dict[str, float]:
    encoded = bodies
    script.write_text(LUA % ("{" + ", ".join(json.dumps(e) for e in encoded) + "}"))
    subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-s", str(script), url], capture_output=True, check=True)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"non-2xx responses under load: {errors.group(1)}\n{out}"
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
    }


def test_route_under_load(server, benchmark) -> None:  # type: ignore[no-untyped-def]
    url, d = server
    bodies = [_jittered(o, t, vehicle_id="hgv_rigid_18t") for o, t in PAIRS]
    figures = benchmark.pedantic(_wrk, args=(url + "/route", bodies, d / "route.lua"), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    print(
        f"\n/route  at {CONNECTIONS} connections: {figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms (target p99 < 25 ms)"
    )


def test_pareto_under_load(server, benchmark) -> None:  # type: ignore[no-untyped-def]
    url, d = server
    bodies = [_jittered(o, t, objectives=["duration", "co2e"], max_alternatives=5) for o, t in PAIRS]
    figures = benchmark.pedantic(
        _wrk, args=(url + "/pareto", bodies, d / "pareto.lua"), rounds=1, iterations=1
    )
    benchmark.extra_info.update(figures)
    print(
        f"\n/pareto at {CONNECTIONS} connections: {figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms"
    )


def test_time_to_first_streamed_route(server, benchmark) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    firsts: list[float] = []
    totals: list[float] = []

    def run() -> None:
        with httpx.Client(timeout=30) as c:
            for i in range(30):
                o, t = PAIRS[i % len(PAIRS)]
                body = _body((o[0] + i * 1e-9, o[1]), t, objectives=["duration", "money", "co2e"])
                t0 = time.perf_counter()
                first = None
                with c.stream("POST", url + "/pareto/stream", json=body) as r:
                    for line in r.iter_lines():
                        if first is None and '"type":"route"' in line:
                            first = time.perf_counter() - t0
                assert first is not None
                firsts.append(first * 1000)
                totals.append((time.perf_counter() - t0) * 1000)

    benchmark.pedantic(run, rounds=1, iterations=1)
    firsts.sort()
    figures = {
        "first_route_median_ms": statistics.median(firsts),
        "first_route_p95_ms": firsts[int(0.95 * (len(firsts) - 1))],
        "stream_total_median_ms": statistics.median(totals),
    }
    benchmark.extra_info.update(figures)
    print(
        f"\n/pareto/stream first route: median {figures['first_route_median_ms']:.2f} ms, p95 {figures['first_route_p95_ms']:.2f} ms; "
        f"whole stream median {figures['stream_total_median_ms']:.1f} ms (target first route < 20 ms)"
    )

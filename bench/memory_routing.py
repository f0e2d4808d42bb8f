"""Resident memory of the routing core over repeated exact queries (issue 20's memory goal).

Loads the NY graph with ``Graph.load`` (memory-mapped), then runs exact Pareto queries cycling
the 50 DIMACS NY queries with a time limit, and prints VmRSS (with its anonymous and file-backed
parts) after load and after 1 / 10 / 50 / 100 queries, and the peak (VmHWM). Goal: under 60 MB
after load, growth under 10 MB over 100 queries.

    .venv/bin/python bench/memory_routing.py [--k 3] [--queries 100] [--time-limit 1.0]

The NY weights are written once by ``../shared/peers/ny_weights.py`` (seed 1) into
``var/peers/ny{k}.npz`` and saved as a graph file next to it. Run it in a fresh process: RSS
is a per-process figure. ``RIDGELINE_ROUTING_HEURISTIC_CACHE_MB`` changes the heuristic cache.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PEERS = ROOT / "var" / "peers"
QUERIES = SHARED / "data" / "routing" / "queries" / "NY-queries"
MARKS = (1, 10, 50, 100)


def status() -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[name] = int(rest.split()[0]) / 1024
    return out


def graph_file(k: int) -> Path:
    """The saved NY graph for k objectives, built once in a child process (so building it does
    not count in this process's memory)."""
    path = PEERS / f"ny{k}.rgraph"
    if path.exists():
        return path
    npz = PEERS / f"ny{k}.npz"
    PEERS.mkdir(parents=True, exist_ok=True)
    if not npz.exists():
        subprocess.run([sys.executable, SHARED / "peers" / "ny_weights.py", npz, "1", str(k)], check=True)
    code = (
        "import numpy as np, sys\n"
        "from ridgeline.routing import Graph\n"
        "z = np.load(sys.argv[1])\n"
        "Graph.from_arrays(z['tail'], z['head'], z['costs'], n=int(z['n'])).save(sys.argv[2])\n"
    )
    subprocess.run([sys.executable, "-c", code, npz, path], check=True)
    return path


def row(label: str, s: dict[str, float], extra: str = "") -> None:
    print(
        f"{label:<18} VmRSS {s['VmRSS']:7.1f} MB  (anon {s['RssAnon']:6.1f}, file {s['RssFile']:6.1f})"
        f"  peak {s['VmHWM']:7.1f} MB  {extra}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=1.0)
    a = ap.parse_args()
    if not QUERIES.exists():
        sys.exit(f"{QUERIES} is absent")
    path = graph_file(a.k)
    q = np.loadtxt(QUERIES, dtype=np.int64)  # 1-based
    from ridgeline.routing import Graph

    print(
        f"load average {os.getloadavg()}, heuristic cache {os.environ.get('RIDGELINE_ROUTING_HEURISTIC_CACHE_MB', 'default')} MB"
    )
    row("before load", status())
    g = Graph.load(str(path))
    loaded = status()
    row("after load", loaded)
    truncated = held = 0
    t0 = time.perf_counter()
    for j in range(a.queries):
        s, t = q[j % len(q)]
        r = g.pareto(int(s) - 1, int(t) - 1, time_limit=a.time_limit)
        truncated += bool(r.truncated)
        held = max(held, sum(x.nodes.nbytes + x.arcs.nbytes + x.costs.nbytes for x in r))
        # The caller's result is its own memory (paths as int64 arrays: up to ~75 MB for a
        # 9,000-solution NY front); what is measured is what the process keeps without it.
        del r
        if j + 1 in MARKS or j + 1 == a.queries:
            st = status()
            row(
                f"after {j + 1} queries",
                st,
                f"growth {st['VmRSS'] - loaded['VmRSS']:+6.1f} MB, {truncated} truncated, "
                f"{time.perf_counter() - t0:.0f} s",
            )
    print(
        f"largest result held by the caller: {held / 2**20:.1f} MB of arrays; load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()

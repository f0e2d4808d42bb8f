"""Graph.prepare_hierarchies, as an embedding program uses it: the hierarchies are built on request
(never by default), apply only where they are exact, and leave every front as the lazy searches
give it. The core reads its CH settings once per process, so each case runs in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

PROGRAM = r"""
import json, sys
import numpy as np
from ridgeline.routing import Graph

rng = np.random.default_rng(7)
w = 12  # a 12 x 12 grid, both directions, three integer objectives
tail, head = [], []
for y in range(w):
    for x in range(w):
        v = y * w + x
        for u in ([v + 1] if x + 1 < w else []) + ([v + w] if y + 1 < w else []):
            tail += [v, u]
            head += [u, v]
costs = rng.integers(1, 20, size=(len(tail), 3)).astype(float)
if sys.argv[1] == "fractional":
    costs += 0.5
g = Graph.from_arrays(np.array(tail), np.array(head), costs)
held = g.prepare_hierarchies()
fronts = []
for s, t in [(0, w * w - 1), (5, 100), (130, 3)]:
    for kw in ({}, {"bounds": [110.0, None, None]}, {"method": "epsilon", "epsilon": 0.05}):
        r = g.pareto(s, t, **kw)
        fronts.append(sorted(tuple(float(c) for c in sol.costs) for sol in r))
print(json.dumps({"held": held, "fronts": fronts}))
"""


def run(env: dict[str, str], costs: str = "integer") -> dict[str, object]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RIDGELINE_ROUTING_CH")}
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, costs],
        env={**full, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_hierarchies_are_built_on_request_and_leave_the_fronts_unchanged() -> None:
    lazy = run({"RIDGELINE_ROUTING_CH": "0", "RIDGELINE_ROUTING_CH_MIN_NODES": "10"})
    built = run({"RIDGELINE_ROUTING_CH_MIN_NODES": "10"})
    assert lazy["held"] == 0  # turned off
    assert isinstance(built["held"], int) and built["held"] > 0
    assert built["fronts"] == lazy["fronts"]
    fronts = built["fronts"]
    assert isinstance(fronts, list)
    assert all(fronts[0::3]), "every unbounded query has a front"
    # the bound cuts some fronts down without emptying all of them: bounds reach the heuristics
    assert any(0 < len(b) < len(f) for f, b in zip(fronts[0::3], fronts[1::3], strict=True))


def test_hierarchies_do_not_apply_to_small_graphs_or_fractional_costs() -> None:
    assert run({})["held"] == 0  # 144 nodes, under the default 50,000
    assert run({"RIDGELINE_ROUTING_CH_MIN_NODES": "10"}, costs="fractional")["held"] == 0


def test_embedding_api_returns_an_int() -> None:
    from ridgeline.routing import Graph

    g = Graph.from_arrays(np.array([0, 1]), np.array([1, 2]), np.ones((2, 3)))
    assert g.prepare_hierarchies() == 0

"""The embedding API of the issue, run as a plain Python program in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .conftest import DATA

PROGRAM = textwrap.dedent(
    """
    import sys, tempfile, os
    import numpy as np
    from ridgeline.routing import Graph, Dem

    tail = np.array([0, 0, 1, 2, 1])
    head = np.array([1, 2, 3, 3, 2])
    costs = np.array([[1.0, 5.0], [2.0, 2.0], [1.0, 1.0], [3.0, 1.0], [0.5, 0.5]])
    g = Graph.from_arrays(tail, head, costs, coords=None)
    sols = g.pareto(0, 3, method="exact")
    front = sorted(tuple(s.costs) for s in sols)
    assert front == [(2.0, 6.0), (5.0, 3.0)], front  # 0-1-2-3 costs (4.5, 6.5): dominated
    for sol in sols:
        assert sol.nodes[0] == 0 and sol.nodes[-1] == 3 and len(sol.arcs) == len(sol.nodes) - 1
    assert len(g.pareto(0, 3, method="epsilon", epsilon=0.05)) >= 1
    bounded = g.pareto(0, 3, method="exact", bounds=[4.6, None])
    assert [tuple(s.costs) for s in bounded] == [(2.0, 6.0)]
    assert g.pareto(0, 3, bounds=[1.0, None]).status == "empty_within_bounds"
    assert g.pareto(3, 0).status == "no_path"
    r = g.route(0, 3, weights=[1.0, 0.2])
    assert abs(r.cost - 3.2) < 1e-12, r
    many = g.pareto_many([[0, 3], [1, 3]], method="exact")
    assert [len(m) for m in many] == [2, 1]
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "g.rgraph")
        g.save(p)
        h = Graph.load(p)
        assert h.is_mapped and sorted(tuple(s.costs) for s in h.pareto(0, 3)) == front
    dem_dir = sys.argv[1]
    tiles = [os.path.join(dem_dir, n) for n in ("N42E001.hgt.zip", "N41E001.hgt.zip")]
    if all(os.path.exists(t) for t in tiles):
        dem = Dem.from_hgt(tiles)
        z = dem.sample(np.array([1.5, 3.0]), np.array([42.5, 42.0]))
        assert z.dtype == np.float64 and np.isfinite(z[0]) and np.isnan(z[1])
        prof = dem.profile([1.5, 1.51], [42.5, 42.5], spacing_m=30.0)
        assert prof.distance_m[-1] > 800
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("litestar", "sqlalchemy"))
    assert not heavy, heavy
    print("ok")
    """
)


def test_issue_example_runs_in_a_plain_program() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(DATA / "routing" / "dem")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

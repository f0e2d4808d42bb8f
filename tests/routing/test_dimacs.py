"""DIMACS shortest-path files round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from ridgeline.routing import Graph, read_dimacs, write_dimacs


@pytest.mark.parametrize("suffix", ["", ".gz", ".xz"])
def test_roundtrip(tmp_path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    tail, head = rng.integers(0, 30, 120), rng.integers(0, 30, 120)
    costs = np.column_stack([rng.integers(1, 100, 120), rng.uniform(0.5, 9.5, 120)])
    g = Graph.from_arrays(tail, head, costs, n=31)
    paths = [tmp_path / f"d.gr{suffix}", tmp_path / f"t.gr{suffix}"]
    write_dimacs(g, paths, comment="test graph")
    assert paths[0].exists()
    h = read_dimacs(paths)
    assert (h.num_nodes, h.num_arcs, h.k) == (31, 120, 2)
    for a, b in zip(g.arcs(), h.arcs(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_mismatched_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = tmp_path / "a.gr"
    b = tmp_path / "b.gr"
    a.write_text("p sp 3 2\na 1 2 5\na 2 3 4\n")
    b.write_text("p sp 3 2\na 1 2 5\na 3 2 4\n")
    with pytest.raises(ValueError, match="arcs differ"):
        read_dimacs([a, b])
    b.write_text("p sp 3 3\na 1 2 5\na 2 3 4\n")
    with pytest.raises(ValueError, match="declares 3 arcs"):
        read_dimacs([a, b])
    b.write_text("a 1 2 5\n")
    with pytest.raises(ValueError, match="problem line"):
        read_dimacs([a, b])

"""9th DIMACS Challenge shortest-path files (``p sp n m`` / ``a u v w``, 1-based node ids).

One file per objective with the same arcs in the same order, as the bi-objective search
literature (and the BOA* reference implementation) uses them, e.g. ``USA-road-d.NY.gr`` and
``USA-road-t.NY.gr``. Plain, ``.gz`` and ``.xz`` files are read and written.
"""

from __future__ import annotations

import gzip
import lzma
import os
from collections.abc import Iterator, Sequence
from typing import IO

import numpy as np
import numpy.typing as npt

from ridgeline.routing.graph import Graph

__all__ = ["read_dimacs", "write_dimacs"]

PathLike = str | os.PathLike[str]


def _open(path: PathLike, mode: str) -> IO[str]:
    p = os.fspath(path)
    if p.endswith(".gz"):
        return gzip.open(p, mode + "t")  # type: ignore[return-value]
    if p.endswith(".xz"):
        return lzma.open(p, mode + "t")  # type: ignore[return-value]
    return open(p, mode)


def _read_one(path: PathLike) -> tuple[int, npt.NDArray[np.float64]]:
    n = -1
    declared = -1

    def arcs(f: IO[str]) -> Iterator[str]:
        nonlocal n, declared
        for line in f:
            if line.startswith("a "):
                yield line[2:]
            elif line.startswith("p "):
                parts = line.split()
                if len(parts) != 4 or parts[1] != "sp":
                    raise ValueError(f"{path}: expected a 'p sp <n> <m>' line, got {line.strip()!r}")
                n, declared = int(parts[2]), int(parts[3])

    with _open(path, "r") as f:
        data = np.loadtxt(arcs(f), dtype=np.float64, ndmin=2)
    if n < 0:
        raise ValueError(f"{path}: no 'p sp <n> <m>' problem line")
    if data.size == 0:
        data = np.empty((0, 3))
    if data.shape[1] != 3:
        raise ValueError(f"{path}: arc lines must be 'a <tail> <head> <weight>'")
    if data.shape[0] != declared:
        raise ValueError(f"{path}: the problem line declares {declared} arcs, the file has {data.shape[0]}")
    return n, data


def read_dimacs(paths: Sequence[PathLike]) -> Graph:
    """A graph with one objective per file (k = len(paths), 2..4)."""
    if not 2 <= len(paths) <= 4:
        raise ValueError(f"give one DIMACS file per objective (2..4), got {len(paths)}")
    parts = [_read_one(p) for p in paths]
    n, first = parts[0]
    for p, (ni, di) in zip(paths[1:], parts[1:], strict=True):
        if ni != n or di.shape[0] != first.shape[0] or not np.array_equal(di[:, :2], first[:, :2]):
            raise ValueError(f"{p}: arcs differ from {paths[0]} (files must list the same arcs in order)")
    tail = first[:, 0].astype(np.int64) - 1
    head = first[:, 1].astype(np.int64) - 1
    costs = np.column_stack([d[:, 2] for _, d in parts])
    return Graph.from_arrays(tail, head, costs, n=n)


def write_dimacs(graph: Graph, paths: Sequence[PathLike], comment: str = "") -> None:
    """Writes objective i of ``graph`` to ``paths[i]`` (integral costs are written as integers)."""
    tail, head, costs = graph.arcs()
    if len(paths) != graph.k:
        raise ValueError(f"give one path per objective ({graph.k}), got {len(paths)}")
    for i, path in enumerate(paths):
        col = costs[:, i]
        integral = bool(np.all(col == np.round(col)))
        with _open(path, "w") as f:
            for line in comment.splitlines():
                f.write(f"c {line}\n")
            f.write(f"p sp {graph.num_nodes} {graph.num_arcs}\n")
            w = col.astype(np.int64) if integral else col
            fmt = "a %d %d %d" if integral else "a %d %d %.17g"
            np.savetxt(f, np.column_stack([tail + 1, head + 1, w]), fmt=fmt)

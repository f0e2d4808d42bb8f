"""Road graphs and multi-objective route search (embedding API over the native core)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from ridgeline import _native

Method = Literal["exact", "epsilon"]
Status = Literal["found", "empty_within_bounds", "no_path", "budget_exhausted"]
PathLike = str | os.PathLike[str]

__all__ = ["Graph", "ParetoResult", "ParetoStream", "Route", "Solution", "TurnGraph"]


@dataclass(frozen=True, slots=True)
class Solution:
    """One path: its cost vector (k,), node ids from source to target, and arc ids."""

    costs: npt.NDArray[np.float64]
    nodes: npt.NDArray[np.int64]
    arcs: npt.NDArray[np.int64]

    @classmethod
    def _from_native(cls, t: tuple[Any, Any, Any]) -> Solution:
        return cls(costs=t[0], nodes=t[1], arcs=t[2])


@dataclass(frozen=True, slots=True)
class ParetoResult(Sequence[Solution]):
    """A Pareto front: a sequence of solutions plus what the search established.

    ``status`` is ``"found"``, ``"no_path"`` (the target is unreachable), ``"empty_within_bounds"``
    (reachable, but no path satisfies the bounds) or ``"budget_exhausted"`` (a limit stopped the
    search before any solution). ``truncated`` means a limit stopped the search early: the front may
    be incomplete and the epsilon guarantee does not hold. ``epsilon`` is 0 for exact fronts; for
    epsilon fronts every Pareto-optimal cost vector is (1 + epsilon)-dominated by a solution here.
    """

    solutions: tuple[Solution, ...]
    status: Status
    truncated: bool
    epsilon: float
    expansions: int
    generated: int
    algorithm: str
    heuristic_seconds: float
    search_seconds: float

    @classmethod
    def _from_native(cls, sols: list[Any], info: dict[str, Any]) -> ParetoResult:
        return cls(solutions=tuple(Solution._from_native(s) for s in sols), **info)

    @overload
    def __getitem__(self, i: int) -> Solution: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Solution, ...]: ...
    def __getitem__(self, i: int | slice) -> Solution | tuple[Solution, ...]:
        return self.solutions[i]

    def __len__(self) -> int:
        return len(self.solutions)

    def __iter__(self) -> Iterator[Solution]:
        return iter(self.solutions)

    @property
    def costs(self) -> npt.NDArray[np.float64]:
        """All cost vectors as a (len, k) array."""
        if not self.solutions:
            return np.empty((0, 0))
        return np.stack([s.costs for s in self.solutions])

    @property
    def no_path(self) -> bool:
        return self.status == "no_path"

    @property
    def empty_within_bounds(self) -> bool:
        return self.status == "empty_within_bounds"


@dataclass(frozen=True, slots=True)
class Route:
    """A weighted-sum route: the path, its cost vector and its weighted cost."""

    costs: npt.NDArray[np.float64]
    nodes: npt.NDArray[np.int64]
    arcs: npt.NDArray[np.int64]
    cost: float
    settled: int
    algorithm: str
    seconds: float = field(repr=False)


class ParetoStream(Iterator[Solution]):
    """Solutions of a running search, yielded as soon as the search proves them.

    After exhaustion ``result`` holds the full :class:`ParetoResult`. ``close()`` (or leaving a
    ``with`` block) stops the search.
    """

    def __init__(
        self, native: _native.ParetoStream, solution: Callable[[Any], Solution] = Solution._from_native
    ) -> None:
        self._native = native
        self._solution = solution
        self._seen: list[Solution] = []
        self._result: ParetoResult | None = None

    def __iter__(self) -> ParetoStream:
        return self

    def __next__(self) -> Solution:
        item = next(self._native, None)
        if item is None:
            info = self._native.info
            if info is not None and self._result is None:
                self._result = ParetoResult(solutions=tuple(self._seen), **info)
            raise StopIteration
        sol = self._solution(item)
        self._seen.append(sol)
        return sol

    @property
    def result(self) -> ParetoResult | None:
        """The complete result once the stream is exhausted, else None."""
        return self._result

    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> ParetoStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ids(name: str, a: npt.ArrayLike) -> npt.NDArray[np.int64]:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of node ids, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer node ids")
    elif arr.dtype.kind not in "iub" and arr.size:
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds ids too large for int64")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _floats(name: str, a: npt.ArrayLike, ndim: int) -> npt.NDArray[np.float64]:
    try:
        arr = np.ascontiguousarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be numeric: {e}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


def _search_kwargs(
    method: Method,
    epsilon: float | None,
    bounds: Sequence[float | None] | None,
    max_solutions: int | None,
    max_expansions: int | None,
    time_limit: float | None,
    departure: float | None,
    risk_aversion: float,
) -> dict[str, Any]:
    if method not in ("exact", "epsilon"):
        raise ValueError(f"method must be 'exact' or 'epsilon', got {method!r}")
    if method == "epsilon" and epsilon is None:
        raise ValueError("method='epsilon' needs epsilon=..., e.g. epsilon=0.05")
    if method == "exact" and epsilon not in (None, 0, 0.0):
        raise ValueError("epsilon is only meaningful with method='epsilon'")
    for name, v in (("max_solutions", max_solutions), ("max_expansions", max_expansions)):
        if v is not None and (not isinstance(v, int | np.integer) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return {
        "method": method,
        "epsilon": float(epsilon or 0.0),
        "bounds": None if bounds is None else [None if b is None else float(b) for b in bounds],
        "max_solutions": None if max_solutions is None else int(max_solutions),
        "max_expansions": None if max_expansions is None else int(max_expansions),
        "time_limit": None if time_limit is None else float(time_limit),
        "departure": None if departure is None else float(departure),
        "risk_aversion": float(risk_aversion),
    }


class Graph:
    """A directed road graph with k = 2..4 non-negative costs per arc.

    Arc ids are the positions of the arcs in the arrays the graph was built from; node ids are
    ``0..num_nodes-1``. Graphs are immutable and safe to share across threads; every search
    releases the GIL.
    """

    __slots__ = ("_g", "_lm")

    def __init__(self, native: _native.RoutingGraph) -> None:
        self._g = native
        self._lm: _native.Landmarks | None = None

    @classmethod
    def from_arrays(
        cls,
        tail: npt.ArrayLike,
        head: npt.ArrayLike,
        costs: npt.ArrayLike,
        coords: npt.ArrayLike | None = None,
        *,
        n: int | None = None,
        time_profile: npt.ArrayLike | None = None,
        variance: npt.ArrayLike | None = None,
        time_index: int = 1,
    ) -> Graph:
        """Builds a graph.

        ``tail``/``head``: (m,) node ids; ``costs``: (m, k) float64; ``coords``: optional (n, 2)
        lon/lat (or x/y). ``time_profile``: optional (m, slots) travel times of objective
        ``time_index`` at ``slots`` evenly spaced times of day (e.g. 96 for 15 minutes), linearly
        interpolated and periodic; it must be FIFO. ``variance``: optional (m,) travel-time
        variances used by ``risk_aversion``.
        """
        t = _ids("tail", tail)
        h = _ids("head", head)
        c = _floats("costs", costs, 2)
        xy = None if coords is None else _floats("coords", coords, 2)
        prof = None if time_profile is None else _floats("time_profile", time_profile, 2)
        var = None if variance is None else _floats("variance", variance, 1)
        if c.shape[0] != t.shape[0]:
            raise ValueError(f"costs must have one row per arc: {c.shape[0]} rows for {t.shape[0]} arcs")
        return cls(
            _native.RoutingGraph.from_arrays(
                t, h, c, coords=xy, n=n, time_profile=prof, variance=var, time_index=time_index
            )
        )

    @classmethod
    def load(cls, path: PathLike) -> Graph:
        """Memory-maps a graph file written by :meth:`save`."""
        return cls(_native.RoutingGraph.load(os.fspath(path)))

    def save(self, path: PathLike) -> None:
        self._g.save(os.fspath(path))

    @property
    def num_nodes(self) -> int:
        return self._g.num_nodes

    @property
    def num_arcs(self) -> int:
        return self._g.num_arcs

    @property
    def k(self) -> int:
        """Number of objectives."""
        return self._g.num_objectives

    @property
    def is_mapped(self) -> bool:
        return self._g.is_mapped

    @property
    def coords(self) -> npt.NDArray[np.float64] | None:
        return self._g.coords()

    def arcs(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """``(tail, head, costs)`` indexed by arc id."""
        return self._g.arcs()

    def __repr__(self) -> str:
        return f"Graph(num_nodes={self.num_nodes}, num_arcs={self.num_arcs}, k={self.k})"

    def pareto(
        self,
        s: int,
        t: int,
        method: Method = "exact",
        *,
        epsilon: float | None = None,
        bounds: Sequence[float | None] | None = None,
        max_solutions: int | None = None,
        max_expansions: int | None = None,
        time_limit: float | None = None,
        departure: float | None = None,
        risk_aversion: float = 0.0,
        callback: Callable[[Solution], bool | None] | None = None,
    ) -> ParetoResult:
        """The Pareto front from ``s`` to ``t``.

        ``method="exact"`` returns one path per non-dominated cost vector; ``method="epsilon"``
        with ``epsilon=e`` returns a subset that (1 + e)-dominates every Pareto-optimal vector.
        ``bounds`` (one entry per objective, ``None`` = unbounded) keeps only paths within all
        bounds. ``departure`` (seconds after midnight) uses the time profiles; ``risk_aversion``
        adds ``risk_aversion * sum(variance)`` to objective ``time_index``. ``callback`` is called
        with each solution as it is found (from the calling thread); returning ``False`` stops the
        search (the result is then ``truncated``).

        Algorithms and guarantees: exact two-objective search is BOA*; three and four objectives
        use an LTMOA*-style search; ``epsilon`` is A*pex for any k, with bounds, departures and
        risk (objectives with a bound, and time with a departure, are kept exact inside A*pex so
        the guarantee and the bounds hold). With ``departure`` the search is exact because
        profiles are checked FIFO on construction; ``risk_aversion`` adds the variance sum
        (additive, so still exact; with a departure it is tracked as a hidden objective and the
        front is reduced afterwards, and solutions stream only at the end). ``time_limit`` is
        checked during the search and inside the lazily computed heuristics (one backward
        Dijkstra search per objective, advanced only as far as the search needs).
        """
        kw = _search_kwargs(
            method, epsilon, bounds, max_solutions, max_expansions, time_limit, departure, risk_aversion
        )
        if callback is None:
            sols, info = self._g.pareto(self._source(s), self._target(t), kw)
            return ParetoResult(solutions=tuple(self._solution(x) for x in sols), **info)
        with self.pareto_stream(s, t, **kw) as stream:
            for sol in stream:
                if callback(sol) is False:
                    break
        if stream.result is not None:
            return stream.result
        return ParetoResult(
            solutions=tuple(stream._seen),
            status="found",
            truncated=True,
            epsilon=kw["epsilon"],
            expansions=0,
            generated=0,
            algorithm="stopped-by-callback",
            heuristic_seconds=0.0,
            search_seconds=0.0,
        )

    def pareto_stream(
        self,
        s: int,
        t: int,
        method: Method = "exact",
        *,
        epsilon: float | None = None,
        bounds: Sequence[float | None] | None = None,
        max_solutions: int | None = None,
        max_expansions: int | None = None,
        time_limit: float | None = None,
        departure: float | None = None,
        risk_aversion: float = 0.0,
    ) -> ParetoStream:
        """Like :meth:`pareto`, but an iterator yielding solutions while the search runs."""
        kw = _search_kwargs(
            method, epsilon, bounds, max_solutions, max_expansions, time_limit, departure, risk_aversion
        )
        return ParetoStream(self._g.pareto_stream(self._source(s), self._target(t), kw), self._solution)

    def pareto_many(
        self,
        pairs: npt.ArrayLike,
        method: Method = "exact",
        *,
        epsilon: float | None = None,
        bounds: Sequence[float | None] | None = None,
        max_solutions: int | None = None,
        max_expansions: int | None = None,
        time_limit: float | None = None,
        departure: float | None = None,
        risk_aversion: float = 0.0,
    ) -> list[ParetoResult]:
        """Pareto fronts of many ``(source, target)`` pairs, one result per pair, in order.

        Pairs are grouped by target: groups run in parallel on all cores, and the pairs of one
        target run one after another, sharing that target's heuristics (backward searches).
        """
        p = np.asarray(pairs)
        if p.size == 0:
            return []
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"pairs must have shape (p, 2), got {p.shape}")
        p = self._pairs(_ids("pairs", p.reshape(-1)).reshape(-1, 2))
        kw = _search_kwargs(
            method, epsilon, bounds, max_solutions, max_expansions, time_limit, departure, risk_aversion
        )
        return [
            ParetoResult(solutions=tuple(self._solution(x) for x in s), **i)
            for s, i in self._g.pareto_many(p, kw)
        ]

    def prepare_hierarchies(self) -> int:
        """Builds the per-objective contraction hierarchies that give :meth:`pareto` its exact
        heuristics without a backward search per target (load-time work: about 20 s and 36 MB for
        the NY graph at k = 3). Returns the bytes they hold, 0 when they do not apply: fewer nodes
        than ``RIDGELINE_ROUTING_CH_MIN_NODES`` (50,000), costs that are not integers in 0..65535,
        or ``RIDGELINE_ROUTING_CH=0``. Time-of-day profiles and risk keep the lazy searches."""
        return int(self._g.prepare_hierarchies())

    def prepare_landmarks(
        self, count: int = 8, objectives: Sequence[int] | None = None, *, seed: int = 0
    ) -> None:
        """Computes ALT landmark tables so that :meth:`route` runs A* instead of Dijkstra.

        Memory: ``2 * count * len(objectives) * num_nodes * 4`` bytes. Objectives without tables
        contribute no heuristic (still exact). Time-dependent routes do not use landmarks.
        """
        objs = None if objectives is None else [int(i) for i in objectives]
        self._lm = self._g.prepare_landmarks(int(count), objs, int(seed))

    @property
    def landmarks_memory_bytes(self) -> int:
        return 0 if self._lm is None else self._lm.memory_bytes

    def route(
        self,
        s: int,
        t: int,
        weights: Sequence[float],
        *,
        departure: float | None = None,
        risk_aversion: float = 0.0,
    ) -> Route | None:
        """The path minimising ``sum(weights[i] * cost_i)``, or None when ``t`` is unreachable."""
        w = [float(x) for x in weights]
        sol, info = self._g.route(
            self._source(s),
            self._target(t),
            w,
            departure=None if departure is None else float(departure),
            risk_aversion=float(risk_aversion),
            landmarks=self._lm,
        )
        if sol is None:
            return None
        path = self._solution(sol)
        return Route(costs=path.costs, nodes=path.nodes, arcs=path.arcs, **info)

    # Node and path translation: the identity here; :class:`TurnGraph` maps original node ids to
    # its virtual origin/destination nodes and expanded paths back to original arcs.
    def _source(self, s: int) -> int:
        return int(s)

    def _target(self, t: int) -> int:
        return int(t)

    def _pairs(self, p: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return p

    def _solution(self, t: tuple[Any, Any, Any]) -> Solution:
        return Solution._from_native(t)

    def expand_turns(
        self, turn_from: npt.ArrayLike, turn_to: npt.ArrayLike, turn_costs: npt.ArrayLike
    ) -> TurnGraph:
        """The turn-expanded graph: only the listed turns ``turn_from[i] -> turn_to[i]`` (arc ids,
        ``head(from) == tail(to)``) are allowed, each adding ``turn_costs[i]`` (k costs) to the
        arc it turns into. See :class:`TurnGraph`."""
        return TurnGraph.expand(self, turn_from, turn_to, turn_costs)

    def all_turns(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Every ``(a, b)`` with ``head(a) == tail(b)`` (U-turns included), by ``a`` then ``b``."""
        return _native.all_turns(self._g)


class TurnGraph(Graph):
    """A turn-expanded (edge-based) graph that answers in the terms of the graph it was built from.

    The native core builds a graph with a node per arc of the original, an arc per allowed turn
    (costs of the arc turned into plus the turn's costs), and a virtual origin and destination node
    per original node (``ridgeline-core`` ``graph/turns.rs``). Every search of :class:`Graph` runs
    on it unchanged; this class takes original node ids (``s``, ``t``, ``pairs``) and returns
    solutions whose ``nodes`` and ``arcs`` are original node and arc ids and whose ``costs``
    include the turn costs. ``num_nodes``/``arcs()`` describe the original graph;
    ``expanded_nodes``/``expanded_arcs`` the searched one. Landmarks are computed on the
    expanded graph.
    """

    __slots__ = ("_arc_of", "_base", "_head", "_m", "_n")

    _arc_of: npt.NDArray[np.int64]
    _base: Graph
    _head: npt.NDArray[np.int64]
    _m: int
    _n: int

    @classmethod
    def expand(
        cls, base: Graph, turn_from: npt.ArrayLike, turn_to: npt.ArrayLike, turn_costs: npt.ArrayLike
    ) -> TurnGraph:
        f = _ids("turn_from", turn_from)
        t = _ids("turn_to", turn_to)
        c = _floats("turn_costs", turn_costs, 2) if f.size else np.zeros((0, base.k))
        if c.shape[0] != f.shape[0] or t.shape[0] != f.shape[0]:
            raise ValueError(
                f"turn_from, turn_to and turn_costs need one row per turn: {f.size}, {t.size}, {c.shape[0]}"
            )
        native, arc_of = _native.expand_turns(base._g, f, t, np.ascontiguousarray(c))
        g = cls(native)
        g._arc_of = arc_of
        g._base = base
        g._head = base.arcs()[1]
        g._m = base.num_arcs
        g._n = base.num_nodes
        return g

    @property
    def num_nodes(self) -> int:
        return self._n

    @property
    def num_arcs(self) -> int:
        return self._m

    @property
    def expanded_nodes(self) -> int:
        return self._g.num_nodes

    @property
    def expanded_arcs(self) -> int:
        return self._g.num_arcs

    @property
    def coords(self) -> npt.NDArray[np.float64] | None:
        return self._base.coords

    def arcs(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The original graph's ``(tail, head, costs)`` (turn costs not included)."""
        return self._base.arcs()

    def __repr__(self) -> str:
        return (
            f"TurnGraph(num_nodes={self._n}, num_arcs={self._m}, k={self.k}, "
            f"expanded_nodes={self.expanded_nodes}, expanded_arcs={self.expanded_arcs})"
        )

    def _check(self, what: str, v: int) -> int:
        v = int(v)
        if not 0 <= v < self._n:
            raise ValueError(f"{what} node {v} is out of range for a graph of {self._n} nodes")
        return v

    def _source(self, s: int) -> int:
        return self._m + self._check("source", s)

    def _target(self, t: int) -> int:
        return self._m + self._n + self._check("target", t)

    def _pairs(self, p: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        for what, col in (("source", p[:, 0]), ("target", p[:, 1])):
            bad = col[(col < 0) | (col >= self._n)]
            if bad.size:
                raise ValueError(f"{what} node {int(bad[0])} is out of range for a graph of {self._n} nodes")
        return np.ascontiguousarray(np.column_stack([p[:, 0] + self._m, p[:, 1] + self._m + self._n]))

    def _solution(self, t: tuple[Any, Any, Any]) -> Solution:
        costs, nodes, arcs = t
        orig = self._arc_of[np.asarray(arcs, dtype=np.int64)]
        orig = orig[orig >= 0]
        start = int(nodes[0]) if len(nodes) else self._m
        # A path starts at a virtual origin (m + v) or, from route_from_arc, at an arc's node.
        first = start - self._m if start >= self._m else int(self._head[start])
        return Solution(
            costs=costs,
            nodes=np.concatenate([np.asarray([first], dtype=np.int64), self._head[orig]]),
            arcs=orig,
        )

    def route_from_arc(
        self,
        arc: int,
        t: int,
        weights: Sequence[float],
        *,
        departure: float | None = None,
        risk_aversion: float = 0.0,
    ) -> Route | None:
        """Like :meth:`route`, for a vehicle that has just driven along original arc ``arc``: the
        path starts with a turn out of it (so a forbidden turn, e.g. an HGV's U-turn, stays
        forbidden at a waypoint), and its costs include that turn but not ``arc`` itself."""
        a = int(arc)
        if not 0 <= a < self._m:
            raise ValueError(f"arc {a} is out of range for a graph of {self._m} arcs")
        sol, info = self._g.route(
            a,
            self._target(t),
            [float(x) for x in weights],
            departure=None if departure is None else float(departure),
            risk_aversion=float(risk_aversion),
            landmarks=self._lm,
        )
        if sol is None:
            return None
        path = self._solution(sol)
        return Route(costs=path.costs, nodes=path.nodes, arcs=path.arcs, **info)

"""Type stubs for the PyO3 extension `ridgeline._native` (thin bindings over ridgeline-core)."""

from collections.abc import Iterator, Sequence
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

class BuildInfo(TypedDict):
    version: str
    profile: str
    target: str
    target_features: list[str]

def build_info() -> BuildInfo: ...

# --- routing (native/py/src/routing.rs) -------------------------------------------------------

_SolutionTuple = tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
_ResultTuple = tuple[list[_SolutionTuple], dict[str, Any]]

class RoutingGraph:
    @staticmethod
    def from_arrays(
        tail: npt.NDArray[np.int64],
        head: npt.NDArray[np.int64],
        costs: npt.NDArray[np.float64],
        coords: npt.NDArray[np.float64] | None = None,
        n: int | None = None,
        time_profile: npt.NDArray[np.float64] | None = None,
        variance: npt.NDArray[np.float64] | None = None,
        time_index: int = 1,
    ) -> RoutingGraph: ...
    @staticmethod
    def load(path: str) -> RoutingGraph: ...
    def save(self, path: str) -> None: ...
    @property
    def num_nodes(self) -> int: ...
    @property
    def num_arcs(self) -> int: ...
    @property
    def num_objectives(self) -> int: ...
    @property
    def time_index(self) -> int: ...
    @property
    def profile_slots(self) -> int | None: ...
    @property
    def has_variance(self) -> bool: ...
    @property
    def is_mapped(self) -> bool: ...
    def coords(self) -> npt.NDArray[np.float64] | None: ...
    def arcs(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
    def pareto(
        self,
        s: int,
        t: int,
        method: str = "exact",
        epsilon: float = 0.0,
        bounds: Sequence[float | None] | None = None,
        max_solutions: int | None = None,
        max_expansions: int | None = None,
        time_limit: float | None = None,
        departure: float | None = None,
        risk_aversion: float = 0.0,
    ) -> _ResultTuple: ...
    def pareto_stream(
        self,
        s: int,
        t: int,
        method: str = "exact",
        epsilon: float = 0.0,
        bounds: Sequence[float | None] | None = None,
        max_solutions: int | None = None,
        max_expansions: int | None = None,
        time_limit: float | None = None,
        departure: float | None = None,
        risk_aversion: float = 0.0,
    ) -> ParetoStream: ...
    def pareto_many(
        self,
        pairs: npt.NDArray[np.int64],
        method: str = "exact",
        epsilon: float = 0.0,
        bounds: Sequence[float | None] | None = None,
        max_solutions: int | None = None,
        max_expansions: int | None = None,
        time_limit: float | None = None,
        departure: float | None = None,
        risk_aversion: float = 0.0,
    ) -> list[_ResultTuple]: ...
    def prepare_landmarks(
        self, count: int = 8, objectives: Sequence[int] | None = None, seed: int = 0
    ) -> Landmarks: ...
    def route(
        self,
        s: int,
        t: int,
        weights: Sequence[float],
        departure: float | None = None,
        risk_aversion: float = 0.0,
        landmarks: Landmarks | None = None,
    ) -> tuple[_SolutionTuple | None, dict[str, Any]]: ...

class Landmarks:
    @property
    def nodes(self) -> list[int]: ...
    @property
    def objectives(self) -> list[int]: ...
    @property
    def memory_bytes(self) -> int: ...

class ParetoStream(Iterator[_SolutionTuple]):
    def __iter__(self) -> ParetoStream: ...
    def __next__(self) -> _SolutionTuple: ...
    @property
    def info(self) -> dict[str, Any] | None: ...
    def close(self) -> None: ...

class Dem:
    @staticmethod
    def from_hgt(paths: Sequence[str]) -> Dem: ...
    @staticmethod
    def from_array(
        data: npt.NDArray[np.float32],
        geotransform: tuple[float, float, float, float, float, float],
        nodata: float | None = None,
        geographic: bool = True,
    ) -> Dem: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]: ...
    @property
    def nodata(self) -> float | None: ...
    @property
    def geographic(self) -> bool: ...
    @property
    def nodata_count(self) -> int: ...
    def to_array(self) -> npt.NDArray[np.float32]: ...
    def sample(self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
    def profile(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], spacing_m: float
    ) -> dict[str, npt.NDArray[np.float64]]: ...
    def edge_terrain(
        self,
        x: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        offsets: npt.NDArray[np.int64],
        spacing_m: float,
    ) -> dict[str, npt.NDArray[Any]]: ...

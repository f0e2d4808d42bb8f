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

# --- ridgeline_core::sim bindings (native/py/src/sim.rs) ---------------------------------

_F64 = npt.NDArray[np.float64]

class SimModel:
    """A rigid-body model loaded from URDF (immutable, thread-safe)."""

    @staticmethod
    def from_urdf_file(path: str, floating_base: bool = False) -> SimModel: ...
    @staticmethod
    def from_urdf_string(xml: str, floating_base: bool = False) -> SimModel: ...
    @property
    def name(self) -> str: ...
    @property
    def nq(self) -> int: ...
    @property
    def nv(self) -> int: ...
    @property
    def n_actuated(self) -> int: ...
    @property
    def floating_base(self) -> bool: ...
    @property
    def root_link(self) -> str: ...
    @property
    def joint_names(self) -> list[str]: ...
    @property
    def body_links(self) -> list[str]: ...
    @property
    def actuated_joint_types(self) -> list[str]: ...
    @property
    def total_mass(self) -> float: ...
    @property
    def gravity(self) -> tuple[float, float, float]: ...
    @property
    def lower_limits(self) -> _F64: ...
    @property
    def upper_limits(self) -> _F64: ...
    @property
    def effort_limits(self) -> _F64: ...
    @property
    def damping(self) -> _F64: ...
    @property
    def friction(self) -> _F64: ...
    @property
    def contact_links(self) -> list[str]: ...
    def neutral(self) -> _F64: ...
    def aba(self, q: _F64, v: _F64, tau: _F64) -> _F64: ...
    def rnea(self, q: _F64, v: _F64, a: _F64) -> _F64: ...
    def mass_matrix(self, q: _F64) -> _F64: ...
    def energy(self, q: _F64, v: _F64) -> tuple[float, float]: ...
    def body_positions(self, q: _F64) -> _F64: ...
    def aba_batch(self, q: _F64, v: _F64, tau: _F64, threads: int | None = None) -> _F64: ...
    def rnea_batch(self, q: _F64, v: _F64, a: _F64, threads: int | None = None) -> _F64: ...

class RolloutHandle:
    """Cancellation flag and progress counter shared with a running rollout."""

    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...
    @property
    def steps_done(self) -> int: ...

def sim_rollout(
    model: SimModel,
    *,
    controller: str = "pd",
    kp: _F64 | None = None,
    kd: _F64 | None = None,
    torques: _F64 | None = None,
    ref_q: _F64 | None = None,
    ref_v: _F64 | None = None,
    ref_a: _F64 | None = None,
    profile: str = "default",
    profile_entries: list[tuple[str, str, list[float]]] | None = None,
    steps: int = 500,
    dt: float = 0.002,
    seed: int = 0,
    episodes: int = 1,
    integrator: str = "semi_implicit_euler",
    q0: _F64 | None = None,
    v0: _F64 | None = None,
    contact: bool | None = None,
    record: bool = True,
    success_tolerance: float = 0.05,
    divergence_velocity: float = 1000.0,
    threads: int | None = None,
    handle: RolloutHandle | None = None,
    joint_limits: bool = True,
) -> dict[str, Any]: ...
def reality_profiles() -> list[dict[str, Any]]: ...
def custom_profile(
    name: str, description: str, entries: list[tuple[str, str, list[float]]]
) -> dict[str, Any]: ...

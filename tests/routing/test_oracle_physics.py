"""Issue 19: the oracle's physical-model and time-dependence checks on the Andorra network, and
that each can fail (the engine altered under it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing import energy
from ridgeline.routing.assets import load_assets
from ridgeline.routing.oracle import physics_check, quality_check, time_dependence_check
from ridgeline.routing.planner import Planner
from ridgeline.routing.vehicles import BUILTIN_VEHICLES
from tests.routing.api_support import _signer, andorra_assets, routing_key  # noqa: F401

EV_TRUCK = BUILTIN_VEHICLES["hgv_electric_40t"]
VAN = BUILTIN_VEHICLES["van_diesel"]


@pytest.fixture
def planner(andorra_assets: Path, routing_key: Path) -> Planner:  # noqa: F811
    # Function-scoped: the mutation tests must not share priced networks with the others.
    return Planner(load_assets(andorra_assets, [_signer(routing_key).public_key_b64()]))


def _through_signal(planner: Planner) -> tuple[int, int]:
    s, _ = planner.assets.snap(1.5150, 42.5760)
    t, _ = planner.assets.snap(1.5260, 42.5880)
    return s, t


def test_quality_check_covers_physics_and_time_dependence(planner: Planner) -> None:
    res = quality_check(
        planner, EV_TRUCK, ("duration", "co2e"), pairs=3, seed=11, epsilon=0.05, brute_force_nodes=20
    )
    d = res["details"]
    assert d["physics_pass_rate"] == 1.0 and d["time_dependence_pass_rate"] == 1.0
    assert len(d["physics"]) == 3 and len(d["time_dependence"]) == 3
    assert all(t["peak_duration_s"] > t["night_duration_s"] for t in d["time_dependence"])
    rates = [res["extremes_pass_rate"], res["epsilon_pass_rate"], res["brute_force_pass_rate"]]
    assert res["score"] == pytest.approx((sum(rates) + 2.0) / 5.0, abs=1e-6)
    # A regenerating truck's energy is recomputed with its sign.
    s, t = planner.assets.snap(1.6675, 42.5766)[0], planner.assets.snap(1.5218, 42.5063)[0]
    down = physics_check(planner, EV_TRUCK, s, t)
    assert down["ok"] and down["energy_kwh"] < 0


def test_physics_check_fails_when_the_engine_drops_junction_delays(
    planner: Planner, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, t = _through_signal(planner)
    assert physics_check(planner, VAN, s, t)["ok"]
    planner.clear_priced()
    monkeypatch.setattr(energy, "junction_delay", lambda c, v, *a: (np.zeros(v.size), np.zeros(v.size)))
    bad = physics_check(planner, VAN, s, t)
    assert not bad["ok"] and bad["reference_duration_s"] > bad["duration_s"] + 15.0


def test_time_dependence_check_fails_on_a_utc_clock(
    planner: Planner, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, t = _through_signal(planner)
    assert time_dependence_check(planner, VAN, s, t)["ok"]
    planner.clear_priced()
    # An engine reading the departure's UTC clock as local time (the old round(lon / 15) = 0 h).
    monkeypatch.setattr(
        Planner,
        "local_time",
        lambda self, d: (None, False) if d is None else (d.hour * 3600.0 + d.minute * 60.0, d.weekday() >= 5),
    )
    res = time_dependence_check(planner, VAN, s, t)
    assert not res["ok"] and not res["recomputed_ok"]

"""A route's turn costs are summed from one gathered table (``TurnCosts.totals``, issue 20 service
pass): the totals must be the exact floats of summing each per-turn array on its own (what
``Planner.add_turns`` added before), on the turn-expanded Andorra graph."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from ridgeline.routing.assets import RoutingAssets, load_assets
from ridgeline.routing.planner import OBJECTIVES, Planner, Scenario
from ridgeline.routing.turns import TOTAL_ROWS
from ridgeline.routing.vehicles import BUILTIN_VEHICLES
from tests.routing.api_support import _signer, andorra_assets, routing_key  # noqa: F401


@pytest.fixture(scope="module")
def planner(andorra_assets: Path, routing_key: Path) -> Planner:  # noqa: F811
    assets: RoutingAssets = load_assets(andorra_assets, [_signer(routing_key).public_key_b64()])
    return Planner(assets)


@pytest.mark.parametrize("vehicle_id", ["van_diesel", "hgv_artic_44t", "van_electric"])
def test_turn_totals_are_the_per_array_sums(planner: Planner, vehicle_id: str) -> None:
    p = planner.price(Scenario(vehicle=BUILTIN_VEHICLES[vehicle_id]))
    tc = p.turns
    assert tc is not None
    arrays = {r: np.array(getattr(tc, r)) for r in TOTAL_ROWS}  # copies: plain 1-D arrays
    g = planner.graph(p, OBJECTIVES)
    rng = np.random.default_rng(len(vehicle_id))
    checked = 0
    while checked < 20:
        s, t = (int(x) for x in rng.choice(planner.assets.num_nodes, 2, replace=False))
        r = g.route(s, t, [1.0, 0.4, 0.3, 0.1])
        if r is None or len(r.arcs) < 3:
            continue
        arcs = p.arc_index[r.arcs]
        i = tc.along(arcs)
        assert (i >= 0).all()
        assert tc.totals(i) == {k: float(a[i].sum()) for k, a in arrays.items()}
        # add_turns: what it added before, one array at a time
        base = planner.describe_asset_arcs(p, arcs[:1], full=False)  # any totals to add to
        totals, values = msgspec.structs.replace(base.totals), dict(base.objective_values)
        planner.add_turns(p, arcs, totals, values)
        t0, v0 = base.totals, base.objective_values
        assert totals.duration_s == t0.duration_s + float(arrays["time_s"][i].sum())
        assert totals.money_eur == t0.money_eur + float(arrays["money_eur"][i].sum())
        assert totals.energy_kwh == t0.energy_kwh + float(arrays["energy_kwh"][i].sum())
        assert totals.carbon_cost_eur == t0.carbon_cost_eur + float(arrays["carbon_cost_eur"][i].sum())
        assert values["co2e"] == v0["co2e"] + float(arrays["co2e_kg"][i].sum())
        assert values["money"] == v0["money"] + float(arrays["money_eur"][i].sum())
        assert values["distance"] == v0["distance"]
        checked += 1

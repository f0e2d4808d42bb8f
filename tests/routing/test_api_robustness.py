"""Bad input never produces a 500 and never changes state; the embedded sample region starts on its own."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ridgeline.routing.api.service import RoutingService
from tests.routing.api_support import (  # noqa: F401
    SAMPLE_A,
    SAMPLE_B,
    client,
    detail,
    ndjson,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(
    [
        "origin",
        "destination",
        "vehicle_id",
        "weights",
        "epsilon",
        "objectives",
        "pareto_method",
        "max_alternatives",
        "weather",
        "incident_simulation",
        "departure_time_utc",
        "payload_kg",
        "approx_epsilon",
        "risk_aversion",
    ]
)
bodies = st.dictionaries(fields, json_values, max_size=6).map(
    lambda d: {"origin": SAMPLE_A, "destination": SAMPLE_B, **d}
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, path=st.sampled_from(["/routing/route", "/routing/pareto"]))
def test_fuzzed_bodies_never_500(client: Any, body: dict[str, Any], path: str) -> None:  # noqa: F811
    r = client.post(path, json=body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        detail(r)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_fuzzed_stream_is_events_or_422(client: Any, body: dict[str, Any]) -> None:  # noqa: F811
    r = client.post("/routing/pareto/stream", json=body)
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        events = ndjson(r.text)
        assert events[-1]["type"] in ("done", "fatal")
        assert sum(e["type"] == "fatal" for e in events) <= 1
        if events[-1]["type"] == "fatal":
            assert events[-1]["reason_code"] != "internal_error"


@pytest.mark.parametrize(
    "body",
    [
        {"epsilon": {"duration": 1e308}},
        {"max_alternatives": 10**9},
        {"departure_time_utc": "2026-02-30T00:00:00Z"},
        {"departure_time_utc": "2026-03-02T08:00:00"},
        {"payload_kg": 99999},
        {"weights": {"duration": 1e308, "money": 1e308}},
        {"waypoints": [SAMPLE_B] * 30},
    ],
)
def test_edge_values(client: Any, body: dict[str, Any]) -> None:  # noqa: F811
    for path in ("/routing/route", "/routing/pareto"):
        r = client.post(path, json={"origin": SAMPLE_A, "destination": SAMPLE_B, **body})
        assert r.status_code in (200, 422), (path, body, r.text)


def test_bad_input_changes_nothing(client: Any) -> None:  # noqa: F811
    svc = client.app.state["ctx"].service(RoutingService)
    before = client.blocking_portal.call(svc.count_runs)
    for body in ({"origin": SAMPLE_A}, {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "ghost"}):
        assert client.post("/routing/route", json=body).status_code in (404, 422)
    assert client.post("/routing/vehicles/custom", json={"vehicle_id": "x"}).status_code == 422
    assert client.post("/routing/experiments", json={"name": "x", "items": []}).status_code == 422
    assert client.blocking_portal.call(svc.count_runs) == before
    assert client.get("/routing/vehicles/custom").json()["count"] == 0
    assert client.get("/routing/experiments").json()["count"] == 0


def test_sample_region_is_built_on_first_start(
    make_client: Any,
    routing_key: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ridgeline.routing.api import build_family

    monkeypatch.delenv("RIDGELINE_ROUTING_ASSETS", raising=False)
    c = make_client(families=[build_family()], seed_defaults=True, signing_key_file=routing_key)
    info = c.get("/routing/").json()
    assert info["asset"]["name"] == "sample" and info["dem_version"] == "sample_synthetic_v1"
    r = c.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B})
    assert r.status_code == 200, r.text

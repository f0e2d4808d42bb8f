"""Bugs the contract harness found, each pinned by a direct test (fails when the fix is removed)."""

from __future__ import annotations

from typing import Any

import pytest

from ridgeline.app import available_families


def test_metrics_content_type_carries_one_charset(make_client: Any) -> None:
    r = make_client().get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].count("charset") == 1, r.headers["content-type"]


def test_sim_plan_with_a_vanishing_precision_is_not_a_server_error(make_client: Any) -> None:
    if "sim" not in available_families():
        pytest.skip("sim not in this build")
    r = make_client(only="sim").post("/api/ai/plan", json={"task": "walk", "precision": 5e-324})
    assert r.status_code == 200, r.text


def test_sim_plan_with_a_vanishing_time_step_is_a_422(make_client: Any) -> None:
    if "sim" not in available_families():
        pytest.skip("sim not in this build")
    r = make_client(only="sim").post("/api/ai/plan", json={"task": "walk", "dt": 5e-324})
    assert r.status_code == 422, r.text
    assert r.json()["reason_code"] == "invalid_request"


@pytest.mark.parametrize(
    "family,path",
    [
        ("sim", "/api/runs?offset=36771009667616000979051274490974568448"),
        ("retail", "/dimensions/stores?page=46382081308528500736"),
        ("retail", "/dimensions/stores/99999999999999999999999"),
        ("retail", "/registry/runs?product_id=-175389937815175102464"),
        ("retail", "/jobs?offset=99999999999999999999999"),
    ],
)
def test_integers_beyond_64_bits_are_a_422_in_the_family_shape(
    make_client: Any, family: str, path: str
) -> None:
    if family not in available_families():
        pytest.skip(f"{family} not in this build")
    r = make_client(only=family).get(path)
    assert r.status_code == 422, r.text
    assert r.json()["reason_code"] == "invalid_request"


def test_retail_features_from_the_first_representable_day_are_not_a_server_error(make_client: Any) -> None:
    if "retail" not in available_families():
        pytest.skip("retail not in this build")
    body = {"start_date": "0001-01-01", "end_date": "0001-01-01", "store_id": 17}
    r = make_client(only="retail").post("/featuresets/compute", json=body)
    # Year 1 is outside the retail date window: a 400 problem naming the rule, not an overflow 500.
    assert r.status_code == 400, r.text
    assert r.json()["reason_code"] == "invalid_date_range"

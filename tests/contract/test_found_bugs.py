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

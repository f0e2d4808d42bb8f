"""The service sizes the native core's Pareto heuristic cache (``RIDGELINE_ROUTING_HEURISTIC_CACHE_MB``,
read by the core once per process): the core's 8 MB default holds only 5 targets of the
turn-expanded Andorra graph, so a service rotating over more targets recomputed the backward
searches of every query (docs/routing.md, "Service performance")."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from ridgeline.routing.api.settings import RoutingSettings
from tests.routing.api_support import routing_client, routing_key, sample_assets  # noqa: F401

VAR = "RIDGELINE_ROUTING_HEURISTIC_CACHE_MB"


def test_service_sets_the_heuristic_cache_budget(
    routing_client: Callable[..., Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(VAR, "0")  # recorded, so the variable is put back as it was after the test
    monkeypatch.delenv(VAR)
    c = routing_client()
    assert c.get("/health").status_code == 200
    assert os.environ[VAR] == f"{RoutingSettings().heuristic_cache_mb:g}" == "64"


def test_an_operator_budget_is_kept(
    routing_client: Callable[..., Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(VAR, "24")
    c = routing_client()
    assert c.get("/health").status_code == 200
    assert os.environ[VAR] == "24"

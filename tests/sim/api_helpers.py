"""Helpers shared by the sim API tests."""

from __future__ import annotations

import time
from typing import Any

SIM = "/sim"


def wait_status(client: Any, run_id: str, statuses: set[str], limit_s: float = 30.0) -> dict[str, Any]:
    """Poll GET /v1/runs/{id} until its status is one of ``statuses`` (fails after ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    while True:
        body = client.get(f"{SIM}/v1/runs/{run_id}").json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"run {run_id} stuck in {body['status']}"
        time.sleep(0.02)


def assert_error(resp: Any, status: int, reason_code: str) -> dict[str, Any]:
    """FastAPI-style error shape of the sim family."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["reason_code"] == reason_code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == resp.headers["x-request-id"]
    return body

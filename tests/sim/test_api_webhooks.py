"""Webhooks: signed run.completed / run.failed deliveries, retried with backoff, against a local receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ridgeline.sim.api import webhooks
from tests.sim.api_helpers import SIM, wait_status

pytestmark = pytest.mark.db

SECRET = "test-secret-0123456789abcdef"


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 500 to the first ``fail_first`` requests."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, limit_s: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + limit_s
        while len(self.requests) < n:
            assert time.monotonic() < deadline, f"receiver got {len(self.requests)} of {n} requests"
            time.sleep(0.02)
        return self.requests

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(fail_first: int) -> Receiver:
        r = Receiver(fail_first)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _verify(req: dict[str, Any], secret: str) -> bool:
    h = {k.lower(): v for k, v in req["headers"].items()}
    return webhooks.verify(secret, h["x-ridgeline-timestamp"], req["body"], h["x-ridgeline-signature"])


def test_signed_delivery_retried_after_two_failures(make_client, receiver) -> None:  # type: ignore[no-untyped-def]
    rcv = receiver(fail_first=2)
    c = make_client()
    r = c.post(
        f"{SIM}/v1/runs",
        json={
            "scenario": "pendulum_swing",
            "config": {"steps": 30},
            "options": {"webhook_url": rcv.url, "webhook_secret": SECRET},
        },
    )
    assert r.status_code == 201 and r.json()["webhook_secret"] is None  # ours was used
    run_id = r.json()["run_id"]
    reqs = rcv.wait_for(3)
    time.sleep(0.2)
    assert len(rcv.requests) == 3  # stops after the first success
    ids = {q["headers"]["X-Ridgeline-Delivery"] for q in reqs}
    assert len(ids) == 1
    for q in reqs:
        assert _verify(q, SECRET)
        assert not _verify(q, SECRET + "x")
        event = json.loads(q["body"])
        assert set(event) == {"event", "run_id", "timestamp", "payload"}
        assert event["event"] == "run.completed" and event["run_id"] == run_id
        assert event["payload"]["status"] == "SUCCEEDED" and event["payload"]["metrics"]["episodes"] == 1
    tampered = dict(reqs[0], body=reqs[0]["body"].replace(b"SUCCEEDED", b"FAILED"))
    assert not _verify(tampered, SECRET)
    deadline = time.monotonic() + 10
    while True:  # the last attempt is recorded just after the receiver answers
        log = c.get(f"{SIM}/api/sim/report/{run_id}").json()["webhook_deliveries"]
        if len(log) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in log] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]


def test_cancelled_run_reports_failure_with_generated_secret(make_client, receiver) -> None:  # type: ignore[no-untyped-def]
    rcv = receiver(fail_first=0)
    c = make_client()
    config = {"steps": 200_000, "episodes": 256, "record": False}
    r = c.post(f"{SIM}/v1/runs", json={"config": config, "options": {"webhook_url": rcv.url, "wait": False}})
    assert r.status_code == 202
    secret = r.json()["webhook_secret"]
    assert isinstance(secret, str) and len(secret) == 64
    run_id = r.json()["run_id"]
    wait_status(c, run_id, {"RUNNING"})
    assert c.post(f"{SIM}/v1/runs/{run_id}/cancel").json()["status"] == "CANCELLED"
    (req,) = rcv.wait_for(1)
    assert _verify(req, secret)
    event = json.loads(req["body"])
    assert event["event"] == "run.failed" and event["payload"]["status"] == "CANCELLED"


def test_gives_up_after_three_retries(make_client, receiver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(webhooks, "RETRY_DELAYS_S", (0.01, 0.02, 0.04))
    rcv = receiver(fail_first=100)
    c = make_client()
    body = {"steps": 20, "webhook_url": rcv.url, "webhook_secret": SECRET}
    run_id = c.post(f"{SIM}/api/sim/run", json=body).json()["run_id"]
    rcv.wait_for(4)
    deadline = time.monotonic() + 10
    while len(c.get(f"{SIM}/api/sim/report/{run_id}").json()["webhook_deliveries"]) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)
    assert len(rcv.requests) == 4  # 1 attempt + 3 retries, then it stops
    log = c.get(f"{SIM}/api/sim/report/{run_id}").json()["webhook_deliveries"]
    assert [d["attempt"] for d in log] == [1, 2, 3, 4] and not any(d["succeeded"] for d in log)


def test_webhook_url_must_be_http(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.post(f"{SIM}/api/sim/run", json={"steps": 5, "webhook_url": "file:///etc/passwd"})
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request"

"""Webhook delivery: signed POSTs with exponential backoff, every attempt recorded.

Body: ``{"event": "run.completed" | "run.failed", "run_id", "timestamp", "payload"}`` (JSON).
Headers: ``X-Ridgeline-Event``, ``X-Ridgeline-Delivery`` (one id for all attempts),
``X-Ridgeline-Timestamp`` (unix seconds) and ``X-Ridgeline-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<raw body>"`` under the run's webhook secret. A 2xx answer is
success; anything else (or no answer within 5 s) is retried up to 3 times after 0.5 s, 1 s and 2 s.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ridgeline.platform.auth.secrets import SecretError
from ridgeline.platform.jobs import JobStatus
from ridgeline.platform.jobs import owner_gone_here as owner_is_gone
from ridgeline.sim.api import schemas, store

if TYPE_CHECKING:
    from ridgeline.sim.api.service import SimService

log = logging.getLogger("ridgeline.sim.webhooks")

RETRY_DELAYS_S: tuple[float, ...] = (0.5, 1.0, 2.0)
TIMEOUT_S = 5.0
SIGNATURE_HEADER = "X-Ridgeline-Signature"
TIMESTAMP_HEADER = "X-Ridgeline-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver runs: constant-time check of ``X-Ridgeline-Signature``."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


Recorder = Callable[[dict[str, Any]], Awaitable[None]]


async def deliver(
    url: str,
    secret: str,
    event: str,
    run_id: str,
    payload: dict[str, Any],
    record: Recorder,
    delays: tuple[float, ...] | None = None,
) -> bool:
    """Deliver one event (1 attempt + ``len(delays)`` retries, default :data:`RETRY_DELAYS_S`);
    ``record`` gets every attempt."""
    delays = RETRY_DELAYS_S if delays is None else delays
    delivery_id = uuid.uuid4().hex
    envelope = {
        "event": event,
        "run_id": run_id,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "payload": payload,
    }
    body = msgspec.json.encode(envelope)
    for attempt in range(1, len(delays) + 2):
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ridgeline-sim-webhooks/1",
            "X-Ridgeline-Event": event,
            "X-Ridgeline-Delivery": delivery_id,
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(secret, ts, body),
        }
        status: int | None = None
        error: str | None = None
        try:
            status = await asyncio.to_thread(_post, url, body, headers)
        except Exception as exc:  # connection refused, timeout, DNS
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        if status is not None and not ok:
            error = f"HTTP {status}"
        await record(
            {
                "delivery_id": delivery_id,
                "url": url,
                "event": event,
                "attempt": attempt,
                "status_code": status,
                "error": error,
                "succeeded": ok,
            }
        )
        if ok:
            return True
        if attempt <= len(delays):
            await asyncio.sleep(delays[attempt - 1])
    return False


def _aad(webhook_id: str) -> str:
    return f"sim:webhook:{webhook_id}"


def webhook_row(svc: SimService, run_id: str, url: str, secret: str) -> dict[str, Any]:
    """The ``sim_webhooks`` row of a run's webhook (written with the run, before it can start).
    Without a key ring the secret is not stored, and only this process can send it."""
    webhook_id = store.new_id()
    box = svc.secret_box
    t = store.now()
    return {
        "id": webhook_id,
        "run_id": run_id,
        "url": url,
        "secret_sealed": None if box is None else box.seal(secret, _aad(webhook_id)),
        "status": "pending",
        "owner": None,
        "created_at": t,
        "updated_at": t,
    }


GetRun = Callable[["SimService", str], Awaitable[schemas.Run | None]]


async def notify_when_done(
    svc: SimService, webhook_id: str, run_id: str, url: str, secret: str, get_run: GetRun
) -> None:
    """Wait for the run's job to end, then deliver run.completed / run.failed (every attempt stored).
    The webhook stays ``pending`` in ``sim_webhooks`` until a process claims it: when this process is
    stopping it leaves it there, and the next process sends it (:func:`resume_pending`)."""
    job = None
    while job is None or not JobStatus(job.status).terminal:
        job = await svc.ctx.jobs.wait(run_id, limit_s=60)
        if job is None:
            return
    task = svc.replay_tasks.get(run_id)
    if task is not None:  # a stopped run's replay is still being written: send its SHA-256
        await asyncio.wait([task], timeout=60)
    if svc.stopping or not await store.claim_webhook(svc.ctx.db, webhook_id, svc.owner):
        return
    try:
        ok = await _send(svc, run_id, url, secret, get_run)
    except asyncio.CancelledError:  # stopped mid-delivery: the next process sends it again
        await asyncio.shield(store.settle_webhook(svc.ctx.db, webhook_id, svc.owner, "pending"))
        raise
    await store.settle_webhook(svc.ctx.db, webhook_id, svc.owner, "delivered" if ok else "failed")


async def _send(svc: SimService, run_id: str, url: str, secret: str, get_run: GetRun) -> bool:
    run = await get_run(svc, run_id)
    if run is None:
        return False
    event = "run.completed" if run.status == JobStatus.SUCCEEDED else "run.failed"
    payload = {
        "status": run.status,
        "profile": run.profile,
        "robot": run.robot,
        "metrics": msgspec.to_builtins(run.metrics),
        "error": run.error,
        "interrupted": run.interrupted,
        "steps_completed": run.steps_completed,
        "replay_sha256": None if run.replay is None else run.replay.sha256,
    }

    async def record(attempt: dict[str, Any]) -> None:
        await store.insert(
            svc.ctx.db,
            store.webhook_deliveries,
            {"id": store.new_id(), "run_id": run_id, "created_at": store.now(), **attempt},
        )

    return await deliver(url, secret, event, run_id, payload, record)


async def resume_pending(svc: SimService, get_run: GetRun) -> int:
    """At start-up: send the webhooks a stopped process left pending (and those it was sending when it
    died). Each is claimed before it is sent, so with several processes exactly one sends it."""
    count = 0
    box = svc.secret_box
    for row in await store.unsettled_webhooks(svc.ctx.db):
        if row.status == "sending":
            if row.owner is None or not owner_is_gone(row.owner):
                continue
            if not await store.claim_webhook(
                svc.ctx.db, row.id, svc.owner, from_status="sending", from_owner=row.owner
            ):
                continue
            await store.settle_webhook(svc.ctx.db, row.id, svc.owner, "pending")
        if row.secret_sealed is None or box is None:
            continue  # sealed by no key ring: only the process that created it can sign it
        try:
            secret = box.open(row.secret_sealed, _aad(row.id)).decode()
        except SecretError:
            log.warning("webhook %s of run %s: its secret cannot be opened; not sent", row.id, row.run_id)
            continue
        svc.spawn(notify_when_done(svc, row.id, row.run_id, row.url, secret, get_run))
        count += 1
    return count


async def deliveries(svc: SimService, run_id: str) -> list[schemas.WebhookDelivery]:
    return [
        schemas.WebhookDelivery(
            delivery_id=r.delivery_id,
            event=r.event,
            url=r.url,
            attempt=r.attempt,
            status_code=r.status_code,
            error=r.error,
            succeeded=bool(r.succeeded),
            created_at=r.created_at,
        )
        for r in await store.deliveries(svc.ctx.db, run_id)
    ]

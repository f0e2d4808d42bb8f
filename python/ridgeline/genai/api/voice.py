"""Voice: ``POST /voice/wake-events`` and ``GET /voice/health`` (contract 004; the seed names no role,
so any signed-in user). A wake event is what a client's wake-word detector reports; it is stored
with the caller as ``user_id`` and the time it was received. Health reports the events recorded and
when the last one arrived."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody

from ridgeline.genai.api.catalog_store import caller, catalog_of, iso, now
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service


class WakeEventCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    wake_word: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    confidence: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
    device_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    detected_at: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None
    metadata: Annotated[dict[str, Any], msgspec.Meta(max_length=50)] = {}


class WakeEvent(msgspec.Struct, kw_only=True):
    id: str
    accepted: bool
    wake_word: str
    confidence: float
    device_id: str | None
    user_id: str | None
    detected_at: str
    received_at: str
    metadata: dict[str, Any]


class VoiceHealth(msgspec.Struct, kw_only=True):
    status: str
    wake_events_recorded: int
    last_event_at: str | None


_AUTH = Policy.bearer().opt()


@post("/voice/wake-events", status_code=201, opt=_AUTH, tags=["voice"])
async def wake_event(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[WakeEventCreate]
) -> WakeEvent:
    user_id, _ = caller(request)
    store = await catalog_of(svc)
    row = await store.record_wake_event(
        {
            "wake_word": data.wake_word,
            "confidence": data.confidence,
            "device_id": data.device_id,
            "user_id": user_id,
            "detected_at": (data.detected_at or now()).astimezone(dt.UTC),
            "metadata": data.metadata,
        }
    )
    return msgspec.convert({**row, "accepted": True}, WakeEvent)


@get("/voice/health", opt=_AUTH, tags=["voice"])
async def voice_health(svc: Service[GenaiService]) -> VoiceHealth:
    count, last = await (await catalog_of(svc)).wake_stats()
    return VoiceHealth(status="ok", wake_events_recorded=count, last_event_at=iso(last))


ROUTES = [wake_event, voice_health]

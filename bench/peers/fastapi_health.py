"""The peer for bench_http: a minimal FastAPI + uvicorn app serving the same /health.

It does the same work as Ridgeline's: the same JSON fields, the same build info from the native
core, and the same cached ``SELECT 1`` probe on a SQLite database through async SQLAlchemy.
Run: ``uvicorn bench.peers.fastapi_health:app`` with ``PEER_DB`` pointing at a SQLite file.
"""

from __future__ import annotations

import os
import time

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import ridgeline

engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ.get('PEER_DB', '/tmp/peer.db')}")
started = time.time()
_probe = {"at": -1e9, "ok": False}


class Health(BaseModel):
    status: str
    version: str
    build: dict[str, object]
    database: dict[str, object]
    uptime_s: float
    families: list[str]


app = FastAPI()


async def reachable() -> bool:
    if time.monotonic() - _probe["at"] < 1.0:
        return bool(_probe["ok"])
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        _probe["ok"] = True
    except Exception:
        _probe["ok"] = False
    _probe["at"] = time.monotonic()
    return bool(_probe["ok"])


@app.get("/health", response_model=Health)
async def health() -> Health:
    ok = await reachable()
    return Health(
        status="ok" if ok else "degraded",
        version=ridgeline.__version__,
        build=dict(ridgeline.build_info()),
        database={"reachable": ok, "backend": "sqlite"},
        uptime_s=round(time.time() - started, 3),
        families=[],
    )

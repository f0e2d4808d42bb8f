"""``/research/*`` (contract 003 section 13, **experimental**: the shapes may change). Research
sessions with their queries and collected findings, persisted; BM25 search over a session's
findings. Reads are public; writes need ``X-API-Key`` (the contract says "varies by endpoint").
No endpoint calls a model or the network."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from ridgeline.autopack.api.ops_service import OpsService
from ridgeline.autopack.api.ops_types import PathId, text
from ridgeline.platform import paging
from ridgeline.platform.auth import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset

# Explicit, so a non-public family default (default_policy) never covers the contract's open rows.
PUBLIC = Policy.public().opt()
TAGS = ["autopack: research (experimental)"]
SessionId = PathId
Text = Annotated[str, text(2000, min_length=1)]
KEY = Policy.api_key().opt()


class SessionCreate(msgspec.Struct, kw_only=True):
    topic: Annotated[str, text(1000, min_length=1)]
    description: Annotated[str, text(4000)] | None = None
    queries: Annotated[list[Text], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)


class QueryCreate(msgspec.Struct, kw_only=True):
    query: Text


class FindingCreate(msgspec.Struct, kw_only=True):
    title: Annotated[str, text(500, min_length=1)]
    content: Annotated[str, text(100_000, min_length=1)]
    source_url: Annotated[str, text(2000)] | None = None
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    query_id: Annotated[str, text(64)] | None = None


class SessionClose(msgspec.Struct, kw_only=True):
    conclusion: Annotated[str, text(8000)] | None = None


class ResearchQuery(msgspec.Struct, kw_only=True):
    query_id: str
    query: str
    created_at: datetime


class Finding(msgspec.Struct, kw_only=True):
    finding_id: str
    query_id: str | None
    title: str
    content: str
    source_url: str | None
    confidence: float | None
    created_at: datetime


class ScoredFinding(Finding, kw_only=True):
    score: float


class SessionSummary(msgspec.Struct, kw_only=True):
    session_id: str
    topic: str
    description: str | None
    status: Literal["active", "closed"]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    conclusion: str | None
    experimental: bool = True


class SessionDetail(SessionSummary, kw_only=True):
    queries: list[ResearchQuery]
    findings: list[Finding]


class SessionListItem(SessionSummary, kw_only=True):
    finding_count: int


class SessionList(msgspec.Struct, kw_only=True):
    sessions: list[SessionListItem]
    total: int
    limit: int
    offset: int


@post(
    "/research/sessions",
    status_code=201,
    tags=TAGS,
    summary="Start a research session (experimental)",
    opt=KEY,
)
async def create_session(ops: Service[OpsService], data: JSONBody[SessionCreate]) -> SessionDetail:
    return msgspec.convert(
        await ops.research.create(data.topic, data.description, data.queries), SessionDetail
    )


@get("/research/sessions", tags=TAGS, summary="List research sessions (experimental)", opt=PUBLIC)
async def list_sessions(
    ops: Service[OpsService],
    status: FromQuery[Literal["active", "closed"] | None] = None,
    limit: paging.limit(100) = 20,
    offset: Offset = 0,
) -> SessionList:
    rows, total = await ops.research.list(status, limit, offset)
    return SessionList(
        sessions=[msgspec.convert(r, SessionListItem) for r in rows], total=total, limit=limit, offset=offset
    )


@get(
    "/research/sessions/{session_id:str}",
    tags=TAGS,
    summary="A research session with its queries and findings",
    opt=PUBLIC,
)
async def get_session(ops: Service[OpsService], session_id: SessionId) -> SessionDetail:
    return msgspec.convert(await ops.research.get(session_id), SessionDetail)


@post(
    "/research/sessions/{session_id:str}/queries",
    status_code=201,
    tags=TAGS,
    summary="Record a query",
    opt={**raises(409), **KEY},
)
async def add_query(
    ops: Service[OpsService], session_id: SessionId, data: JSONBody[QueryCreate]
) -> ResearchQuery:
    return msgspec.convert(await ops.research.add_query(session_id, data.query), ResearchQuery)


@post(
    "/research/sessions/{session_id:str}/findings",
    status_code=201,
    tags=TAGS,
    summary="Record a finding",
    opt={**raises(409), **KEY},
)
async def add_finding(
    ops: Service[OpsService], session_id: SessionId, data: JSONBody[FindingCreate]
) -> Finding:
    view = await ops.research.add_finding(
        session_id,
        title=data.title,
        content=data.content,
        source_url=data.source_url,
        confidence=data.confidence,
        query_id=data.query_id,
    )
    return msgspec.convert(view, Finding)


@post(
    "/research/sessions/{session_id:str}/close",
    status_code=200,
    tags=TAGS,
    summary="Close a session",
    opt={**raises(409), **KEY},
)
async def close_session(
    ops: Service[OpsService], session_id: SessionId, data: JSONBody[SessionClose | None] = None
) -> SessionDetail:
    return msgspec.convert(
        await ops.research.close(session_id, data.conclusion if data else None), SessionDetail
    )


@get(
    "/research/sessions/{session_id:str}/search",
    tags=TAGS,
    summary="BM25 search over a session's findings",
    opt=PUBLIC,
)
async def search_findings(
    ops: Service[OpsService],
    session_id: SessionId,
    q: Annotated[str, QueryParameter(min_length=1, max_length=500)],
    k: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
) -> list[ScoredFinding]:
    return [msgspec.convert(f, ScoredFinding) for f in await ops.research.search(session_id, q, k)]


ROUTES = [create_session, list_sessions, get_session, add_query, add_finding, close_session, search_findings]

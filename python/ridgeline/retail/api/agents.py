"""``/agents``: sessions of the experiment agent and the RAG assistant, chat, human approval of
gated tool calls, close; and the ``/agents/stream`` WebSocket (StreamEvent frames).

The experiment agent's tools call the retail engine for real (backtests, training into the registry,
run comparison, what-if scenarios, aliases); the RAG assistant's tool retrieves from the index. A
session's history is JSON in ``retail_agent_session.messages``; a pending approval is stored with it,
so it survives a reconnect and can be approved from any worker.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, WebSocket, delete, get, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, JSONBody

from ridgeline.ai.providers import ExtractiveProvider, Message, ProviderError, ToolCall
from ridgeline.platform.context import AppContext, Ctx, Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError
from ridgeline.retail.ai.agent import Agent, AgentTool, CallRecord, Emit, TurnResult
from ridgeline.retail.ai.selection import (
    DEFAULT_MODELS,
    select_experiment_tools,
    select_rag_tools,
    summarize_records,
)
from ridgeline.retail.api import rag, registry, scenarios
from ridgeline.retail.api import store as retail_store
from ridgeline.retail.api.ai_service import AIConfig, RetailAIService, chat_provider, provider_failed
from ridgeline.retail.api.ai_store import agent_sessions
from ridgeline.retail.api.schemas.ai import (
    ApproveRequest,
    ChatMessageOut,
    ChatRequest,
    ChatResponseOut,
    PendingApproval,
    RetrieveRequest,
    SessionCreate,
    SessionDetail,
    SessionOut,
    ToolCallOut,
)
from ridgeline.retail.api.schemas.forecasting import (
    AliasCreate,
    AssumptionsIn,
    BacktestRequest,
    ModelConfigIn,
    TrainRequest,
)

SYSTEM_PROMPTS = {
    "experiment": (
        "You are the experiment agent of a retail demand-forecasting service. Use the tools to list "
        "series, backtest and train models, compare registry runs, simulate what-if scenarios and "
        "alias runs. Report metrics exactly as the tools return them; WAPE is a fraction."
    ),
    "rag_assistant": (
        "You answer questions about this service from its documentation. Call retrieve_context first, "
        "answer only from what it returns, and cite the source_path of each passage you use."
    ),
}


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------ tools
def _int(args: dict[str, Any], key: str) -> int | None:
    v = args.get(key)
    return None if v is None else int(v)


async def _default_series(ctx: AppContext) -> tuple[int, int]:
    s = retail_store.sales
    async with ctx.db.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(s.c.store_id, s.c.product_id)
                .group_by(s.c.store_id, s.c.product_id)
                .order_by(sa.func.sum(s.c.quantity).desc(), s.c.store_id, s.c.product_id)
                .limit(1)
            )
        ).first()
    if row is None:
        raise EngineError(
            400, "insufficient_data", "Not enough data: there are no sales yet (seed or ingest first)"
        )
    return int(row.store_id), int(row.product_id)


async def _series_args(ctx: AppContext, args: dict[str, Any]) -> tuple[int, int]:
    store_id, product_id = _int(args, "store_id"), _int(args, "product_id")
    if store_id is None or product_id is None:
        ds, dp = await _default_series(ctx)
        store_id, product_id = store_id or ds, product_id or dp
    return store_id, product_id


def experiment_tools(ctx: AppContext) -> list[AgentTool]:
    from ridgeline.retail.api.backtesting import run_backtest
    from ridgeline.retail.api.forecasting import train

    series_props = {
        "store_id": {"type": "integer", "description": "Store id (default: the best-selling series)"},
        "product_id": {"type": "integer", "description": "Product id"},
    }

    async def list_series(args: dict[str, Any]) -> dict[str, Any]:
        s = retail_store.sales
        limit = min(int(args.get("limit") or 20), 100)
        async with ctx.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        s.c.store_id,
                        s.c.product_id,
                        sa.func.count().label("days"),
                        sa.func.sum(s.c.quantity).label("units"),
                    )
                    .group_by(s.c.store_id, s.c.product_id)
                    .order_by(sa.func.sum(s.c.quantity).desc(), s.c.store_id, s.c.product_id)
                    .limit(limit)
                )
            ).all()
        return {
            "series": [
                {
                    "store_id": r.store_id,
                    "product_id": r.product_id,
                    "days": r.days,
                    "units": int(r.units or 0),
                }
                for r in rows
            ]
        }

    async def backtest(args: dict[str, Any]) -> dict[str, Any]:
        store_id, product_id = await _series_args(ctx, args)
        types = [str(m) for m in (args.get("model_types") or DEFAULT_MODELS)]
        req = BacktestRequest(
            store_id=store_id,
            product_id=product_id,
            models=[msgspec.convert({"model_type": m}, ModelConfigIn) for m in types],
            horizon=int(args.get("horizon") or 14),
            n_folds=int(args.get("n_folds") or 3),
        )
        out = await run_backtest(ctx, req)
        models = sorted(
            (
                {
                    "model_type": m["model_type"],
                    **{k: m["metrics"].get(k) for k in ("wape", "mae", "smape", "bias")},
                    "stability": m.get("stability"),
                }
                for m in out["summary"]
            ),
            key=lambda m: (m["wape"] is None, m["wape"] or 0.0),
        )
        return {
            "store_id": store_id,
            "product_id": product_id,
            "horizon": req.horizon,
            "n_folds": req.n_folds,
            "models": models,
            "winner": out["winner"],
            "ranked_by": "wape",
        }

    async def train_model(args: dict[str, Any]) -> dict[str, Any]:
        store_id, product_id = await _series_args(ctx, args)
        cfg = msgspec.convert({"model_type": str(args.get("model_type") or "seasonal_naive")}, ModelConfigIn)
        res = await train(ctx, TrainRequest(store_id=store_id, product_id=product_id, config=cfg))
        return msgspec.to_builtins(res)

    async def compare_runs(args: dict[str, Any]) -> dict[str, Any]:
        cmp = await registry.compare_runs(ctx, str(args["run_id_a"]), str(args["run_id_b"]))
        out = msgspec.to_builtins(cmp)
        return {
            "run_id_a": cmp.run_a.run_id,
            "run_id_b": cmp.run_b.run_id,
            "model_types": [cmp.run_a.model_type, cmp.run_b.model_type],
            "config_diff": out["config_diff"],
            "metrics_diff": out["metrics_diff"],
            "same_data_window": cmp.same_data_window,
        }

    async def simulate(args: dict[str, Any]) -> dict[str, Any]:
        a = msgspec.convert(
            {
                k: args[k]
                for k in ("price_change_pct", "promotion", "price_elasticity", "lifecycle")
                if k in args
            },
            AssumptionsIn,
        )
        out = await scenarios.simulate(ctx, str(args["run_id"]), int(args.get("horizon") or 14), a)
        out.pop("points", None)  # the per-day series is long; totals answer the question
        return out

    async def create_alias(args: dict[str, Any]) -> dict[str, Any]:
        body = msgspec.convert({"alias_name": args["alias_name"], "run_id": args["run_id"]}, AliasCreate)
        alias, created = await registry.upsert_alias(ctx, body)
        return {"alias_name": alias.alias_name, "run_id": alias.run_id, "created": created}

    return [
        AgentTool(
            "list_series",
            "List (store, product) series that have sales, best-selling first.",
            {"type": "object", "properties": {"limit": {"type": "integer"}}},
            list_series,
        ),
        AgentTool(
            "run_backtest",
            "Backtest models on one series (expanding folds); returns WAPE/MAE/sMAPE/bias per model and the winner by WAPE.",
            {
                "type": "object",
                "properties": {
                    **series_props,
                    "model_types": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "enum": ["naive", "seasonal_naive", "moving_average", "lightgbm", "regression"],
                        },
                    },
                    "horizon": {"type": "integer"},
                    "n_folds": {"type": "integer"},
                },
            },
            backtest,
        ),
        AgentTool(
            "train_model",
            "Train a model on one series and register it; returns the run id.",
            {
                "type": "object",
                "properties": {
                    **series_props,
                    "model_type": {
                        "type": "string",
                        "enum": ["naive", "seasonal_naive", "moving_average", "lightgbm", "regression"],
                    },
                },
            },
            train_model,
        ),
        AgentTool(
            "compare_runs",
            "Compare two registry runs (config and metric differences).",
            {
                "type": "object",
                "properties": {"run_id_a": {"type": "string"}, "run_id_b": {"type": "string"}},
                "required": ["run_id_a", "run_id_b"],
            },
            compare_runs,
        ),
        AgentTool(
            "simulate_scenario",
            "What-if on a trained run: price change (%) and/or promotion; returns baseline and scenario totals.",
            {
                "type": "object",
                "properties": {
                    "run_id": {"type": "string"},
                    "horizon": {"type": "integer"},
                    "price_change_pct": {"type": "number"},
                    "promotion": {"type": "boolean"},
                },
                "required": ["run_id"],
            },
            simulate,
        ),
        AgentTool(
            "create_alias",
            "Point a registry alias at a successful run (changes what serves the alias).",
            {
                "type": "object",
                "properties": {"alias_name": {"type": "string"}, "run_id": {"type": "string"}},
                "required": ["alias_name", "run_id"],
            },
            create_alias,
        ),
    ]


def rag_tools(ctx: AppContext, ai: RetailAIService) -> list[AgentTool]:
    async def retrieve_context(args: dict[str, Any]) -> dict[str, Any]:
        req = RetrieveRequest(query=str(args.get("query") or ""), top_k=_int(args, "top_k"))
        res = await rag.retrieve(ctx, ai, req)
        return {
            "results": [
                {
                    "source_path": r.source_path,
                    "chunk_id": r.chunk_id,
                    "relevance_score": r.relevance_score,
                    "content": r.content,
                }
                for r in res.results
            ]
        }

    def render(result: dict[str, Any]) -> str:
        return (
            "\n\n".join(f"[{r['source_path']}] {r['content']}" for r in result.get("results", []))
            or "(no passages found)"
        )

    return [
        AgentTool(
            "retrieve_context",
            "Semantic search over the indexed documentation; returns passages with their source_path.",
            {
                "type": "object",
                "properties": {"query": {"type": "string"}, "top_k": {"type": "integer"}},
                "required": ["query"],
            },
            retrieve_context,
            render,
        )
    ]


def build_agent(ctx: AppContext, ai: RetailAIService, agent_type: str, cfg: AIConfig) -> Agent:
    provider = chat_provider(cfg)
    deterministic = isinstance(provider, ExtractiveProvider)
    if agent_type == "rag_assistant":
        tools = rag_tools(ctx, ai)
        selector = select_rag_tools

        async def summarize(question: str, records: list[CallRecord]) -> str:
            passages = [
                Message("tool", f"[{r['source_path']}] {r['content']}")
                for rec in records
                if isinstance(rec.result, dict)
                for r in rec.result.get("results", [])
            ]
            answer = await provider.chat([*passages, Message("user", question)])
            cited = sorted(
                {
                    r["source_path"]
                    for rec in records
                    if isinstance(rec.result, dict)
                    for r in rec.result.get("results", [])
                }
            )
            return answer.content + (f"\n\nSources: {', '.join(cited)}" if cited else "")
    else:
        tools = experiment_tools(ctx)
        selector = select_experiment_tools

        async def summarize(question: str, records: list[CallRecord]) -> str:
            return summarize_records(records)

    return Agent(
        provider,
        model=cfg.agent_model,
        system_prompt=SYSTEM_PROMPTS[agent_type],
        tools=tools,
        require_approval=cfg.agent_require_approval,
        max_tool_calls=cfg.agent_max_tool_calls,
        deterministic=deterministic,
        selector=selector,
        summarize=summarize,
        temperature=cfg.agent_temperature,
        max_tokens=cfg.agent_max_tokens,
    )


# ---------------------------------------------------------------------------------------- sessions
def _msg_out(m: dict[str, Any]) -> ChatMessageOut:
    return msgspec.convert(m, ChatMessageOut)


def _to_messages(stored: list[dict[str, Any]]) -> list[Message]:
    return [
        Message(
            m["role"],
            m.get("content") or "",
            tool_calls=[
                ToolCall(c["id"], c["name"], c.get("arguments") or {}) for c in m.get("tool_calls") or []
            ],
            tool_call_id=m.get("tool_call_id"),
            name=m.get("name"),
        )
        for m in stored
    ]


def _to_stored(messages: list[Message], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(old)
    now = _now().isoformat()
    for m in messages[len(old) :]:
        d = msgspec.to_builtins(m)
        d["timestamp"] = now
        out.append(d)
    return out


def _session_out(row: Any, cls: type = SessionOut) -> Any:
    status = row.status
    if status == "active" and row.expires_at <= _now():
        status = "expired"
    extra: dict[str, Any] = {}
    if cls is SessionDetail:
        extra["messages"] = [_msg_out(m) for m in row.messages or []]
    pending = row.pending_approval
    return cls(
        session_id=row.id,
        agent_type=row.agent_type,
        status=status,
        total_tokens_used=row.total_tokens_used,
        tool_calls_count=row.tool_calls_count,
        created_at=row.created_at,
        last_activity=row.last_activity,
        expires_at=row.expires_at,
        pending_approval=None if pending is None else _pending_out(pending),
        **extra,
    )


def _pending_out(p: dict[str, Any]) -> PendingApproval:
    return PendingApproval(
        tool_call_id=p["tool_call_id"],
        tool_name=p["tool_name"],
        arguments=p.get("arguments") or {},
        requested_at=p["requested_at"],
    )


async def _row(ctx: AppContext, session_id: str) -> Any:
    async with ctx.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(agent_sessions).where(agent_sessions.c.id == session_id))).first()
    if row is None:
        raise EngineError(
            404, "session_not_found", f"Agent session {session_id!r} not found", session_id=session_id
        )
    return row


async def usable_session(ctx: AppContext, session_id: str) -> Any:
    row = await _row(ctx, session_id)
    if row.status == "closed":
        raise EngineError(
            409, "session_closed", f"Agent session {session_id!r} is closed.", session_id=session_id
        )
    if row.status == "expired" or row.expires_at <= _now():
        raise EngineError(
            410, "session_expired", f"Agent session {session_id!r} has expired.", session_id=session_id
        )
    return row


async def create_session(ctx: AppContext, ai: RetailAIService, body: SessionCreate) -> SessionOut:
    cfg = await ai.config()
    now = _now()
    sid = uuid.uuid4().hex
    async with ctx.db.begin() as conn:
        await conn.execute(
            sa.insert(agent_sessions).values(
                id=sid,
                agent_type=body.agent_type,
                status="active",
                messages=[],
                pending_approval=None,
                initial_context=body.initial_context,
                total_tokens_used=0,
                tool_calls_count=0,
                created_at=now,
                last_activity=now,
                expires_at=now + timedelta(minutes=cfg.agent_session_ttl_minutes),
            )
        )
    return _session_out(await _row(ctx, sid))


async def _save_turn(ctx: AppContext, row: Any, result: TurnResult, ttl_minutes: int) -> None:
    now = _now()
    async with ctx.db.begin() as conn:
        await conn.execute(
            sa.update(agent_sessions)
            .where(agent_sessions.c.id == row.id)
            .values(
                messages=_to_stored(result.messages, row.messages or []),
                pending_approval=result.pending,
                total_tokens_used=row.total_tokens_used + result.tokens_used,
                tool_calls_count=row.tool_calls_count
                + sum(1 for c in result.calls if c.status in ("ok", "error")),
                last_activity=now,
                expires_at=now + timedelta(minutes=ttl_minutes),
            )
        )


def _response(session_id: str, agent: Agent, cfg: AIConfig, result: TurnResult) -> ChatResponseOut:
    calls = [
        ToolCallOut(
            tool_call_id=c.tool_call_id,
            tool_name=c.tool_name,
            arguments=c.arguments,
            result=c.result,
            duration_ms=c.duration_ms,
            status=c.status,
        )
        for c in result.calls
    ]
    pending = None if result.pending is None else _pending_out(result.pending)
    if pending is not None:
        calls.append(
            ToolCallOut(
                tool_call_id=pending.tool_call_id,
                tool_name=pending.tool_name,
                arguments=pending.arguments,
                status="pending_approval",
            )
        )
    return ChatResponseOut(
        session_id=session_id,
        message=result.text,
        tool_calls=calls,
        tokens_used=result.tokens_used,
        pending_approval=pending,
        provider="extractive" if agent.deterministic else cfg.agent_provider,
        model=cfg.agent_model if not agent.deterministic else "ridgeline-extractive-1",
        tool_selection=agent.tool_selection,
    )


async def _noop(_t: str, _d: dict[str, Any]) -> None:
    return None


async def chat(
    ctx: AppContext, ai: RetailAIService, session_id: str, message: str, emit: Emit = _noop
) -> tuple[ChatResponseOut, TurnResult]:
    row = await usable_session(ctx, session_id)
    if row.pending_approval is not None:
        raise EngineError(
            409,
            "approval_pending",
            f"tool call {row.pending_approval['tool_call_id']} ({row.pending_approval['tool_name']}) waits for approval",
            tool_call_id=row.pending_approval["tool_call_id"],
        )
    cfg = await ai.config()
    agent = build_agent(ctx, ai, row.agent_type, cfg)
    try:
        result = await agent.run(_to_messages(row.messages or []), message, emit)
    except ProviderError as exc:
        raise provider_failed(exc, "language-model") from exc
    finally:
        with contextlib.suppress(Exception):
            await agent.provider.aclose()
    await _save_turn(ctx, row, result, cfg.agent_session_ttl_minutes)
    return _response(session_id, agent, cfg, result), result


async def approve(
    ctx: AppContext, ai: RetailAIService, session_id: str, body: ApproveRequest
) -> ChatResponseOut:
    row = await usable_session(ctx, session_id)
    pending = row.pending_approval
    if pending is None or pending.get("tool_call_id") != body.tool_call_id:
        raise EngineError(
            409,
            "no_pending_approval",
            f"no tool call {body.tool_call_id!r} waits for approval in session {session_id}",
            tool_call_id=body.tool_call_id,
        )
    # Claim the approval atomically, so two workers approving at once run the tool once.
    async with ctx.db.begin() as conn:
        claimed = await conn.execute(
            sa.update(agent_sessions)
            .where(agent_sessions.c.id == session_id, agent_sessions.c.last_activity == row.last_activity)
            .values(pending_approval=None, last_activity=_now())
        )
    if claimed.rowcount != 1:
        raise EngineError(
            409, "no_pending_approval", "the approval was already handled", tool_call_id=body.tool_call_id
        )
    row = await _row(ctx, session_id)
    cfg = await ai.config()
    agent = build_agent(ctx, ai, row.agent_type, cfg)
    try:
        result = await agent.resume(
            _to_messages(row.messages or []), pending, body.approved, body.reason, _noop
        )
    except ProviderError as exc:
        raise provider_failed(exc, "language-model") from exc
    finally:
        with contextlib.suppress(Exception):
            await agent.provider.aclose()
    await _save_turn(ctx, row, result, cfg.agent_session_ttl_minutes)
    return _response(session_id, agent, cfg, result)


async def close_session(ctx: AppContext, session_id: str) -> SessionOut:
    await _row(ctx, session_id)
    async with ctx.db.begin() as conn:
        await conn.execute(
            sa.update(agent_sessions)
            .where(agent_sessions.c.id == session_id)
            .values(status="closed", pending_approval=None, last_activity=_now())
        )
    return _session_out(await _row(ctx, session_id))


class AgentsController(Controller):
    path = "/agents"
    tags = ["retail: agents"]

    @post("/sessions", summary="Create a session (agent_type experiment or rag_assistant)", status_code=201)
    async def create(
        self, ctx: Ctx, ai: Service[RetailAIService], data: JSONBody[SessionCreate]
    ) -> SessionOut:
        return await create_session(ctx, ai, data)

    @get("/sessions/{session_id:str}", summary="Status and message history", opt=raises(404))
    async def get_session(self, ctx: Ctx, session_id: FromPath[str]) -> SessionDetail:
        return _session_out(await _row(ctx, session_id), SessionDetail)

    @post(
        "/sessions/{session_id:str}/chat",
        summary="Send a user message; returns the full response",
        description=(
            "tool_selection says who chose the tools: model (a configured LLM) or deterministic (the "
            "offline provider: chosen from the message). A tool in agent_require_approval pauses the turn "
            "with pending_approval."
        ),
        status_code=200,
        opt=raises(404, 409, 410, 502),
    )
    async def chat(
        self, ctx: Ctx, ai: Service[RetailAIService], session_id: FromPath[str], data: JSONBody[ChatRequest]
    ) -> ChatResponseOut:
        return (await chat(ctx, ai, session_id, data.message))[0]

    @post(
        "/sessions/{session_id:str}/approve",
        summary="Approve or reject a pending tool call (human in the loop)",
        status_code=200,
        opt=raises(404, 409, 410, 502),
    )
    async def approve(
        self,
        ctx: Ctx,
        ai: Service[RetailAIService],
        session_id: FromPath[str],
        data: JSONBody[ApproveRequest],
    ) -> ChatResponseOut:
        return await approve(ctx, ai, session_id, data)

    @delete("/sessions/{session_id:str}", summary="Close a session", status_code=200, opt=raises(404))
    async def close(self, ctx: Ctx, session_id: FromPath[str]) -> SessionOut:
        return await close_session(ctx, session_id)


# --------------------------------------------------------------------------------------- WebSocket
def frame(event_type: str, data: dict[str, Any]) -> str:
    return json.dumps({"event_type": event_type, "data": data, "timestamp": _now().isoformat()}, default=str)


def _error(error: str, error_type: str, recoverable: bool) -> str:
    return frame("error", {"error": error, "error_type": error_type, "recoverable": recoverable})


NOT_RECOVERABLE = {"session_not_found", "session_expired", "session_closed"}


async def handle_stream_message(
    ctx: AppContext, ai: RetailAIService, raw: str, send: Callable[[str], Awaitable[None]]
) -> None:
    try:
        msg = json.loads(raw)
    except ValueError:
        await send(_error("the frame is not JSON", "invalid_message", True))
        return
    missing = [
        k
        for k in ("session_id", "message")
        if not isinstance(msg, dict) or not isinstance(msg.get(k), str) or not msg.get(k)
    ]
    if missing:
        await send(_error(f"missing or empty field(s): {', '.join(missing)}", "validation_error", True))
        return

    async def emit(event_type: str, data: dict[str, Any]) -> None:
        await send(frame(event_type, data))

    try:
        resp, result = await chat(ctx, ai, msg["session_id"], msg["message"], emit)
    except EngineError as exc:
        await send(_error(str(exc), exc.reason_code, exc.reason_code not in NOT_RECOVERABLE))
        return
    if result.pending is None:
        await emit(
            "complete",
            {
                "message": resp.message,
                "tokens_used": resp.tokens_used,
                "tool_calls_count": sum(1 for c in resp.tool_calls if c.status in ("ok", "error")),
            },
        )


@websocket("/agents/stream", name="retail_agents_stream")
async def agents_stream(socket: WebSocket) -> None:
    await socket.accept()
    ctx: AppContext = socket.app.state["ctx"]
    try:
        ai = ctx.service(RetailAIService)
    except EngineError as exc:
        await socket.send_text(_error(str(exc), exc.reason_code, False))
        await socket.close()
        return
    while True:
        try:
            raw = await socket.receive_text()
        except WebSocketDisconnect:
            return
        try:
            await handle_stream_message(ctx, ai, raw, socket.send_text)
        except WebSocketDisconnect:
            return
        except Exception as exc:  # one message's failure must not end the connection
            import logging

            logging.getLogger("ridgeline.retail").exception("agents stream message failed")
            await socket.send_text(_error(f"internal error ({type(exc).__name__})", "internal_error", True))

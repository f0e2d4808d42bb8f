"""The one playground orchestration layer: both session kinds go through :meth:`Orchestrator.prepare`
(assistant, model selection, history, and for ``knowledge`` sessions retrieval from the bound
knowledge base), then through the control plane's inference path, whole
(:meth:`PlatformService.chat`, the path ``/v1/models/inference`` uses) or streamed (the same active
binding, resource and runtime-model resolution, then the provider's ``stream_chat``).

Everything that can refuse a message (no such assistant, an inactive one, a model outside the active
binding, a knowledge base that is not active, ready and bound, offline fail-closed) is checked before
a stream opens, so it answers with its HTTP status; what the provider does after the stream opened
arrives as an ``error`` event.

Streams are Server-Sent Events: ``start`` (model, provider, deployment, sources), one ``token`` per
provider chunk as it arrives, then ``done`` (the stored assistant message) or ``error``. Whatever
ends a stream, the turn is stored: ``status`` ``complete``, ``failed`` (with the reason) or
``interrupted`` (the client went away; what had arrived is kept). Leaving the stream closes the
provider's response, which cancels the upstream call.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ridgeline.ai.providers import Message
from ridgeline.genai.api.catalog_store import catalog_of
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.playgrounds_store import PlaygroundStore
from ridgeline.platform.problems import NotFound

E = REASON_CODES.error
HISTORY_MESSAGES = 20  # earlier turns sent with a new message
DEFAULT_INSTRUCTIONS = "You are a helpful assistant."
KNOWLEDGE_INSTRUCTIONS = (
    "Answer from the numbered context passages only and cite them as [n]. "
    "Say so when they do not hold the answer."
)


def sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + msgspec.json.encode(data) + b"\n\n"


def _usage(u: Any) -> dict[str, int] | None:
    return {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens} if u is not None else None


def _provider_view(a: Any) -> dict[str, Any]:
    return {"id": a.provider["id"], "slug": a.provider["slug"], "provider_key": a.family.key,
            "provider_origin": a.family.provider_origin}  # fmt: skip


@dataclass
class Turn:
    """One prepared message: what is sent to the model and what is stored with the answer."""

    session: dict[str, Any]
    content: str
    messages: list[Message]
    model: str | None
    options: dict[str, Any]
    sources: list[dict[str, Any]] = field(default_factory=list)
    assistant_ref: str | None = None


@dataclass
class StreamPlan:
    turn: Turn
    client: Any
    call: dict[str, Any]
    head: dict[str, Any]


class Orchestrator:
    def __init__(self, ctx: Any, platform: Any, genai: Any) -> None:
        self.ctx = ctx
        self.platform = platform
        self.genai = genai
        self.store = PlaygroundStore(ctx.db)

    # ---- what a session may name ------------------------------------------------------------------
    async def assistant(self, ref: str, user_id: str | None, is_super: bool) -> dict[str, Any]:
        """A catalog agent the caller may chat with: active, and a platform agent, one of the
        caller's own, or any for a superadmin. Another user's agent reads as absent."""
        store = await catalog_of(self.genai)
        entity = await store.get("agent", ref)
        visible = entity is not None and (
            is_super or entity.owner_id is None or entity.spec.get("classification") == "platform"
            or entity.owner_id == user_id
        )  # fmt: skip
        if entity is None or not visible:
            raise NotFound("catalog_agent", ref, message=f"No agent {ref!r}.", id=ref)
        if entity.spec.get("status", "active") != "active":
            raise E("agent_inactive", id=ref)
        return {"id": entity.id, "version": entity.version, **entity.spec}

    async def assistants(self, user_id: str | None, is_super: bool) -> list[dict[str, Any]]:
        store = await catalog_of(self.genai)
        out = []
        for e in await store.list("agent"):
            s = e.spec
            if s.get("status", "active") != "active":
                continue
            if not (
                is_super
                or e.owner_id is None
                or s.get("classification") == "platform"
                or e.owner_id == user_id
            ):
                continue
            out.append({"id": e.id, "name": s.get("name", e.id), "description": s.get("description", ""),
                        "classification": s.get("classification", "user"), "model_ref": s.get("model_ref"),
                        "tool_refs": list(s.get("tool_refs") or []), "version": e.version})  # fmt: skip
        return out

    def _context(self) -> Any:
        from ridgeline.genai.context.service import ContextService

        return self.ctx.service(ContextService)

    async def knowledge_bases(self, deployment_id: str | None) -> list[Any]:
        """The knowledge bases a session may use now: active, ready and, with a deployment, bound
        to its vector_store binding (the context service decides, at call time)."""
        return list(await self._context().bindable_knowledge_bases(deployment_id))

    async def check_knowledge_base(self, kb_id: str) -> str:
        """``kb_id`` is active, ready and bound to the active deployment; returns that deployment."""
        deployment_id = (await self.platform.active("vector_store")).deployment["id"]
        if kb_id not in {k.id for k in await self.knowledge_bases(deployment_id)}:
            raise E("playground_knowledge_base_unavailable", knowledge_base_id=kb_id)
        return deployment_id

    async def _model_from_ref(self, ref: str | None) -> str | None:
        """An agent's ``model_ref``: a registry model resolves to its managed model; anything else is
        taken as a managed (or built-in) model id the active binding must hold."""
        if not ref:
            return None
        if ref.startswith("model."):
            entity = await (await catalog_of(self.genai)).get("model", ref)
            if entity is not None:
                return entity.spec.get("managed_model_id") or entity.spec.get("provider_model_id") or ref
        return ref

    # ---- one orchestration for both kinds -------------------------------------------------------
    async def prepare(self, session: dict[str, Any], content: str, user_id: str | None, is_super: bool,
                      options: dict[str, Any] | None = None, history: list[dict[str, Any]] | None = None) -> Turn:  # fmt: skip
        """``history``: the session's last HISTORY_MESSAGES messages when the caller read them
        already (with the session row, :meth:`PlaygroundStore.row_and_history`)."""
        selection = dict(session["model_selection"] or {})
        assistant = None
        if session["assistant_ref"]:
            assistant = await self.assistant(session["assistant_ref"], user_id, is_super)
        model = selection.get("model_id") or await self._model_from_ref((assistant or {}).get("model_ref"))
        opts = {k: selection[k] for k in ("temperature", "max_tokens") if selection.get(k) is not None}
        opts.update({k: v for k, v in (options or {}).items() if v is not None})
        instructions = ((assistant or {}).get("instructions") or "").strip() or DEFAULT_INSTRUCTIONS
        sources: list[dict[str, Any]] = []
        context: list[Message] = []
        if session["playground_kind"] == "knowledge":
            kb = dict(session["knowledge_binding"] or {})
            await self.check_knowledge_base(kb["knowledge_base_id"])
            chunks = await self._context().retrieve(
                kb["knowledge_base_id"], content, top_k=kb.get("top_k", 5), mode=kb.get("mode", "hybrid"),
                threshold=kb.get("threshold"),
            )  # fmt: skip
            for i, c in enumerate(chunks, 1):
                sources.append({"index": i, "knowledge_base_id": kb["knowledge_base_id"],
                                "document_id": c.document_id, "chunk_id": c.chunk_id, "chunk_index": c.chunk_index,
                                "title": c.title, "source_path": c.source_path, "score": c.score, "text": c.text})  # fmt: skip
                label = f" {c.title}" if c.title else ""
                context.append(Message("system", f"[{i}]{label}: {c.text}"))
            instructions = f"{instructions}\n\n{KNOWLEDGE_INSTRUCTIONS}"
        if history is None:
            history = await self.store.history(session["id"], HISTORY_MESSAGES)
        earlier = [
            Message(m["role"], m["content"])
            for m in history
            if m["role"] in ("user", "assistant") and m["content"]
        ]
        # The passages lead, so a passage's position among the system messages is its [n] (the
        # extractive provider numbers the passages it quotes that way).
        msgs = [*context, Message("system", instructions), *earlier, Message("user", content)]
        return Turn(session, content, msgs, model, opts, sources, session["assistant_ref"])

    async def _persist(self, turn: Turn, text: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
        return await self.store.append(turn.session["id"], [
            {"role": "user", "content": turn.content},
            {"role": "assistant", "content": text, "sources": turn.sources,
             "metadata": {"assistant_ref": turn.assistant_ref, **meta}},
        ])  # fmt: skip

    async def reply(self, turn: Turn) -> dict[str, Any]:
        """The whole answer, through ``PlatformService.chat``; nothing is stored when it fails."""
        out = await self.platform.chat(turn.messages, turn.model, **turn.options)
        r = out.pop("response")
        meta = {"model": out["model"], "runtime_model_id": out["runtime_model_id"], "provider": out["provider"],
                "deployment_id": out["deployment_id"], "finish_reason": r.finish_reason, "usage": _usage(r.usage),
                "status": "complete"}  # fmt: skip
        stored = await self._persist(turn, r.content, meta)
        if not stored:  # the session was deleted while the provider answered
            raise E("playground_session_not_found", session_id=turn.session["id"])
        user_msg, assistant_msg = stored
        return {"session_id": turn.session["id"], "user_message": user_msg, "assistant_message": assistant_msg,
                "sources": turn.sources, **{k: meta[k] for k in ("model", "runtime_model_id", "provider",
                "deployment_id", "finish_reason", "usage")}}  # fmt: skip

    async def open_stream(self, turn: Turn) -> StreamPlan:
        """Resolve the stream's model the way ``PlatformService.chat`` does (active binding,
        membership, runtime model id), before any byte is sent."""
        from ridgeline.ai.providers import ExtractiveProvider

        p = self.platform
        a = await p.active("llm_inference")
        resource = p.pick_resource(a, turn.model)
        runtime_id = await p.runtime_model_id(a, resource)
        if a.family.adapter == "extractive_chat":
            client, call = ExtractiveProvider(), dict(turn.options)
        else:
            client, call = await p._client(a), {"model": runtime_id, **turn.options}
        head = {"session_id": turn.session["id"], "model": resource["id"], "runtime_model_id": runtime_id,
                "provider": _provider_view(a), "deployment_id": a.deployment["id"], "sources": turn.sources}  # fmt: skip
        return StreamPlan(turn, client, call, head)

    async def events(self, plan: StreamPlan) -> AsyncIterator[bytes]:
        from ridgeline.ai.providers import ProviderError

        turn, head = plan.turn, plan.head
        yield sse("start", head)
        parts: list[str] = []
        finish: str | None = None
        usage: dict[str, int] | None = None
        status, error = "interrupted", None
        try:
            async with contextlib.aclosing(plan.client.stream_chat(turn.messages, **plan.call)) as chunks:
                async for c in chunks:
                    if c.delta:
                        parts.append(c.delta)
                        yield sse("token", {"delta": c.delta})
                    finish = c.finish_reason or finish
                    usage = _usage(c.usage) or usage
            status = "complete"
        except ProviderError as exc:
            status = "failed"
            error = {"reason_code": "provider_upstream_error", "detail": f"{exc.reason_code}: {exc}"[:300]}
        finally:
            # Stored however the stream ends; shielded, since a disconnect cancels this task.
            import anyio

            meta = {k: head[k] for k in ("model", "runtime_model_id", "provider", "deployment_id")}
            meta.update(finish_reason=finish, usage=usage, status=status, error=error)
            with anyio.CancelScope(shield=True):
                stored = await self._persist(turn, "".join(parts), meta)
        user_msg, assistant_msg = (
            stored if stored else (None, None)
        )  # None: the session was deleted meanwhile
        if error is not None:
            yield sse("error", {**error, "assistant_message": assistant_msg})
            return
        yield sse("done", {"user_message": user_msg, "assistant_message": assistant_msg, "finish_reason": finish,
                           "usage": usage})  # fmt: skip

"""``/v1/playgrounds`` (contract 004, signed-in users): playground sessions and their messages.

``playground_kind`` ``chat`` and ``knowledge`` are variants of one canonical session model
(``assistant_ref``, ``model_selection``, ``knowledge_binding``, persisted messages, timestamps). The
backend owns the conversation: every message is stored with the session. A session belongs to the
user who created it and only that user sees it: anyone else, a superadmin too, gets 404
``playground_session_not_found`` (conversations are private, and the id is not confirmed).

Messages of both kinds run through one orchestration (:mod:`ridgeline.genai.playgrounds.orchestration`);
``/messages/stream`` sends the provider's tokens as Server-Sent Events as they arrive, and a client
that disconnects cancels the upstream call. ``/options`` lists what a session may select now.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, PathParameter
from litestar.response import Stream
from litestar.response.streaming import ASGIStreamingResponse

from ridgeline.genai.api.catalog_store import caller
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.playgrounds_store import PlaygroundStore, session_view
from ridgeline.genai.api.service import GenaiService
from ridgeline.genai.playgrounds.orchestration import HISTORY_MESSAGES, Orchestrator
from ridgeline.genai.runtime import PlatformService
from ridgeline.platform import paging
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Page, page_window
from ridgeline.platform.problems import EngineError

E = REASON_CODES.error
TAGS = ["playgrounds"]
Kind = Literal["chat", "knowledge"]
SessionId = Annotated[str, PathParameter(min_length=1, max_length=64)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
ModelId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Temperature = Annotated[float, msgspec.Meta(ge=0, le=2)]
MaxTokens = Annotated[int, msgspec.Meta(ge=1, le=131_072)]
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
_BEARER = Policy.bearer().opt()


class ModelSelection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``model_id``: a resource of the active llm_inference binding (omitted: the assistant's
    model, else the binding default), checked again at every message."""

    model_id: ModelId | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None


class KnowledgeBinding(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    knowledge_base_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    top_k: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    mode: Literal["semantic", "keyword", "hybrid"] = "hybrid"
    threshold: Annotated[float, msgspec.Meta(ge=-1, le=1)] | None = None


class SessionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    playground_kind: Kind = "chat"
    title: Title | None = None
    assistant_ref: Ref | None = None
    model_selection: ModelSelection = msgspec.field(default_factory=ModelSelection)
    knowledge_binding: KnowledgeBinding | None = None


class SessionPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields left out are kept; ``null`` clears ``assistant_ref`` or ``knowledge_binding``. The kind
    is fixed at creation."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    assistant_ref: Ref | msgspec.UnsetType | None = msgspec.UNSET
    model_selection: ModelSelection | msgspec.UnsetType = msgspec.UNSET
    knowledge_binding: KnowledgeBinding | msgspec.UnsetType | None = msgspec.UNSET


class MessageIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    content: Content
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None


class _ClosingStreamingResponse(ASGIStreamingResponse):
    """Closes the event generator however the response ends. Litestar cancels the sending task on
    a disconnect; if that lands outside the generator (while a chunk is being sent) the generator
    would otherwise stay suspended until garbage collection, holding the upstream call open."""

    __slots__ = ()

    async def send_body(self, send: Any, receive: Any) -> None:
        import anyio

        try:
            await super().send_body(send, receive)
        finally:
            aclose = getattr(self.iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()


class EventStream(Stream):
    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = "text/event-stream"
        resp = super().to_asgi_response(*args, **kwargs)
        resp.__class__ = _ClosingStreamingResponse
        return resp


def _orchestrator(
    request: Request[Any, Any, Any], platform: PlatformService, svc: GenaiService
) -> Orchestrator:
    return Orchestrator(request.app.state["ctx"], platform, svc)


def _who(request: Request[Any, Any, Any]) -> tuple[str, bool]:
    user_id, is_super = caller(request)
    if user_id is None:  # the policy admits bearer tokens only, which always name a user
        raise EngineError(401, "not_authenticated", "Sign in first.")
    return user_id, is_super


async def _session(store: PlaygroundStore, owner_id: str, session_id: str) -> dict[str, Any]:
    row = await store.row(owner_id, session_id)
    if row is None:
        raise E("playground_session_not_found", session_id=session_id)
    return row


async def _check(
    orch: Orchestrator, user_id: str, is_super: bool, values: dict[str, Any], changed: Any = None
) -> None:
    """What a session names must be usable now: its kind's binding rule, the assistant, the model
    (a resource of the active llm_inference binding) and the knowledge base (active, ready, bound).
    ``changed`` (a PATCH's fields) limits the runtime checks to what the request changes, so a
    rename does not depend on the runtime; every message checks all of it again anyway."""
    kind, kb = values["playground_kind"], values.get("knowledge_binding")
    if changed is not None:
        values = {k: (v if k in changed else None) for k, v in values.items()}
        kb_checked = kb if "knowledge_binding" in changed else None
    else:
        kb_checked = kb
    if kind == "knowledge" and not kb:
        raise E("playground_session_invalid", detail="a knowledge session needs knowledge_binding")
    if kind == "chat" and kb:
        raise E("playground_session_invalid", detail="a chat session takes no knowledge_binding")
    if values.get("assistant_ref"):
        await orch.assistant(values["assistant_ref"], user_id, is_super)
    model_id = (values.get("model_selection") or {}).get("model_id")
    if model_id:
        orch.platform.pick_resource(await orch.platform.active("llm_inference"), model_id)
    if kb_checked:
        await orch.check_knowledge_base(kb_checked["knowledge_base_id"])


@get("/v1/playgrounds/sessions", opt=_BEARER, tags=TAGS)
async def list_sessions(
    svc: Service[GenaiService],
    request: Request[Any, Any, Any],
    playground_kind: FromQuery[Kind | None] = None,
    page: Page = 1,
    page_size: paging.page_size(100) = 20,
) -> dict[str, Any]:
    user_id, _ = _who(request)
    w = page_window(page, page_size)
    items, total = await PlaygroundStore(svc.db).list(user_id, playground_kind, w.offset, w.limit)
    return {"sessions": items, "total": total, "page": page, "page_size": page_size}


@post("/v1/playgrounds/sessions", status_code=201, opt={**raises(404, 409), **_BEARER}, tags=TAGS)
async def create_session(
    svc: Service[GenaiService],
    platform: Service[PlatformService],
    request: Request[Any, Any, Any],
    data: JSONBody[SessionCreate],
) -> dict[str, Any]:
    user_id, is_super = _who(request)
    values = msgspec.to_builtins(data)
    values["title"] = data.title or (
        "New knowledge session" if data.playground_kind == "knowledge" else "New chat"
    )
    await _check(_orchestrator(request, platform, svc), user_id, is_super, values)
    return await PlaygroundStore(svc.db).create(user_id, values)


@get("/v1/playgrounds/sessions/{session_id:str}", opt=_BEARER, tags=TAGS)
async def get_session(
    svc: Service[GenaiService], request: Request[Any, Any, Any], session_id: SessionId
) -> dict[str, Any]:
    user_id, _ = _who(request)
    store = PlaygroundStore(svc.db)
    row = await _session(store, user_id, session_id)
    return session_view(row, await store.history(session_id))


@patch("/v1/playgrounds/sessions/{session_id:str}", opt={**raises(409), **_BEARER}, tags=TAGS)
async def patch_session(
    svc: Service[GenaiService],
    platform: Service[PlatformService],
    request: Request[Any, Any, Any],
    session_id: SessionId,
    data: JSONBody[SessionPatch],
) -> dict[str, Any]:
    user_id, is_super = _who(request)
    store = PlaygroundStore(svc.db)
    row = await _session(store, user_id, session_id)
    changes = {k: v for k, v in msgspec.to_builtins(data).items()}  # UNSET fields are left out
    merged = {**row, **changes}
    await _check(_orchestrator(request, platform, svc), user_id, is_super, merged, changes.keys())
    if changes and not await store.update(user_id, session_id, changes):
        raise E("playground_session_not_found", session_id=session_id)
    return session_view(await _session(store, user_id, session_id), await store.history(session_id))


@delete("/v1/playgrounds/sessions/{session_id:str}", status_code=200, opt=_BEARER, tags=TAGS)
async def delete_session(
    svc: Service[GenaiService], request: Request[Any, Any, Any], session_id: SessionId
) -> dict[str, Any]:
    user_id, _ = _who(request)
    if not await PlaygroundStore(svc.db).delete(user_id, session_id):
        raise E("playground_session_not_found", session_id=session_id)
    return {"id": session_id, "deleted": True}


@post(
    "/v1/playgrounds/sessions/{session_id:str}/messages",
    status_code=200,
    opt={**raises(409), **_BEARER},
    tags=TAGS,
)
async def post_message(
    svc: Service[GenaiService],
    platform: Service[PlatformService],
    request: Request[Any, Any, Any],
    session_id: SessionId,
    data: JSONBody[MessageIn],
) -> dict[str, Any]:
    user_id, is_super = _who(request)
    orch = _orchestrator(request, platform, svc)
    row = await _session(orch.store, user_id, session_id)
    options = {"temperature": data.temperature, "max_tokens": data.max_tokens}
    return await orch.reply(await orch.prepare(row, data.content, user_id, is_super, options))


@post(
    "/v1/playgrounds/sessions/{session_id:str}/messages/stream",
    status_code=200,
    media_type="text/event-stream",
    opt={**raises(409), **_BEARER},
    tags=TAGS,
    summary="A message answered as Server-Sent Events (start, token..., done | error)",
)
async def stream_message(
    svc: Service[GenaiService],
    platform: Service[PlatformService],
    request: Request[Any, Any, Any],
    session_id: SessionId,
    data: JSONBody[MessageIn],
) -> Stream:
    user_id, is_super = _who(request)
    orch = _orchestrator(request, platform, svc)
    row, history = await orch.store.row_and_history(user_id, session_id, HISTORY_MESSAGES)
    if row is None:
        raise E("playground_session_not_found", session_id=session_id)
    options = {"temperature": data.temperature, "max_tokens": data.max_tokens}
    plan = await orch.open_stream(await orch.prepare(row, data.content, user_id, is_super, options, history))
    return EventStream(orch.events(plan), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@get("/v1/playgrounds/options", opt=_BEARER, tags=TAGS)
async def options(
    svc: Service[GenaiService], platform: Service[PlatformService], request: Request[Any, Any, Any]
) -> dict[str, Any]:
    """What a session may select now. When the runtime cannot be resolved (no active deployment,
    offline fail-closed) the lists are empty and ``runtime_issue`` names the reason."""
    user_id, is_super = _who(request)
    orch = _orchestrator(request, platform, svc)
    out: dict[str, Any] = {"playground_kinds": ["chat", "knowledge"], "deployment": None, "models": [],
                           "default_model_id": None, "knowledge_bases": [], "runtime_issue": None}  # fmt: skip
    try:
        a = await platform.active("llm_inference")
        out["deployment"] = {k: a.deployment[k] for k in ("id", "slug", "display_name")}
        out["default_model_id"] = a.binding["default_resource_id"]
        out["models"] = [
            {"id": r["id"], "ref_type": r.get("ref_type"), "name": r.get("name") or r["id"], "origin": r.get("origin"),
             "provider_model_id": r.get("provider_model_id"), "is_default": r["id"] == a.binding["default_resource_id"]}
            for r in a.binding["resources"]
        ]  # fmt: skip
        kbs = await orch.knowledge_bases(a.deployment["id"])
        out["knowledge_bases"] = [msgspec.to_builtins(k) for k in kbs]
    except EngineError as exc:
        out["runtime_issue"] = {"reason_code": exc.reason_code, "detail": str(exc)}
    out["assistants"] = await orch.assistants(user_id, is_super)
    return out


ROUTES = [list_sessions, create_session, get_session, patch_session, delete_session, post_message, stream_message,
          options]  # fmt: skip

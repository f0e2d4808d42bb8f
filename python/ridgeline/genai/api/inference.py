"""``POST /v1/models/inference`` and ``/v1/models/generate`` (signed-in users): chat and text
generation through the active llm_inference binding. A requested model id must be a resource of
that binding (409 ``model_not_in_binding``); omitted, the binding's default is used. Dispatch goes
through the AI layer's providers (the offline extractive provider in the default deployment)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, post
from litestar.params import JSONBody

from ridgeline.ai.providers import Message
from ridgeline.genai.api.policy import enforce
from ridgeline.genai.runtime import PlatformService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises

Content = Annotated[str, msgspec.Meta(max_length=200_000)]
ModelId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Temperature = Annotated[float, msgspec.Meta(ge=0, le=2)]
MaxTokens = Annotated[int, msgspec.Meta(ge=1, le=131_072)]
OPT = {**raises(403, 409), **Policy.bearer().opt()}


class MessageIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Literal["system", "user", "assistant"]
    content: Content


class InferenceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    messages: Annotated[list[MessageIn], msgspec.Meta(min_length=1, max_length=512)]
    model: ModelId | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None


class GenerateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    prompt: Content
    system: Content | None = None
    model: ModelId | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None


class ProviderRef(msgspec.Struct, kw_only=True):
    id: str
    slug: str
    provider_key: str
    provider_origin: str


class OutputMessage(msgspec.Struct, kw_only=True):
    role: str
    content: str


class Usage(msgspec.Struct, kw_only=True):
    input_tokens: int
    output_tokens: int


class InferenceOut(msgspec.Struct, kw_only=True):
    model: str
    runtime_model_id: str
    provider: ProviderRef
    deployment_id: str
    output: OutputMessage
    finish_reason: str | None
    usage: Usage | None
    metadata: dict[str, Any]


class GenerateOut(InferenceOut, kw_only=True):
    text: str


async def _chat(
    platform: PlatformService,
    request: Any,
    messages: list[Message],
    model: str | None,
    t: Any,
    mt: Any,
    cls: Any,
) -> Any:
    async def authorize(a: Any, resource: dict[str, Any]) -> None:  # policy rules: model.inference
        attrs = {"capability": "llm_inference", "provider_key": a.family.key, "provider_origin": a.family.provider_origin,
                 "provider_slug": a.provider["slug"], "deployment_slug": a.deployment["slug"], "runtime_mode": a.mode}  # fmt: skip
        await enforce(platform.ctx, request, "model.inference", resource["id"], attrs)

    # Structs straight to msgspec's encoder: no intermediate dicts on the hot path
    out = await platform.chat(messages, model, authorize=authorize, temperature=t, max_tokens=mt)
    r = out["response"]
    u = r.usage
    text = r.content
    extra = {"text": text} if cls is GenerateOut else {}
    return cls(
        model=out["model"], runtime_model_id=out["runtime_model_id"], provider=ProviderRef(**out["provider"]),
        deployment_id=out["deployment_id"], output=OutputMessage(role="assistant", content=text),
        finish_reason=r.finish_reason, usage=Usage(input_tokens=u.input_tokens, output_tokens=u.output_tokens) if u else None,
        metadata=r.metadata or {}, **extra,
    )  # fmt: skip


@post("/v1/models/inference", status_code=200, opt=OPT)
async def model_inference(
    platform: Service[PlatformService], request: Request[Any, Any, Any], data: JSONBody[InferenceIn]
) -> InferenceOut:
    msgs = [Message(m.role, m.content) for m in data.messages]
    return await _chat(platform, request, msgs, data.model, data.temperature, data.max_tokens, InferenceOut)


@post("/v1/models/generate", status_code=200, opt=OPT)
async def model_generate(
    platform: Service[PlatformService], request: Request[Any, Any, Any], data: JSONBody[GenerateIn]
) -> GenerateOut:
    msgs = ([Message("system", data.system)] if data.system else []) + [Message("user", data.prompt)]
    return await _chat(platform, request, msgs, data.model, data.temperature, data.max_tokens, GenerateOut)


ROUTES = [model_inference, model_generate]

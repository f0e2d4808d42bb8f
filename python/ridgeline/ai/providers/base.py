"""One provider interface for chat (streaming and not), embeddings and model listing, and the HTTP
machinery the remote providers share: httpx with timeouts, bounded retries with backoff on 429/5xx
(honouring ``Retry-After``), cancellation that closes the upstream stream, and secrets that never
appear in a repr, an error or a log line (:func:`mask_secret`).

Internal shapes (msgspec Structs) are the same for every provider; each provider maps its own wire
format (messages, tool calls, stop reasons, usage, errors) to them and back.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import email.utils
import hashlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    import httpx
    import numpy as np

__all__ = [
    "ChatChunk",
    "ChatResponse",
    "Embeddings",
    "HTTPProvider",
    "Message",
    "ModelInfo",
    "Provider",
    "ProviderError",
    "RetryPolicy",
    "Secret",
    "Tool",
    "ToolCall",
    "Usage",
    "mask_secret",
]

log = logging.getLogger("ridgeline.ai.providers")

Role = Literal["system", "user", "assistant", "tool"]
_sleep = asyncio.sleep  # indirection: tests record backoff delays without waiting them out


# --------------------------------------------------------------------------------------------- types
class ToolCall(msgspec.Struct, frozen=True):
    """A model's request to call a tool. ``arguments`` is the decoded JSON object."""

    id: str
    name: str
    arguments: dict[str, Any] = {}


class Tool(msgspec.Struct, frozen=True):
    """A tool the model may call; ``parameters`` is a JSON Schema object."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})


class Message(msgspec.Struct, frozen=True):
    """One chat turn. An assistant turn may carry ``tool_calls``; a ``tool`` turn answers one call
    (``tool_call_id``, and ``name`` = the tool's name, which Gemini and Ollama need)."""

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = []
    tool_call_id: str | None = None
    name: str | None = None


class Usage(msgspec.Struct, frozen=True):
    input_tokens: int = 0
    output_tokens: int = 0


class ChatResponse(msgspec.Struct, frozen=True):
    """``finish_reason``: ``stop``, ``length``, ``tool_calls``, ``content_filter`` or the provider's
    own word when it has none of these."""

    model: str
    content: str
    tool_calls: list[ToolCall] = []
    finish_reason: str | None = None
    usage: Usage | None = None
    metadata: dict[str, Any] = {}


class ChatChunk(msgspec.Struct, frozen=True):
    """One streamed piece: text in ``delta``; complete tool calls (assembled from the provider's
    fragments) and the finish reason and usage arrive on the chunk that completes them."""

    delta: str = ""
    tool_calls: list[ToolCall] = []
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    metadata: dict[str, Any] = {}


class Embeddings(msgspec.Struct, frozen=True):
    model: str
    vectors: list[list[float]]
    usage: Usage | None = None

    def array(self) -> np.ndarray:
        import numpy as np

        return np.asarray(self.vectors, dtype=np.float32)


class ModelInfo(msgspec.Struct, frozen=True):
    id: str
    provider: str
    metadata: dict[str, Any] = {}


class ProviderError(Exception):
    """A provider call failed. ``reason_code``: ``timeout``, ``connect_failed``, ``rate_limited``,
    ``auth_failed``, ``not_found``, ``bad_request``, ``upstream_error``, ``protocol_error``,
    ``stream_interrupted``, ``unsupported``. Messages never contain a key (see :func:`mask_secret`)."""

    def __init__(
        self,
        reason_code: str,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{where}{self.reason_code}{status}: {self.message}"

    def __repr__(self) -> str:
        return f"ProviderError({self.reason_code!r}, {self.message!r}, status={self.status!r})"


# ------------------------------------------------------------------------------------------- secrets
def mask_secret(value: str | None) -> str:
    """A key as it may be shown: a short prefix and a hash, never the key (``sk-a***1f2e3d4c``).
    The prefix is at most 4 characters and at most a quarter of the key."""
    if not value:
        return ""
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{value[: min(4, len(value) // 4)]}***{digest}"


class Secret:
    """A value that masks itself in ``repr``/``str``/f-strings; ``reveal()`` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({mask_secret(self._value)!r})"

    def __str__(self) -> str:
        return mask_secret(self._value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self) -> Any:  # never pickled in the clear either
        raise TypeError("Secret cannot be pickled")


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every occurrence of a secret replaced by its mask (upstreams echo keys back)."""
    for s in secrets:
        if s and s in text:
            text = text.replace(s, mask_secret(s))
    return text


# -------------------------------------------------------------------------------------------- retries
class RetryPolicy(msgspec.Struct, frozen=True):
    """Bounded retries: at most ``max_attempts`` sends. Statuses in ``retry_statuses`` and refused or
    timed-out connections are retried after ``Retry-After`` when the upstream sends one (a value above
    ``max_retry_after`` is not waited for: the error is raised at once), else after an exponential
    backoff ``min(backoff_max, backoff_base * 2**n)`` with jitter. Read timeouts are not retried."""

    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        d = min(self.backoff_max, self.backoff_base * (2**attempt))
        return d / 2 + random.uniform(0, d / 2)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_STATUS_REASON = {
    401: "auth_failed",
    403: "auth_failed",
    404: "not_found",
    408: "timeout",
    429: "rate_limited",
}


def reason_for_status(status: int) -> str:
    if status in _STATUS_REASON:
        return _STATUS_REASON[status]
    return "upstream_error" if status >= 500 else "bad_request"


def upstream_message(body: bytes) -> str:
    """The human message of an error body in any of the four providers' shapes."""
    try:
        obj = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:500].strip() or "(empty body)"
    err = obj.get("error", obj) if isinstance(obj, dict) else obj
    if isinstance(err, dict):
        msg = err.get("message") or err.get("detail") or json.dumps(err)[:500]
        kind = err.get("type") or err.get("status") or err.get("code")
        return f"{msg} [{kind}]" if kind else str(msg)
    return str(err)[:500]


# ------------------------------------------------------------------------------------------ interface
class Provider(abc.ABC):
    """What every chat provider offers. All methods are coroutines (or async generators): cancelling
    the awaiting task cancels the upstream request, and for streams closes the connection."""

    kind: str = "provider"
    default_model: str | None = None

    @abc.abstractmethod
    async def chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        tools: Sequence[Tool] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatResponse: ...

    @abc.abstractmethod
    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        tools: Sequence[Tool] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """An async generator of chunks. Use ``contextlib.aclosing`` when leaving the loop early so
        the upstream connection is closed at once rather than at garbage collection."""
        ...

    @abc.abstractmethod
    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> Embeddings: ...

    @abc.abstractmethod
    async def list_models(self) -> list[ModelInfo]: ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        pass

    async def __aenter__(self) -> Provider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _model(self, model: str | None) -> str:
        m = model or self.default_model
        if not m:
            raise ProviderError(
                "bad_request", "no model given and the provider has no default_model", provider=self.kind
            )
        return m


class HTTPProvider(Provider):
    """Shared httpx plumbing. ``timeout`` is seconds (or an ``httpx.Timeout``): connect is capped at
    10 s; for streams the read timeout is the longest silence allowed between two chunks."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        default_model: str | None = None,
        timeout: float | httpx.Timeout = 60.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self._key = Secret(api_key or "")
        self.default_model = default_model
        self.retry = retry or RetryPolicy()
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout, connect=min(10.0, timeout))
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=timeout,
            headers={**self._auth_headers(), **(headers or {})},
            transport=transport,
            trust_env=False,  # proxies from the environment are not ours to use
        )

    @property
    def api_key_masked(self) -> str:
        return mask_secret(self._key.reveal())

    def __repr__(self) -> str:
        key = f", api_key={self.api_key_masked!r}" if self._key else ""
        return f"{type(self).__name__}(base_url={self.base_url!r}{key})"

    def _auth_headers(self) -> dict[str, str]:
        return {}

    async def aclose(self) -> None:
        await self._client.aclose()

    def _error(self, reason: str, message: str, **kw: Any) -> ProviderError:
        return ProviderError(reason, scrub(message, [self._key.reveal()]), provider=self.kind, **kw)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send with retries; returns a successful response (for ``stream=True`` its body is unread and
        the caller must close it)."""
        import httpx

        policy = self.retry
        last = max(1, policy.max_attempts) - 1
        content = msgspec.json.encode(json_body) if json_body is not None else None
        headers = {"content-type": "application/json"} if content is not None else None
        for attempt in range(last + 1):
            req = self._client.build_request(
                method, path.lstrip("/"), content=content, params=params, headers=headers
            )
            try:
                resp = await self._client.send(req, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                reason = "timeout" if isinstance(exc, httpx.ConnectTimeout) else "connect_failed"
                if attempt < last:
                    d = policy.delay(attempt, None)
                    log.warning("%s %s: %s, retry %d in %.2fs", self.kind, path, reason, attempt + 1, d)
                    await _sleep(d)
                    continue
                raise self._error(reason, f"{method} {path}: {type(exc).__name__}: {exc}") from None
            except httpx.TimeoutException as exc:
                raise self._error("timeout", f"{method} {path}: {type(exc).__name__}") from None
            except httpx.TransportError as exc:
                raise self._error("connect_failed", f"{method} {path}: {type(exc).__name__}: {exc}") from None
            if resp.status_code < 400:
                if not stream:
                    try:
                        await resp.aread()
                    except httpx.TimeoutException:
                        raise self._error("timeout", f"{method} {path}: read timed out") from None
                    finally:
                        await resp.aclose()
                return resp
            try:
                body = await resp.aread()
            except httpx.HTTPError:
                body = b""
            finally:
                await resp.aclose()
            status = resp.status_code
            retry_after = parse_retry_after(resp.headers.get("retry-after"))
            err = self._error(
                reason_for_status(status),
                f"{method} {path}: {upstream_message(body)}",
                status=status,
                retry_after=retry_after,
            )
            if status in policy.retry_statuses and attempt < last:
                if retry_after is not None and retry_after > policy.max_retry_after:
                    raise err
                d = policy.delay(attempt, retry_after)
                log.warning("%s %s: HTTP %d, retry %d in %.2fs", self.kind, path, status, attempt + 1, d)
                await _sleep(d)
                continue
            raise err
        raise AssertionError("unreachable")

    async def _json(self, method: str, path: str, **kw: Any) -> Any:
        resp = await self._send(method, path, **kw)
        try:
            return json.loads(resp.content)
        except ValueError:
            raise self._error(
                "protocol_error", f"{method} {path}: response is not JSON", status=resp.status_code
            ) from None

    async def _lines(self, resp: httpx.Response) -> AsyncIterator[str]:
        """The body's lines, closing the response however the iteration ends (end, error, cancel)."""
        import httpx

        try:
            async for line in resp.aiter_lines():
                yield line
        except httpx.TimeoutException:
            raise self._error("timeout", "stream stalled past the read timeout") from None
        except httpx.HTTPError as exc:
            raise self._error("stream_interrupted", f"{type(exc).__name__}: {exc}") from None
        finally:
            await resp.aclose()

    async def _sse(self, resp: httpx.Response) -> AsyncIterator[tuple[str, str]]:
        """Server-sent events as (event, data); data lines of one event are joined with newlines."""
        event, data = "message", []
        async with contextlib.aclosing(self._lines(resp)) as lines:
            async for line in lines:
                if not line:
                    if data:
                        yield event, "\n".join(data)
                    event, data = "message", []
                elif line.startswith(":"):
                    continue  # comment / keep-alive
                else:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
        if data:
            yield event, "\n".join(data)

    def _loads(self, data: str, what: str) -> Any:
        try:
            return json.loads(data)
        except ValueError:
            raise self._error("protocol_error", f"{what}: not JSON: {data[:200]!r}") from None

    def _tool_args(self, raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
        if raw is None or raw == "":
            return {}
        if isinstance(raw, Mapping):
            return dict(raw)
        args = self._loads(raw, "tool call arguments")
        if not isinstance(args, dict):
            raise self._error("protocol_error", "tool call arguments are not a JSON object")
        return args

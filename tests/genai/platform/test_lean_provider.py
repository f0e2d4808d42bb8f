"""The control plane's dispatch client (ridgeline.genai.transport.LeanOpenAIProvider): the AI
layer's OpenAI-compatible provider with its JSON calls sent straight on the LeanTransport. Run
against the AI layer's fake OpenAI server on loopback (its real wire protocol: 429 with Retry-After,
503, stalls, a key echoed back), the same behaviours the AI layer's own provider tests check."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging

import pytest

from ridgeline.ai.providers import Message, ProviderError, RetryPolicy, base, mask_secret
from ridgeline.genai.transport import LeanOpenAIProvider, LeanTransport
from tests.ai import fakes
from tests.ai.test_providers import WEATHER
from tests.netutil import free_port

KEY = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture
def server():
    with fakes.serve(fakes.openai_app()) as app:
        yield app


@pytest.fixture
def sleeps(monkeypatch):
    recorded: list[float] = []

    async def fake_sleep(d):
        recorded.append(d)

    monkeypatch.setattr(base, "_sleep", fake_sleep)
    return recorded


def lean(url: str, **kw) -> LeanOpenAIProvider:
    return LeanOpenAIProvider(url + "/v1", KEY, transport=LeanTransport(), **kw)


def _no_httpx(p: LeanOpenAIProvider) -> None:
    """JSON calls must not go through the httpx client (that is the point of this class)."""

    async def refuse(*a, **kw):
        raise AssertionError("the httpx client was used for a JSON call")

    p._client.send = refuse  # type: ignore[method-assign]


def test_chat_embeddings_and_models_on_the_lean_path(server):
    async def main():
        async with lean(server.base_url) as p:
            _no_httpx(p)
            r = await p.chat([Message("user", "x")], model="m1", temperature=0.5, max_tokens=9)
            assert (r.content, r.finish_reason) == ("Hello x", "stop")
            assert r.usage is not None and r.usage.input_tokens > 0
            call = await p.chat([Message("user", "weather in Oslo?")], model="m1", tools=[WEATHER])
            assert call.tool_calls and call.tool_calls[0].name == "get_weather"
            e = await p.embed(["a", "bbb", "cc"], model="e1")
            assert [v[0] for v in e.vectors] == [1.0, 3.0, 2.0]
            assert [m.id for m in await p.list_models()] == ["gpt-4o-mini", "text-embedding-3-small"]

    asyncio.run(main())
    chat = server.requests[0]
    assert (chat.method, chat.path) == ("POST", "/v1/chat/completions")
    assert chat.headers["authorization"] == f"Bearer {KEY}"
    assert chat.headers["content-type"] == "application/json"
    assert "accept-encoding" not in chat.headers  # answers come back uncompressed
    assert chat.json() == {"model": "m1", "messages": [{"role": "user", "content": "x"}],
                           "temperature": 0.5, "max_tokens": 9}  # fmt: skip
    assert (server.requests[-1].method, server.requests[-1].path) == ("GET", "/v1/models")


def test_streams_on_the_lean_path(server, sleeps):
    """Streams are sent without the httpx client too: tokens arrive, error statuses are retried
    and mapped, a stream that stalls mid-way is a timeout, and the connection is reused after a
    stream read to the end."""

    async def main():
        async with lean(server.base_url, retry=RetryPolicy(max_attempts=2), timeout=0.5) as p:
            _no_httpx(p)
            chunks = [c async for c in p.stream_chat([Message("user", "x")], model="m1")]
            assert "".join(c.delta for c in chunks if c.delta) == "Hello x"
            assert chunks[-1].finish_reason == "stop"
            with pytest.raises(ProviderError) as ei:
                async for _ in p.stream_chat([Message("user", "x")], model="broken"):
                    pass
            assert (ei.value.reason_code, ei.value.status) == ("upstream_error", 503)
            with pytest.raises(ProviderError) as ei:
                async for _ in p.stream_chat([Message("user", "x")], model="stall-stream"):
                    pass
            assert ei.value.reason_code == "timeout"
            return p._lean

    transport = asyncio.run(main())
    assert len(sleeps) == 1  # the 503 was sent twice
    assert sum(len(v) for v in transport._idle.values()) >= 1  # a finished stream's connection went back


def test_429_retry_after_is_honoured_then_given_up(server, sleeps):
    async def main():
        async with lean(server.base_url, retry=RetryPolicy(max_attempts=3)) as p:
            assert (await p.chat([Message("user", "x")], model="flaky-2")).content == "Hello x"
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="flaky-9")
            return ei.value

    err = asyncio.run(main())
    assert sleeps == [7.0, 7.0, 7.0, 7.0]
    assert (err.reason_code, err.status, err.retry_after) == ("rate_limited", 429, 7.0)
    assert "rate limit reached" in err.message


def test_5xx_is_retried_with_backoff_and_timeouts_are_not(server, sleeps):
    async def main():
        async with lean(server.base_url, retry=RetryPolicy(max_attempts=2, backoff_base=0.5)) as p:
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="broken")
            n = len(server.requests)
            assert (ei.value.reason_code, ei.value.status, n) == ("upstream_error", 503, 2)
        async with lean(server.base_url, timeout=0.3) as p:
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="stall")
            assert ei.value.reason_code == "timeout"
            assert len(server.requests) == n + 1  # a read timeout is not retried

    asyncio.run(main())
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_keys_are_scrubbed_from_errors_and_logs(server, caplog, sleeps):
    caplog.set_level(logging.DEBUG)

    async def main():
        async with lean(server.base_url, retry=RetryPolicy(max_attempts=2)) as p:
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="echo-key")
            err = ei.value
            for text in (str(err), repr(err), err.message):
                assert KEY not in text
            assert mask_secret(KEY) in err.message
            assert (err.reason_code, err.status) == ("auth_failed", 401)
            with pytest.raises(ProviderError):
                await p.chat([Message("user", "x")], model="broken")  # logs a retry

    asyncio.run(main())
    assert KEY not in caplog.text and "retry" in caplog.text


def test_refused_connection_is_retried_then_reported(sleeps):
    port = free_port()

    async def main():
        async with lean(f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=3)) as p:
            with pytest.raises(ProviderError) as ei:
                await p.list_models()
            return ei.value

    assert asyncio.run(main()).reason_code == "connect_failed"
    assert len(sleeps) == 2


def test_non_json_and_compressed_answers():
    """A 200 that is not JSON is a protocol error; a body compressed although nobody asked
    (no Accept-Encoding is sent) is still read."""
    completion = {"id": "c", "object": "chat.completion", "model": "m",
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "zipped"},
                               "finish_reason": "stop"}]}  # fmt: skip

    async def handle(req: fakes.Req) -> fakes.Reply:
        if req.path == "/v1/models":
            return fakes.Reply(200, b"<html>not json</html>", content_type="text/html")
        return fakes.Reply(
            200, gzip.compress(json.dumps(completion).encode()), headers={"content-encoding": "gzip"}
        )

    async def main(url: str):
        async with lean(url) as p:
            assert (await p.chat([Message("user", "x")], model="m")).content == "zipped"
            with pytest.raises(ProviderError) as ei:
                await p.list_models()
            assert ei.value.reason_code == "protocol_error"

    with fakes.serve(fakes.FakeServer(handle)) as srv:
        asyncio.run(main(srv.base_url))


def test_base_url_path_and_port_are_kept(server):
    """The instance's endpoint may carry a path prefix; the Host header names the port."""
    seen: list[fakes.Req] = []

    async def handle(req: fakes.Req) -> fakes.Reply:
        seen.append(req)
        return fakes.Reply(200, {"object": "list", "data": [{"id": "a", "object": "model"}]})

    async def main(url: str):
        p = LeanOpenAIProvider(url + "/proxy/v1/", transport=LeanTransport())
        assert [m.id for m in await p.list_models()] == ["a"]

    with fakes.serve(fakes.FakeServer(handle)) as srv:
        asyncio.run(main(srv.base_url))
        assert seen[0].path == "/proxy/v1/models"
        assert seen[0].headers["host"] == srv.base_url.removeprefix("http://")
        assert "authorization" not in seen[0].headers  # no key configured, none sent

"""Every provider against a loopback fake server that speaks its real wire protocol."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import pytest

from ridgeline.ai.providers import (
    AnthropicProvider,
    ChatChunk,
    GeminiProvider,
    Message,
    OllamaProvider,
    OpenAICompatibleProvider,
    Provider,
    ProviderError,
    RetryPolicy,
    Tool,
    ToolCall,
    base,
    mask_secret,
)
from tests.ai import fakes
from tests.netutil import free_port

KEY = "sk-test-SECRET-0123456789abcdef"
WEATHER = Tool(
    "get_weather",
    "Weather forecast for a city",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
)

PROVIDERS: dict[str, tuple[Callable[[], fakes.FakeServer], Callable[..., Provider]]] = {
    "openai": (fakes.openai_app, lambda url, **kw: OpenAICompatibleProvider(url + "/v1", KEY, **kw)),
    "anthropic": (fakes.anthropic_app, lambda url, **kw: AnthropicProvider(url, KEY, **kw)),
    "gemini": (fakes.gemini_app, lambda url, **kw: GeminiProvider(url + "/v1beta", KEY, **kw)),
    "ollama": (fakes.ollama_app, lambda url, **kw: OllamaProvider(url, KEY, **kw)),
}


@pytest.fixture(params=list(PROVIDERS))
def server(request, no_network):
    make_app, make_provider = PROVIDERS[request.param]
    with fakes.serve(make_app()) as app:
        app.kind = request.param
        app.provider = lambda **kw: make_provider(app.base_url, **kw)
        yield app


@pytest.fixture
def sleeps(monkeypatch):
    """Backoff delays the providers asked for, without waiting them out."""
    recorded: list[float] = []

    async def fake_sleep(d):
        recorded.append(d)

    monkeypatch.setattr(base, "_sleep", fake_sleep)
    return recorded


def run(coro):
    return asyncio.run(coro)


async def _collect(p: Provider, messages, **kw) -> list[ChatChunk]:
    out = []
    async with contextlib.aclosing(p.stream_chat(messages, **kw)) as stream:
        async for c in stream:
            out.append(c)
    return out


def test_chat_text(server):
    async def main():
        async with server.provider(default_model="m1") as p:
            r = await p.chat([Message("system", "be brief"), Message("user", "there")])
            assert r.content == "Hello there"
            assert r.finish_reason == "stop"
            assert r.usage is not None and r.usage.input_tokens > 0 and r.usage.output_tokens > 0
            assert r.tool_calls == []

    run(main())


def test_stream_text(server):
    async def main():
        async with server.provider() as p:
            chunks = await _collect(p, [Message("user", "streaming world")], model="m1")
            assert "".join(c.delta for c in chunks) == "Hello streaming world"
            assert sum(1 for c in chunks if c.delta) >= 3  # really streamed in pieces
            assert chunks[-1].finish_reason == "stop"
            assert any(c.usage and c.usage.output_tokens for c in chunks)

    run(main())


@pytest.mark.parametrize("streaming", [False, True])
def test_tool_call_round_trip(server, streaming):
    async def ask(p, messages):
        if not streaming:
            return await p.chat(messages, model="m1", tools=[WEATHER])
        chunks = await _collect(p, messages, model="m1", tools=[WEATHER])
        calls = [tc for c in chunks for tc in c.tool_calls]
        return "".join(c.delta for c in chunks), calls, chunks[-1].finish_reason

    async def main():
        async with server.provider() as p:
            history = [Message("user", "weather in Zürich?")]
            r = await ask(p, history)
            calls = r.tool_calls if not streaming else r[1]
            finish = r.finish_reason if not streaming else r[2]
            assert len(calls) == 1
            call = calls[0]
            assert call.name == "get_weather"
            assert call.arguments == {"city": "Zürich", "days": 2}
            assert call.id
            assert finish == "tool_calls"
            # and back: the assistant's call and the tool's answer in this provider's wire format
            history += [
                Message("assistant", "", tool_calls=[call]),
                Message("tool", "21C and sunny", tool_call_id=call.id, name=call.name),
            ]
            r2 = await ask(p, history)
            text = r2.content if not streaming else r2[0]
            assert text == "Result: 21C and sunny"

    run(main())


def test_tool_call_ids_survive_from_other_providers(server):
    """A history whose tool call came from another provider (other id scheme) still maps."""

    async def main():
        async with server.provider() as p:
            history = [
                Message("user", "weather?"),
                Message(
                    "assistant",
                    "",
                    tool_calls=[ToolCall("call_from_elsewhere", "get_weather", {"city": "Bern"})],
                ),
                Message("tool", "5C", tool_call_id="call_from_elsewhere"),
            ]
            r = await p.chat(history, model="m1", tools=[WEATHER])
            assert r.content == "Result: 5C"

    run(main())


def test_embeddings(server):
    async def main():
        async with server.provider() as p:
            if server.kind == "anthropic":
                with pytest.raises(ProviderError) as ei:
                    await p.embed(["a"], model="e")
                assert ei.value.reason_code == "unsupported"
                return
            e = await p.embed(["a", "bbb", "cc"], model="e1")
            assert e.array().shape[0] == 3
            assert [v[0] for v in e.vectors] == [1.0, 3.0, 2.0]  # in input order
            one = await p.embed(["xyzw"], model="e1")
            assert one.vectors[0][0] == 4.0

    run(main())


def test_list_models(server):
    expected = {
        "openai": ["gpt-4o-mini", "text-embedding-3-small"],
        "anthropic": ["claude-a", "claude-b", "claude-c"],  # two pages
        "gemini": ["gemini-2.0-flash", "text-embedding-004"],  # two pages
        "ollama": ["llama3.2:latest"],
    }[server.kind]

    async def main():
        async with server.provider() as p:
            models = await p.list_models()
            assert [m.id for m in models] == expected
            assert all(m.provider == p.kind for m in models)

    run(main())


def test_429_retry_after_is_honoured(server, sleeps):
    async def main():
        async with server.provider(retry=RetryPolicy(max_attempts=3)) as p:
            r = await p.chat([Message("user", "x")], model="flaky-2")
            assert r.content == "Hello x"

    run(main())
    assert sleeps == [7.0, 7.0]
    assert len(server.requests) == 3


def test_429_gives_up_after_max_attempts(server, sleeps):
    async def main():
        async with server.provider(retry=RetryPolicy(max_attempts=3)) as p:
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="flaky-9")
            return ei.value

    err = run(main())
    assert err.reason_code == "rate_limited"
    assert err.status == 429
    assert err.retry_after == 7.0
    assert "rate limit reached" in err.message  # the provider's own error body, parsed
    assert len(server.requests) == 3
    assert sleeps == [7.0, 7.0]


def test_retry_after_longer_than_allowed_fails_at_once(server, sleeps):
    async def main():
        async with server.provider(retry=RetryPolicy(max_attempts=5, max_retry_after=5.0)) as p:
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="flaky-9")
            return ei.value

    assert run(main()).reason_code == "rate_limited"
    assert len(server.requests) == 1
    assert sleeps == []


def test_5xx_backoff_is_bounded(server, sleeps):
    async def main():
        policy = RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_max=1.0)
        async with server.provider(retry=policy) as p:
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="broken")
            return ei.value

    err = run(main())
    assert err.reason_code == "upstream_error" and err.status == 503
    assert len(server.requests) == 4
    assert len(sleeps) == 3
    # exponential with jitter in [d/2, d], capped at backoff_max
    for attempt, d in enumerate(sleeps):
        cap = min(1.0, 0.5 * 2**attempt)
        assert cap / 2 <= d <= cap


def test_timeout(server):
    async def main():
        async with server.provider(timeout=0.3) as p:
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="stall")
            return ei.value

    err = run(main())
    assert err.reason_code == "timeout"
    assert len(server.requests) == 1  # a read timeout is not retried


def test_stream_timeout_mid_stream(no_network):
    with fakes.serve(fakes.openai_app()) as app:

        async def main():
            async with OpenAICompatibleProvider(app.base_url + "/v1", timeout=0.3) as p:
                got = []
                with pytest.raises(ProviderError) as ei:
                    async for c in p.stream_chat([Message("user", "x")], model="stall-stream"):
                        got.append(c.delta)
                assert got == ["first "]
                return ei.value

        assert run(main()).reason_code == "timeout"


def test_cancellation_closes_the_stream(server):
    async def main():
        p = server.provider()
        got: list[str] = []
        three = asyncio.Event()

        async def consume():
            async for c in p.stream_chat([Message("user", "x")], model="endless"):
                got.append(c.delta)
                if len(got) == 3:
                    three.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(three.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the server sees the client go away (waited for, not timed)
        assert await asyncio.to_thread(server.disconnected.wait, 10)
        await p.aclose()

    run(main())


def test_keys_are_masked_everywhere(server, caplog, sleeps):
    caplog.set_level(logging.DEBUG)

    async def main():
        async with server.provider(retry=RetryPolicy(max_attempts=2)) as p:
            assert KEY not in repr(p)
            assert mask_secret(KEY) in repr(p)
            with pytest.raises(ProviderError) as ei:
                await p.chat([Message("user", "x")], model="echo-key")
            err = ei.value
            # the upstream echoed the key back; it is scrubbed from every rendering of the error
            for text in (str(err), repr(err), err.message, *map(str, err.args)):
                assert KEY not in text
            assert mask_secret(KEY) in err.message
            assert err.reason_code == "auth_failed" and err.status == 401
            with pytest.raises(ProviderError):
                await p.chat([Message("user", "x")], model="broken")  # logs a retry

    run(main())
    assert server.requests  # the key did travel to the server (in a header)
    assert KEY not in caplog.text
    assert "retry" in caplog.text


def test_mask_secret():
    m = mask_secret(KEY)
    assert m.startswith("sk-t") and KEY not in m and len(m) < len(KEY)
    assert mask_secret(KEY) == m  # stable: the same key is recognisable across logs
    assert mask_secret("other-key-0123456789") != m
    assert mask_secret("abc") == "***" + mask_secret("abc")[3:]  # short keys show no prefix
    assert mask_secret("") == ""
    s = base.Secret(KEY)
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in f"{s}"
    assert s.reveal() == KEY


def test_connect_failure_is_retried_then_reported(sleeps, no_network):

    port = free_port()  # a port nobody listens on

    async def main():
        async with OllamaProvider(f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=3)) as p:
            with pytest.raises(ProviderError) as ei:
                await p.list_models()
            return ei.value

    assert run(main()).reason_code == "connect_failed"
    assert len(sleeps) == 2


def test_retry_after_http_date():
    import email.utils
    import time

    assert base.parse_retry_after("3") == 3.0
    future = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 50 <= base.parse_retry_after(future) <= 61
    assert base.parse_retry_after("soon") is None
    assert base.parse_retry_after(None) is None


def test_create_provider_from_config():
    from ridgeline.ai import create_provider

    p = create_provider("anthropic", base_url="http://127.0.0.1:9", api_key=KEY, default_model="claude-x")
    assert isinstance(p, AnthropicProvider) and p.default_model == "claude-x"
    assert KEY not in repr(p)
    assert create_provider("extractive").default_model == "ridgeline-extractive-1"
    for kind, opts in [("nope", {}), ("gemini", {"bogus": 1})]:
        with pytest.raises(ProviderError) as ei:
            create_provider(kind, **opts)
        assert ei.value.reason_code == "bad_request"
    run(p.aclose())

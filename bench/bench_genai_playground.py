"""Time to first token through the playground stream (``POST /v1/playgrounds/sessions/{id}/messages/
stream``: auth, session and history read, binding resolution, the provider's streamed chat, our SSE
re-encoding) against the same fake OpenAI-compatible upstream's own stream, side by side.

    .venv/bin/python bench/bench_genai_playground.py [--requests 200] [--tokens 20] [--token-ms 2] [--prefill-ms 0]

Three processes on loopback: a fake upstream (uvicorn) that streams ``--tokens`` chunks, the first
after ``--prefill-ms`` and one every ``--token-ms`` after it; ``ridgeline serve --only genai`` (one
granian worker, SQLite) whose ``local-default`` binds that upstream as ``vllm-local``; and this
client, which sends one request at a time (closed loop) and times, per request, the first content
token and the end of the stream. Direct first, then through Ridgeline. Prints p50/p95/p99 of both,
the ratio of the medians and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_genai_inference import MODEL, MODELS, RIDGELINE, _port, _setup, _wait


def upstream_app(tokens: int, token_ms: float, prefill_ms: float):  # type: ignore[no-untyped-def]
    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["path"] == "/v1/models":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": MODELS})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        if prefill_ms:
            await asyncio.sleep(prefill_ms / 1000)
        base = {"id": "c1", "object": "chat.completion.chunk", "model": MODEL}
        for i in range(tokens):
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": f"t{i} "}}]}
            await send(
                {
                    "type": "http.response.body",
                    "body": f"data: {json.dumps(chunk)}\n\n".encode(),
                    "more_body": True,
                }
            )
            if token_ms:
                await asyncio.sleep(token_ms / 1000)
        end = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await send(
            {"type": "http.response.body", "body": f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode()}
        )

    return app


async def _run(url: str, body: dict, headers: dict[str, str], n: int, first: str) -> dict[str, float]:
    """``n`` streams one after another; ``first`` marks the line that carries the first token."""
    ttft: list[float] = []
    total: list[float] = []
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        for i in range(n + 10):  # the first 10 warm up connections and caches
            t0 = time.perf_counter()
            t_first = None
            async with client.stream("POST", url, json=body, headers=headers) as r:
                r.raise_for_status()
                async for line in r.aiter_lines():
                    if (
                        t_first is None
                        and line.startswith(first)
                        and ('"content": "t' in line or first == "event: token")
                    ):
                        t_first = time.perf_counter()
            t_end = time.perf_counter()
            if i >= 10 and t_first is not None:
                ttft.append((t_first - t0) * 1000)
                total.append((t_end - t0) * 1000)
    a, b = np.array(ttft), np.array(total)
    return {"n": len(ttft), **{f"ttft_p{q}": float(np.percentile(a, q)) for q in (50, 95, 99)},
            **{f"total_p{q}": float(np.percentile(b, q)) for q in (50, 95, 99)}}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--token-ms", type=float, default=2.0)
    ap.add_argument("--prefill-ms", type=float, default=0.0)
    args = ap.parse_args()
    if args.upstream:
        import uvicorn

        app = upstream_app(args.tokens, args.token_ms, args.prefill_ms)
        uvicorn.run(app, host="127.0.0.1", port=args.upstream, log_level="error", access_log=False)
        return
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-genai-pg-") as tmp:
            up_port, rl_port = _port(), _port()
            up = f"http://127.0.0.1:{up_port}"
            procs.append(subprocess.Popen([sys.executable, __file__, "--upstream", str(up_port), "--tokens",
                                           str(args.tokens), "--token-ms", str(args.token_ms), "--prefill-ms",
                                           str(args.prefill_ms)]))  # fmt: skip
            _wait(up + "/v1/models", procs[-1])
            env = {**os.environ, "RIDGELINE_DATA_DIR": tmp, "LLM_URL": up, "RIDGELINE_LOG_LEVEL": "WARNING",
                   "RIDGELINE_AUTH_PASSWORD_PROFILE": "test"}  # fmt: skip
            procs.append(subprocess.Popen([RIDGELINE, "serve", "--only", "genai", "--port", str(rl_port)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
            base = f"http://127.0.0.1:{rl_port}"
            _wait(base + "/health", procs[-1])
            h = _setup(base, Path(tmp), env)
            sid = httpx.post(f"{base}/v1/playgrounds/sessions", headers=h, json={}).json()["id"]
            print(f"load average before: {os.getloadavg()}")
            chat = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
            direct = asyncio.run(_run(up + "/v1/chat/completions", chat, {}, args.requests, "data: "))
            via = asyncio.run(_run(f"{base}/v1/playgrounds/sessions/{sid}/messages/stream", {"content": "hi"}, h,
                                   args.requests, "event: token"))  # fmt: skip
            print(f"direct (the provider's own stream): {direct}")
            print(f"via the playground stream:          {via}")
            print(f"time to first token p50: direct {direct['ttft_p50']:.2f} ms, ours {via['ttft_p50']:.2f} ms, "
                  f"ratio {via['ttft_p50'] / direct['ttft_p50']:.2f}x, overhead {via['ttft_p50'] - direct['ttft_p50']:.2f} ms")  # fmt: skip
            print(f"load average after: {os.getloadavg()}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


if __name__ == "__main__":
    main()

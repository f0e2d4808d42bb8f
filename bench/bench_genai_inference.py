"""Overhead of Ridgeline's inference path (``POST /v1/models/inference``: auth, active-binding
resolution and membership, dispatch through the AI layer's OpenAI-compatible provider) over calling
the same fake OpenAI-compatible upstream directly.

    .venv/bin/python bench/bench_genai_inference.py [--rates 100,1000] [--seconds 10]

Three processes on loopback: a fake upstream (uvicorn, a fixed chat completion), ``ridgeline serve
--only genai`` (one granian worker, SQLite) whose ``local-default`` deployment binds the upstream as
``vllm-local`` with one managed model, and this load generator (httpx, open loop: requests are
started at a fixed rate whatever the answers do). Each rate runs direct first, then through
Ridgeline; latencies are start-to-answer per request. The overhead is the difference of the two
percentiles, so it includes Ridgeline's own HTTP hop. Prints achieved rates, p50/p95/p99 and the
load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RIDGELINE = str(Path(sys.executable).with_name("ridgeline"))
MODEL = "bench-model"
REPLY = json.dumps({
    "id": "c1", "object": "chat.completion", "model": MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}).encode()  # fmt: skip
MODELS = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).encode()


async def upstream_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    body = MODELS if scope["path"] == "/v1/models" else REPLY
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited: {proc.args}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"did not start: {url}")


async def _load(
    url: str, body: dict, headers: dict[str, str], rate: float, seconds: float
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(limits=limits, timeout=10, trust_env=False) as client:
        for _ in range(50):  # warm-up (connections, the provider client cache, the model id cache)
            (await client.post(url, json=body, headers=headers)).raise_for_status()
        lat: list[float] = []
        errors = 0

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            try:
                r = await client.post(url, json=body, headers=headers)
                ok = r.status_code == 200
            except httpx.HTTPError:  # a pool or read timeout under overload counts as an error
                ok = False
            if ok:
                lat.append(time.perf_counter() - t0)
            else:
                errors += 1

        n = int(rate * seconds)
        start = time.perf_counter()
        tasks = []
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        sent_s = time.perf_counter() - start
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    a = np.array(lat) * 1000
    if not lat:
        return {"sent": n, "errors": errors, "p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    return {"sent": n, "errors": errors, "send_rps": n / sent_s, "done_rps": n / elapsed, "p50": float(np.percentile(a, 50)),
            "p95": float(np.percentile(a, 95)), "p99": float(np.percentile(a, 99))}  # fmt: skip


def _wrk(url: str, body: dict, headers: dict[str, str], connections: int, seconds: float, tmp: str) -> dict:
    """Closed loop at full speed (wrk, ``connections`` connections): throughput and latency percentiles."""
    import re

    script = Path(tmp) / f"post{len(os.listdir(tmp))}.lua"
    hdr = "".join(
        f'wrk.headers["{k}"] = "{v}"\n' for k, v in {**headers, "Content-Type": "application/json"}.items()
    )
    script.write_text(f'wrk.method = "POST"\nwrk.body = [[{json.dumps(body)}]]\n{hdr}')
    subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-s", str(script), url], capture_output=True, check=True)
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip

    def ms(v: str) -> float:
        n, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()  # type: ignore[union-attr]
        return float(n) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            **{f"p{q}": ms(re.search(rf"^\s+{q}%\s+(\S+)", out, re.M).group(1)) for q in (50, 75, 90, 99)},  # type: ignore[union-attr]
            "non_2xx": int(bad.group(1)) if bad else 0}  # fmt: skip


def _setup(base: str, data_dir: Path, env: dict[str, str]) -> dict[str, str]:
    pw = "bench-pass-word-123"
    subprocess.run([RIDGELINE, "users", "create", "--role", "superadmin", "--password-stdin",
                    "bench"], input=pw.encode(), env=env, check=True, capture_output=True)  # fmt: skip
    tok = httpx.post(f"{base}/auth/login", json={"username": "bench", "password": pw}).json()["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(data_dir / "ridgeline.db") as db:  # a bindable ModelOps model, as ModelOps writes it
        db.execute(
            "INSERT INTO genai_models (id, name, task, origin, source, lifecycle_state, is_validation_current, "
            "last_validation_status, metadata, visibility, created_at, updated_at) VALUES "
            "('bench-m', 'bench', 'llm_inference', 'local', 'manual', 'active', 1, 'success', ?, 'private', ?, ?)",
            (json.dumps({"runtime_model_id": MODEL}), now, now),
        )
    provs = httpx.get(f"{base}/v1/platform/providers", headers=h).json()["providers"]
    vllm = next(p for p in provs if p["slug"] == "vllm-local")
    dep = next(d for d in httpx.get(f"{base}/v1/platform/deployments", headers=h).json()["deployments"]
               if d["slug"] == "local-default")  # fmt: skip
    r = httpx.put(f"{base}/v1/platform/deployments/{dep['id']}/bindings/llm_inference", headers=h,
                  json={"provider_id": vllm["id"], "resources": [{"id": "bench-m"}], "default_resource_id": "bench-m"})  # fmt: skip
    r.raise_for_status()
    return h


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--rates", default="100,1000")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--wrk", type=int, default=0, help="also run wrk closed-loop with this many connections")
    args = ap.parse_args()
    if args.upstream:
        import uvicorn

        uvicorn.run(upstream_app, host="127.0.0.1", port=args.upstream, log_level="error", access_log=False)
        return
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-genai-") as tmp:
            up_port, rl_port = _port(), _port()
            up = f"http://127.0.0.1:{up_port}"
            procs.append(subprocess.Popen([sys.executable, __file__, "--upstream", str(up_port)]))
            _wait(up + "/v1/models", procs[-1])
            env = {**os.environ, "RIDGELINE_DATA_DIR": tmp, "LLM_URL": up, "RIDGELINE_LOG_LEVEL": "WARNING",
                   "RIDGELINE_AUTH_PASSWORD_PROFILE": "test"}  # fmt: skip
            procs.append(subprocess.Popen([RIDGELINE, "serve", "--only", "genai", "--port",
                                           str(rl_port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
            base = f"http://127.0.0.1:{rl_port}"
            _wait(base + "/health", procs[-1])
            h = _setup(base, Path(tmp), env)
            chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
            ours = {"messages": [{"role": "user", "content": "hi"}]}
            print(f"load average before: {os.getloadavg()}")
            for rate in [float(x) for x in args.rates.split(",")]:
                direct = asyncio.run(_load(up + "/v1/chat/completions", chat, {}, rate, args.seconds))
                via = asyncio.run(_load(base + "/v1/models/inference", ours, h, rate, args.seconds))
                over = {k: via[k] - direct[k] for k in ("p50", "p95", "p99")}
                print(f"rate {rate:.0f}/s  direct {direct}\n           via ridgeline {via}\n"
                      f"           overhead ms p50 {over['p50']:.2f} p95 {over['p95']:.2f} p99 {over['p99']:.2f}"
                      f"  load {os.getloadavg()}")  # fmt: skip
            if args.wrk:
                direct = _wrk(up + "/v1/chat/completions", chat, {}, args.wrk, args.seconds, tmp)
                via = _wrk(base + "/v1/models/inference", ours, h, args.wrk, args.seconds, tmp)
                print(
                    f"wrk -c{args.wrk}  direct {direct}\n         via ridgeline {via}  load {os.getloadavg()}"
                )
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()

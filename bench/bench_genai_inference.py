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
import contextlib
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
from typing import Any

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
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
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


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the load generator: writes a pre-built request, parses
    just enough of the answer (status line, Content-Length) to know when it is complete."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.lost = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0 or self.waiter is None:
            return
        length = 0
        for line in bytes(self.buf[:head_end]).split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self.buf) - head_end - 4 < length:
            return
        status = int(self.buf[9:12])
        del self.buf[: head_end + 4 + length]
        w, self.waiter = self.waiter, None
        if not w.done():
            w.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))


async def _open_loop(
    url: str, body: dict, headers: dict[str, str], rate: float, seconds: float, max_conns: int = 2048
) -> dict[str, float]:
    """Open loop at a fixed rate (wrk2-like): request i is due at ``start + i / rate`` and is sent then
    on an idle keep-alive connection (a new one if none is idle), whatever earlier answers do.
    Latency is measured from the due time, not the send time, so queueing in the generator or the
    server is counted (no coordinated omission). Raw asyncio sockets, pre-encoded requests: the
    generator costs a few tens of microseconds per request."""
    u = httpx.URL(url)
    payload = json.dumps(body).encode()
    hdr = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    req = (f"POST {u.raw_path.decode()} HTTP/1.1\r\nHost: {u.host}:{u.port}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(payload)}\r\n{hdr}\r\n").encode() + payload  # fmt: skip
    loop = asyncio.get_running_loop()
    idle: list[_Conn] = []
    opened = 0

    async def conn() -> _Conn:
        nonlocal opened
        while idle:
            c = idle.pop()
            if not c.lost:
                return c
        opened += 1
        _, c = await loop.create_connection(_Conn, u.host, u.port)
        return c

    async def send(c: _Conn) -> int:
        c.waiter = loop.create_future()
        c.transport.write(req)
        return await asyncio.wait_for(c.waiter, 10)

    for _ in range(50):  # warm-up: connections, the provider client cache, the runtime model id cache
        c = await conn()
        assert await send(c) == 200
        idle.append(c)
    lat: list[float] = []
    errors = 0

    async def one(due: float) -> None:
        nonlocal errors
        c = None
        try:
            c = await conn()
            status = await send(c)
        except (OSError, ConnectionError, TimeoutError):
            status = 0
        if status == 200:
            lat.append(time.perf_counter() - due)
        else:
            errors += 1
        if c is not None and not c.lost and status and len(idle) < max_conns:
            idle.append(c)
        elif c is not None:
            c.transport.close()

    n = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks = []
    for i in range(n):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(one(due)))
    sent_s = time.perf_counter() - start
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for c in idle:
        c.transport.close()
    a = np.array(lat) * 1000
    if not lat:
        return {"sent": n, "errors": errors, "p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    return {"sent": n, "errors": errors, "connections": opened, "send_rps": round(n / sent_s, 1),
            "done_rps": round(n / elapsed, 1), "p50": round(float(np.percentile(a, 50)), 2),
            "p95": round(float(np.percentile(a, 95)), 2), "p99": round(float(np.percentile(a, 99)), 2)}  # fmt: skip


def _wrk(
    url: str, body: dict, headers: dict[str, str], connections: int, seconds: float, tmp: str, pid: int = 0
) -> dict:
    """Closed loop at full speed (wrk, ``connections`` connections): throughput and latency percentiles."""
    import re

    script = Path(tmp) / f"post{len(os.listdir(tmp))}.lua"
    hdr = "".join(
        f'wrk.headers["{k}"] = "{v}"\n' for k, v in {**headers, "Content-Type": "application/json"}.items()
    )
    script.write_text(f'wrk.method = "POST"\nwrk.body = [[{json.dumps(body)}]]\n{hdr}')
    subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-s", str(script), url], capture_output=True, check=True)
    cpu0 = _cpu_s(pid) if pid else 0.0
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip

    def ms(v: str) -> float:
        n, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()  # type: ignore[union-attr]
        return float(n) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    cpu = _cpu_s(pid) - cpu0 if pid else 0.0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            **{f"p{q}": ms(re.search(rf"^\s+{q}%\s+(\S+)", out, re.M).group(1)) for q in (50, 75, 90, 99)},  # type: ignore[union-attr]
            "non_2xx": int(bad.group(1)) if bad else 0,
            **({"server_cpu_ms_per_request": round(cpu * 1000 / total, 3)} if pid else {})}  # fmt: skip


def _tree(pid: int) -> list[int]:
    out = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += _tree(int(child))
    return out


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants (the granian worker)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _setup(base: str, data_dir: Path, env: dict[str, str]) -> dict[str, str]:
    pw = "open-loop-pass-word-7"  # must not contain the username (password_contextual)
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
                direct = asyncio.run(_open_loop(up + "/v1/chat/completions", chat, {}, rate, args.seconds))
                cpu0 = _cpu_s(procs[-1].pid)
                via = asyncio.run(_open_loop(base + "/v1/models/inference", ours, h, rate, args.seconds))
                via["server_cpu_ms_per_request"] = round(
                    (_cpu_s(procs[-1].pid) - cpu0) * 1000 / (via["sent"] + 50), 3
                )
                over = {k: via[k] - direct[k] for k in ("p50", "p95", "p99")}
                print(f"rate {rate:.0f}/s  direct {direct}\n           via ridgeline {via}\n"
                      f"           overhead ms p50 {over['p50']:.2f} p95 {over['p95']:.2f} p99 {over['p99']:.2f}"
                      f"  load {os.getloadavg()}")  # fmt: skip
            if args.wrk:
                direct = _wrk(up + "/v1/chat/completions", chat, {}, args.wrk, args.seconds, tmp)
                via = _wrk(base + "/v1/models/inference", ours, h, args.wrk, args.seconds, tmp, procs[-1].pid)
                print(
                    f"wrk -c{args.wrk}  direct {direct}\n         via ridgeline {via}  load {os.getloadavg()}"
                )
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()

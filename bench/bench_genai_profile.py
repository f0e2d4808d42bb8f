"""In-process profile of ``POST /v1/models/inference``: the genai app is called as an ASGI app
(no HTTP hop, no load generator in the way) against the fake OpenAI-compatible upstream of
``bench_genai_inference.py`` in its own process.

    .venv/bin/python bench/bench_genai_profile.py [--requests 1500] [--top 40]

Prints the process CPU per request without the profiler, the SQL statements run over 1,000
requests (counted with a cursor hook), then a cProfile of ``--requests`` more (thread CPU time),
sorted by cumulative time. ``py-spy`` would sample the real server instead; it is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import os
import pstats
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_genai_inference import MODEL, _port, _wait


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    up_port = _port()
    up = f"http://127.0.0.1:{up_port}"
    bench = str(Path(__file__).with_name("bench_genai_inference.py"))
    proc = subprocess.Popen([sys.executable, bench, "--upstream", str(up_port)])
    try:
        _wait(up + "/v1/models", proc)
        with tempfile.TemporaryDirectory(prefix="bench-genai-prof-") as tmp:
            os.environ.update({"RIDGELINE_DATA_DIR": tmp, "LLM_URL": up})
            _profile(Path(tmp), args.requests, args.top)
    finally:
        proc.terminate()
        proc.wait(10)


def _profile(tmp: Path, n: int, top: int) -> None:
    import sqlalchemy as sa
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.genai.api import family
    from ridgeline.platform.auth import Role
    from ridgeline.platform.auth.settings import AuthSettings
    from ridgeline.platform.settings import Settings

    app = create_app(
        Settings(data_dir=tmp, only="genai", log_level="WARNING"),
        families=[family],
        auth_settings=AuthSettings(password_profile="test"),
    )
    with TestClient(app) as c:
        auth = app.state["auth"]

        async def user() -> None:
            await auth.create_user("bench", "pass-word-123", actor="bench", role=Role.SUPERADMIN)

        c.blocking_portal.call(user)
        tok = c.post("/auth/login", json={"username": "bench", "password": "pass-word-123"}).json()[
            "access_token"
        ]
        h = {"Authorization": f"Bearer {tok}"}
        now = datetime.now(UTC).isoformat()
        with sqlite3.connect(tmp / "ridgeline.db") as db:  # a bindable ModelOps model, as ModelOps writes it
            db.execute(
                "INSERT INTO genai_models (id, name, task, origin, source, lifecycle_state, is_validation_current, "
                "last_validation_status, metadata, visibility, created_at, updated_at) VALUES "
                "('bench-m', 'bench', 'llm_inference', 'local', 'manual', 'active', 1, 'success', ?, 'private', ?, ?)",
                (json.dumps({"runtime_model_id": MODEL}), now, now),
            )
        vllm = next(
            p
            for p in c.get("/v1/platform/providers", headers=h).json()["providers"]
            if p["slug"] == "vllm-local"
        )
        dep = next(d for d in c.get("/v1/platform/deployments", headers=h).json()["deployments"]
                   if d["slug"] == "local-default")  # fmt: skip
        c.put(f"/v1/platform/deployments/{dep['id']}/bindings/llm_inference", headers=h,
              json={"provider_id": vllm["id"], "resources": [{"id": "bench-m"}], "default_resource_id": "bench-m"},
              ).raise_for_status()  # fmt: skip
        body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
        path = "/v1/models/inference"
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 80),
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()), (b"authorization", h["Authorization"].encode())],
        }  # fmt: skip

        async def one() -> None:
            sent = False

            async def receive() -> dict:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await asyncio.sleep(3600)
                return {"type": "http.disconnect"}

            status: list[int] = []

            async def send(m: dict) -> None:
                if m["type"] == "http.response.start":
                    status.append(m["status"])

            await app({**scope, "state": {}}, receive, send)
            assert status == [200], status

        statements: collections.Counter[str] = collections.Counter()

        def count(_conn, _cursor, statement, *_a) -> None:  # type: ignore[no-untyped-def]
            statements[" ".join(statement.split())[:80]] += 1

        async def run() -> None:
            for _ in range(200):  # warm caches and connections
                await one()
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                await one()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(
                f"{n} sequential inferences: wall {wall * 1000 / n:.3f} ms, process CPU {cpu * 1000 / n:.3f} ms per request"
            )
            sa.event.listen(app.state["ctx"].db.engine.sync_engine, "before_cursor_execute", count)
            t0 = time.perf_counter()
            for _ in range(1000):
                await one()
            print(
                f"SQL over 1,000 requests ({time.perf_counter() - t0:.2f} s): {sum(statements.values())} statements"
            )
            for text, k in statements.most_common():
                print(f"  {k:5d}  {text}")
            sa.event.remove(app.state["ctx"].db.engine.sync_engine, "before_cursor_execute", count)
            prof = cProfile.Profile(time.thread_time)
            prof.enable()
            for _ in range(n):
                await one()
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(top)

        c.blocking_portal.call(run)
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()

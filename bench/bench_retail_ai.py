"""Retail AI figures (issue 18). Run: ``.venv/bin/python -m bench.bench_retail_ai`` (from the project root).

1. Time to first ``text_delta`` on ``/agents/stream``: the app served by uvicorn on loopback, a real
   WebSocket client, the agent's chat provider an OpenAI-compatible fake on loopback that streams its
   answer word by word (SSE). Measured from ``send`` to the first ``text_delta`` frame; also the time
   to ``complete``. The offline (extractive, deterministic) agent is measured the same way.
2. ``POST /rag/retrieve`` latency on 10,000 indexed chunks (the local MiniLM embedder for the index
   and for each query; HNSW search in process; chunk rows read back from SQLite), in-process client,
   the app as ``--only retail`` (root paths).

``RIDGELINE_BENCH_RAG_N`` changes the chunk count; ``RIDGELINE_BENCH_TTFT_N`` the number of messages.
Figures move with the machine's load: the load average is printed with them.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _uptime() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ")[:3].__str__()
    except OSError:
        return "n/a"


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def bench_ttft(n: int) -> dict[str, float]:
    import httpx
    from tests.retail.ai.fakes import chat_app, serve, served
    from websockets.sync.client import connect

    from ridgeline.app import create_app
    from ridgeline.platform.settings import Settings

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", seed_defaults=False, log_level="WARNING")
        words = "Demand for the series rose after the promotion; the seasonal naive model tracks it best."
        with serve(chat_app([{"text": words}], words_delay=0.005)) as llm, served(create_app(settings)) as hp:
            with httpx.Client(base_url=f"http://{hp}", trust_env=False, timeout=60) as h:
                for mode in ("model", "offline"):
                    if mode == "model":
                        h.patch(
                            "/retail/config/ai",
                            json={
                                "agent_provider": "openai",
                                "agent_model": "gpt-4o-mini",
                                "openai_base_url": f"{llm.base_url}/v1",
                            },
                        )
                    else:
                        h.patch("/retail/config/ai", json={"agent_provider": "extractive"})
                    sid = h.post("/retail/agents/sessions", json={"agent_type": "rag_assistant"}).json()[
                        "session_id"
                    ]
                    first, total = [], []
                    with connect(f"ws://{hp}/retail/agents/stream") as ws:
                        for i in range(n + 3):
                            t0 = time.perf_counter()
                            ws.send(json.dumps({"session_id": sid, "message": f"how did demand move {i}?"}))
                            t_first = None
                            while True:
                                f = json.loads(ws.recv(timeout=60))
                                if f["event_type"] == "text_delta" and t_first is None:
                                    t_first = time.perf_counter() - t0
                                if f["event_type"] == "error":
                                    raise RuntimeError(f"error frame: {f}")
                                if f["event_type"] == "complete":
                                    break
                            if i >= 3 and t_first is not None:  # three warm-up messages
                                first.append(t_first * 1000)
                                total.append((time.perf_counter() - t0) * 1000)
                    out[f"{mode}_first_delta_p50_ms"] = statistics.median(first)
                    out[f"{mode}_first_delta_p99_ms"] = _pct(first, 99)
                    out[f"{mode}_complete_p50_ms"] = statistics.median(total)
    return out


def bench_retrieve(n_chunks: int, n_queries: int = 300) -> dict[str, float]:
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.platform.settings import Settings

    rng = np.random.default_rng(7)
    topics = [
        "pricing",
        "promotion",
        "inventory",
        "forecast",
        "returns",
        "staffing",
        "logistics",
        "holidays",
        "weather",
        "loyalty",
    ]
    verbs = ["raises", "lowers", "shifts", "stabilises", "doubles", "halves"]
    objects = [
        "weekend demand",
        "basket size",
        "stockouts",
        "store traffic",
        "margin",
        "lead times",
        "shelf space",
    ]
    out: dict[str, float] = {}
    per_doc = 100
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "var", seed_defaults=False, log_level="WARNING", only="retail"
        )
        with TestClient(create_app(settings)) as c:
            t0 = time.perf_counter()
            for d in range(n_chunks // per_doc):
                sections = []
                for s in range(per_doc):
                    t, v, o = rng.choice(topics), rng.choice(verbs), rng.choice(objects)
                    sections.append(
                        f"## Note {d}-{s}\n\nIn region {d % 17}, {t} {v} {o} by {rng.integers(2, 40)}% in week {s % 52}."
                    )
                r = c.post(
                    "/rag/index",
                    json={
                        "source_type": "markdown",
                        "source_path": f"bench/{d}.md",
                        "content": "\n\n".join(sections),
                    },
                )
                assert r.status_code == 200, r.text
            out["index_s"] = time.perf_counter() - t0
            total = c.get("/rag/sources").json()["total_chunks"]
            out["chunks"] = float(total)
            lat = []
            for i in range(n_queries + 10):
                q = f"how does {topics[i % len(topics)]} change {objects[i % len(objects)]}?"
                t1 = time.perf_counter()
                r = c.post("/rag/retrieve", json={"query": q, "top_k": 5, "similarity_threshold": 0.0})
                dt = (time.perf_counter() - t1) * 1000
                assert r.status_code == 200 and len(r.json()["results"]) == 5, r.text
                if i >= 10:
                    lat.append(dt)
            out["retrieve_p50_ms"] = statistics.median(lat)
            out["retrieve_p99_ms"] = _pct(lat, 99)
    return out


def main() -> None:
    n = int(os.environ.get("RIDGELINE_BENCH_TTFT_N", "30"))
    n_chunks = int(os.environ.get("RIDGELINE_BENCH_RAG_N", "10000"))
    print(f"load average before: {_uptime()}")
    ttft = bench_ttft(n)
    print("agents/stream:", {k: round(v, 2) for k, v in ttft.items()}, f"(n={n}; load {_uptime()})")
    rag = bench_retrieve(n_chunks)
    print("rag/retrieve:", {k: round(v, 2) for k, v in rag.items()}, f"(load {_uptime()})")


if __name__ == "__main__":
    main()

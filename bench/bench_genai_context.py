"""Context management figures (issue 17): documents per second through a source sync (extract, chunk,
embed, upsert) and retrieval latency on a large knowledge base, semantic and hybrid.

    .venv/bin/python bench/bench_genai_context.py sync [--docs 1000]
    .venv/bin/python bench/bench_genai_context.py retrieval [--chunks 100000] [--real 10000] [--queries 200]

Both run the genai app in process (Litestar TestClient, SQLite in a temporary directory) on the
default deployment: local MiniLM embeddings (onnxruntime, 2 threads) and the embedded vector index.

``sync``: a directory of ``--docs`` generated documents (85% Markdown, 5% each .txt, .json and text
PDFs made with reportlab; each 10-30 sentences of the AI benchmark's topic generator), one
local_directory source, one ``POST .../sources/{id}/sync`` (202), timed from the request to the job's
end. KB chunking 128/16 tokens.

``retrieval``: a KB of ``--chunks`` chunks written straight into its tables and its embedded
collection (one document per 100 chunks). Texts are generated sentences; vectors are ``--real`` real
MiniLM embeddings of the first texts, and for the rest the embedding of text ``i % real`` plus Gaussian
noise (sigma 0.02 per dimension, renormalised): embedding 100,000 texts on this shared 2-core machine
takes longer than the run budget. Latency is one ``ContextService.retrieve`` call (query embedding,
search, BM25 for hybrid, chunk rows from SQL), after one warm-up call per mode (which builds the HNSW
index and the BM25 index once). Prints p50/p99 and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.test_bench_ai_vectors import corpus  # noqa: E402

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class App:
    def __init__(self, tmp: Path, roots: Path) -> None:
        from litestar.testing import TestClient

        from ridgeline.app import create_app
        from ridgeline.genai.api import family
        from ridgeline.platform.auth import Role
        from ridgeline.platform.auth.settings import AuthSettings
        from ridgeline.platform.settings import Settings

        os.environ["CONTEXT_SOURCE_ROOTS"] = str(roots)
        settings = Settings(data_dir=tmp / "var", database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
                            seed_defaults=False, log_level="WARNING")  # fmt: skip
        self.client = TestClient(
            create_app(settings, families=[family], auth_settings=AuthSettings(password_profile="test"))
        )
        self.client.__enter__()
        auth = self.client.app.state["auth"]
        self.call(auth.create_user, "bench-su", "pass-word-123", actor="bench", role=Role.SUPERADMIN)
        tok = self.client.post(
            "/auth/login", json={"username": "bench-su", "password": "pass-word-123"}
        ).json()["access_token"]
        self.h = {"Authorization": f"Bearer {tok}"}

    @property
    def ctx(self) -> Any:
        return self.client.app.state["ctx"]

    def call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        async def run() -> Any:
            return await fn(*args, **kw)

        return self.client.blocking_portal.call(run)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        r = self.client.request(method, "/genai" + path, headers=self.h, **kw)
        assert r.status_code == status, (r.status_code, r.text)
        return r.json()

    def make_kb(self, name: str, length: int, overlap: int) -> dict[str, Any]:
        ids = {p["slug"]: p["id"] for p in self.ok("GET", "/v1/platform/providers")["providers"]}
        return self.ok("POST", "/v1/context/knowledge-bases", 201, json={
            "name": name, "provider_instance_id": ids["ridgeline-embedded-vector-index"],
            "vectorization": {"mode": "vanessa_embeddings", "embedding_model_id": MINILM,
                              "embedding_provider_instance_id": ids["ridgeline-local-embeddings"]},
            "chunking": {"strategy": "fixed_length", "chunk_length": length, "chunk_overlap": overlap}})["knowledge_base"]  # fmt: skip

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def _pdf(text: str) -> bytes:
    import io
    import textwrap

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    y = 800
    for line in textwrap.wrap(text, 95):
        if y < 40:
            c.showPage()
            y = 800
        c.drawString(30, y, line)
        y -= 13
    c.showPage()
    c.save()
    return buf.getvalue()


def _stage_timers(svc: Any) -> dict[str, float]:
    """Wall time spent embedding, extracting, chunking and upserting during the sync (the service
    instance the job uses, so its methods are wrapped in place)."""
    import ridgeline.ai as ai
    from ridgeline.genai.context import sync

    t: dict[str, float] = {"embed": 0.0, "extract": 0.0, "chunk": 0.0, "vector_upsert": 0.0}

    def wrap_async(obj: Any, name: str, key: str) -> None:
        f = getattr(obj, name)

        async def w(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await f(*a, **k)
            finally:
                t[key] += time.perf_counter() - t0

        setattr(obj, name, w)

    def wrap_sync(mod: Any, name: str, key: str) -> None:
        f = getattr(mod, name)

        def w(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                t[key] += time.perf_counter() - t0

        setattr(mod, name, w)

    wrap_async(svc, "_embed", "embed")
    wrap_async(svc, "_upsert_vectors", "vector_upsert")
    wrap_sync(sync, "_extract", "extract")
    wrap_sync(ai, "chunk", "chunk")
    return t


def bench_sync(n_docs: int) -> None:
    from ridgeline.genai.context.service import ContextService

    rng = random.Random(7)
    sentences = corpus(n_docs * 30, seed=11)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = tmp / "roots" / "corpus"
        src.mkdir(parents=True)
        pos = 0
        total_bytes = 0
        for i in range(n_docs):
            k = rng.randint(10, 30)
            text = " ".join(sentences[pos : pos + k])
            pos += k
            kind = rng.random()
            if kind < 0.85:
                p, data = src / f"doc{i:05d}.md", f"# Note {i}\n\n{text}\n".encode()
            elif kind < 0.90:
                p, data = src / f"doc{i:05d}.txt", text.encode()
            elif kind < 0.95:
                p, data = src / f"doc{i:05d}.json", json.dumps({"id": i, "body": text}).encode()
            else:
                p, data = src / f"doc{i:05d}.pdf", _pdf(text)
            p.write_bytes(data)
            total_bytes += len(data)
        app = App(tmp, tmp / "roots")
        try:
            kb = app.make_kb("bench-sync", 128, 16)
            s = app.ok(
                "POST", f"/v1/context/knowledge-bases/{kb['id']}/sources", 201, json={"path": str(src)}
            )["source"]
            from ridgeline.ai import Embedder

            Embedder.local().embed(["warm-up"])  # the ONNX graph is built once per data dir; not sync work
            stages = _stage_timers(app.ctx.service(ContextService))
            load0 = _load()
            t0 = time.perf_counter()
            run = app.ok("POST", f"/v1/context/knowledge-bases/{kb['id']}/sources/{s['id']}/sync", 202)[
                "sync_run"
            ]
            app.call(app.ctx.jobs.wait, run["job_id"], 3600)
            dt = time.perf_counter() - t0
            runs = app.ok("GET", f"/v1/context/knowledge-bases/{kb['id']}/sync-runs")["sync_runs"]
            c = runs[0]["counters"]
            assert runs[0]["status"] == "ready", runs[0]
            print(f"sync: {n_docs} documents ({total_bytes / 1e6:.2f} MB), {c['chunks_written']} chunks "
                  f"in {dt:.1f} s = {n_docs / dt:.1f} docs/s, {c['chunks_written'] / dt:.0f} chunks/s; "
                  f"created {c['documents_created']}, failed {c['files_failed']}; {load0} before, {_load()} after")  # fmt: skip
            rest = dt - stages["embed"]
            print("sync stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
                  + f"; everything but embedding {rest:.1f} s = {n_docs / rest:.0f} docs/s")  # fmt: skip
        finally:
            app.close()


def bench_retrieval(n_chunks: int, n_real: int, n_queries: int) -> None:
    from ridgeline.ai import Embedder
    from ridgeline.genai.context import store as C
    from ridgeline.genai.context.service import ContextService

    texts = corpus(n_chunks, seed=21)
    emb = Embedder.local(threads=2)
    t0 = time.perf_counter()
    real = emb.embed(texts[:n_real])
    t_embed = time.perf_counter() - t0
    rng = np.random.default_rng(5)
    vecs = np.empty((n_chunks, real.shape[1]), dtype=np.float32)
    vecs[:n_real] = real
    if n_chunks > n_real:
        base = real[np.arange(n_real, n_chunks) % n_real]
        noisy = base + rng.normal(0, 0.02, size=base.shape).astype(np.float32)
        vecs[n_real:] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    print(
        f"retrieval: {n_real} real embeddings in {t_embed:.1f} s ({n_real / t_embed:.0f} texts/s); {_load()}"
    )
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "roots").mkdir()
        app = App(tmp, tmp / "roots")
        try:
            kb = app.make_kb("bench-retrieval", 256, 32)
            svc: ContextService = app.ctx.service(ContextService)
            now = datetime.now(UTC)
            per_doc = 100

            async def write() -> None:
                async with app.ctx.db.begin() as conn:
                    docs = [{"id": f"d{j:06d}", "knowledge_base_id": kb["id"], "title": f"Doc {j}", "source_type": "manual",
                             "media_type": "text/plain", "content": "", "content_hash": "", "metadata": {},
                             "chunk_count": per_doc, "created_at": now, "updated_at": now}
                            for j in range((n_chunks + per_doc - 1) // per_doc)]  # fmt: skip
                    await conn.execute(C.documents.insert(), docs)
                    for s in range(0, n_chunks, 10_000):
                        await conn.execute(C.chunks.insert(), [
                            {"id": f"d{i // per_doc:06d}:{i % per_doc}", "document_id": f"d{i // per_doc:06d}",
                             "knowledge_base_id": kb["id"], "chunk_index": i % per_doc, "text": texts[i],
                             "token_count": 20, "char_start": 0, "char_end": len(texts[i])}
                            for i in range(s, min(s + 10_000, n_chunks))])  # fmt: skip
                    await svc._recount(conn, kb["id"])
                vc = await svc.platform._embedded_vectors()
                name = svc._collection(kb)
                await vc.create(name, vecs.shape[1], "cosine")
                for s in range(0, n_chunks, 10_000):
                    ids = [f"d{i // per_doc:06d}:{i % per_doc}" for i in range(s, min(s + 10_000, n_chunks))]
                    meta = [{"knowledge_base_id": kb["id"]} for _ in ids]
                    await vc.upsert(name, ids, vecs[s : s + len(ids)], meta, texts[s : s + len(ids)])

            t0 = time.perf_counter()
            app.call(write)
            print(
                f"retrieval: wrote {n_chunks} chunks + vectors in {time.perf_counter() - t0:.1f} s; {_load()}"
            )
            queries = corpus(n_queries, seed=99)
            for mode in ("semantic", "hybrid"):
                t0 = time.perf_counter()
                app.call(svc.retrieve, kb["id"], queries[0], top_k=5, mode=mode)
                print(f"retrieval: {mode} warm-up (index build) {time.perf_counter() - t0:.1f} s")
                lat = []
                load0 = _load()
                for q in queries:
                    t = time.perf_counter()
                    hits = app.call(svc.retrieve, kb["id"], q, top_k=5, mode=mode)
                    lat.append(time.perf_counter() - t)
                    assert len(hits) == 5
                ms = np.asarray(lat) * 1e3
                print(f"retrieval {mode}: {n_chunks} chunks, {n_queries} queries, top 5: p50 {np.percentile(ms, 50):.1f} ms, "
                      f"p99 {np.percentile(ms, 99):.1f} ms, mean {ms.mean():.1f} ms; {load0} before, {_load()} after")  # fmt: skip
            # the same through HTTP, for the framework's share
            lat = []
            for q in queries[:50]:
                t = time.perf_counter()
                app.ok("POST", f"/v1/context/knowledge-bases/{kb['id']}/query", json={"query": q, "top_k": 5})
                lat.append(time.perf_counter() - t)
            ms = np.asarray(lat) * 1e3
            print(
                f"retrieval hybrid over HTTP (TestClient): p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"
            )
        finally:
            app.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("sync")
    s.add_argument("--docs", type=int, default=1000)
    r = sub.add_parser("retrieval")
    r.add_argument("--chunks", type=int, default=100_000)
    r.add_argument("--real", type=int, default=10_000)
    r.add_argument("--queries", type=int, default=200)
    a = ap.parse_args()
    if a.what == "sync":
        bench_sync(a.docs)
    else:
        bench_retrieval(a.chunks, a.real, a.queries)


if __name__ == "__main__":
    main()

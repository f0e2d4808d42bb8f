"""Local embeddings: texts/s of ``Embedder.local()`` (onnxruntime, 2 threads) against the independent
plain-numpy BERT forward pass in tests/ai/bert_reference.py, side by side in one run, on

1. 1,000 passages of about 200 word pieces, and
2. 10,000 distinct short queries (3-9 words, ~8 word pieces with [CLS]/[SEP]).

Goal: >= 1,500 short queries/s on 2 cores. Both sides sort by length and pad per batch. The reference
runs OpenBLAS on one thread (measured faster than two on this shared machine: its spinning threads
collapse under load) and is timed once per workload, ours three times (median).

Run: ``.venv/bin/python -m pytest bench/test_bench_ai_embed.py -s -p no:cacheprovider``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from tests.ai.bert_reference import NumpyMiniLM
from tests.ai.corpus import passages, short_queries

from ridgeline.ai import Embedder
from ridgeline.ai.embeddings import model_dir

THREADS = int(os.environ.get("RIDGELINE_AI_THREADS", "2"))
results: dict[str, float] = {}
outputs: dict[str, np.ndarray] = {}


@pytest.fixture(scope="module")
def ours() -> Embedder:
    return Embedder.local(threads=THREADS)


@pytest.fixture(scope="module")
def reference() -> NumpyMiniLM:
    return NumpyMiniLM(model_dir(), dtype=np.float32)


@pytest.fixture(scope="module")
def workloads(ours: Embedder) -> dict[str, list[str]]:
    p = passages(1000)
    q = short_queries(10_000)
    results["passage_tokens"] = float(np.mean([len(x) for x in ours.tokenize(p)]))
    results["query_tokens"] = float(np.mean([len(x) for x in ours.tokenize(q)]))
    return {"passages": p, "queries": q}


@pytest.mark.parametrize("workload", ["passages", "queries"])
def test_ours(benchmark, ours: Embedder, workloads, workload: str) -> None:  # type: ignore[no-untyped-def]
    texts = workloads[workload]
    out = benchmark.pedantic(lambda: ours.embed(texts), rounds=3, warmup_rounds=1, iterations=1)
    results[f"ours_{workload}"] = len(texts) / benchmark.stats.stats.median
    outputs[f"ours_{workload}"] = out


@pytest.mark.parametrize("workload", ["passages", "queries"])
def test_reference(benchmark, reference: NumpyMiniLM, workloads, workload: str) -> None:  # type: ignore[no-untyped-def]
    texts = workloads[workload]
    out = benchmark.pedantic(lambda: reference.embed(texts, batch_size=64), rounds=1, iterations=1)
    results[f"ref_{workload}"] = len(texts) / benchmark.stats.stats.median
    outputs[f"ref_{workload}"] = out


def test_report() -> None:
    print(f"\nlocal embeddings (all-MiniLM-L6-v2), ours with {THREADS} threads; load {os.getloadavg()}")
    for w, label in (("passages", "1,000 passages"), ("queries", "10,000 short queries")):
        tok = results.get(f"{'passage' if w == 'passages' else 'query'}_tokens", float("nan"))
        ours, ref = results.get(f"ours_{w}"), results.get(f"ref_{w}")
        line = f"  {label} (~{tok:.0f} word pieces):"
        if ours:
            line += f" ours {ours:.0f} texts/s"
        if ref:
            line += f", numpy reference {ref:.0f} texts/s"
        if ours and ref:
            line += f", ratio {ours / ref:.1f}x"
        if f"ours_{w}" in outputs and f"ref_{w}" in outputs:
            cos = (outputs[f"ours_{w}"] * outputs[f"ref_{w}"]).sum(1)
            line += f", min cosine {cos.min():.6f}"
        print(line)

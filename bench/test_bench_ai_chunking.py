"""Token chunking throughput: ``ridgeline.ai.chunk`` (256-token windows, 32 overlap, with character
offsets) side by side with langchain-text-splitters' ``TokenTextSplitter`` on the same tiktoken
encoding, on ~4 MB of generated mixed text (English-like words, numbers, punctuation, some accented
and CJK text, paragraphs).

Peers:
* ``langchain``: ``TokenTextSplitter.split_text`` (chunk strings only, no offsets).
* ``langchain+offsets``: ``create_documents(add_start_index=True)``, langchain's way to get offsets
  (``str.find`` of each decoded chunk); the bench also counts the chunks whose offset is wrong (a
  window boundary inside a multi-byte character decodes to U+FFFD, which ``find`` cannot locate).

The langchain splitter gets its encoding through tiktoken's own loader from a cache directory seeded
with our hash-verified files (no download). Figures: MB/s of input and chunks/s, median of 3 rounds,
printed by the last test with the ratios.

Run: ``scripts/bench.sh bench/test_bench_ai_chunking.py``.
"""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from ridgeline.ai import chunk
from ridgeline.ai.tokens import ENCODINGS, find_encoding_file, get_tokenizer

LENGTH, OVERLAP = 256, 32
results: dict[str, dict[str, float]] = {}
_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


@pytest.fixture(scope="module")
def corpus() -> str:
    rng = np.random.default_rng(7)
    syll = ["ra", "ti", "lo", "ne", "ka", "mu", "der", "ion", "st", "ve", "qu", "ph", "é", "ü", "ñ"]
    vocab = ["".join(rng.choice(syll, rng.integers(1, 4))) for _ in range(4000)]
    vocab += ["東京", "貨物", "ルート", "Straße", "naïve", "2026-12-01", "42.5", "kWh", "(ID-7731)"]
    paras = []
    size = 0
    while size < 4_000_000:
        words = rng.choice(vocab, rng.integers(40, 160))
        text = " ".join(words)
        text = text.replace(" ra ", ", ra ").replace(" ti ", ". Ti ")
        paras.append(text[0].upper() + text[1:] + ".")
        size += len(text) + 2
    return "\n\n".join(paras)


@pytest.fixture(scope="module")
def tiktoken_cache(tmp_path_factory, monkeypatch_module):
    d = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in _URLS.items():
        shutil.copy(find_encoding_file(name), d / hashlib.sha1(url.encode()).hexdigest())
    monkeypatch_module.setenv("TIKTOKEN_CACHE_DIR", str(d))
    return d


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _record(benchmark, name: str, nbytes: int, fn):
    out = benchmark.pedantic(fn, rounds=3, warmup_rounds=1, iterations=1)
    t = benchmark.stats.stats.median
    results[name] = {"seconds": t, "mb_s": nbytes / t / 1e6, "chunks_s": len(out) / t, "chunks": len(out)}
    return out


@pytest.mark.parametrize("enc", list(ENCODINGS))
def test_ridgeline_chunk(benchmark, corpus, enc):
    get_tokenizer(enc)  # load outside the timing
    out = _record(
        benchmark, f"ridgeline/{enc}", len(corpus.encode()), lambda: chunk(corpus, enc, LENGTH, OVERLAP)
    )
    assert all(corpus[c.start : c.end] == c.text for c in out)


@pytest.mark.parametrize("enc", list(ENCODINGS))
def test_langchain_split_text(benchmark, corpus, tiktoken_cache, enc):
    from langchain_text_splitters import TokenTextSplitter

    sp = TokenTextSplitter(encoding_name=enc, chunk_size=LENGTH, chunk_overlap=OVERLAP)
    out = _record(benchmark, f"langchain/{enc}", len(corpus.encode()), lambda: sp.split_text(corpus))
    ours = chunk(corpus, enc, LENGTH, OVERLAP)
    assert len(out) == len(ours)  # same windows


@pytest.mark.parametrize("enc", list(ENCODINGS))
def test_langchain_with_offsets(benchmark, corpus, tiktoken_cache, enc):
    from langchain_text_splitters import TokenTextSplitter

    sp = TokenTextSplitter(encoding_name=enc, chunk_size=LENGTH, chunk_overlap=OVERLAP, add_start_index=True)
    docs = _record(
        benchmark, f"langchain+offsets/{enc}", len(corpus.encode()), lambda: sp.create_documents([corpus])
    )
    wrong = sum(
        1
        for d in docs
        if d.metadata["start_index"] < 0
        or corpus[d.metadata["start_index"] : d.metadata["start_index"] + len(d.page_content)]
        != d.page_content
    )
    results[f"langchain+offsets/{enc}"]["wrong_offsets"] = wrong


def test_report(corpus):
    import sys

    mb = len(corpus.encode()) / 1e6
    lines = [f"\nchunking {mb:.2f} MB, chunk_length={LENGTH}, chunk_overlap={OVERLAP} (median of 3)"]
    lines.append(f"{'impl':<32} {'MB/s':>8} {'chunks/s':>10} {'chunks':>7}  ratio (ridgeline / peer)")
    for name, r in sorted(results.items()):
        enc = name.split("/")[1]
        ours = results.get(f"ridgeline/{enc}")
        ratio = f"{r['seconds'] / ours['seconds']:.2f}x" if ours and not name.startswith("ridgeline") else ""
        extra = f"  wrong offsets: {int(r['wrong_offsets'])}" if "wrong_offsets" in r else ""
        lines.append(f"{name:<32} {r['mb_s']:>8.2f} {r['chunks_s']:>10.0f} {r['chunks']:>7}  {ratio}{extra}")
    print("\n".join(lines), file=sys.stderr)

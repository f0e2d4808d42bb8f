"""``ridgeline.ai``: the AI layer as an embeddable engine (no server, no database, no network by
default): embeddings, vector and keyword search, tokenizers, chunking, extraction, providers.

Names are resolved lazily (PEP 562), so ``import ridgeline.ai`` stays cheap: tiktoken, tokenizers,
pypdf, httpx, onnxruntime and usearch load on first use of what needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> submodule that defines it
_LAZY: dict[str, str] = {
    # tokenizers and chunking
    "count_tokens": "ridgeline.ai.tokens",
    "encode": "ridgeline.ai.tokens",
    "decode": "ridgeline.ai.tokens",
    "encoding_for_model": "ridgeline.ai.tokens",
    "get_tokenizer": "ridgeline.ai.tokens",
    "Tokenizer": "ridgeline.ai.tokens",
    "TokenizerError": "ridgeline.ai.tokens",
    "chunk": "ridgeline.ai.chunking",
    "Chunk": "ridgeline.ai.chunking",
    "ChunkingError": "ridgeline.ai.chunking",
    # extraction
    "extract": "ridgeline.ai.extraction",
    "Document": "ridgeline.ai.extraction",
    "ExtractionError": "ridgeline.ai.extraction",
    # providers
    "Provider": "ridgeline.ai.providers",
    "ProviderError": "ridgeline.ai.providers",
    "Message": "ridgeline.ai.providers",
    "Tool": "ridgeline.ai.providers",
    "ToolCall": "ridgeline.ai.providers",
    "ChatResponse": "ridgeline.ai.providers",
    "ChatChunk": "ridgeline.ai.providers",
    "Embeddings": "ridgeline.ai.providers",
    "ModelInfo": "ridgeline.ai.providers",
    "Usage": "ridgeline.ai.providers",
    "RetryPolicy": "ridgeline.ai.providers",
    "OpenAICompatibleProvider": "ridgeline.ai.providers",
    "AnthropicProvider": "ridgeline.ai.providers",
    "GeminiProvider": "ridgeline.ai.providers",
    "OllamaProvider": "ridgeline.ai.providers",
    "ExtractiveProvider": "ridgeline.ai.providers",
    "mask_secret": "ridgeline.ai.providers",
    "create_provider": "ridgeline.ai.providers",
    # embeddings, vector and keyword search
    "Embedder": "ridgeline.ai.embeddings",
    "EmbeddingModelError": "ridgeline.ai.embeddings",
    "VectorIndex": "ridgeline.ai.vectors.hnsw",
    "Hit": "ridgeline.ai.vectors.base",
    "VectorStore": "ridgeline.ai.vectors.base",
    "VectorStoreError": "ridgeline.ai.vectors.base",
    "KeywordIndex": "ridgeline.ai.keyword",
    "hybrid_search": "ridgeline.ai.keyword",
    "reciprocal_rank_fusion": "ridgeline.ai.keyword",
}

__all__ = [
    "AnthropicProvider",
    "ChatChunk",
    "ChatResponse",
    "Chunk",
    "ChunkingError",
    "Document",
    "Embedder",
    "EmbeddingModelError",
    "Embeddings",
    "ExtractionError",
    "ExtractiveProvider",
    "GeminiProvider",
    "Hit",
    "KeywordIndex",
    "Message",
    "ModelInfo",
    "OllamaProvider",
    "OpenAICompatibleProvider",
    "Provider",
    "ProviderError",
    "RetryPolicy",
    "Tokenizer",
    "TokenizerError",
    "Tool",
    "ToolCall",
    "Usage",
    "VectorIndex",
    "VectorStore",
    "VectorStoreError",
    "chunk",
    "count_tokens",
    "create_provider",
    "decode",
    "encode",
    "encoding_for_model",
    "extract",
    "get_tokenizer",
    "hybrid_search",
    "mask_secret",
    "reciprocal_rank_fusion",
]

if TYPE_CHECKING:
    from ridgeline.ai.chunking import Chunk, ChunkingError, chunk
    from ridgeline.ai.embeddings import Embedder, EmbeddingModelError
    from ridgeline.ai.extraction import Document, ExtractionError, extract
    from ridgeline.ai.keyword import KeywordIndex, hybrid_search, reciprocal_rank_fusion
    from ridgeline.ai.providers import (
        AnthropicProvider,
        ChatChunk,
        ChatResponse,
        Embeddings,
        ExtractiveProvider,
        GeminiProvider,
        Message,
        ModelInfo,
        OllamaProvider,
        OpenAICompatibleProvider,
        Provider,
        ProviderError,
        RetryPolicy,
        Tool,
        ToolCall,
        Usage,
        create_provider,
        mask_secret,
    )
    from ridgeline.ai.tokens import (
        Tokenizer,
        TokenizerError,
        count_tokens,
        decode,
        encode,
        encoding_for_model,
        get_tokenizer,
    )
    from ridgeline.ai.vectors.base import Hit, VectorStore, VectorStoreError
    from ridgeline.ai.vectors.hnsw import VectorIndex


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ridgeline.ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

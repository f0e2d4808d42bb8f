"""Chat, embedding and model-listing providers behind one interface (:class:`Provider`)."""

from ridgeline.ai.providers.anthropic import AnthropicProvider
from ridgeline.ai.providers.base import (
    ChatChunk,
    ChatResponse,
    Embeddings,
    HTTPProvider,
    Message,
    ModelInfo,
    Provider,
    ProviderError,
    RetryPolicy,
    Secret,
    Tool,
    ToolCall,
    Usage,
    mask_secret,
)
from ridgeline.ai.providers.extractive import ExtractiveProvider
from ridgeline.ai.providers.gemini import GeminiProvider
from ridgeline.ai.providers.ollama import OllamaProvider
from ridgeline.ai.providers.openai import OpenAICompatibleProvider

PROVIDER_KINDS: dict[str, type[Provider]] = {
    "openai_compatible": OpenAICompatibleProvider,
    "anthropic": AnthropicProvider,
    "gemini": GeminiProvider,
    "ollama": OllamaProvider,
    "extractive": ExtractiveProvider,
}


def create_provider(kind: str, **options: object) -> Provider:
    """A provider from stored configuration: ``kind`` is one of :data:`PROVIDER_KINDS`; ``options`` are
    the class's constructor arguments (``base_url``, ``api_key``, ``default_model``, ``timeout``, ...)."""
    cls = PROVIDER_KINDS.get(kind)
    if cls is None:
        raise ProviderError(
            "bad_request", f"unknown provider kind {kind!r}; known: {', '.join(PROVIDER_KINDS)}"
        )
    try:
        return cls(**options)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ProviderError("bad_request", f"{kind}: {exc}", provider=kind) from None


__all__ = [
    "PROVIDER_KINDS",
    "AnthropicProvider",
    "ChatChunk",
    "ChatResponse",
    "Embeddings",
    "ExtractiveProvider",
    "GeminiProvider",
    "HTTPProvider",
    "Message",
    "ModelInfo",
    "OllamaProvider",
    "OpenAICompatibleProvider",
    "Provider",
    "ProviderError",
    "RetryPolicy",
    "Secret",
    "Tool",
    "ToolCall",
    "Usage",
    "create_provider",
    "mask_secret",
]

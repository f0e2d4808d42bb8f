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

__all__ = [
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
    "mask_secret",
]

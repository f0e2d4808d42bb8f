"""Settings of the genai control plane: the contract's own environment names (no ``RIDGELINE_``
prefix, as contract 004 names them), read with :func:`ridgeline.platform.settings.load_env_struct`.

| variable | what bootstrap does with it |
|---|---|
| LLM_URL | llm_inference of `local-default` (OpenAI-compatible, family `vllm_local`) |
| LLM_INFERENCE_RUNTIME_URL | the same, preferred over LLM_URL |
| LLM_EMBEDDINGS_RUNTIME_URL | embeddings of `local-default` (OpenAI-compatible, family `vllm_embeddings_local`) |
| WEAVIATE_URL | vector_store of `local-default` (family `weaviate_local`) |
| LLAMA_CPP_URL | a `local-llama-cpp` deployment with a `llama_cpp_local` provider |
| QDRANT_URL | a `local-qdrant` deployment with a `qdrant_local` provider |
| SANDBOX_URL | a `sandbox_local` provider, bound as optional sandbox_execution into local deployments |
| MCP_GATEWAY_URL | a `mcp_gateway_local` provider, bound as mcp_runtime into local deployments |
| GENAI_PROVIDER_TIMEOUT_S | timeout of one validation / dispatch call to a provider (seconds, default 30) |
| GENAI_RESOLUTION_RECHECK_S | how often a worker re-reads the control-plane version counter behind its cached active-binding resolution (seconds, default 0.25; 0 = every dispatch) |

Unset, each capability of `local-default` uses the embedded family (local embeddings, embedded vector
index, offline extractive chat), so the default deployment needs no external service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec

from ridgeline.platform.settings import load_env_struct


class PlatformSettings(msgspec.Struct, frozen=True, kw_only=True):
    llm_url: str | None = None
    llm_inference_runtime_url: str | None = None
    llm_embeddings_runtime_url: str | None = None
    weaviate_url: str | None = None
    llama_cpp_url: str | None = None
    qdrant_url: str | None = None
    sandbox_url: str | None = None
    mcp_gateway_url: str | None = None
    genai_provider_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=600)] = 30.0
    # how stale a worker's cached active-binding resolution may be after another worker's write
    genai_resolution_recheck_s: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.25

    def validate(self) -> None:
        from urllib.parse import urlsplit

        from ridgeline.platform.settings import SettingsError

        for name in ("llm_url", "llm_inference_runtime_url", "llm_embeddings_runtime_url", "weaviate_url",
                     "llama_cpp_url", "qdrant_url", "sandbox_url", "mcp_gateway_url"):  # fmt: skip
            value = getattr(self, name)
            if value is None:
                continue
            try:
                u = urlsplit(value)
                ok = u.scheme in ("http", "https") and bool(u.hostname)
                u.port  # noqa: B018  (raises on a bad port)
            except ValueError:
                ok = False
            if not ok:
                raise SettingsError(f"{name.upper()} must be an http(s) URL, got {value!r}")

    @property
    def inference_url(self) -> str | None:
        return self.llm_inference_runtime_url or self.llm_url


def load_platform_settings(env: Mapping[str, str] | None = None, **overrides: object) -> PlatformSettings:
    return load_env_struct(PlatformSettings, "", env, **overrides)


class GenaiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The genai family's settings check (``Family.settings``): it has no fields of its own, and its
    ``validate()`` reads every genai variable the way its module will (the control plane's
    :class:`PlatformSettings`, the execution proxy's ``AGENT_*`` variables, ModelOps' ``MODELOPS_*``
    / ``HF_*``), so ``ridgeline serve`` exits 2 with one line naming a bad variable instead of a
    503 at first use. The modules still read their own Structs (they are validated by then)."""

    def validate(self) -> None:
        import os
        from pathlib import Path

        from ridgeline.genai.api.executions import ExecutionSettings
        from ridgeline.genai.hub import ModelOpsSettings
        from ridgeline.platform.settings import SettingsError

        load_platform_settings()
        load_env_struct(ExecutionSettings, "")
        try:
            ModelOpsSettings.from_env(Path(os.environ.get("RIDGELINE_DATA_DIR") or "./var"))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

from __future__ import annotations

import subprocess
import sys

HEAVY = ["tiktoken", "tokenizers", "pypdf", "httpx", "qdrant_client", "yaml", "reportlab"]


def _loaded_after(stmt: str) -> set[str]:
    code = f"import sys\n{stmt}\nprint(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_ridgeline_ai_is_cheap():
    assert _loaded_after("import ridgeline.ai") == set()
    # the provider types themselves do not need httpx until a client is made
    assert _loaded_after("from ridgeline.ai import Message, ToolCall, mask_secret") == set()


def test_lazy_names_resolve():
    import ridgeline.ai as ai

    for name in ai.__all__:
        assert getattr(ai, name) is not None
    assert "chunk" in dir(ai)
    loaded = _loaded_after("from ridgeline.ai import count_tokens; count_tokens('x')")
    assert "tiktoken" in loaded and "httpx" not in loaded

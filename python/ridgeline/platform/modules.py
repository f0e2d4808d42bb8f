"""Optional modules: families add their HTTP layer (``api``) and CLI (``cli``) as they are built."""

from __future__ import annotations

import importlib.util


def module_exists(name: str) -> bool:
    """True when ``name`` can be imported (False when it or any parent package is absent)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False

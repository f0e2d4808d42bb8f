"""The retail family's HTTP layer (contract 002): one module per URL prefix (see
:mod:`ridgeline.retail.api.declaration`).

Errors are RFC 7807 ``application/problem+json``; request validation errors are 422 (as the
contract's FastAPI origin answers), date-range violations 400.

The declaration lives in :mod:`ridgeline.retail.api.declaration` and loads on first access to
``family`` (PEP 562), so importing the wire types (``ridgeline.retail.api.schemas``) loads neither
Litestar nor SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

# Only these load the declaration; any other name (``schemas``, ``store`` ...) is a submodule, which
# ``from ridgeline.retail.api import schemas`` must import without loading the family.
_EXPORTS = frozenset({"family", "seed_defaults"})


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("ridgeline.retail.api.declaration"), name)

"""The autopack family's tables (on the platform's shared metadata) and its queries."""

from __future__ import annotations

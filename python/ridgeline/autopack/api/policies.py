"""Who may call each autopack route (contract 003): one place, so the table in docs/autopack.md and
the handlers cannot drift apart.

- ``KEYED``: "Requires X-API-Key" (``AUTOPACK_API_KEY``, or a platform API key with scope
  ``autopack``). Contract 003 section 10's rule applies (``Policy.operator(read=False)``):
  production always requires it; development requires it once a key is configured.
- ``OPERATOR_READ``: section 10's reads: production requires the key; development with
  ``AUTOPACK_PUBLIC_READ=1`` is public; development otherwise requires it once a key is configured.
- ``START``: ``KEYED`` plus 10 requests a minute per client IP, counted in the shared store (all
  workers together).
- Every other route is public (the family's default policy).
"""

from __future__ import annotations

from ridgeline.platform.auth.policy import Policy

ENVIRONMENT = "autopack"
SCOPE = "autopack"
KEYED = Policy.operator(ENVIRONMENT, read=False, scope=SCOPE)
OPERATOR_READ = Policy.operator(ENVIRONMENT, read=True, scope=SCOPE)
START = KEYED.limited("autopack:runs_start", 10, 60)
PUBLIC = Policy.public()

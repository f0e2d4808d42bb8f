"""Playground orchestration (no Litestar): one layer that answers a message in a chat or knowledge
session, through the control plane's inference path (:class:`ridgeline.genai.runtime.PlatformService`)
and, for knowledge sessions, the context service's retrieval. See :mod:`.orchestration`."""

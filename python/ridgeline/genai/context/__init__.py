"""Context management (contract 004, issue 17): knowledge bases, schema profiles, directory sources,
documents, sync runs and retrieval. ``service.ContextService`` holds the behaviour, ``store`` the
tables, ``sync`` the local-directory ingestion, ``retrieval`` the shared result types; the HTTP layer
is ``ridgeline.genai.api.context``. See docs/genai-context.md."""

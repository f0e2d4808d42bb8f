"""Autopack: the control plane for autonomous build runs (contract 003). Engines (patch application,
storage scans, Steam library parsing, upload sniffing) live beside ``api/`` and import no Litestar."""

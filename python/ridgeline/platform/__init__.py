"""Shared machinery for every HTTP family: settings, database, jobs, errors, artifacts, observability.

Engines (`ridgeline.routing`, `ridgeline.sim`, `ridgeline.retail`) import only the light modules
(`problems` for EngineError/NotFound, `hashing` for SHA-256; stdlib and msgspec only), never the
server-side ones; the families' `api` packages use the rest. The platform imports no family module:
families declare themselves (`family.Family`) and the composer (`ridgeline.app`, `ridgeline.cli`)
wires them in.
"""

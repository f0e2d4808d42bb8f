"""Shared machinery for every HTTP family: settings, database, jobs, errors, artifacts, observability.

Engines (`ridgeline.routing`, `ridgeline.sim`, `ridgeline.retail`) never import this package's
server-side modules; the families' `api` packages do.
"""

"""ModelOps (contract 004, ``/v1/modelops/*``): managed models and their life cycle
(``modelops_models``), credentials, catalog and sharing (``modelops_credentials``), hub discovery
and downloads (``modelops_discovery``). Tables: ``store`` (models, credentials) and
``modelops_store``; the control plane is read through ``ridgeline.genai.modelops_runtimes.HOOKS``."""

from __future__ import annotations

from ridgeline.genai.api import modelops_credentials, modelops_discovery, modelops_models

ROUTES: list[object] = [*modelops_models.ROUTES, *modelops_credentials.ROUTES, *modelops_discovery.ROUTES]

"""GenAI: the control plane for capabilities, providers, deployments, ModelOps and the catalog
(contract 004). Engines live beside ``api/`` and import no Litestar; the AI work itself is
:mod:`ridgeline.ai`."""

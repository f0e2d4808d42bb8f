"""The genai family's declaration (contract 004): mounted under ``/genai`` (or at the root with
``ridgeline serve --only genai``). One module per URL group of the seed (``platform``, ``modelops``,
``catalog``, ``registry``, ``runtime``, ``executions``, ``policy``, ``quotes``, ``content``,
``voice``, later ``context``, ``playgrounds``, ``agent_projects``); tables in ``store``; reason
codes in ``errors``.

Errors are FastAPI-style ``{"detail", "reason_code", "request_id"}``. Roles are the seed's
(authenticated, admin, superadmin, owner-or-superadmin, public) mapped onto the platform's
``Role`` (user < admin < superadmin) with ``Policy.bearer()`` / ``Policy.role(...)`` /
``Policy.owner_or_role(...)`` / ``Policy.public()`` on each route.
"""

from __future__ import annotations

from ridgeline.genai.api import store  # noqa: F401  (tables on the shared metadata)
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_fastapi_detail

ROUTES: list[object] = []

# ---- genai-catalog: voice, registry, typed catalog, policy rules, quotes, content, agent executions ----
from ridgeline.genai.api import catalog, content, executions, policy, quotes, registry, voice  # noqa: E402

for _module in (voice, registry, catalog, policy, quotes, content, executions):
    ROUTES.extend(_module.ROUTES)
# ---- ModelOps (/v1/modelops/*; hooks to the control plane: ridgeline.genai.modelops_runtimes.HOOKS)
from ridgeline.genai.api import modelops_store  # noqa: E402, F401  (its tables on the shared metadata)
from ridgeline.genai.api.modelops import ROUTES as MODELOPS_ROUTES  # noqa: E402

ROUTES += MODELOPS_ROUTES
# -- control plane (genai-platform): runtime profile, /v1/platform/*, /v1/models/{inference,generate}
from ridgeline.genai.api import inference as _inference  # noqa: E402
from ridgeline.genai.api import platform as _platform  # noqa: E402
from ridgeline.genai.api import platform_deployments as _platform_deployments  # noqa: E402
from ridgeline.genai.api import platform_proof as _platform_proof  # noqa: E402
from ridgeline.genai.api import platform_store  # noqa: E402,F401  (tables on the shared metadata)
from ridgeline.genai.api import runtime as _runtime  # noqa: E402
from ridgeline.genai.bootstrap import bootstrap as _platform_bootstrap  # noqa: E402
from ridgeline.genai.runtime import PlatformService, install_modelops_hooks  # noqa: E402
from ridgeline.genai.settings import GenaiSettings, load_platform_settings  # noqa: E402

ROUTES += [*_runtime.ROUTES, *_platform.ROUTES, *_platform_deployments.ROUTES, *_platform_proof.ROUTES,
           *_inference.ROUTES]  # fmt: skip


async def _start_platform(ctx: AppContext, _settings: None) -> PlatformService:
    svc = PlatformService(ctx, load_platform_settings())
    await _platform_bootstrap(svc)
    install_modelops_hooks(svc)  # ModelOps reads providers, bindings and the profile through these
    return svc


async def _stop_platform(svc: PlatformService) -> None:
    await svc.close()


PLATFORM_PROVIDER = Provider(PlatformService, _start_platform, _stop_platform, name="platform")
# -- end control plane
# -- context management (genai-kb): /v1/context/*, the "context" service, the context_sync job kind
from ridgeline.genai.api import context as _context  # noqa: E402
from ridgeline.genai.context import store as _context_store  # noqa: E402,F401  (tables on the shared metadata)
from ridgeline.genai.context.service import JOB_KINDS as CONTEXT_JOB_KINDS  # noqa: E402
from ridgeline.genai.context.service import provider as _context_provider  # noqa: E402

ROUTES += _context.ROUTES
CONTEXT_PROVIDER = _context_provider()
# -- end context management


# -- playgrounds and agent projects (genai-play): /v1/playgrounds/*, /v1/agent-projects/*
from ridgeline.genai.api import agent_projects as _agent_projects  # noqa: E402  (imports its store's table)
from ridgeline.genai.api import playgrounds as _playgrounds  # noqa: E402  (imports its store's tables)

ROUTES += [*_playgrounds.ROUTES, *_agent_projects.ROUTES]
# -- end playgrounds and agent projects


async def _start(ctx: AppContext, _settings: None) -> GenaiService:
    return GenaiService(ctx)


family = Family(
    name="genai",
    route_handlers=ROUTES,
    render_error=render_fastapi_detail,
    validation_status=422,
    tags=["genai"],
    metadata=metadata,
    services=(Provider(GenaiService, _start), PLATFORM_PROVIDER, CONTEXT_PROVIDER),
    job_kinds={**CONTEXT_JOB_KINDS},
    reason_codes=REASON_CODES,
    settings=GenaiSettings,  # validated at start-up: a bad genai variable is exit 2 (genai.settings)
    doc_pages=("docs/genai.md", "docs/genai-context.md", "docs/genai-playgrounds.md"),
    default_policy=Policy.bearer(),  # the seed's "authenticated" unless a route says otherwise
)

"""``create_app(settings)``: the Litestar application composing every family's router.

All families are mounted under their prefix (``/routing``, ``/sim``, ...); with ``only`` one family
is mounted at the root, where its own paths (e.g. its ``/health``) take precedence over the
platform's. Root endpoints: ``/health``, ``/metrics``, ``/openapi.json``, ``/docs``,
``/signing-key``.
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig, ResponseSpec

import ridgeline
from ridgeline.platform import db as dbmod
from ridgeline.platform.auth import integration as auth_hook
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.context import AppContext, Ctx, Family
from ridgeline.platform.errors import Renderer, as_ridgeline_error, render_fastapi_detail
from ridgeline.platform.family import metadata_of, service_dependency, validate_settings
from ridgeline.platform.modules import module_exists
from ridgeline.platform.observability import (
    METRICS_MEDIA_TYPE,
    ObservabilityMiddleware,
    configure_logging,
    metrics_exposition,
)
from ridgeline.platform.openapi import document_errors, swagger_ui
from ridgeline.platform.security_headers import SecurityHeaders, cors_config
from ridgeline.platform.settings import FAMILIES, Settings, SettingsError

log = logging.getLogger("ridgeline.app")


def available_families() -> list[str]:
    """Families whose HTTP layer is present in this build (``ridgeline.<name>.api``)."""
    return [name for name in FAMILIES if module_exists(f"ridgeline.{name}.api")]


def load_family(name: str) -> Family:
    module = importlib.import_module(f"ridgeline.{name}.api")
    family = module.family
    if not isinstance(family, Family):
        raise TypeError(f"ridgeline.{name}.api.family is not a Family")
    return family


class HealthBody(msgspec.Struct):
    status: str
    version: str
    build: dict[str, Any]
    database: dict[str, Any]
    uptime_s: float
    families: list[str]


def _root_handlers(families: list[Family]) -> list[Any]:
    names = [f.name for f in families]
    build = dict(ridgeline.build_info())

    # The health check is polled hard by load balancers and benchmark harnesses: it reads the context
    # from app state rather than through dependency injection, and only the rare 503 builds a Response.
    @get(
        "/health",
        tags=["platform"],
        summary="Service health",
        description="200 when the database answers, 503 with the same body when it does not.",
        responses={503: ResponseSpec(HealthBody, description="database unreachable")},
    )
    async def health(request: Request[Any, Any, Any]) -> HealthBody:
        ctx: AppContext = request.app.state["ctx"]
        reachable = await ctx.db.reachable()
        body = HealthBody(
            status="ok" if reachable else "degraded",
            version=ridgeline.__version__,
            build=build,
            database={"reachable": reachable, "backend": ctx.db.backend},
            uptime_s=round(ctx.uptime_s, 3),
            families=names,
        )
        if not reachable:
            return Response(body, status_code=503)  # type: ignore[return-value]
        return body

    @get("/openapi.json", tags=["platform"], summary="OpenAPI 3.1 document", include_in_schema=False)
    async def openapi_json(request: Request[Any, Any, Any]) -> Response[bytes]:
        schema = request.app.openapi_schema.to_schema()
        return Response(msgspec.json.encode(schema), media_type="application/json")

    @get("/signing-key", tags=["platform"], summary="Public Ed25519 key that signs manifests")
    async def signing_key(ctx: Ctx) -> dict[str, str]:
        return {
            "algorithm": "Ed25519",
            "key_id": ctx.signer.key_id,
            "public_key_pem": ctx.signer.public_key_pem(),
            "public_key_b64": ctx.signer.public_key_b64(),
        }

    @get(
        "/metrics",
        tags=["platform"],
        summary="Prometheus metrics (text exposition format)",
        media_type=METRICS_MEDIA_TYPE,
    )
    async def metrics() -> Response[bytes]:
        body, content_type = metrics_exposition()
        return Response(body, media_type=content_type)

    return [health, openapi_json, signing_key, metrics]


def _paths_of(handlers: list[Any]) -> set[str]:
    return {route.path for route in Router(path="/", route_handlers=handlers).routes}


def create_app(
    settings: Settings | None = None,
    families: Sequence[Family] | None = None,
    auth_settings: AuthSettings | None = None,  # default: RIDGELINE_AUTH_* from the environment
) -> Litestar:
    """The application. ``families`` defaults to every family in this build (or ``settings.only``)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    if families is None:
        if settings.only and settings.only not in available_families():
            raise SettingsError(f"family {settings.only!r} is not available in this build")
        names = [settings.only] if settings.only else available_families()
        families = [load_family(n) for n in names]
    elif settings.only:
        families = [f for f in families if f.name == settings.only]
    families = list(families)
    family_settings = validate_settings(families)  # SettingsError names the bad variable
    ctx = AppContext(settings)
    ctx.family_settings.update(family_settings)
    for fam in families:
        for kind, handler in fam.job_kinds.items():
            ctx.jobs.register(fam.name, kind, handler)
        for prov in fam.services:
            ctx.service_family[prov.type] = fam.name
    auth = auth_hook.install(ctx, auth_settings)  # ctx.auth; app.state["auth"] below

    renderers: list[tuple[str, Renderer, int]] = []
    mounted: list[Any] = []
    if settings.only:
        fam = families[0]
        mounted.append(
            Router(
                path="/",
                route_handlers=list(fam.route_handlers),
                dependencies=_deps(fam),
                # the family's default policy rides on its router's opt (and the guard, if needed)
                **auth_hook.family_router_kwargs(fam.name, fam.default_policy, fam.route_handlers, auth),
            )
        )
        renderers.append(("/", fam.render_error, fam.validation_status))
        taken = _paths_of(list(fam.route_handlers))
        root = [h for h in _root_handlers(families) if not (_paths_of([h]) & taken)]
        root += auth_hook.root_handlers(auth, taken)
    else:
        for fam in families:
            mounted.append(
                Router(
                    path=f"/{fam.name}",
                    route_handlers=list(fam.route_handlers),
                    dependencies=_deps(fam),
                    **auth_hook.family_router_kwargs(fam.name, fam.default_policy, fam.route_handlers, auth),
                )
            )
            renderers.append((f"/{fam.name}/", fam.render_error, fam.validation_status))
        root = _root_handlers(families) + auth_hook.root_handlers(auth)

    def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        path = request.url.path
        for prefix, render, validation_status in renderers:
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                return render(request, as_ridgeline_error(exc, validation_status))
        return render_fastapi_detail(request, as_ridgeline_error(exc))

    async def startup(app: Litestar) -> None:
        if not _migrations_already_applied():
            dbmod.upgrade(settings, metadata=metadata_of(families))
        await ctx.jobs.start()  # recover jobs whose owners are gone; heartbeats, cancels
        await auth.startup()  # a JWT signing key exists
        for fam in families:
            await _start_family(ctx, fam)
        # Everything loaded so far (numba, polars, models, assets) lives as long as the process: move it
        # out of the cyclic collector's generations, so each GC pass no longer walks millions of
        # start-up objects while requests wait.
        gc.collect()
        gc.freeze()

    async def shutdown(app: Litestar) -> None:
        for fam in families:
            await _stop_family(ctx, fam)
        await ctx.jobs.shutdown()
        await auth.close()  # the Redis rate-limit client, when used
        await ctx.db.dispose()

    swagger_plugin, swagger_assets = swagger_ui()
    app = Litestar(
        route_handlers=[*root, *mounted, swagger_assets],
        dependencies={"ctx": Provide(_provide_ctx, sync_to_thread=False)},
        state=State({"ctx": ctx, "auth": auth}),  # "auth" for the policy guard
        before_send=auth_hook.BEFORE_SEND,  # RateLimit-* headers
        exception_handlers={Exception: handle_error},
        on_startup=[startup],
        on_shutdown=[shutdown],
        openapi_config=OpenAPIConfig(
            title="Ridgeline",
            version=ridgeline.__version__,
            description="Routing, simulation and forecasting on a compiled core.",
            path="/docs",
            render_plugins=[swagger_plugin],
        ),
        logging_config=None,
        cors_config=cors_config(settings.cors_origins),
        debug=False,
    )
    # Every operation declares the errors it can answer, in the shape of the renderer for its path.
    document_errors(app, renderers, platform_functions=_handler_fns(root))
    # Litestar middleware only wraps matched routes; request ids and metrics must also cover 404/405
    # answers, so this wraps the whole ASGI handler (outside Litestar's exception handling).
    app.asgi_handler = ObservabilityMiddleware(app.asgi_handler, SecurityHeaders(hsts=settings.hsts))
    return app


def _handler_fns(handlers: Sequence[Any]) -> list[Any]:
    """The functions behind route handlers, looking inside routers (the auth routes come as one)."""
    out: list[Any] = []
    for h in handlers:
        if isinstance(h, Router):
            out += [rh.fn for route in h.routes for rh in getattr(route, "route_handlers", ())]
        else:
            out.append(h.fn)
    return out


def _deps(fam: Family) -> dict[str, Provide]:
    """The family's services as dependencies of its router: ``svc: RoutingService`` in a handler."""
    return {
        prov.name: Provide(service_dependency(fam.name, prov.type), sync_to_thread=False)
        for prov in fam.services
    }


async def _start_family(ctx: AppContext, fam: Family) -> None:
    """Start the family's services, then its hooks. A failure is logged and leaves the family's
    services absent, so its endpoints answer 503 ``service_unavailable`` in its own shape while the
    other families keep serving."""
    try:
        for prov in fam.services:
            ctx.services[prov.type] = await prov.start(ctx, ctx.family_settings.get(fam.name))
        for hook in fam.on_startup:
            await hook(ctx)
    except Exception as exc:
        log.exception("family %s failed to start; its endpoints answer 503", fam.name)
        ctx.failed[fam.name] = f"{type(exc).__name__}: {exc}"
        for prov in fam.services:
            ctx.services.pop(prov.type, None)


async def _stop_family(ctx: AppContext, fam: Family) -> None:
    for hook in fam.on_shutdown:
        await hook(ctx)
    for prov in reversed(fam.services):
        svc = ctx.services.pop(prov.type, None)
        if svc is not None and prov.stop is not None:
            await prov.stop(svc)


def _provide_ctx(state: State) -> AppContext:
    return state["ctx"]


def _migrations_already_applied() -> bool:
    # Set by `ridgeline serve`, which migrates once before starting N worker processes.
    import os

    return os.environ.get("RIDGELINE_MIGRATED") == "1"


def app_from_env() -> Litestar:
    """Factory for granian workers: settings from the environment."""
    _exit_with_parent()
    return create_app(Settings.from_env())


def _exit_with_parent(poll_s: float = 0.5) -> None:
    """A worker whose granian parent died (SIGKILL, the OOM killer) stops itself gracefully.

    Orphaned workers otherwise keep the port (granian binds with SO_REUSEPORT), so a restarted
    ``serve`` refuses to start and the old code keeps answering. A watch on ``getppid`` (the worker is
    re-parented when its parent dies) rather than ``PR_SET_PDEATHSIG``, which fires when the parent
    *thread* that spawned the worker ends, not the process.
    """
    import os
    import signal
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        log.warning("granian parent %d is gone: this worker stops", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="ridgeline-parent-watch", daemon=True).start()

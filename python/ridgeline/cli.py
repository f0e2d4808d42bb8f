"""The ``ridgeline`` command: ``serve``, ``worker``, ``db upgrade``, ``version`` (families add their own,
e.g. ``assets``)."""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import socket
import sys
from collections.abc import Callable, Sequence

import msgspec

from ridgeline.platform.family import Family, metadata_of, validate_settings
from ridgeline.platform.modules import module_exists
from ridgeline.platform.settings import FAMILIES, Settings, SettingsError

# Families contribute sub-commands through `ridgeline.<family>.cli:register(subparsers)`.
_FAMILY_CLI_MODULES = [f"ridgeline.{name}.cli" for name in FAMILIES]


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        workers=getattr(args, "workers", None),
        only=getattr(args, "only", None),
    )


def _families(settings: Settings) -> list[Family]:
    """The families this process serves (the composer imports them; the platform never does)."""
    from ridgeline.app import available_families, load_family

    names = [settings.only] if settings.only else available_families()
    if settings.only and settings.only not in available_families():
        raise SettingsError(f"family {settings.only!r} is not available in this build")
    return [load_family(n) for n in names]


def port_taken(host: str, port: int) -> bool:
    """True when another process listens on (host, port). Granian binds with SO_REUSEPORT, so a second
    server would otherwise share the port and split the traffic; a plain bind (SO_REUSEADDR only, so
    sockets in TIME_WAIT do not count) fails when anything listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def cmd_serve(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    from ridgeline.platform import db
    from ridgeline.platform.jobs import load_job_settings
    from ridgeline.platform.signing import Signer

    settings = _settings(args)
    if port_taken(settings.host, settings.port):
        print(
            f"ridgeline: port {settings.port} on {settings.host} is already in use by another process",
            file=sys.stderr,
        )
        return 2
    families = _families(settings)
    validate_settings(families)  # every family's variables, before anything starts (exit 2 if bad)
    load_job_settings()  # RIDGELINE_JOBS_* too
    db.upgrade(settings, metadata=metadata_of(families))
    Signer.load_or_create(settings.data_dir, settings.signing_key_file)  # once, before N workers start
    from ridgeline.platform.auth.service import prepare_key_files  # pepper, secrets ring

    prepare_key_files(settings.data_dir)  # once, before N workers start
    # Workers inherit the environment: pass the validated settings and skip re-migrating per worker.
    os.environ.update(
        {
            "RIDGELINE_MIGRATED": "1",
            "RIDGELINE_DATA_DIR": str(settings.data_dir),
            "RIDGELINE_HOST": settings.host,
            "RIDGELINE_PORT": str(settings.port),
        }
    )
    if settings.only:
        os.environ["RIDGELINE_ONLY"] = settings.only
    print(
        f"ridgeline serving {'family ' + settings.only if settings.only else 'all families'} "
        f"on http://{settings.host}:{settings.port} with {settings.workers} worker(s)",
        file=sys.stderr,
        flush=True,
    )
    Granian(
        "ridgeline.app:app_from_env",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
        # A worker that dies (SIGKILL, the OOM killer, a native abort) is started again instead of
        # ending the whole service; granian still exits on a crash loop (a worker dying within 5.5 s
        # of its respawn).
        respawn_failed_workers=True,
    ).serve()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    from ridgeline.app import available_families
    from ridgeline.platform import db, jobs
    from ridgeline.platform.auth.service import prepare_key_files
    from ridgeline.platform.jobqueue import run_worker
    from ridgeline.platform.jobs import load_job_settings
    from ridgeline.platform.signing import Signer

    settings = _settings(args)
    if not settings.redis_url:
        raise SettingsError("ridgeline worker needs RIDGELINE_REDIS_URL (jobs run in `serve` without Redis)")
    if args.concurrency is not None and not 1 <= args.concurrency <= 256:
        raise SettingsError(f"--concurrency must be 1..256, got {args.concurrency}")
    present = available_families()
    # kinds registered with @job_kind by an imported module (plugins, tests) count as families too
    registered = {family for family, _ in jobs._HANDLERS}
    names = present if not args.families else [n.strip() for n in args.families.split(",") if n.strip()]
    unknown = [n for n in names if n not in present and n not in registered]
    if unknown:
        raise SettingsError(f"--families: not available in this build: {', '.join(unknown)}")
    families = _families_named([n for n in names if n in present])
    validate_settings(families)
    load_job_settings()
    if os.environ.get("RIDGELINE_MIGRATED") != "1":
        db.upgrade(settings, metadata=metadata_of(families))
    Signer.load_or_create(settings.data_dir, settings.signing_key_file)
    prepare_key_files(settings.data_dir)
    if args.metrics_port:
        _serve_metrics(args.metrics_host, args.metrics_port)
    asyncio.run(run_worker(settings, names, args.concurrency or settings.job_workers))
    return 0


def _serve_metrics(host: str, port: int) -> None:
    """This worker's Prometheus metrics on http://host:port/ (aggregated over the host's processes
    when PROMETHEUS_MULTIPROC_DIR is set, as serve's /metrics is)."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    if port_taken(host, port):
        raise SettingsError(f"--metrics-port {port} on {host} is already in use by another process")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=host, registry=registry)


def _families_named(names: Sequence[str]) -> list[Family]:
    from ridgeline.app import load_family

    return [load_family(n) for n in names]


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ridgeline.platform import db

    settings = _settings(args)
    db.upgrade(settings, args.revision, metadata=metadata_of(_families(settings)))
    print(f"database at {settings.resolved_database_url.split('@')[-1]} upgraded to {args.revision}")
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    import ridgeline

    print(msgspec.json.encode({"version": ridgeline.__version__, "build": ridgeline.build_info()}).decode())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ridgeline", description="Ridgeline service and tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API on granian")
    serve.add_argument("--only", choices=FAMILIES, help="serve one family at the root")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run jobs from the Redis queue (RIDGELINE_REDIS_URL)")
    worker.add_argument(
        "--concurrency",
        type=int,
        help="jobs this worker runs at once, in all across its families (default RIDGELINE_JOB_WORKERS)",
    )
    worker.add_argument("--families", help="comma-separated families whose jobs to run (default all)")
    worker.add_argument(
        "--metrics-port", type=int, help="serve this worker's Prometheus metrics on this port"
    )
    worker.add_argument("--metrics-host", default="127.0.0.1", help="bind address for --metrics-port")
    worker.set_defaults(func=cmd_worker)

    dbp = sub.add_parser("db", help="database tools")
    dbsub = dbp.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="heads")
    up.set_defaults(func=cmd_db_upgrade)

    version = sub.add_parser("version", help="print version and native build info")
    version.set_defaults(func=cmd_version)

    from ridgeline.platform.auth.cli import register as register_auth  # users, apikeys, auth

    register_auth(sub)
    from ridgeline.genai.agent_engine import register as register_agent_engine  # genai's engine process

    register_agent_engine(sub)
    for module_name in _FAMILY_CLI_MODULES:
        if not module_exists(module_name):
            continue
        module = importlib.import_module(module_name)
        register: Callable[[argparse._SubParsersAction], None] = module.register  # type: ignore[type-arg]
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"ridgeline: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""The agent engine: Ridgeline's own implementation of the engine the genai execution proxy calls
(``AGENT_ENGINE_URL``), run as its own process with ``ridgeline agent-engine``. See
:mod:`ridgeline.genai.agent_engine.app` (the internal HTTP contract) and
:mod:`ridgeline.genai.agent_engine.executor` (how an agent runs)."""

from __future__ import annotations

import argparse
import sys
from typing import Annotated, Any

import msgspec


class EngineSettings(msgspec.Struct, frozen=True):
    """``AGENT_ENGINE_*`` variables."""

    service_token: str = ""
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8100
    tool_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=600)] = 30.0
    max_records: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    # the engine's own database of execution records (SQLite); empty: $RIDGELINE_DATA_DIR/agent-engine.db
    db_path: str = ""

    def records_path(self) -> str:
        import os

        return self.db_path or os.path.join(
            os.environ.get("RIDGELINE_DATA_DIR") or "./var", "agent-engine.db"
        )


def load_settings(**overrides: object) -> EngineSettings:
    from ridgeline.platform.settings import SettingsError, load_env_struct

    s = load_env_struct(EngineSettings, "AGENT_ENGINE_", **overrides)
    if not s.service_token:
        raise SettingsError(
            "AGENT_ENGINE_SERVICE_TOKEN must be set: the engine refuses unauthenticated callers"
        )
    return s


def app_from_env() -> Any:
    """Granian's factory. Execution records are kept in the engine's SQLite database, so they
    survive a restart."""
    from ridgeline.genai.agent_engine.app import create_engine_app

    s = load_settings()
    return create_engine_app(
        s.service_token, max_records=s.max_records, tool_timeout_s=s.tool_timeout_s, db_path=s.records_path()
    )


def cmd_agent_engine(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    s = load_settings(host=args.host, port=args.port)
    import sqlite3

    from ridgeline.genai.agent_engine.app import RecordStore
    from ridgeline.platform.settings import SettingsError

    try:  # create the database before serving: a bad path is exit 2 naming the variable
        RecordStore(s.records_path()).close()
    except (OSError, sqlite3.Error) as exc:
        raise SettingsError(f"AGENT_ENGINE_DB_PATH: cannot open {s.records_path()}: {exc}") from None
    print(
        f"ridgeline agent engine on http://{s.host}:{s.port} (records: {s.records_path()})",
        file=sys.stderr,
        flush=True,
    )
    Granian(
        "ridgeline.genai.agent_engine:app_from_env",
        address=s.host,
        port=s.port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        log_access=False,
    ).serve()
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("agent-engine", help="serve the agent engine (the internal agent-execution contract)")
    p.add_argument("--host", help="bind address (default AGENT_ENGINE_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default AGENT_ENGINE_PORT or 8100)")
    p.set_defaults(func=cmd_agent_engine)

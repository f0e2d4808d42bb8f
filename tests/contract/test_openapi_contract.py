"""Contract harness: every family's OpenAPI document, run through schemathesis against the app itself.

For each family present in the build (``available_families()``) this module builds the family's
``--only`` app (SQLite on a temporary data dir, embedded defaults seeded so that ids and assets
exist) and generates one test per operation of the document that app serves. Each operation goes
through schemathesis' examples, coverage and fuzzing phases with a fixed seed and a bounded example
count; every response must pass ``CHECKS``: no 5xx, only documented status codes, a body matching
the declared schema, and the declared content type. A family added later is covered by the same
code. Operations not called are listed in ``SKIPPED`` with the reason.

(The document is built at collection time: schemathesis' fixture-based lazy loader does not work
with this pytest version, so each family gets a module-level schema instead.)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import hypothesis
import pytest
import schemathesis  # a dev dependency: missing, the harness fails instead of skipping
from litestar.testing import TestClient
from schemathesis import checks as st_checks
from schemathesis.core.transport import Response

from ridgeline.app import available_families, create_app
from ridgeline.platform.settings import Settings

SEED = int(os.environ.get("RIDGELINE_CONTRACT_SEED", "20261201"))
MAX_EXAMPLES = int(os.environ.get("RIDGELINE_CONTRACT_EXAMPLES", "10"))
# The stateful phase: scenarios per family, and calls per scenario (bounded for CI's budget).
STATEFUL_SCENARIOS = int(os.environ.get("RIDGELINE_CONTRACT_STATEFUL_SCENARIOS", "15"))
STATEFUL_STEPS = int(os.environ.get("RIDGELINE_CONTRACT_STATEFUL_STEPS", "8"))

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.response_schema_conformance,
    st_checks.content_type_conformance,
]

# Operations the harness does not call, as "METHOD /path" -> reason, per family. Everything else in
# a family's document runs.
_LOGOUT = "revokes the harness's own bearer token; covered by tests/platform/auth/test_sessions.py"
SKIPPED: dict[str, dict[str, str]] = {
    "genai": {"POST /auth/logout": _LOGOUT},
    "autopack": {"POST /auth/logout": _LOGOUT, "POST /api/auth/logout": _LOGOUT},
    "retail": {
        "POST /seeder/generate": "writes up to 5,000,000 rows of synthetic history per call (minutes on "
        "SQLite for the generated date ranges); covered by tests/retail/test_seeder.py",
        "POST /seeder/append": "extends the history by a generated period, same cost as /seeder/generate; "
        "covered by tests/retail/test_seeder.py",
        "PATCH /config/ai": "sets the AI providers' base URLs: fuzzed values would point the service at "
        "arbitrary hosts (network egress); covered by tests/retail/ai/test_config.py",
        "GET /config/ollama/models": "a 502 by design when no Ollama host answers (none runs here); covered "
        "against a loopback fake by tests/retail/ai/test_config.py",
    },
}


# Environment a family's app is built and started with: kill switches on, so the endpoints behind
# them are exercised (their documented 503 when off is tested in the family's own tests).
FAMILY_ENV: dict[str, dict[str, str]] = {
    "autopack": {"AUTOPACK_ENABLE_CONSOLIDATED_METRICS": "1"},
}


# Families whose routes mostly need credentials (contract 003's API key and bearer routes, contract
# 004's roles): their requests carry a superadmin's bearer token and a "*"-scoped API key, so the
# harness reaches the handlers instead of stopping at 401 (the refusals are tested per family).
CREDENTIALED = frozenset({"autopack", "genai"})


def _credentials(client: TestClient[Any]) -> dict[str, str]:
    from ridgeline.platform.auth import Role

    auth = client.app.state["auth"]

    async def make() -> dict[str, str]:
        user = await auth.create_user(
            "contract-superadmin", "contract-pass-word-1", actor="contract", role=Role.SUPERADMIN
        )
        token, _ = await auth.issue_token(user)
        key = await auth.create_api_key(actor="contract", name="contract harness", owner=user.id)
        return {"Authorization": f"Bearer {token}", "X-API-Key": key.key}

    return client.blocking_portal.call(make)


def _with_agent_engine(client: TestClient[Any], services: contextlib.ExitStack) -> None:
    """Point genai's agent-execution proxy at a real engine process (without one every execution is
    the contract's 503 EXEC_UPSTREAM_UNAVAILABLE, which the harness would report as a server error)."""
    from ridgeline.genai.api.executions import SETTINGS_KEY, ExecutionSettings
    from tests.genai.catalog.servers import agent_engine

    token = "contract-engine-token"
    url = services.enter_context(agent_engine(token))
    client.app.state["ctx"].state[SETTINGS_KEY] = ExecutionSettings(
        agent_engine_url=url, agent_engine_service_token=token
    )


def _settings(family: str, data_dir: Path) -> Settings:
    return Settings(only=family, data_dir=data_dir, seed_defaults=True, log_level="ERROR")


def _document(family: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"contract-doc-{family}-") as tmp:
        return create_app(_settings(family, Path(tmp) / "var")).openapi_schema.to_schema()


# family -> operation -> status -> number of requests, reported at the end of the module
CALLS: dict[str, dict[str, Counter[int]]] = {}


@pytest.fixture(scope="module")
def clients(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], TestClient[Any]]]:
    """One started ``--only <family>`` app per family, shared by that family's operations."""
    opened: dict[str, TestClient[Any]] = {}
    services = contextlib.ExitStack()

    def get(family: str) -> TestClient[Any]:
        if family not in opened:
            data_dir = tmp_path_factory.mktemp(f"contract-{family}") / "var"
            with mock.patch.dict(os.environ, FAMILY_ENV.get(family, {})):
                client = TestClient(create_app(_settings(family, data_dir)), raise_server_exceptions=False)
                client.__enter__()
            if family in CREDENTIALED:
                client.headers.update(_credentials(client))
            if family == "genai":  # the agent executions proxy to a real `ridgeline agent-engine`
                _with_agent_engine(client, services)
            opened[family] = client
        return opened[family]

    yield get
    for client in opened.values():
        client.__exit__(None, None, None)
    services.close()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for family, ops in CALLS.items():
        statuses: Counter[int] = sum(ops.values(), Counter())
        line = (
            f"contract {family}: {len(ops)} operations called, {sum(statuses.values())} requests, "
            f"statuses {dict(sorted(statuses.items()))}, skipped {len(SKIPPED.get(family, {}))}"
        )
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
                reporter.ensure_newline()
                reporter.write_line(line)


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis' requests-style arguments for the httpx-based Litestar test client."""
    out = dict(kwargs)
    if isinstance(out.get("data"), (bytes, str)):
        out["content"] = out.pop("data")
    files = out.pop("files", None)
    if files:  # requests-style multipart: (name, (filename | None, content)) -> httpx data + files
        fields: dict[str, list[str]] = {}
        uploads: list[tuple[str, tuple[str, bytes]]] = []
        for name, (filename, content, *_) in files:
            raw = content if isinstance(content, bytes) else str(content).encode("utf-8", "surrogatepass")
            if filename is None:
                fields.setdefault(name, []).append(raw.decode("utf-8", "replace"))
            else:
                uploads.append((name, (filename, raw)))
        out["files"] = uploads or None
        if fields:
            out["data"] = fields
    cookies = out.pop("cookies", None)  # per-request cookies are deprecated in httpx: send the header
    if cookies:
        headers = dict(out.get("headers") or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        out["headers"] = headers
    return out


def _schema(family: str) -> Any:
    """The family's document for schemathesis, without the operations ``SKIPPED`` names."""
    schema = schemathesis.openapi.from_dict(_document(family))
    schema.config.seed = SEED
    skipped = SKIPPED.get(family, {})
    if skipped:
        schema = schema.exclude(
            func=lambda ctx: f"{ctx.operation.method.upper()} {ctx.operation.path}" in skipped
        )
    return schema


def _call(family: str, client: TestClient[Any], case: Any) -> Any:
    response = client.request(**_httpx_kwargs(case.as_transport_kwargs(base_url="http://testserver.local")))
    response.request.read()  # a multipart body the app refused unread (405) is still a stream
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    CALLS.setdefault(family, {}).setdefault(operation, Counter())[response.status_code] += 1
    return response


def _contract_test(family: str) -> Any:
    schema = _schema(family)
    schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
    schema.config.generation.update(max_examples=MAX_EXAMPLES)

    @schema.parametrize()
    @hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck), database=None)
    def test(case: Any, clients: Callable[[str], TestClient[Any]]) -> None:
        response = _call(family, clients(family), case)
        case.validate_response(response, checks=CHECKS)

    return test


def _stateful_test(family: str) -> Any:
    """schemathesis' stateful phase: scenarios that chain operations through the links it infers from
    the document (a POST's returned id feeds the GET, PUT and DELETE that take it), each response
    checked like the stateless ones. It reaches the handlers behind ids that random input never
    guesses (404s otherwise)."""
    machine = _schema(family).as_state_machine()

    def test(clients: Callable[[str], TestClient[Any]]) -> None:
        client = clients(family)
        before = sum(sum(c.values()) for c in CALLS.get(family, {}).values())

        class Scenario(machine):  # type: ignore[misc, valid-type]
            def call(self, case: Any, **kwargs: Any) -> Response:
                return Response.from_any(_call(family, client, case))

            def validate_response(self, response: Response, case: Any, *args: Any, **kwargs: Any) -> None:
                case.validate_response(response, checks=CHECKS)

        Scenario.run(
            settings=hypothesis.settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=STATEFUL_STEPS,
                deadline=None,
                suppress_health_check=list(hypothesis.HealthCheck),
                database=None,
                derandomize=True,
            )
        )
        assert sum(sum(c.values()) for c in CALLS.get(family, {}).values()) > before  # it really ran

    return test


for _family in available_families():
    globals()[f"test_contract_{_family}"] = _contract_test(_family)
    globals()[f"test_stateful_{_family}"] = _stateful_test(_family)

import msgspec
import pytest
from litestar import get, post
from litestar.params import JSONBody

from ridgeline.platform.context import Family
from ridgeline.platform.errors import RidgelineError, render_problem_json, render_reason_coded

pytestmark = pytest.mark.db


class Body(msgspec.Struct):
    name: str
    count: int


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@get("/coded")
async def coded() -> None:
    raise RidgelineError(409, "already_there", "It exists.", warnings=["w1"], thing_id="t1")


@post("/echo")
async def echo(data: JSONBody[Body]) -> Body:
    return data


def _families() -> list[Family]:
    handlers = [boom, coded, echo]
    return [
        Family("routing", handlers, render_error=render_reason_coded),
        Family("retail", handlers, render_error=render_problem_json),
    ]


def _client(make_client, **overrides):  # type: ignore[no-untyped-def]
    return make_client(families=_families(), **overrides)


def test_health_reports_build_and_database(make_client) -> None:  # type: ignore[no-untyped-def]
    r = make_client().get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["build"]["profile"] == "release"
    assert body["version"] == body["build"]["version"]
    assert body["uptime_s"] >= 0


def test_request_id_is_honoured_when_well_formed(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert (
        c.get("/health", headers={"X-Request-Id": "client-42.a:b"}).headers["x-request-id"] == "client-42.a:b"
    )
    fresh = c.get("/health", headers={"X-Request-Id": "bad id <script>"}).headers["x-request-id"]
    assert fresh != "bad id <script>" and len(fresh) == 32
    assert c.get("/nowhere").headers["x-request-id"]


def test_openapi_docs_and_metrics(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    doc = c.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert "/health" in doc["paths"]
    assert c.get("/docs").status_code == 200
    c.get("/health")
    metrics = c.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'ridgeline_requests_total{method="GET",path="/health",status="200"}' in metrics.text
    c.get("/no/such/path/123")
    assert 'path="<unmatched>",status="404"' in c.get("/metrics").text
    assert "ridgeline_request_duration_seconds_bucket" in metrics.text


def test_signing_key_is_published(make_client) -> None:  # type: ignore[no-untyped-def]
    body = make_client().get("/signing-key").json()
    assert body["algorithm"] == "Ed25519"
    assert body["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_each_family_renders_errors_in_its_shape(make_client) -> None:  # type: ignore[no-untyped-def]
    c = _client(make_client)
    r = c.get("/routing/coded")
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert detail["reason_code"] == "already_there" and detail["warnings"] == ["w1"]
    assert detail["thing_id"] == "t1" and detail["request_id"] == r.headers["x-request-id"]

    r = c.get("/retail/coded")
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert (
        problem["status"] == 409
        and problem["detail"] == "It exists."
        and problem["instance"] == "/retail/coded"
    )
    assert problem["request_id"] == r.headers["x-request-id"]


def test_validation_failure_names_the_field(make_client) -> None:  # type: ignore[no-untyped-def]
    c = _client(make_client)
    r = c.post("/routing/echo", json={"name": "x", "count": "many"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["reason_code"] == "invalid_request"
    assert any(e["field"] == "count" for e in detail["errors"])
    r = c.post("/retail/echo", content=b"{not json")
    assert r.status_code in (400, 422) and r.json()["reason_code"] == "invalid_request"
    assert c.post("/routing/echo", json={"name": "ok", "count": 2}).json() == {"name": "ok", "count": 2}


def test_unknown_errors_are_opaque_500s(make_client) -> None:  # type: ignore[no-untyped-def]
    c = _client(make_client)
    r = c.get("/routing/boom")
    assert r.status_code == 500
    text = r.text
    assert "secret internals" not in text and "Traceback" not in text
    assert r.json()["detail"]["reason_code"] == "internal_error"
    assert r.json()["detail"]["request_id"] == r.headers["x-request-id"]


def test_only_mounts_one_family_at_the_root(make_client) -> None:  # type: ignore[no-untyped-def]
    c = _client(make_client, only="retail")
    r = c.get("/coded")
    assert r.status_code == 409 and r.json()["type"].startswith("/problems/")
    assert c.get("/retail/coded").status_code == 404
    assert c.get("/health").status_code == 200

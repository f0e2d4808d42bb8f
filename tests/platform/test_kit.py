"""The platform kit: family declaration, typed services, settings, errors, paging, UTC, jobs, downloads."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Request, Response, get, route
from litestar.params import FromPath

from ridgeline.platform.context import AppContext, Ctx, Family, Provider, Service
from ridgeline.platform.db import UTCDateTime
from ridgeline.platform.downloads import artifact_response, media_type_for
from ridgeline.platform.errors import render_problem_json, render_reason_coded
from ridgeline.platform.paging import page_window, resolve_sort
from ridgeline.platform.problems import NotFound, catalogue
from ridgeline.platform.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]


class Counter:
    def __init__(self) -> None:
        self.n = 41


class Broken:
    pass


@get("/count")
async def count(svc: Service[Counter]) -> dict[str, int]:
    svc.n += 1
    return {"n": svc.n}


@get("/broken")
async def broken(svc: Service[Broken]) -> dict[str, str]:
    return {"never": "served"}


@get("/thing/{thing_id:int}")
async def thing(thing_id: FromPath[int]) -> dict[str, int]:
    raise NotFound("thing", thing_id, thing_id=thing_id)


async def start_counter(ctx: AppContext, settings: Any) -> Counter:
    return Counter()


async def start_broken(ctx: AppContext, settings: Any) -> Broken:
    raise RuntimeError("assets missing")


def _families() -> list[Family]:
    return [
        Family(
            "routing",
            [count, thing],
            render_error=render_reason_coded,
            services=(Provider(Counter, start_counter),),
        ),
        Family(
            "retail", [broken], render_error=render_problem_json, services=(Provider(Broken, start_broken),)
        ),
    ]


def test_services_are_injected_by_type(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(families=_families())
    assert c.get("/routing/count").json() == {"n": 42}
    assert c.get("/routing/count").json() == {"n": 43}  # one service per process


def test_a_family_whose_startup_failed_answers_503_in_its_shape(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(families=_families())
    r = c.get("/retail/broken")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["reason_code"] == "service_unavailable"
    assert "retail" in c.app.state["ctx"].failed
    # the other family is still served
    assert c.get("/routing/count").status_code == 200
    assert c.get("/health").status_code == 200


def test_not_found_is_rendered_in_the_family_shape(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(families=_families())
    r = c.get("/routing/thing/7")
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert detail["reason_code"] == "thing_not_found" and detail["thing_id"] == 7


def test_catalogue_formats_messages_and_refuses_duplicates() -> None:
    cat = catalogue(("run_not_found", 404, "Run {run_id!r} not found"))
    err = cat.error("run_not_found", run_id="r1")
    assert (err.status, err.reason_code, err.message, err.extra) == (
        404,
        "run_not_found",
        "Run 'r1' not found",
        {"run_id": "r1"},
    )
    with pytest.raises(ValueError):
        catalogue(("a", 400, "x"), ("a", 404, "y"))


# ---- settings ------------------------------------------------------------------------------


class DemoSettings(msgspec.Struct, frozen=True, kw_only=True):
    ratio: float = 0.5
    keys: list[str] = []


def test_family_settings_are_read_from_the_prefixed_environment() -> None:
    fam = Family("demo", [], settings=DemoSettings)
    s = fam.load_settings({"RIDGELINE_DEMO_RATIO": "0.25", "RIDGELINE_DEMO_KEYS": "a, b,,c"})
    assert s == DemoSettings(ratio=0.25, keys=["a", "b", "c"])
    with pytest.raises(SettingsError, match="RIDGELINE_DEMO_RATIO"):
        fam.load_settings({"RIDGELINE_DEMO_RATIO": "lots"})


def test_routing_settings_bounds() -> None:
    from ridgeline.routing.api.settings import RoutingSettings

    fam = Family("routing", [], settings=RoutingSettings)
    assert fam.load_settings({}) == RoutingSettings()
    with pytest.raises(SettingsError, match="RIDGELINE_ROUTING_MIN_COVERAGE"):
        fam.load_settings({"RIDGELINE_ROUTING_MIN_COVERAGE": "1.5"})
    with pytest.raises(SettingsError, match="RIDGELINE_ROUTING_ASSETS"):
        fam.load_settings({"RIDGELINE_ROUTING_ASSETS": "/nonexistent/assets"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RIDGELINE_ROUTING_MIN_COVERAGE", "2"),
        ("RIDGELINE_ROUTING_MIN_COVERAGE", "most"),
        ("RIDGELINE_ROUTING_ASSETS", "/nonexistent"),
    ],
)
def test_serve_stops_on_a_bad_family_variable(tmp_path: Path, variable: str, value: str) -> None:
    env = {**os.environ, "RIDGELINE_DATA_DIR": str(tmp_path), variable: value, "RIDGELINE_PORT": "1"}
    env.pop("RIDGELINE_ONLY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "ridgeline.cli", "serve"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0]
    assert "Traceback" not in proc.stderr


# ---- import weight -------------------------------------------------------------------------


def _loaded(statement: str, modules: tuple[str, ...]) -> list[str]:
    code = f"import sys\n{statement}\nprint(','.join(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [m for m in out.strip().split(",") if m]


@pytest.mark.parametrize(
    "statement",
    [
        "import ridgeline.routing.api.schemas",
        "from ridgeline.routing.api import schemas",
        "import ridgeline.sim.api.schemas",
        "import ridgeline.retail.api.schemas",
        "import ridgeline.platform.problems, ridgeline.platform.hashing",
    ],
)
def test_wire_types_load_neither_litestar_nor_sqlalchemy(statement: str) -> None:
    assert _loaded(statement, ("litestar", "sqlalchemy")) == []


@pytest.mark.parametrize("engine", ["ridgeline.retail", "ridgeline.routing", "ridgeline.sim"])
def test_engines_do_not_load_numba_on_import(engine: str) -> None:
    assert _loaded(f"import {engine}", ("numba", "litestar", "sqlalchemy")) == []


def test_computing_features_does_load_numba() -> None:
    # the guard above means something: the feature kernels are what pull Numba in
    assert _loaded("import ridgeline.retail.features", ("numba",)) == ["numba"]


def test_the_platform_imports_no_family_module() -> None:
    code = "import ridgeline.app, ridgeline.platform.db, ridgeline.platform.jobs, ridgeline.platform.context"
    loaded = _loaded(
        code,
        (
            "ridgeline.routing.api.declaration",
            "ridgeline.sim.api.declaration",
            "ridgeline.retail.api.declaration",
            "ridgeline.routing.api.store",
        ),
    )
    assert loaded == []


# ---- UTC, paging -----------------------------------------------------------------------------


def test_utc_datetime_refuses_naive_and_returns_aware_utc() -> None:
    col = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        col.process_bind_param(datetime(2026, 1, 1, 12), None)
    plus2 = datetime(2026, 1, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    assert col.process_bind_param(plus2, None) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert col.process_bind_param(plus2, None).tzinfo is UTC
    out = col.process_result_value(datetime(2026, 1, 1, 12), None)
    assert out is not None and out.tzinfo is UTC


def test_resolve_sort_fallbacks() -> None:
    allowed = {"name": "c_name", "created_at": "c_created"}
    s = resolve_sort("name", "DESC", allowed, "created_at")
    assert (s.key, s.target, s.descending) == ("name", "c_name", True)
    assert resolve_sort("name", "sideways", allowed, "created_at").descending is False
    s = resolve_sort("password", "desc", allowed, "created_at")
    assert (s.key, s.descending) == ("created_at", True)
    s = resolve_sort(
        "password", "asc", allowed, "created_at", default_descending=True, keep_order_on_fallback=False
    )
    assert (s.key, s.descending) == ("created_at", True)
    assert page_window(3, 20).offset == 40 and page_window(3, 20).limit == 20


# ---- jobs ----------------------------------------------------------------------------------


async def _noop(jctx: Any) -> dict[str, Any]:
    return {"ok": True}


def test_get_for_refuses_another_familys_job(make_client) -> None:  # type: ignore[no-untyped-def]
    fams = [Family("routing", [thing], job_kinds={"noop": _noop}), Family("sim", [])]
    c = make_client(families=fams)
    ctx: AppContext = c.app.state["ctx"]

    async def scenario() -> tuple[str, str]:
        job = await ctx.jobs.submit("routing", "noop", {})
        await ctx.jobs.wait(job.id, 10)
        assert (await ctx.jobs.get_for("routing", job.id)).id == job.id
        many = await ctx.jobs.get_many([job.id, "missing"])
        assert list(many) == [job.id]
        codes = []
        for fam, ident in (("sim", job.id), ("routing", "missing"), ("routing", "x" * 200)):
            try:
                await ctx.jobs.get_for(fam, ident)
            except NotFound as exc:
                codes.append(exc.reason_code)
        return job.id, ",".join(codes)

    _, codes = c.blocking_portal.call(scenario)
    assert codes == "job_not_found,job_not_found,job_not_found"


# ---- downloads -----------------------------------------------------------------------------


@route("/files/{name:str}", http_method=["GET", "HEAD"])
async def download(request: Request[Any, Any, Any], ctx: Ctx, name: FromPath[str]) -> Response[bytes]:
    art = await ctx.artifacts.get("test", "owner", name)
    if art is None:
        raise NotFound("file", name)
    return await artifact_response(request, ctx.artifacts, art, integrity_code="artifact_integrity")


def test_artifact_response_verifies_and_caches(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(families=[Family("retail", [download], render_error=render_problem_json)])
    ctx: AppContext = c.app.state["ctx"]
    body = b"a,b\n1,2\n"
    art = c.blocking_portal.call(ctx.artifacts.put, "test", "owner", "table.csv", body, "text/csv")

    r = c.get("/retail/files/table.csv")
    assert r.status_code == 200 and r.content == body
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["etag"] == f'"{art.sha256}"' and r.headers["x-content-sha256"] == art.sha256
    assert r.headers["content-disposition"] == 'attachment; filename="table.csv"'

    h = c.head("/retail/files/table.csv")
    assert h.status_code == 200 and h.content == b"" and h.headers["etag"] == r.headers["etag"]

    n = c.get("/retail/files/table.csv", headers={"If-None-Match": r.headers["etag"]})
    assert n.status_code == 304 and n.content == b""
    assert c.get("/retail/files/table.csv", headers={"If-None-Match": '"other"'}).status_code == 200

    ctx.artifacts.path_of(art).write_bytes(b"a,b\n1,3\n")  # tampered on disk
    t = c.get("/retail/files/table.csv")
    assert t.status_code == 409
    assert t.headers["content-type"].startswith("application/problem+json")
    assert t.json()["reason_code"] == "artifact_integrity"

    ctx.artifacts.path_of(art).unlink()
    assert c.get("/retail/files/table.csv").json()["reason_code"] == "artifact_integrity"


def test_media_types_by_extension() -> None:
    assert media_type_for("r.pdf") == "application/pdf"
    assert media_type_for("r.geojson") == "application/geo+json"
    assert media_type_for("r.zip") == "application/zip"
    assert media_type_for("r.CSV") == "text/csv"
    assert media_type_for("r.bin") == "application/octet-stream"


# ---- reason-code catalogues vs. doc pages --------------------------------------------------


@pytest.mark.parametrize("name", ["routing", "sim", "retail"])
def test_doc_page_lists_exactly_the_family_catalogue(name: str) -> None:
    from ridgeline.app import load_family
    from ridgeline.platform.testing import documented_reason_codes

    fam = load_family(name)
    assert fam.reason_codes is not None and fam.doc_pages
    documented = documented_reason_codes(ROOT / p for p in fam.doc_pages)
    assert documented == fam.reason_codes.codes, {
        "undocumented": sorted(fam.reason_codes.codes - documented),
        "not in catalogue": sorted(documented - fam.reason_codes.codes),
    }

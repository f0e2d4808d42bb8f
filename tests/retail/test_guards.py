"""Issue 22, part one: one request must never take the service down (guards, over HTTP).

Every test asserts the status code and the reason code of the guard it covers.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import subprocess
import sys
import time
import tracemalloc
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import polars as pl
import pytest
import sqlalchemy as sa

from ridgeline.platform.family import Family
from ridgeline.platform.settings import SettingsError
from ridgeline.retail.api import store
from ridgeline.retail.records import RecordParser
from ridgeline.retail.settings import PREFIX, RetailSettings

from .forecast_synth import retail_frame
from .retail_testlib import csv_bytes, post_csv, run_db, sales_rows

pytestmark = pytest.mark.db


def _limit(client: Any, **values: object) -> None:
    """Set RIDGELINE_RETAIL_* values on the running app, as the composer would have loaded them."""
    env = {f"{PREFIX}{k.upper()}": str(v) for k, v in values.items()}
    ctx = client.app.state["ctx"]
    current = msgspec.structs.asdict(ctx.family_settings["retail"])
    loaded = _retail_family().load_settings(env)
    changed = {k: getattr(loaded, k) for k in values}
    ctx.family_settings["retail"] = RetailSettings(**{**current, **changed})


def _retail_family() -> Family:
    return Family("retail", [], settings=RetailSettings, settings_prefix=PREFIX)


def _sales_count(client: Any) -> int:
    async def count(conn: Any) -> int:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(store.sales))).scalar_one())

    return int(run_db(client, count))


def _ingest_series(c: Any, n_days: int = 200) -> tuple[int, int]:
    df = retail_frame(n_series=1, n_days=n_days, seed=12)
    rows = df.select(
        pl.col("date").cast(pl.String),
        pl.lit("S1").alias("store_code"),
        pl.lit("A").alias("sku"),
        pl.col("y").round(0).cast(pl.Int64).alias("quantity"),
        pl.col("price").round(2).alias("unit_price"),
        (pl.col("promo") > 0).alias("on_promotion"),
    )
    r = post_csv(c, csv_bytes(rows), create_missing=True)
    assert r.status_code == 200, r.text
    store_id = c.get("/retail/dimensions/stores").json()["stores"][0]["id"]
    product_id = c.get("/retail/dimensions/products").json()["products"][0]["id"]
    return store_id, product_id


def _train(c: Any, s: int, p: int, config: dict[str, Any], **extra: Any) -> Any:
    return c.post(
        "/retail/forecasting/train", json={"store_id": s, "product_id": p, "config": config, **extra}
    )


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["reason_code"] == code, body
    return body


# ------------------------------------------------------------------------------ hyperparameters
def test_hyperparameters_are_allow_listed_with_bounds(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p = _ingest_series(c)
    # Unknown keys first: on code without the allow-list these train (and the next would eat the box).
    body = _problem(
        _train(c, s, p, {"model_type": "lightgbm", "params": {"boosting": "dart"}}),
        422,
        "unknown_hyperparameter",
    )
    assert body["parameter"] == "boosting"
    body = _problem(
        _train(c, s, p, {"model_type": "naive", "params": {"window": 3}}), 422, "unknown_hyperparameter"
    )
    assert body["parameter"] == "window"
    huge = {"model_type": "lightgbm", "params": {"n_estimators": 100000, "num_leaves": 4096}}
    body = _problem(_train(c, s, p, huge), 422, "hyperparameter_out_of_range")
    assert body["parameter"] == "n_estimators"
    body = _problem(
        _train(c, s, p, {"model_type": "regression", "params": {"max_leaf_nodes": 4096}}),
        422,
        "hyperparameter_out_of_range",
    )
    assert body["parameter"] == "max_leaf_nodes"
    body = _problem(
        _train(c, s, p, {"model_type": "regression", "params": {"learning_rate": "fast"}}),
        422,
        "invalid_hyperparameter",
    )
    # Jobs and backtests are refused at submission, not as a failed job later.
    job = c.post(
        "/retail/jobs",
        json={"job_type": "train", "params": {"store_id": s, "product_id": p, "config": huge}},
    )
    assert _problem(job, 422, "hyperparameter_out_of_range")["parameter"] == "n_estimators"
    bt = c.post("/retail/backtesting/run", json={"store_id": s, "product_id": p, "models": [huge]})
    _problem(bt, 422, "hyperparameter_out_of_range")
    # Values inside the table's bounds still train.
    ok = _train(c, s, p, {"model_type": "lightgbm", "params": {"n_estimators": 20, "num_leaves": 8}})
    assert ok.status_code == 201, ok.text


# ------------------------------------------------------------------------------ fit limits
def test_fit_memory_cap_fails_the_request_and_the_server_keeps_serving(  # type: ignore[no-untyped-def]
    make_client,
) -> None:
    c = make_client(seed_defaults=False)
    s, p = _ingest_series(c)
    _limit(c, fit_memory_mb=8)  # far below what a lightgbm fit needs
    r = _train(c, s, p, {"model_type": "lightgbm", "params": {"n_estimators": 50}})
    _problem(r, 422, "memory_limit_exceeded")
    runs = c.get("/retail/registry/runs").json()["runs"]
    assert runs[0]["status"] == "failed" and "memory_limit_exceeded" in runs[0]["error_message"]
    assert c.get("/retail/health").status_code == 200
    _limit(c, fit_memory_mb=2048)
    assert _train(c, s, p, {"model_type": "lightgbm", "params": {"n_estimators": 50}}).status_code == 201


def _wait_job(c: Any, job_id: str, statuses: tuple[str, ...], limit_s: float = 120) -> dict[str, Any]:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        job = c.get(f"/retail/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


def test_time_budget_fails_the_job_with_a_reason_code(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p = _ingest_series(c)
    _limit(c, fit_time_s=0.01)  # no lightgbm fit of 2000 trees finishes in 10 ms
    config = {"model_type": "lightgbm", "params": {"n_estimators": 2000}}
    r = _train(c, s, p, config)
    _problem(r, 422, "time_budget_exceeded")
    job = c.post(
        "/retail/jobs",
        json={"job_type": "train", "params": {"store_id": s, "product_id": p, "config": config}},
    ).json()
    done = _wait_job(c, job["job_id"], ("completed", "failed", "cancelled"))
    assert done["status"] == "failed" and done["error"]["reason_code"] == "time_budget_exceeded", done
    assert c.get("/retail/health").status_code == 200


def test_cancelling_a_running_fit_kills_its_process(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p = _ingest_series(c, n_days=400)
    _limit(c, fit_time_s=600)
    config = {
        "model_type": "lightgbm",
        "params": {"n_estimators": 2000, "num_leaves": 256, "learning_rate": 0.001},
    }
    job = c.post(
        "/retail/jobs",
        json={
            "job_type": "backtest",
            "params": {"store_id": s, "product_id": p, "models": [config], "n_folds": 20, "horizon": 7},
        },
    ).json()
    _wait_job(c, job["job_id"], ("running",))
    # The work runs in a child process of the server ...
    end = time.monotonic() + 60
    while not multiprocessing.active_children() and time.monotonic() < end:
        time.sleep(0.02)
    children = multiprocessing.active_children()
    assert children, "the backtest does not run in a child process"
    r = c.delete(f"/retail/jobs/{job['job_id']}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    # ... which the cancel stopped (not left running to the end of its folds).
    for child in children:
        child.join(10)
        assert not child.is_alive()
    assert c.get("/retail/health").status_code == 200


def test_backtest_with_a_far_future_row_does_not_spin(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p = _ingest_series(c)
    # A row dated 9999-12-31 stored before ingest had a plausibility window (ingest now rejects it).

    async def insert(conn: Any) -> None:
        await conn.execute(
            store.sales.insert().values(
                store_id=s,
                product_id=p,
                date=date(9999, 12, 31),
                quantity=5,
                unit_price=1.0,
                total_amount=5.0,
                on_promotion=False,
            )
        )
        await conn.commit()

    run_db(c, insert)
    for models in (
        [{"model_type": "seasonal_naive"}],
        [{"model_type": "regression", "params": {"max_iter": 20}}],
    ):
        r = c.post("/retail/backtesting/run", json={"store_id": s, "product_id": p, "models": models})
        body = _problem(r, 400, "insufficient_data")
        assert "days before the test window" in body["detail"]
    # Training on it names the date instead of overflowing (500); far-off request dates are 400.
    body = _problem(_train(c, s, p, {"model_type": "naive"}), 400, "insufficient_data")
    assert "9999-12-31" in body["detail"]
    far = {"store_id": s, "product_id": p, "start_date": "9999-01-01", "end_date": "9999-12-31"}
    _problem(c.post("/retail/backtesting/run", json=far), 400, "invalid_date_range")


# ------------------------------------------------------------------------------ ingest caps
def test_gzip_bomb_line_is_refused_without_holding_it(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    line = 48 << 20  # one 48 MB line; compresses to about 50 KB
    body = gzip.compress(b"date,store_code,sku,quantity,unit_price\n2024-03-01,S1,A,1," + b"9" * line + b"\n")
    assert len(body) < 200_000
    tracemalloc.start()
    try:
        r = c.post(
            "/retail/ingest/sales-daily?create_missing=true",
            content=body,
            headers={"content-type": "text/csv", "content-encoding": "gzip"},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _problem(r, 400, "line_too_long")
    # Never more than a block plus one inflated piece in memory, far below the 48 MB line.
    assert peak < 16 << 20, peak
    assert _sales_count(c) == 0


def test_decompressed_size_is_capped(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    _limit(c, ingest_max_mb=1)
    rows = sales_rows(
        n_days=31, stores=tuple(f"S{i}" for i in range(60)), skus=tuple(f"P{i}" for i in range(20))
    )
    raw = csv_bytes(rows)
    assert len(raw) > 1 << 20
    r = c.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=gzip.compress(raw),
        headers={"content-type": "text/csv", "content-encoding": "gzip"},
    )
    _problem(r, 413, "body_too_large")
    assert _sales_count(c) == 0
    # The same cap holds for JSON documents once decompressed.
    doc = (
        b'{"records": ['
        + b",".join([b'{"date": "2024-03-01", "store_code": "S1", "sku": "A"}'] * 30000)
        + b"]}"
    )
    r = c.post(
        "/retail/ingest/sales-daily",
        content=gzip.compress(doc),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    _problem(r, 413, "payload_too_large")


def test_parser_memory_stays_bounded_on_a_bomb() -> None:
    """Engine level: the parser never holds more than its block plus one inflated piece."""
    comp = zlib.compressobj(wbits=31)
    body = (
        comp.compress(b"date,store_code,sku,quantity,unit_price\n")
        + comp.compress(b"x" * (64 << 20))
        + comp.flush()
    )
    parser = RecordParser("csv", gzip=True, block_bytes=1 << 20, max_line_bytes=65536)
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as info:
            for i in range(0, len(body), 65536):
                list(parser.feed(body[i : i + 65536]))
            list(parser.finish())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert getattr(info.value, "code", None) == "line_too_long"
    assert peak < 8 << 20, peak


def test_long_fields_are_rejected_and_echoes_truncated(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    good = sales_rows(n_days=2)
    n_bad = 1500
    bad = pl.DataFrame(
        {
            "date": ["2024-03-01"] * n_bad,
            "store_code": ["S" * 900] * n_bad,  # over the 64-character code limit
            "sku": ["A"] * n_bad,
            "quantity": ["9" * 5000] * n_bad,  # over the field limit
            "unit_price": ["1.0"] * n_bad,
        }
    )
    body = (
        csv_bytes(
            good.select(
                "date",
                "store_code",
                "sku",
                pl.col("quantity").cast(pl.String),
                pl.col("unit_price").cast(pl.String),
            )
        )
        + csv_bytes(bad).split(b"\n", 1)[1]
    )
    r = post_csv(c, body, create_missing=True)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["inserted_count"] == good.height and out["rejected_count"] == n_bad
    assert out["errors"][0]["error_code"] == "field_too_long"
    assert "quantity is longer than 1024 bytes" in out["errors"][0]["error_message"]
    assert len(out["errors"]) == 1000 and out["errors_truncated"] is True
    assert out["values_truncated"] is True
    assert all(len(e["store_code"]) <= 65 for e in out["errors"])
    assert len(r.content) < 400_000, len(r.content)  # 13 MB uploaded
    # A value over the echo length but under the field cap is echoed truncated in its message.
    one = b"date,store_code,sku,quantity,unit_price\n2024-03-01,S1,A," + b"7" * 500 + b".5,1.0\n"
    r = post_csv(c, one, create_missing=True)
    e = r.json()["errors"][0]
    assert e["error_code"] == "invalid_quantity" and len(e["error_message"]) < 150
    assert r.json()["values_truncated"] is True


# ------------------------------------------------------------------------------ broken gzip
@pytest.mark.parametrize("damage", ["truncated", "truncated_after_a_block", "bad_crc"])
def test_broken_gzip_is_400_and_stores_nothing(make_client, damage: str) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    raw = csv_bytes(sales_rows(n_days=31, stores=("S1", "S2", "S3"), skus=("A", "B", "C")))
    if damage == "truncated_after_a_block":
        # Over one 4 MiB block decompressed: the first block is written before the cut is seen,
        # and the transaction must roll it back.
        big = csv_bytes(
            sales_rows(
                n_days=31, stores=tuple(f"S{i}" for i in range(60)), skus=tuple(f"P{i}" for i in range(100))
            )
        )
        assert len(big) > 5 << 20
        body = bytearray(gzip.compress(big))
        body = body[: len(body) * 19 // 20]
    else:
        body = bytearray(gzip.compress(raw))
    if damage == "truncated":
        body = body[: len(body) // 2]
    elif damage == "bad_crc":
        body[-8] ^= 0xFF  # the CRC-32 of the trailer
    r = c.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=bytes(body),
        headers={"content-type": "text/csv", "content-encoding": "gzip"},
    )
    _problem(r, 400, "invalid_gzip")
    assert _sales_count(c) == 0
    assert c.get("/retail/dimensions/stores").json()["stores"] == []
    # Two concatenated members are one valid gzip body.
    half = raw.index(b"\n", len(raw) // 2) + 1
    two = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    r = c.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=two,
        headers={"content-type": "text/csv", "content-encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["inserted_count"] == 31 * 9


# ------------------------------------------------------------------------------ date window
def test_dates_outside_the_plausibility_window_are_rejected_per_row(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    header = "date,store_code,sku,quantity,unit_price\n"
    rows = [
        "2024-03-01,S1,A,1,1.0",
        "9999-12-31,S1,A,1,1.0",
        "1850-06-01,S1,A,1,1.0",
        "0000-01-01,S1,A,1,1.0",
    ]
    r = post_csv(c, (header + "\n".join(rows) + "\n").encode(), create_missing=True)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["inserted_count"] == 1 and out["rejected_count"] == 3
    codes = {e["row_index"]: e["error_code"] for e in out["errors"]}
    assert codes[1] == "implausible_date" and codes[2] == "implausible_date"
    assert codes[3] in ("implausible_date", "invalid_date")
    # The window is configurable.
    _limit(c, ingest_min_date="2024-03-02")
    r = post_csv(c, (header + "2024-03-01,S1,A,2,1.0\n2024-03-02,S1,A,2,1.0\n").encode(), create_missing=True)
    out = r.json()
    assert out["inserted_count"] == 1 and out["errors"][0]["error_code"] == "implausible_date"
    assert RetailSettings().date_window(date(2026, 1, 1)) == (date(1900, 1, 1), date(2028, 1, 1))


# ------------------------------------------------------------------------------ plans and scenarios
def test_bad_plans_and_scenarios_are_422(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p = _ingest_series(c)
    run = _train(
        c, s, p, {"model_type": "regression", "params": {"max_iter": 20}}, calibrate_horizon=0
    ).json()
    origin = date.fromisoformat(
        c.post("/retail/forecasting/predict", json={"run_id": run["run_id"], "horizon": 1}).json()["origin"]
    )
    d0 = origin.isoformat()

    def predict(plan: list[dict[str, Any]]) -> Any:
        return c.post(
            "/retail/forecasting/predict", json={"run_id": run["run_id"], "horizon": 7, "plan": plan}
        )

    _problem(
        predict([{"date": d0, "unit_price": 9.0}, {"date": d0, "unit_price": 8.0}]),
        422,
        "duplicate_plan_date",
    )
    _problem(predict([{"date": d0, "unit_price": -1.0}]), 422, "invalid_plan_value")
    body = _problem(predict([{"date": "2030-01-01", "unit_price": 9.0}]), 422, "plan_outside_horizon")
    assert body["field"] == "plan"
    _problem(predict([{"date": "2000-01-01", "unit_price": 9.0}]), 422, "plan_outside_horizon")
    assert predict([{"date": d0, "unit_price": 9.0}]).status_code == 200

    def simulate(assumptions: dict[str, Any]) -> Any:
        return c.post(
            "/retail/scenarios/simulate",
            json={"run_id": run["run_id"], "horizon": 7, "assumptions": assumptions},
        )

    body = _problem(simulate({"promotion": True, "promotion_days": [3, 30]}), 422, "plan_outside_horizon")
    assert body["field"] == "assumptions.promotion_days"
    body = _problem(simulate({"holiday_dates": ["2031-12-25"]}), 422, "plan_outside_horizon")
    assert body["field"] == "assumptions.holiday_dates"
    assert simulate({"promotion": True, "promotion_days": [3], "holiday_dates": [d0]}).status_code == 200


def test_settings_name_the_bad_variable() -> None:
    fam = _retail_family()
    with pytest.raises(SettingsError, match="RIDGELINE_RETAIL_FIT_MEMORY_MB"):
        fam.load_settings({"RIDGELINE_RETAIL_FIT_MEMORY_MB": "lots"})
    with pytest.raises(SettingsError, match="RIDGELINE_RETAIL_FIT_TIME_S"):
        fam.load_settings({"RIDGELINE_RETAIL_FIT_TIME_S": "0"})
    with pytest.raises(SettingsError, match="RIDGELINE_RETAIL_INGEST_MAX_FUTURE_DAYS"):
        fam.load_settings({"RIDGELINE_RETAIL_INGEST_MAX_FUTURE_DAYS": "-1"})
    assert fam.load_settings({"RIDGELINE_RETAIL_FIT_TIME_S": "30"}).fit_time_s == 30.0
    assert fam.load_settings({"RIDGELINE_RETAIL_FIT_ISOLATED": "0"}).fit_isolated is False


def test_the_retail_family_declares_its_settings() -> None:
    from ridgeline.retail.api import family

    assert family.settings is RetailSettings and family.env_prefix == PREFIX


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RIDGELINE_RETAIL_FIT_MEMORY_MB", "lots"),
        ("RIDGELINE_RETAIL_FIT_TIME_S", "0"),
        ("RIDGELINE_RETAIL_INGEST_MIN_DATE", "yesterday"),
    ],
)
def test_serve_stops_on_a_bad_retail_variable(tmp_path: Path, variable: str, value: str) -> None:
    env = {**os.environ, "RIDGELINE_DATA_DIR": str(tmp_path), variable: value, "RIDGELINE_PORT": "1"}
    env.pop("RIDGELINE_ONLY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "ridgeline.cli", "serve"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------ range delete
def test_delete_sales_of_a_range_with_a_dry_run(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    assert post_csv(c, csv_bytes(sales_rows(n_days=10)), create_missing=True).status_code == 200
    total = _sales_count(c)
    stores = {x["code"]: x["id"] for x in c.get("/retail/dimensions/stores").json()["stores"]}
    products = {x["sku"]: x["id"] for x in c.get("/retail/dimensions/products").json()["products"]}
    q = {
        "store_id": stores["S1"],
        "product_id": products["A"],
        "start_date": "2024-03-03",
        "end_date": "2024-03-06",
    }
    dry = c.delete("/retail/ingest/sales-daily", params=q)
    assert dry.status_code == 200, dry.text
    assert (
        dry.json()["dry_run"] is True
        and dry.json()["matched_count"] == 4
        and dry.json()["deleted_count"] == 0
    )
    assert dry.json()["first_date"] == "2024-03-03" and dry.json()["last_date"] == "2024-03-06"
    assert _sales_count(c) == total
    done = c.delete("/retail/ingest/sales-daily", params={**q, "dry_run": "false"}).json()
    assert done["deleted_count"] == 4 and _sales_count(c) == total - 4
    # A whole store, every date.
    done = c.delete(
        "/retail/ingest/sales-daily", params={"store_id": stores["S2"], "dry_run": "false"}
    ).json()
    assert done["deleted_count"] == 20 and _sales_count(c) == total - 24
    _problem(c.delete("/retail/ingest/sales-daily", params={"dry_run": "false"}), 400, "filter_required")
    _problem(
        c.delete("/retail/ingest/sales-daily", params={"start_date": "2024-03-05", "end_date": "2024-03-01"}),
        400,
        "invalid_date_range",
    )
    assert _sales_count(c) == total - 24


def test_engine_refuses_hyperparameters_outside_the_table() -> None:
    from ridgeline.retail import backtest
    from ridgeline.retail.models import HYPERPARAMETERS, Forecaster, ModelConfig, ParamError, validate_params

    assert set(HYPERPARAMETERS) == {"naive", "seasonal_naive", "moving_average", "lightgbm", "regression"}
    assert validate_params("lightgbm", {"n_estimators": 50.0}) == {"n_estimators": 50}
    for params, code in (
        ({"num_leaves": 4096}, "hyperparameter_out_of_range"),
        ({"n_jobs": 8}, "unknown_hyperparameter"),
        ({"num_leaves": 7.5}, "invalid_hyperparameter"),
        ({"num_leaves": True}, "invalid_hyperparameter"),
    ):
        with pytest.raises(ParamError) as info:
            Forecaster(ModelConfig(model_type="lightgbm", params=params)).fit(retail_frame(1, 100))
        assert info.value.code == code and info.value.key == next(iter(params))
    with pytest.raises(ParamError):
        backtest.run(
            retail_frame(1, 100),
            [ModelConfig(model_type="naive", params={"window": 3})],
            backtest.BacktestConfig(),
        )

"""Retail ingest and analytics through the service (pytest-benchmark).

    .venv/bin/pytest bench/test_bench_retail_ingest.py --benchmark-only -p no:cacheprovider
    RIDGELINE_BENCH_DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/postgres \\
        .venv/bin/pytest bench/test_bench_retail_ingest.py --benchmark-only

What is measured: ``POST /retail/ingest/sales-daily`` of a whole file into an empty database,
through the ASGI app in-process (body parsing, validation, key resolution, inserts, holidays,
commit), then a re-send of the same body (classified unchanged, nothing written); and the latency of
``/analytics/kpis``, ``/analytics/timeseries`` and ``/analytics/drilldowns`` on the Rossmann data.
Two shapes: ``rossmann`` (stores 1..800 of the Rossmann file in ``../shared/data``, 729,128 daily
rows, one product per store, promotions, customers, state and school holidays) and ``walmart``
(Walmart's weekly store x department shape, 45 stores x up to 81 departments x 143 Fridays, about
475,000 rows with a few negative weeks taken as returns; generated here from a fixed seed, since
the Walmart file is not in ``../shared/data``). With a PostgreSQL URL, every benchmark also runs
against a fresh PostgreSQL database created on that server (and dropped afterwards), beside SQLite.

Besides wall time, each ingest (and the re-send) records this process's CPU seconds and, when the
PostgreSQL server runs on this machine, the server processes' CPU seconds (``/proc``), the rows per
CPU-second of both together, and the 1-minute load average: on a shared 2-core box the wall time says more about
the other work on the machine than about the code.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "retail" / "rossmann"
TRAIN = SHARED / "train_stores_1_800.csv.gz"
STORES = SHARED / "store.csv"
PG_URL = os.environ.get("RIDGELINE_BENCH_DATABASE_URL") or os.environ.get("RIDGELINE_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
SHAPES = ["rossmann", "walmart"]


def _pg(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(str(PG_URL).replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _gzip_csv(frame: Any) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(buf)
    return gzip.compress(buf.getvalue(), compresslevel=1)


def rossmann_body() -> bytes:
    if not TRAIN.exists():
        pytest.skip(f"shared data file not present: {TRAIN}")
    from ridgeline.retail.datasets import rossmann_records

    return _gzip_csv(rossmann_records(TRAIN, STORES))


def walmart_body() -> bytes:
    """Walmart's weekly sales shape (Store, Dept, Date, Weekly_Sales, IsHoliday, store Type):
    45 stores, 81 departments of which each store carries about 91 %, 143 Fridays from 2010-02-05,
    weekly dollar sales with about 0.3 % negative weeks (returns), the four holiday weeks named."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(20260301)
    weeks = pl.date_range(pl.date(2010, 2, 5), pl.date(2012, 10, 26), "1w", eager=True)
    combos = pl.DataFrame({"store": np.repeat(np.arange(1, 46), 81), "dept": np.tile(np.arange(1, 82), 45)})
    combos = combos.filter(pl.Series(rng.random(combos.height) < 0.914))
    frame = combos.join(pl.DataFrame({"date": weeks}), how="cross")
    n = frame.height
    level = rng.lognormal(8.5, 1.2, combos.height)
    sales = np.repeat(level, weeks.len()) * rng.lognormal(0.0, 0.25, n)
    sales = np.where(rng.random(n) < 0.003, -rng.uniform(1, 500, n), sales).round(2)
    holidays = {(2, 12): "Super Bowl", (9, 10): "Labor Day", (11, 26): "Thanksgiving", (12, 31): "Christmas"}
    week_end = pl.col("date") + pl.duration(days=6)
    holiday = pl.lit(None, dtype=pl.String)
    for (month, day), name in holidays.items():
        day_expr = pl.date(pl.col("date").dt.year(), month, day)
        holiday = (
            pl.when((pl.col("date") <= day_expr) & (week_end >= day_expr))
            .then(pl.lit(name))
            .otherwise(holiday)
        )
    store_type = np.array(["A", "B", "C"])[rng.integers(0, 3, 45)]
    out = frame.with_columns(pl.Series("sales", sales)).select(
        pl.col("date").cast(pl.String),
        pl.format("W{}", pl.col("store").cast(pl.String).str.zfill(2)).alias("store_code"),
        pl.format("DEPT-{}", pl.col("dept").cast(pl.String).str.zfill(2)).alias("sku"),
        pl.col("sales").round(0).cast(pl.Int64).alias("quantity"),
        pl.lit(1.0).alias("unit_price"),
        pl.col("sales").alias("total_amount"),
        holiday.alias("store_holiday"),
        pl.format("Walmart {}", pl.col("store")).alias("store_name"),
        pl.col("store").replace_strict(dict(enumerate(store_type.tolist(), start=1))).alias("store_type"),
        pl.format("Department {}", pl.col("dept")).alias("product_name"),
    )
    return _gzip_csv(out.sort("date", "store_code", "sku"))


@pytest.fixture(scope="module")
def bodies() -> dict[str, tuple[bytes, int]]:
    out = {}
    for shape, make in (("rossmann", rossmann_body), ("walmart", walmart_body)):
        raw = make()
        out[shape] = (raw, gzip.decompress(raw).count(b"\n") - 1)
    return out


@pytest.fixture(scope="module")
def body(bodies: dict[str, tuple[bytes, int]]) -> bytes:
    return bodies["rossmann"][0]


def _server_cpu_s() -> float | None:
    """CPU seconds used so far by the PostgreSQL server's processes, when they run on this machine
    (the pids come from pg_stat_activity; None when /proc does not show them)."""
    if not PG_URL:
        return None
    import asyncpg

    async def pids() -> list[int]:
        conn = await asyncpg.connect(str(PG_URL).replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [
                int(r[0])
                for r in await conn.fetch("SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
            ]
        finally:
            await conn.close()

    total, seen = 0, 0
    for pid in asyncio.run(pids()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        seen += 1
    return total / os.sysconf("SC_CLK_TCK") if seen else None


class Backend:
    """A fresh database (SQLite file or PostgreSQL database) and a client over the app."""

    def __init__(self, kind: str, tmp: Path) -> None:
        from litestar.testing import TestClient

        from ridgeline.app import create_app
        from ridgeline.platform.settings import Settings

        self.kind, self.name = kind, ""
        url = ""
        if kind == "postgresql":
            self.name = f"rl_bench_{uuid.uuid4().hex[:10]}"
            _pg(f'CREATE DATABASE "{self.name}"')
            url = f"{str(PG_URL).rpartition('/')[0]}/{self.name}"
        settings = Settings(
            data_dir=tmp / uuid.uuid4().hex[:8], database_url=url, seed_defaults=False, log_level="WARNING"
        )
        self.client = TestClient(create_app(settings))
        self.client.__enter__()

    def ingest(self, body: bytes, query: str = "create_missing=true") -> dict[str, Any]:
        r = self.client.post(
            f"/retail/ingest/sales-daily?{query}",
            content=body,
            headers={"content-type": "text/csv", "content-encoding": "gzip"},
        )
        assert r.status_code == 200, r.text[:300]
        return r.json()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        if self.name:
            _pg(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_ingest(benchmark, bodies, shape: str, kind: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, rows = bodies[shape]
    query = "create_missing=true" + ("&allow_returns=true" if shape == "walmart" else "")
    backends: list[Backend] = []

    def setup() -> tuple[tuple[Backend], dict[str, Any]]:
        backends.append(Backend(kind, tmp_path))
        return (backends[-1],), {}

    cpu: list[tuple[float, float | None]] = []

    def run(backend: Backend) -> dict[str, Any]:
        s0 = _server_cpu_s() if kind == "postgresql" else None
        c0 = time.process_time()
        out = backend.ingest(data, query)
        client = time.process_time() - c0
        s1 = _server_cpu_s() if kind == "postgresql" else None
        cpu.append((client, None if s0 is None or s1 is None else s1 - s0))
        return out

    load_before = os.getloadavg()[0]
    try:
        result = benchmark.pedantic(run, setup=setup, rounds=2, iterations=1)
        assert result["inserted_count"] == rows and result["rejected_count"] == 0
        s0 = _server_cpu_s() if kind == "postgresql" else None
        c0 = time.process_time()
        t = time.perf_counter()
        again = backends[-1].ingest(data, query)
        resend_s = time.perf_counter() - t
        resend_client_cpu = time.process_time() - c0
        s1 = _server_cpu_s() if kind == "postgresql" else None
        resend_server_cpu = None if s0 is None or s1 is None else s1 - s0
        assert again["unchanged_count"] == rows
        mean = benchmark.stats.stats.mean
        client_cpu, server_cpu = min(cpu, key=lambda c: c[0] + (c[1] or 0.0))
        total_cpu = client_cpu + (server_cpu or 0.0)
        benchmark.extra_info.update(
            shape=shape,
            rows=rows,
            rows_per_s=round(rows / mean),
            best_rows_per_s=round(rows / benchmark.stats.stats.min),
            resend_s=round(resend_s, 3),
            resend_rows_per_s=round(rows / resend_s),
            resend_client_cpu_s=round(resend_client_cpu, 3),
            resend_server_cpu_s=None if resend_server_cpu is None else round(resend_server_cpu, 3),
            resend_rows_per_cpu_s=round(rows / (resend_client_cpu + (resend_server_cpu or 0.0))),
            backend=kind,
            # CPU seconds of this process (all threads) and of the PostgreSQL server's processes
            # (when local), for the round with the least of both.
            client_cpu_s=round(client_cpu, 3),
            server_cpu_s=None if server_cpu is None else round(server_cpu, 3),
            rows_per_cpu_s=round(rows / total_cpu),
            load_avg_1m_before=round(load_before, 2),
            load_avg_1m_after=round(os.getloadavg()[0], 2),
        )
    finally:
        for b in backends:
            b.close()


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, body: bytes, tmp_path_factory) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    backend = Backend(request.param, tmp_path_factory.mktemp("retail"))
    backend.ingest(body)
    yield backend
    backend.close()


QUERIES = {
    "kpis_2y": "/retail/analytics/kpis?start_date=2013-08-01&end_date=2015-07-31",
    "kpis_1m_store": "/retail/analytics/kpis?start_date=2015-07-01&end_date=2015-07-31&store_id=17",
    "timeseries_week_2y": "/retail/analytics/timeseries?granularity=week&start_date=2013-08-01&end_date=2015-07-31",
    "timeseries_day_90d": "/retail/analytics/timeseries?granularity=day&start_date=2015-05-03&end_date=2015-07-31",
    "drilldown_store_1y": "/retail/analytics/drilldowns?dimension=store&start_date=2014-08-01&end_date=2015-07-31",
}


@pytest.mark.parametrize("query", list(QUERIES))
def test_analytics_latency(benchmark, loaded: Backend, query: str) -> None:  # type: ignore[no-untyped-def]
    url = QUERIES[query]

    def run() -> int:
        r = loaded.client.get(url)
        assert r.status_code == 200
        return len(r.content)

    benchmark.extra_info.update(backend=loaded.kind, query=url)
    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)

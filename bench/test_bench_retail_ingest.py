"""Retail ingest and analytics through the service (pytest-benchmark).

    .venv/bin/pytest bench/test_bench_retail_ingest.py --benchmark-only -p no:cacheprovider
    RIDGELINE_BENCH_DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/postgres \\
        .venv/bin/pytest bench/test_bench_retail_ingest.py --benchmark-only

What is measured: ``POST /retail/ingest/sales-daily`` of the whole Rossmann file (stores 1..800,
729,128 rows, gzip CSV with promotions, customers, state and school holidays) into an empty
database, through the ASGI app in-process (body parsing, validation, key resolution, upserts,
holidays, commit), then a re-send of the same body (classified unchanged, nothing written); and
the latency of ``/analytics/kpis``, ``/analytics/timeseries`` and ``/analytics/drilldowns`` on
that data. With a PostgreSQL URL, every benchmark also runs against a fresh PostgreSQL database
created on that server (and dropped afterwards), beside SQLite.
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


def _pg(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(str(PG_URL).replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="module")
def body() -> bytes:
    if not TRAIN.exists():
        pytest.skip(f"shared data file not present: {TRAIN}")
    from ridgeline.retail.datasets import rossmann_records

    buf = io.BytesIO()
    rossmann_records(TRAIN, STORES).write_csv(buf)
    return gzip.compress(buf.getvalue(), compresslevel=1)


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

    def ingest(self, body: bytes) -> dict[str, Any]:
        r = self.client.post(
            "/retail/ingest/sales-daily?create_missing=true",
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
def test_ingest_rossmann(benchmark, body: bytes, kind: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backends: list[Backend] = []

    def setup() -> tuple[tuple[Backend], dict[str, Any]]:
        backends.append(Backend(kind, tmp_path))
        return (backends[-1],), {}

    cpu: list[float] = []

    def run(backend: Backend) -> dict[str, Any]:
        c0 = time.process_time()
        out = backend.ingest(body)
        cpu.append(time.process_time() - c0)
        return out

    try:
        result = benchmark.pedantic(run, setup=setup, rounds=2, iterations=1)
        assert result["inserted_count"] == 729_128
        t = time.perf_counter()
        again = backends[-1].ingest(body)
        resend_s = time.perf_counter() - t
        assert again["unchanged_count"] == 729_128
        mean = benchmark.stats.stats.mean
        benchmark.extra_info.update(
            rows=729_128,
            rows_per_s=round(729_128 / mean),
            resend_s=round(resend_s, 3),
            resend_rows_per_s=round(729_128 / resend_s),
            backend=kind,
            # CPU seconds of this process (all threads; PostgreSQL's own work is not included).
            client_cpu_s=round(min(cpu), 3),
            load_avg_1m=round(os.getloadavg()[0], 2),
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

"""Integers a client sends (ids, pages, offsets) are bounded: 2^63 and above is a 422 problem, not a 500."""

from __future__ import annotations

import pytest

from tests.retail.retail_testlib import csv_bytes, post_csv, sales_rows

pytestmark = pytest.mark.db

HUGE = [2**63, 2**64, 10**30]
URLS = [
    "/retail/dimensions/stores/{n}",
    "/retail/dimensions/products/{n}",
    "/retail/dimensions/stores?page={n}",
    "/retail/dimensions/products?page={n}",
    "/retail/analytics/inventory-status?page={n}",
    "/retail/analytics/kpis?start_date=2024-03-01&end_date=2024-03-05&store_id={n}",
    "/retail/analytics/kpis?start_date=2024-03-01&end_date=2024-03-05&product_id={n}",
    "/retail/registry/runs?page={n}",
    "/retail/registry/runs?store_id={n}",
    "/retail/jobs?offset={n}",
    "/retail/scenarios?offset={n}",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.platform.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("bounds"), seed_defaults=False, log_level="WARNING")
    with TestClient(create_app(settings)) as c:
        assert post_csv(c, csv_bytes(sales_rows()), create_missing=True).status_code == 200
        yield c


@pytest.mark.parametrize("n", HUGE)
@pytest.mark.parametrize("url", URLS)
def test_out_of_range_integers_are_422_problems(client, url: str, n: int) -> None:  # type: ignore[no-untyped-def]
    r = client.get(url.format(n=n))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["reason_code"] == "invalid_request"


def test_largest_int64_id_is_still_a_404(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"/retail/dimensions/stores/{2**63 - 1}")
    assert r.status_code == 404
    assert r.json()["reason_code"] == "store_not_found"

"""/seeder/*: scenarios, deterministic generation, customisation, status, delete, verify; embedded default."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db

SMALL = {"stores": 2, "products": 3, "start_date": "2024-01-01", "end_date": "2024-02-29"}


def test_scenarios_listed(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    scenarios = client.get("/retail/seeder/scenarios").json()
    names = {s["name"] for s in scenarios}
    assert {"retail_standard", "holiday_rush", "promo_heavy", "stockout_prone", "sparse_launches"} <= names
    assert all("price_elasticity" in s["params"] for s in scenarios)


def test_generate_is_deterministic_and_replace_resets(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    body = {"scenario": "promo_heavy", "seed": 5, **SMALL}
    r = client.post("/retail/seeder/generate", json=body)
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["records_created"]["sales"] == 2 * 3 * 60 and result["params"]["promo_probability"] == 0.2

    def kpis():
        return client.get("/retail/analytics/kpis?start_date=2024-01-01&end_date=2024-02-29").json()[
            "metrics"
        ]

    first = kpis()
    # Same seed again (upsert) changes nothing; another seed with replace gives different data.
    client.post("/retail/seeder/generate", json=body)
    assert kpis() == first
    client.post("/retail/seeder/generate", json={**body, "seed": 6, "replace": True})
    assert kpis() != first
    client.post("/retail/seeder/generate", json={**body, "replace": True})
    assert kpis() == first
    status = client.get("/retail/seeder/status").json()
    assert status["sales"] == 360 and status["stores"] == 2 and status["inventory"] == 360
    assert (status["date_range_start"], status["date_range_end"]) == ("2024-01-01", "2024-02-29")
    assert status["last_run"]["scenario"] == "promo_heavy" and status["last_run"]["seed"] == 5


def test_customisation_changes_the_history(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    client.post("/retail/seeder/generate", json={"seed": 1, **SMALL, "base_units": 5})
    low = client.get("/retail/analytics/kpis?start_date=2024-01-01&end_date=2024-02-29").json()["metrics"]
    client.post("/retail/seeder/generate", json={"seed": 1, **SMALL, "base_units": 50, "replace": True})
    high = client.get("/retail/analytics/kpis?start_date=2024-01-01&end_date=2024-02-29").json()["metrics"]
    assert high["total_units"] > 5 * low["total_units"]


def test_dry_run_writes_nothing(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    r = client.post("/retail/seeder/generate", json={**SMALL, "dry_run": True})
    assert r.status_code == 201 and r.json()["records_created"]["sales"] == 360 and r.json()["dry_run"]
    assert client.get("/retail/seeder/status").json()["sales"] == 0


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"scenario": "mars_colony"}, 400, "unknown_scenario"),
        ({"start_date": "2024-02-01", "end_date": "2024-01-01"}, 400, "invalid_seeder_params"),
        ({"stores": 200, "products": 2000}, 400, "invalid_seeder_params"),
        ({"sparsity": 2.0}, 422, "invalid_request"),
        ({"stores": "many"}, 422, "invalid_request"),
        ({"unknown_knob": 1}, 422, "invalid_request"),
    ],
)
def test_invalid_generate_requests(make_client, body, status, reason) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    r = client.post("/retail/seeder/generate", json=body)
    assert r.status_code == status, r.text
    assert (
        r.headers["content-type"].startswith("application/problem+json") and r.json()["reason_code"] == reason
    )
    assert client.get("/retail/seeder/status").json()["stores"] == 0


def test_delete_scopes_and_verify(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    client.post("/retail/seeder/generate", json=SMALL)
    checks = client.post("/retail/seeder/verify").json()
    assert checks["passed"] and checks["failed_count"] == 0 and checks["total_checks"] >= 5
    preview = client.delete("/retail/seeder/data?scope=facts&dry_run=true").json()
    assert preview["records_deleted"]["retail_sales_daily"] == 360 and preview["dry_run"]
    assert client.get("/retail/seeder/status").json()["sales"] == 360
    facts = client.delete("/retail/seeder/data?scope=facts").json()
    assert facts["records_deleted"]["retail_sales_daily"] == 360
    status = client.get("/retail/seeder/status").json()
    assert status["sales"] == 0 and status["stores"] == 2
    client.delete("/retail/seeder/data?scope=all")
    assert client.get("/retail/seeder/status").json()["stores"] == 0
    assert client.delete("/retail/seeder/data?scope=everything").status_code == 400


def test_embedded_default_seeds_once(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(seed_defaults=True)
    status = client.get("/retail/seeder/status").json()
    assert status["stores"] == 4 and status["products"] == 12 and status["sales"] > 8000
    assert status["last_run"]["scenario"] == "embedded_default"
    start, end = status["date_range_start"], status["date_range_end"]
    for path in (
        f"analytics/kpis?start_date={start}&end_date={end}",
        f"analytics/drilldowns?dimension=category&start_date={start}&end_date={end}",
        f"analytics/timeseries?granularity=week&start_date={start}&end_date={end}",
        "analytics/inventory-status",
        "dimensions/stores",
        "dimensions/products",
    ):
        r = client.get(f"/retail/{path}")
        assert r.status_code == 200, path
    assert (
        client.get(f"/retail/analytics/kpis?start_date={start}&end_date={end}").json()["metrics"][
            "total_units"
        ]
        > 0
    )
    # A second start on the same data does not seed again.
    client.post("/retail/seeder/generate", json={**SMALL, "seed": 3})
    again = make_client(seed_defaults=True)
    assert again.get("/retail/seeder/status").json()["last_run"]["seed"] == 3


def test_append_extends_with_the_same_members(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    assert (
        client.post(
            "/retail/seeder/append", json={"start_date": "2024-03-01", "end_date": "2024-03-31"}
        ).status_code
        == 400
    )
    client.post("/retail/seeder/generate", json={"scenario": "promo_heavy", "seed": 9, **SMALL})
    stores_before = client.get("/retail/dimensions/stores").json()["stores"]
    r = client.post("/retail/seeder/append", json={"start_date": "2024-03-01", "end_date": "2024-03-31"})
    assert r.status_code == 201, r.text
    assert r.json()["records_created"]["sales"] == 2 * 3 * 31 and r.json()["scenario"] == "promo_heavy"
    status = client.get("/retail/seeder/status").json()
    assert status["sales"] == 2 * 3 * (60 + 31) and status["date_range_end"] == "2024-03-31"
    assert client.get("/retail/dimensions/stores").json()["stores"] == stores_before
    march = client.get("/retail/analytics/kpis?start_date=2024-03-01&end_date=2024-03-31").json()["metrics"]
    assert march["total_units"] > 0 and march["row_count"] == 2 * 3 * 31
    bad = client.post("/retail/seeder/append", json={"start_date": "2024-05-01", "end_date": "2024-04-01"})
    assert bad.status_code == 400 and bad.json()["reason_code"] == "invalid_seeder_params"

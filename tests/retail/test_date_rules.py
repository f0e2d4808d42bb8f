"""The retail date rules (``ridgeline.retail.dates``, docs/retail.md "Date ranges") over HTTP.

Each case asserts the status and the reason code, and a case just inside the rule shows the guard is
what answers (removing the guard turns the 400 into something else).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from ridgeline.retail import dates
from ridgeline.retail.dates import DateRangeError

pytestmark = pytest.mark.db

START = date(2020, 1, 1)
LONGEST = (START + timedelta(days=dates.HISTORY_MAX_DAYS)).isoformat()  # exactly 2,920 days
TOO_LONG = (START + timedelta(days=dates.HISTORY_MAX_DAYS + 1)).isoformat()


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["reason_code"] == code, body
    return body


@pytest.fixture
def client(make_client: Any) -> Any:
    return make_client(seed_defaults=False)


def _features(c: Any, start: str, end: str) -> Any:
    return c.post("/retail/featuresets/compute", json={"store_id": 1, "start_date": start, "end_date": end})


def _train(c: Any, start: str, end: str) -> Any:
    return c.post(
        "/retail/forecasting/train",
        json={
            "store_id": 1,
            "product_id": 1,
            "train_start_date": start,
            "train_end_date": end,
            "config": {"model_type": "naive"},
        },
    )


def _backtest(c: Any, start: str, end: str) -> Any:
    return c.post(
        "/retail/backtesting/run",
        json={"store_id": 1, "product_id": 1, "start_date": start, "end_date": end},
    )


@pytest.mark.parametrize("call", [_features, _train, _backtest], ids=["featuresets", "train", "backtest"])
def test_forecast_windows_longer_than_eight_years_are_refused(client: Any, call: Any) -> None:
    body = _problem(call(client, START.isoformat(), TOO_LONG), 400, "date_range_too_long")
    assert body["max_days"] == dates.HISTORY_MAX_DAYS


@pytest.mark.parametrize("call", [_features, _train, _backtest], ids=["featuresets", "train", "backtest"])
def test_forecast_windows_that_end_before_they_start_are_refused(client: Any, call: Any) -> None:
    _problem(call(client, "2024-03-02", "2024-03-01"), 400, "invalid_date_range")


@pytest.mark.parametrize("call", [_features, _train, _backtest], ids=["featuresets", "train", "backtest"])
@pytest.mark.parametrize(("start", "end"), [("0999-12-31", "1000-01-02"), ("9000-12-30", "9001-01-01")])
def test_forecast_dates_outside_the_window_are_refused(client: Any, call: Any, start: str, end: str) -> None:
    body = _problem(call(client, start, end), 400, "invalid_date_range")
    assert body["earliest"] == "1000-01-01" and body["latest"] == "9000-12-31"


def test_the_longest_forecast_window_passes_the_rule(client: Any) -> None:
    # Exactly 2,920 days: the rule lets it through and the empty database answers.
    assert _features(client, START.isoformat(), LONGEST).status_code == 200
    _problem(_train(client, START.isoformat(), LONGEST), 404, "series_not_found")
    _problem(_backtest(client, START.isoformat(), LONGEST), 404, "series_not_found")


def test_inventory_status_follows_the_analytics_rule(client: Any) -> None:
    base = "/retail/analytics/inventory-status"
    _problem(client.get(base, params={"start_date": "2024-03-01"}), 400, "invalid_date_range")
    _problem(
        client.get(base, params={"start_date": "2024-03-02", "end_date": "2024-03-01"}),
        400,
        "invalid_date_range",
    )
    _problem(
        client.get(base, params={"start_date": "2022-01-01", "end_date": "2024-01-02"}),
        400,
        "date_range_too_long",
    )
    assert client.get(base, params={"start_date": "2022-01-01", "end_date": "2024-01-01"}).status_code == 200


def test_registry_data_windows_are_ranges(client: Any) -> None:
    r = client.post(
        "/retail/registry/runs",
        json={"model_type": "naive", "data_window_start": "2024-03-02", "data_window_end": "2024-03-01"},
    )
    _problem(r, 400, "invalid_date_range")


def test_one_rule_one_code() -> None:
    with pytest.raises(DateRangeError) as info:
        dates.check_range(date(2024, 1, 2), date(2024, 1, 1), max_days=None)
    assert (info.value.status, info.value.reason_code) == (400, "invalid_date_range")
    with pytest.raises(DateRangeError) as info:
        dates.check_range(date(2022, 1, 1), date(2024, 1, 2), max_days=dates.ANALYTICS_MAX_DAYS)
    assert (info.value.status, info.value.reason_code) == (400, "date_range_too_long")
    with pytest.raises(DateRangeError) as info:
        dates.check_range(date(1, 1, 1), date(1, 1, 1), max_days=None, window=True)
    assert info.value.reason_code == "invalid_date_range"
    with pytest.raises(DateRangeError) as info:
        dates.check_range(date(2024, 1, 1), None, max_days=None, both=True)
    assert info.value.reason_code == "invalid_date_range"
    dates.check_range(date(2022, 1, 1), date(2024, 1, 1), max_days=dates.ANALYTICS_MAX_DAYS)
    dates.check_range(None, None, max_days=None, both=True)
    assert dates.plausible_window(date(1900, 1, 1), 730, date(2026, 1, 1)) == (
        date(1900, 1, 1),
        date(2028, 1, 1),
    )

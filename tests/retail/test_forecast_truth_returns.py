"""Returns: negative quantities can be ingested as such when the batch says so (allow_returns),
are stored and read back negative, and a forecast over them is not clipped at zero (issue 22)."""

from __future__ import annotations

from typing import Any

import pytest

from .retail_testlib import post_csv

pytestmark = pytest.mark.db

BODY = b"date,store_code,sku,quantity,unit_price\n2024-03-10,S1,A,5,2.0\n2024-03-11,S1,A,-3,2.0\n"


def test_negative_quantity_is_refused_by_default_and_taken_as_a_return_when_asked(make_client: Any) -> None:
    c = make_client(seed_defaults=False)
    plain = post_csv(c, BODY, create_missing="true").json()
    assert plain["rejected_count"] == 1 and plain["errors"][0]["error_code"] == "invalid_quantity"
    r = post_csv(c, BODY, create_missing="true", allow_returns="true")
    assert r.status_code == 200, r.text
    assert r.json()["rejected_count"] == 0
    units = c.get(
        "/retail/analytics/drilldowns?dimension=date&start_date=2024-03-10&end_date=2024-03-11"
    ).json()["items"]
    by_day = {i["dimension_value"]: i["metrics"]["total_units"] for i in units}
    assert by_day == {"2024-03-10": 5, "2024-03-11": -3}
    revenue = {i["dimension_value"]: i["metrics"]["total_revenue"] for i in units}
    assert revenue["2024-03-11"] == pytest.approx(-6.0)
    # Not a number at all is still refused.
    bad = post_csv(
        c, b"date,store_code,sku,quantity,unit_price\n2024-03-12,S1,A,-1.5,2.0\n", allow_returns="true"
    )
    assert bad.json()["errors"][0]["error_code"] == "invalid_quantity"

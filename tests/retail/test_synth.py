"""The synthetic history generator (engine only, no database)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from ridgeline.retail import synth


def small(**kw: object) -> synth.SynthParams:
    base = {"stores": 3, "products": 6, "start_date": date(2024, 1, 1), "end_date": date(2024, 6, 30)}
    base.update(kw)
    return synth.SynthParams(**base)  # type: ignore[arg-type]


def test_same_seed_same_data_and_other_seed_differs() -> None:
    a, b = synth.generate(small(seed=7)), synth.generate(small(seed=7))
    assert all(a[k].equals(b[k]) for k in a)
    c = synth.generate(small(seed=8))
    assert not a["sales"].equals(c["sales"])


def test_shapes_and_dimensions() -> None:
    out = synth.generate(small())
    days = (date(2024, 6, 30) - date(2024, 1, 1)).days + 1
    assert out["sales"].height == 3 * 6 * days
    assert out["calendar"].height == days
    assert out["stores"]["code"].n_unique() == 3 and out["products"]["sku"].n_unique() == 6
    assert out["stores"]["region"].is_in(list(synth.REGIONS)).all()
    assert out["products"]["category"].is_in(list(synth.CATEGORIES)).all()
    assert (out["sales"]["quantity"] >= 0).all() and (
        out["sales"]["transactions"] <= out["sales"]["quantity"]
    ).all()
    totals = (out["sales"]["quantity"] * out["sales"]["unit_price"]).round(2)
    assert (out["sales"]["total_amount"] - totals).abs().max() < 1e-6  # type: ignore[operator]


def test_chain_holidays_close_stores() -> None:
    out = synth.generate(small())
    closed = out["calendar"].filter(pl.col("is_holiday"))["date"]
    assert set(closed.to_list()) >= {date(2024, 1, 1), date(2024, 3, 29), date(2024, 4, 1), date(2024, 5, 1)}
    assert out["sales"].filter(pl.col("date").is_in(closed.to_list()))["quantity"].sum() == 0
    assert synth.easter(2025) == date(2025, 4, 20)


def test_promotions_lift_units_and_cut_prices() -> None:
    out = synth.generate(
        small(stores=4, products=10, promo_probability=0.2, disruption_prob=0.0, safety_stock_days=20)
    )
    s = out["sales"].join(out["products"].select("sku", "base_price"), on="sku")
    per = s.group_by("on_promotion").agg(
        pl.col("quantity").mean(), (pl.col("unit_price") / pl.col("base_price")).mean().alias("ratio")
    )
    promo = per.filter(pl.col("on_promotion")).row(0, named=True)
    regular = per.filter(~pl.col("on_promotion")).row(0, named=True)
    assert promo["quantity"] > 1.2 * regular["quantity"]
    assert promo["ratio"] < regular["ratio"] - 0.1


def test_stockout_scenario_censors_sales() -> None:
    calm = synth.generate(synth.scenario_params("retail_standard", stores=3, products=8))
    tight = synth.generate(synth.scenario_params("stockout_prone", stores=3, products=8))
    assert tight["inventory"]["is_stockout"].mean() > 3 * calm["inventory"]["is_stockout"].mean()  # type: ignore[operator]
    inv = tight["inventory"]
    assert ((inv["on_hand_qty"] == 0) == inv["is_stockout"]).all()


def test_sparse_launch_scenario_drops_series_and_early_days() -> None:
    out = synth.generate(synth.scenario_params("sparse_launches", stores=5, products=20))
    full = 5 * 20 * 366
    assert out["sales"].height < 0.8 * full
    firsts = out["sales"].group_by("sku").agg(pl.col("date").min())
    assert (firsts["date"] > date(2024, 1, 1)).any()


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"end_date": date(2023, 1, 1)}, "end_date"),
        ({"sparsity": 1.5}, "sparsity"),
        ({"price_elasticity": 0.5}, "price_elasticity"),
        ({"stores": 200, "products": 2000}, "exceeds"),
    ],
)
def test_invalid_parameters_are_named(kw: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        synth.generate(small(**kw))


def test_engine_does_not_import_http_or_database_layers() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ridgeline.retail, ridgeline.retail.synth, ridgeline.retail.records, "
        "ridgeline.retail.datasets; print(sorted(m for m in ('litestar', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_period_shorter_than_the_longest_promotion_generates() -> None:
    # promo_max_days is 10 in the presets: a 5-day period used to fail with a broadcast error (500).
    out = synth.generate(small(start_date=date(2024, 7, 1), end_date=date(2024, 7, 5)))
    assert out["sales"]["date"].n_unique() == 5

"""Feature kernels against an independent plain-polars reference, gaps, cutoffs and leakage."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import features
from ridgeline.retail.features import FeatureSpec

STATS = ("mean", "std", "min", "max", "sum")


def reference(df: pl.DataFrame, spec: FeatureSpec) -> pl.DataFrame:
    """Date-join reference: lag k joins the observation dated d - k; a window explodes d - 1 .. d - w."""
    base = df.select("series_id", "date")
    obs = df.filter(pl.col("y").is_not_null() & pl.col("y").is_not_nan()).select(
        "series_id", pl.col("date").alias("odate"), "y"
    )
    out = base
    for k in spec.lags:
        shifted = obs.select(
            "series_id",
            (pl.col("odate") + pl.duration(days=k)).alias("date"),
            pl.col("y").alias(f"lag_{k}"),
        )
        out = out.join(shifted, on=["series_id", "date"], how="left")
    for w in spec.windows:
        offsets = pl.DataFrame({"off": list(range(1, w + 1))})
        exploded = base.join(offsets, how="cross").with_columns(
            (pl.col("date") - pl.duration(days=pl.col("off"))).alias("odate")
        )
        agg = (
            exploded.join(obs, on=["series_id", "odate"], how="inner")
            .group_by("series_id", "date")
            .agg(
                pl.col("y").mean().alias("mean"),
                pl.col("y").std(ddof=1).alias("std"),
                pl.col("y").min().alias("min"),
                pl.col("y").max().alias("max"),
                pl.col("y").sum().alias("sum"),
                pl.len().alias("n"),
            )
        )
        agg = agg.with_columns(
            *[
                pl.when(pl.col("n") >= spec.min_periods)
                .then(pl.col(s))
                .otherwise(None)
                .alias(f"roll_{s}_{w}")
                for s in spec.window_stats
            ]
        )
        if "std" in spec.window_stats:
            agg = agg.with_columns(
                pl.when(pl.col("n") >= 2).then(pl.col(f"roll_std_{w}")).otherwise(None).alias(f"roll_std_{w}")
            )
        out = out.join(
            agg.select("series_id", "date", *[f"roll_{s}_{w}" for s in spec.window_stats]),
            on=["series_id", "date"],
            how="left",
        )
    return out.sort("series_id", "date")


def assert_matches(ours: pl.DataFrame, ref: pl.DataFrame, spec: FeatureSpec) -> None:
    ours = ours.sort("series_id", "date")
    assert ours.select("series_id", "date").equals(ref.select("series_id", "date"))
    for name in spec.target_feature_names():
        a = ours[name].to_numpy()
        b = ref[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=name)


def gappy_frame(seed: int, n_series: int = 12, n_days: int = 400) -> pl.DataFrame:
    """Series of different lengths with random missing days, a half-year hole, NaNs and flat runs."""
    rng = np.random.default_rng(seed)
    frames = []
    start = date(2014, 1, 1)
    for s in range(n_series):
        length = int(rng.integers(n_days // 3, n_days))
        offset = int(rng.integers(0, 30))
        days = np.arange(offset, offset + length)
        keep = rng.random(length) > 0.15
        if s % 3 == 0:  # a half-year hole like the Rossmann refurbishments
            keep[length // 3 : length // 3 + 183] = False
        days = days[keep]
        level = float(rng.choice([5.0, 1e3, 1e6]))
        y = level + rng.normal(0, level / 10, days.shape[0])
        y[rng.random(days.shape[0]) < 0.05] = np.nan
        if days.shape[0] > 60:
            y[20:50] = level  # a flat run: the rolling std must be exactly 0 there
        frames.append(
            pl.DataFrame(
                {
                    "series_id": [f"s{s:02d}"] * days.shape[0],
                    "date": [start + timedelta(days=int(d)) for d in days],
                    "y": y,
                }
            )
        )
    return pl.concat(frames)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gappy_series_match_reference(seed: int) -> None:
    spec = FeatureSpec(lags=(1, 2, 7, 28, 364), windows=(1, 3, 7, 28, 90), window_stats=STATS, calendar=False)
    df = gappy_frame(seed).sample(fraction=1.0, shuffle=True, seed=seed)  # unsorted input
    ours = features.compute(df, spec)
    assert_matches(ours, reference(df, spec), spec)


def test_min_periods_and_dense_path_match_reference() -> None:
    rng = np.random.default_rng(7)
    n_series, n_days = 20, 150
    df = pl.DataFrame(
        {
            "series_id": np.repeat(np.arange(n_series), n_days),
            "date": np.tile(np.arange(n_days), n_series).astype(np.int32),
            "y": np.round(rng.gamma(2.0, 30.0, n_series * n_days), 2),
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    for spec in (
        FeatureSpec(lags=(1, 7, 28), windows=(2, 5, 7, 28, 200), window_stats=STATS, calendar=False),
        FeatureSpec(lags=(3,), windows=(7, 28), window_stats=("std", "mean"), min_periods=5, calendar=False),
    ):
        ours = features.compute(df, spec)
        assert_matches(ours, reference(df, spec), spec)


def test_flat_window_std_is_exactly_zero() -> None:
    df = pl.DataFrame(
        {
            "series_id": ["a"] * 40,
            "date": [date(2020, 1, 1) + timedelta(days=i) for i in range(40)],
            "y": [1e9 + 0.1 * (i % 3) if i < 10 else 123456.789 for i in range(40)],
        }
    )
    out = features.compute(df, FeatureSpec(lags=(), windows=(7,), window_stats=("std",), calendar=False))
    assert (out["roll_std_7"].to_numpy()[18:] == 0.0).all()


def test_lag_is_by_date_not_row_position() -> None:
    # 10 days, a 100-day hole, 10 days: the row after the hole has no calendar lag 1 or 7.
    dates = [date(2015, 1, 1) + timedelta(days=i) for i in range(10)]
    dates += [date(2015, 1, 1) + timedelta(days=110 + i) for i in range(10)]
    df = pl.DataFrame({"series_id": [1] * 20, "date": dates, "y": [float(i) for i in range(20)]})
    out = features.compute(df, FeatureSpec(lags=(1, 7), windows=(7,), calendar=False))
    row = out.filter(pl.col("date") == date(2015, 4, 21)).row(0, named=True)
    assert np.isnan(row["lag_1"]) and np.isnan(row["lag_7"]) and np.isnan(row["roll_mean_7"])
    positional = df["y"].shift(1)[10]
    assert positional == 9.0  # what a row-position lag would have leaked in
    row2 = out.filter(pl.col("date") == date(2015, 4, 28)).row(0, named=True)
    assert row2["lag_7"] == 10.0 and row2["lag_1"] == 16.0


def test_features_at_cutoff_identical_with_or_without_later_data() -> None:
    df = gappy_frame(11)
    spec = FeatureSpec(lags=(1, 7, 28), windows=(7, 28), window_stats=STATS, exog=())
    holidays = [date(2014, 12, 25), date(2015, 1, 1), date(2015, 4, 6)]
    cutoff = date(2014, 9, 15)
    with_later = features.compute(df, spec, cutoff=cutoff, holidays=holidays)
    without_later = features.compute(
        df.filter(pl.col("date") < cutoff), spec, cutoff=cutoff, holidays=holidays
    )
    assert with_later.equals(without_later)
    assert with_later["date"].max() < cutoff
    # Changing every value at or after the cutoff changes nothing before it.
    poisoned = df.with_columns(
        pl.when(pl.col("date") >= cutoff).then(pl.col("y") * 1000 + 1).otherwise(pl.col("y")).alias("y")
    )
    assert features.compute(poisoned, spec, cutoff=cutoff, holidays=holidays).equals(with_later)
    # And a feature for date d never looks at d itself: perturbing one day moves only later rows.
    target_day = date(2014, 6, 2)
    bumped = df.with_columns(
        pl.when(pl.col("date") == target_day).then(pl.col("y") + 99.0).otherwise(pl.col("y")).alias("y")
    )
    a = features.compute(df, spec).filter(pl.col("date") <= target_day).drop("y")
    b = features.compute(bumped, spec).filter(pl.col("date") <= target_day).drop("y")
    assert a.equals(b)


def test_compute_for_future_rows_uses_history_only() -> None:
    df = gappy_frame(5, n_series=6)
    spec = FeatureSpec(lags=(1, 7, 14), windows=(7, 28), window_stats=STATS, calendar=False)
    cutoff = date(2014, 10, 1)
    history = df.filter(pl.col("date") < cutoff)
    future_dates = [cutoff + timedelta(days=i) for i in range(10)]
    queries = pl.DataFrame(
        {
            "series_id": [s for s in ["s00", "s03", "zz"] for _ in future_dates],
            "date": future_dates * 3,
        }
    )
    ours = features.compute_for(history, queries, spec)
    # Reference: append the query rows to the history with unknown targets, then date-join.
    stacked = pl.concat(
        [history, queries.with_columns(pl.lit(None, dtype=pl.Float64).alias("y"))], how="diagonal"
    )
    ref = reference(stacked, spec).join(queries, on=["series_id", "date"], how="semi")
    assert_matches(ours, ref, spec)
    unknown = ours.filter(pl.col("series_id") == "zz")
    assert unknown.height == 10 and unknown["lag_1"].is_nan().all()


def test_calendar_and_holiday_features() -> None:
    dates = [date(2015, 12, 20) + timedelta(days=i) for i in range(20)]
    df = pl.DataFrame({"series_id": ["a"] * 20, "date": dates, "y": np.arange(20.0)})
    hol = [date(2015, 12, 25), date(2016, 1, 1)]
    out = features.compute(df, FeatureSpec(lags=(), windows=(), calendar=True), holidays=hol)
    by_day = {r["date"]: r for r in out.iter_rows(named=True)}
    assert by_day[date(2015, 12, 21)]["day_of_week"] == 1  # Monday
    assert by_day[date(2015, 12, 26)]["is_weekend"] == 1
    assert by_day[date(2015, 12, 24)]["days_to_next_holiday"] == 1
    assert by_day[date(2015, 12, 25)]["is_holiday"] == 1
    assert by_day[date(2015, 12, 25)]["days_to_next_holiday"] == 0
    assert by_day[date(2015, 12, 27)]["days_since_prev_holiday"] == 2
    assert np.isnan(by_day[date(2016, 1, 5)]["days_to_next_holiday"])
    assert by_day[date(2016, 1, 1)]["month"] == 1
    assert out.columns[-len(features.CALENDAR_COLUMNS) :] == list(features.CALENDAR_COLUMNS)


def test_exogenous_columns_pass_through_and_validation() -> None:
    df = pl.DataFrame(
        {
            "series_id": [1, 1, 1],
            "date": [date(2020, 1, 1), date(2020, 1, 2), date(2020, 1, 3)],
            "y": [1.0, 2.0, 3.0],
            "price": [9.5, 9.0, 8.5],
        }
    )
    out = features.compute(df, FeatureSpec(lags=(1,), windows=(), exog=("price",), calendar=False))
    assert out["price"].to_list() == [9.5, 9.0, 8.5]
    with pytest.raises(KeyError):
        features.compute(df, FeatureSpec(exog=("promo",)))
    with pytest.raises(ValueError, match="duplicate"):
        features.compute(pl.concat([df, df]), FeatureSpec(exog=("price",)))
    with pytest.raises(ValueError):
        FeatureSpec(lags=(0,))
    with pytest.raises(ValueError):
        FeatureSpec(window_stats=("median",))


@pytest.mark.parametrize("key_kind", ["int", "str", "wide_int"])
def test_radix_sort_matches_polars_sort(key_kind: str) -> None:
    rng = np.random.default_rng(3)
    n = 5000
    ids = rng.integers(0, 40, n)
    keys: list[object]
    if key_kind == "str":
        keys = [f"store-{i:03d}" for i in ids]
    elif key_kind == "wide_int":
        keys = list(ids * 10_000_000_000)  # too wide to count: falls back to polars' sort
    else:
        keys = list(ids)
    df = pl.DataFrame(
        {
            "k": keys,
            "date": [date(2020, 1, 1) + timedelta(days=int(d)) for d in rng.permutation(n) % 400],
            "y": pl.Series([None if r < 0.1 else float(r) for r in rng.random(n)], dtype=pl.Float64),
            "tag": [None if i % 7 == 0 else f"t{i}" for i in range(n)],
        }
    ).unique(subset=["k", "date"], keep="first")
    ours = features.sort_by_series_date(df, "k", "date")
    assert ours.equals(df.sort("k", "date"))
    assert features.is_sorted_by_series_date(ours, "k", "date")
    assert not features.is_sorted_by_series_date(df, "k", "date")

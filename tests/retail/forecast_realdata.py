"""Loaders for the shared real retail data (Rossmann, M5 subset) as long polars frames."""

from __future__ import annotations

from pathlib import Path

import polars as pl

ROSSMANN_EXOG = ("open", "promo", "state_holiday", "school_holiday")


def load_rossmann(path: Path, stores: int | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """(frame, national holiday dates): one series per store, exogenous open/promo/holiday flags."""
    raw = pl.read_csv(path, schema_overrides={"StateHoliday": pl.Utf8})
    if stores is not None:
        raw = raw.filter(pl.col("Store") <= stores)
    df = raw.select(
        pl.col("Store").alias("series_id"),
        pl.col("Date").str.to_date().alias("date"),
        pl.col("Sales").cast(pl.Float64).alias("y"),
        pl.col("Open").cast(pl.Float64).alias("open"),
        pl.col("Promo").cast(pl.Float64).alias("promo"),
        (pl.col("StateHoliday") != "0").cast(pl.Float64).alias("state_holiday"),
        pl.col("SchoolHoliday").cast(pl.Float64).alias("school_holiday"),
    )
    n_stores = df["series_id"].n_unique()
    holidays = (
        df.filter(pl.col("state_holiday") > 0)
        .group_by("date")
        .len()
        .filter(pl.col("len") > n_stores // 2)
        .sort("date")["date"]
    )
    return df, holidays


def load_m5(folder: Path) -> tuple[pl.DataFrame, pl.Series]:
    """(frame, event dates): item-store series with the daily sell price and SNAP flag."""
    cal = pl.read_csv(folder / "calendar.csv").with_columns(pl.col("date").str.to_date())
    wide = pl.read_csv(folder / "sales_train_validation.csv")
    day_cols = [c for c in wide.columns if c.startswith("d_")]
    long = wide.unpivot(
        index=["id", "item_id", "store_id", "state_id"], on=day_cols, variable_name="d", value_name="y"
    )
    prices = pl.read_csv(folder / "sell_prices.tsv", separator="\t").drop("")
    df = (
        long.join(cal.select("d", "date", "wm_yr_wk", "snap_CA", "snap_TX", "snap_WI"), on="d")
        .join(prices, on=["store_id", "item_id", "wm_yr_wk"], how="left")
        .select(
            pl.col("id").alias("series_id"),
            "date",
            pl.col("y").cast(pl.Float64),
            pl.col("sell_price").cast(pl.Float64).alias("price"),
            pl.when(pl.col("state_id") == "CA")
            .then(pl.col("snap_CA"))
            .when(pl.col("state_id") == "TX")
            .then(pl.col("snap_TX"))
            .otherwise(pl.col("snap_WI"))
            .cast(pl.Float64)
            .alias("snap"),
        )
        # Before an item's first price it was not on sale: those days are not demand observations.
        .filter(pl.col("price").is_not_null())
    )
    events = cal.filter(pl.col("event_name_1").is_not_null())["date"]
    return df, events

"""Public retail datasets as daily-sales records in the ingest format (see ``docs/retail.md``).

``rossmann_records`` and ``m5_records`` return polars DataFrames whose columns are the fields
``POST /ingest/sales-daily`` accepts, so a program can write them as CSV and stream them in.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

ROSSMANN_STATE_HOLIDAYS = {"a": "public holiday", "b": "Easter holiday", "c": "Christmas"}


def rossmann_records(train_csv: Path, store_csv: Path | None = None) -> pl.DataFrame:
    """Rossmann Store Sales: each store is a store and carries one product.

    Mapping: ``store_code`` = ``R`` + the zero-padded store number; ``sku`` = ``ROSSMANN-`` + the
    same; ``quantity`` = ``total_amount`` = Sales (the data has no unit counts, so one unit is one
    currency unit and ``unit_price`` = 1); ``transactions`` = Customers; ``on_promotion`` = Promo;
    ``store_holiday`` = StateHoliday a/b/c named, ``0`` none; ``school_holiday`` = SchoolHoliday.
    Closed days (Open = 0) stay as zero-sales rows. ``store_type`` comes from store.csv if given.
    """
    train = pl.read_csv(train_csv, schema_overrides={"StateHoliday": pl.String})
    code = pl.col("Store").cast(pl.String).str.zfill(4)
    out = train.select(
        pl.col("Date").alias("date"),
        pl.format("R{}", code).alias("store_code"),
        pl.format("ROSSMANN-{}", code).alias("sku"),
        pl.col("Sales").alias("quantity"),
        pl.lit(1.0).alias("unit_price"),
        pl.col("Sales").cast(pl.Float64).alias("total_amount"),
        pl.col("Promo").cast(pl.Boolean).alias("on_promotion"),
        pl.col("Customers").alias("transactions"),
        pl.col("StateHoliday").replace_strict(ROSSMANN_STATE_HOLIDAYS, default=None).alias("store_holiday"),
        pl.col("SchoolHoliday").cast(pl.Boolean).alias("school_holiday"),
        pl.format("Rossmann {}", pl.col("Store")).alias("store_name"),
        pl.col("Store").alias("_store"),
    )
    if store_csv is not None:
        stores = pl.read_csv(store_csv, null_values="NULL").select(
            pl.col("Store").alias("_store"), pl.col("StoreType").alias("store_type")
        )
        out = out.join(stores, on="_store", how="left")
    return out.drop("_store")


def m5_records(directory: Path) -> pl.DataFrame:
    """M5 subset: items are products (category = cat_id, brand = dept_id), stores are stores
    (region = state_id), prices from the weekly sell prices. Days without a sell price (the item
    was not on sale yet) are left out; national holidays become store holidays.
    """
    sales = pl.read_csv(directory / "sales_train_validation.csv")
    calendar = pl.read_csv(directory / "calendar.csv", schema_overrides={"date": pl.Date})
    prices = pl.read_csv(directory / "sell_prices.tsv", separator="\t").drop("")
    day_cols = [c for c in sales.columns if c.startswith("d_")]
    long = sales.unpivot(
        index=["item_id", "dept_id", "cat_id", "store_id", "state_id"],
        on=day_cols,
        variable_name="d",
        value_name="quantity",
    )
    cal = calendar.select(
        "d",
        "date",
        "wm_yr_wk",
        pl.when(pl.col("event_type_1") == "National").then(pl.col("event_name_1")).alias("store_holiday"),
    )
    joined = long.join(cal, on="d", how="inner").join(
        prices, on=["store_id", "item_id", "wm_yr_wk"], how="inner"
    )
    return joined.select(
        pl.col("date").cast(pl.String),
        pl.col("store_id").alias("store_code"),
        pl.col("item_id").alias("sku"),
        pl.col("quantity").cast(pl.Int64),
        pl.col("sell_price").alias("unit_price"),
        (pl.col("quantity") * pl.col("sell_price")).round(2).alias("total_amount"),
        "store_holiday",
        pl.col("state_id").alias("region"),
        pl.col("item_id").alias("product_name"),
        pl.col("cat_id").alias("category"),
        pl.col("dept_id").alias("brand"),
    ).sort("store_code", "sku", "date")

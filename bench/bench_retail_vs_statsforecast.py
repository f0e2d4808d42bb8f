"""Our retail models against statsforecast's AutoETS and SeasonalNaive on identical Rossmann folds.

    .venv/bin/python bench/bench_retail_vs_statsforecast.py [N_STORES]

The folds are ``ridgeline.retail.backtest``'s: 3 rolling folds of 42 days (test windows starting
2015-03-28, 2015-05-09, 2015-06-20), 730-day training windows, over the first N Rossmann stores
(default 100). Our models run through ``backtest.run`` (learned models with the open/promo/holiday
flags as a known plan; lightgbm also without the open flag). statsforecast (``AutoETS`` and
``SeasonalNaive``, season 7) is fitted per store on the same fold's training rows and scored on
exactly the points our backtest scored (the same store, date and actual; closed days are left out of
every model's score, as ``closed_days="exclude"`` does). ETS needs a gap-free series, so it gets the
fold's training rows after the store's last missing day (Rossmann has stores with a half-year gap);
our models read the whole window by date. WAPE = sum |a - f| / sum |a|, per fold, then the mean over
the folds, and pooled over all scored points. Needs the ``bench`` extra (statsforecast).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.retail.forecast_realdata import ROSSMANN_EXOG, load_rossmann  # noqa: E402

from ridgeline.retail import backtest  # noqa: E402
from ridgeline.retail.models import ModelConfig  # noqa: E402


def _wape(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.sum(np.abs(y - f)) / np.sum(np.abs(y)))


def _after_last_gap(train: pl.DataFrame) -> pl.DataFrame:
    """Per store, the training rows after its last missing day (ETS needs a regular series)."""
    t = train.sort("series_id", "date").with_columns(
        ((pl.col("date").diff().over("series_id").dt.total_days().fill_null(1)) > 1)
        .cum_sum()
        .over("series_id")
        .alias("__run")
    )
    return t.filter(pl.col("__run") == pl.col("__run").max().over("series_id")).drop("__run")


def main() -> None:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    n_stores = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    path = ROOT.parent / "shared" / "data" / "retail" / "rossmann" / "train_stores_1_800.csv.gz"
    df, holidays = load_rossmann(path, stores=n_stores)
    no_open = tuple(c for c in ROSSMANN_EXOG if c != "open")
    configs = [
        ModelConfig(model_type="seasonal_naive"),
        ModelConfig(model_type="naive"),
        ModelConfig(model_type="moving_average", window=28),
        ModelConfig(model_type="regression", exog=ROSSMANN_EXOG),
        ModelConfig(model_type="lightgbm", exog=ROSSMANN_EXOG),
        ModelConfig(model_type="lightgbm", exog=no_open),  # named lightgbm_2: without the open flag
    ]
    cfg = backtest.BacktestConfig(horizon=42, n_folds=3, strategy="rolling", train_days=730)
    t = time.perf_counter()
    res = backtest.run(df, configs, cfg, holidays=holidays, return_predictions=True)
    ours_s = time.perf_counter() - t
    preds = pl.DataFrame(res.predictions).with_columns(pl.col("date").str.to_date())
    scored = preds.filter(pl.col("model") == "seasonal_naive").select("fold", "series_id", "date", "y")

    sf_parts = []
    t = time.perf_counter()
    for split in res.splits:
        train = df.filter(pl.col("date").is_between(split.train_start, split.train_end))
        train = _after_last_gap(train).select(
            pl.col("series_id").alias("unique_id"), pl.col("date").alias("ds"), "y"
        )
        # Forecast from each store's last training day through the test window.
        last = train.group_by("unique_id").agg(pl.col("ds").max())
        h = int((split.test_end - last["ds"].min()).days)
        sf = StatsForecast(
            models=[AutoETS(season_length=7), SeasonalNaive(season_length=7)], freq="1d", n_jobs=1
        )
        fc = sf.forecast(df=train, h=h)
        fc = pl.DataFrame(fc) if not isinstance(fc, pl.DataFrame) else fc
        sf_parts.append(
            fc.rename({"unique_id": "series_id", "ds": "date"})
            .with_columns(pl.col("date").cast(pl.Date), pl.lit(split.fold).alias("fold"))
            .filter(pl.col("date") >= split.test_start)
        )
    sf_s = time.perf_counter() - t
    sf_all = pl.concat(sf_parts).with_columns(pl.col("series_id").cast(scored["series_id"].dtype))
    joined = scored.join(sf_all, on=["fold", "series_id", "date"], how="left")
    missing = joined.filter(pl.col("AutoETS").is_null()).height

    rows = []
    for s in res.summary:
        p = preds.filter(pl.col("model") == s.model)
        rows.append(
            (s.model, s.metrics["wape"], _wape(p["y"].to_numpy(), p["forecast"].to_numpy()), p.height)
        )
    for name in ("AutoETS", "SeasonalNaive"):
        per_fold = [
            _wape(g["y"].to_numpy(), g[name].to_numpy())
            for _, g in joined.filter(pl.col(name).is_not_null()).group_by("fold")
        ]
        ok = joined.filter(pl.col(name).is_not_null())
        rows.append(
            (
                f"statsforecast {name}",
                float(np.mean(per_fold)),
                _wape(ok["y"].to_numpy(), ok[name].to_numpy()),
                ok.height,
            )
        )
    print(
        f"Rossmann stores 1..{n_stores}: {df.height} rows; 3 rolling folds x 42 days "
        f"({', '.join(str(s.test_start) for s in res.splits)}), 730-day training; closed days excluded"
    )
    print(f"ours {ours_s:.1f} s, statsforecast {sf_s:.1f} s; points without an ETS forecast: {missing}")
    print(f"{'model':28s} {'WAPE (mean of folds)':>21s} {'WAPE (pooled)':>14s} {'points':>8s}")
    for name, mean_w, pooled_w, n in rows:
        label = "lightgbm (no open flag)" if name == "lightgbm_2" else name
        print(f"{label:28s} {mean_w:21.4f} {pooled_w:14.4f} {n:8d}")


if __name__ == "__main__":
    main()

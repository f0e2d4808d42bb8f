"""Learned training time with interval calibration, and the calibrated bands' coverage.

    .venv/bin/python bench/bench_retail_train.py [N_STORES]

Trains lightgbm (Rossmann exogenous flags, 80/95 % levels, calibrate_horizon 28) on each of the
first N stores (default 20) one store at a time, in process, on the history up to 2015-06-19; prints
the total wall time, then the empirical coverage of the 80 % and 95 % bands on the 42 held-back days
2015-06-20..2015-07-31 (open days only, the known plan), pooled over the stores.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.retail.forecast_realdata import ROSSMANN_EXOG, load_rossmann  # noqa: E402

from ridgeline.retail import models  # noqa: E402
from ridgeline.retail.models import ModelConfig  # noqa: E402

CUT = date(2015, 6, 20)
HORIZON = 42


def main() -> None:
    n_stores = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    path = ROOT.parent / "shared" / "data" / "retail" / "rossmann" / "train_stores_1_800.csv.gz"
    df, holidays = load_rossmann(path, stores=n_stores)
    cfg = ModelConfig(model_type="lightgbm", exog=ROSSMANN_EXOG, levels=(80, 95))
    fitted = []
    t = time.perf_counter()
    for sid in range(1, n_stores + 1):
        hist = df.filter((pl.col("series_id") == sid) & (pl.col("date") < CUT))
        fitted.append((sid, models.fit(hist, cfg, holidays=holidays, calibrate_horizon=28)))
    took = time.perf_counter() - t
    print(f"{n_stores} one-store lightgbm trainings (calibrate_horizon 28): {took:.2f} s")
    inside = {80: [], 95: []}
    for sid, m in fitted:
        test = df.filter((pl.col("series_id") == sid) & (pl.col("date") >= CUT))
        fc = m.predict(HORIZON, test).join(
            test.select("series_id", "date", "y", "open"), on=["series_id", "date"]
        )
        fc = fc.filter(pl.col("open") == 1.0)
        y = fc["y"].to_numpy()
        for lv in inside:
            lo, hi = fc[f"lo_{lv}"].to_numpy(), fc[f"hi_{lv}"].to_numpy()
            inside[lv].append((y >= lo) & (y <= hi))
    for lv, parts in inside.items():
        print(
            f"coverage {lv} %: {np.mean(np.concatenate(parts)):.3f} (open days, {HORIZON} days x {n_stores} stores)"
        )


if __name__ == "__main__":
    main()

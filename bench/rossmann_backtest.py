"""Rossmann 42-day rolling backtest over the first N stores (default all 800); prints WAPE per model.

    .venv/bin/python bench/rossmann_backtest.py [N_STORES]

Three folds of 42 days (origins 2015-03-28, 2015-05-09, 2015-06-20), rolling 730-day training
windows; learned models use the open/promo/state-holiday/school-holiday flags as exogenous plan
columns and national holidays (state holiday in more than half the stores) as the calendar.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.retail.forecast_realdata import ROSSMANN_EXOG, load_rossmann  # noqa: E402

from ridgeline.retail import backtest  # noqa: E402
from ridgeline.retail.models import ModelConfig  # noqa: E402


def main() -> None:
    n_stores = int(sys.argv[1]) if len(sys.argv) > 1 else 800
    path = ROOT.parent / "shared" / "data" / "retail" / "rossmann" / "train_stores_1_800.csv.gz"
    df, holidays = load_rossmann(path, stores=n_stores)
    configs = [
        ModelConfig(model_type="seasonal_naive"),
        ModelConfig(model_type="naive"),
        ModelConfig(model_type="moving_average", window=28),
        ModelConfig(model_type="regression", exog=ROSSMANN_EXOG),
        ModelConfig(model_type="lightgbm", exog=ROSSMANN_EXOG),
    ]
    cfg = backtest.BacktestConfig(horizon=42, n_folds=3, strategy="rolling", train_days=730)
    t = time.perf_counter()
    res = backtest.run(df, configs, cfg, holidays=holidays)
    print(f"{df['series_id'].n_unique()} stores, {df.height} rows, {time.perf_counter() - t:.1f}s")
    for s in res.summary:
        m = s.metrics
        print(
            f"{s.model:16s} WAPE {m['wape']:.4f}  sMAPE {m['smape']:.2f}  MAE {m['mae']:.1f}  "
            f"bias {m['bias']:+.1f}  stability {s.stability:.4f}"
        )
    for f in res.folds:
        print(f"  fold {f.fold} {f.test_start}..{f.test_end} {f.model:16s} WAPE {f.metrics['wape']:.4f}")


if __name__ == "__main__":
    main()

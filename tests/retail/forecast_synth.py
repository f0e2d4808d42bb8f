"""A small synthetic retail history for engine tests: weekly pattern, promotions, price elasticity."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

START = date(2022, 1, 3)  # a Monday


def retail_frame(n_series: int = 4, n_days: int = 300, seed: int = 0, noise: float = 0.08) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    weekly = np.array([0.9, 0.85, 0.9, 1.0, 1.2, 1.4, 0.75])
    for s in range(n_series):
        base = 50.0 * (s + 1)
        t = np.arange(n_days)
        dow = (t + START.weekday()) % 7
        promo = ((t // 7) % 3 == 0).astype(float)  # one promotion week in three
        price = 10.0 * (1 + 0.15 * np.sin(t / 23.0 + s))
        demand = base * weekly[dow] * (1 + 0.5 * promo) * (price / 10.0) ** -1.5
        y = np.round(demand * (1 + rng.normal(0, noise, n_days)), 2)
        rows.append(
            pl.DataFrame(
                {
                    "series_id": [f"S{s}"] * n_days,
                    "date": [START + timedelta(days=int(i)) for i in t],
                    "y": y,
                    "promo": promo,
                    "price": np.round(price, 3),
                }
            )
        )
    return pl.concat(rows)

"""Retail demand forecasting engine: synthetic history generation (``synth``), time-safe features,
models, backtests, explanations and scenarios. Embeddable with no server: nothing here imports
Litestar or the database (``ridgeline.retail.api`` is the HTTP family built on top)."""

from ridgeline.retail import backtest, explain, features, metrics, models, scenarios

__all__ = ["backtest", "explain", "features", "metrics", "models", "scenarios"]

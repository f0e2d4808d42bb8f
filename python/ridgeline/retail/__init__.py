"""Retail demand forecasting engine: synthetic history generation (``synth``) and, in later issues,
features, models and backtests. Pure Python/polars/numpy; never imports Litestar or SQLAlchemy."""

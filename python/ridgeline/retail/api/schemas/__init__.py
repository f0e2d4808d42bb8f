"""Wire types of the retail family (msgspec Structs; importing them loads neither Litestar nor
SQLAlchemy): :mod:`.sales` for health, ingest, dimensions, analytics and the seeder;
:mod:`.forecasting` for the registry, featuresets, forecasting, backtesting, explain, scenarios and
jobs."""

"""The retail family's date rules, in one place (docs/retail.md, "Date ranges").

| rule | where | answer |
|---|---|---|
| a range ends before it starts, or gives one end only | every range (analytics, inventory, range delete, featuresets, training, backtests, registry windows) | 400 ``invalid_date_range`` |
| a range spans more days than its endpoint allows | analytics and inventory: :data:`ANALYTICS_MAX_DAYS` (730, contract 002); forecasting windows: :data:`HISTORY_MAX_DAYS` (2,920) | 400 ``date_range_too_long`` |
| a requested date lies outside :data:`EARLIEST_DATE` .. :data:`LATEST_DATE` | forecasting windows (featuresets, training, backtests) | 400 ``invalid_date_range`` |
| a stored sales date lies outside the plausibility window | ingest, per row | row rejected ``implausible_date`` |

The two span limits differ on purpose: contract 002 caps analytics at 730 days, while a model needs
more than two years of history to see yearly seasonality twice (Rossmann is 942 days), so forecasting
windows may reach eight years. The 1000..9000 window leaves room for the calendar reach (+-400 days)
and a horizon on either side, so no date arithmetic overflows. The ingest window
(``RIDGELINE_RETAIL_INGEST_MIN_DATE`` to today + ``RIDGELINE_RETAIL_INGEST_MAX_FUTURE_DAYS``) keeps
implausible rows out of the store; it is per row, so one bad row does not fail a batch.
"""

from __future__ import annotations

from datetime import date, timedelta

from ridgeline.platform.problems import EngineError

ANALYTICS_MAX_DAYS = 730
HISTORY_MAX_DAYS = 2920
EARLIEST_DATE = date(1000, 1, 1)
LATEST_DATE = date(9000, 12, 31)


class DateRangeError(EngineError):
    """400 with the rule's reason code (``invalid_date_range`` or ``date_range_too_long``)."""

    def __init__(self, reason_code: str, message: str, **extra: object) -> None:
        super().__init__(400, reason_code, message, **extra)


def check_range(
    start: date | None,
    end: date | None,
    *,
    max_days: int | None,
    what: str = "date range",
    window: bool = False,
    both: bool = False,
) -> None:
    """Apply the rules above to ``start``..``end`` (either may be None when the endpoint allows it).

    ``max_days``: the span limit (None: any span); ``window``: also require dates within EARLIEST..LATEST;
    ``both``: give both ends or neither.
    """
    if both and (start is None) != (end is None):
        raise DateRangeError("invalid_date_range", f"{what}: give both start_date and end_date, or neither")
    if window:
        for day in (start, end):
            if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
                raise DateRangeError(
                    "invalid_date_range",
                    f"{what}: {day} is outside {EARLIEST_DATE} to {LATEST_DATE}",
                    earliest=EARLIEST_DATE.isoformat(),
                    latest=LATEST_DATE.isoformat(),
                )
    if start is None or end is None:
        return
    extra = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    if end < start:
        raise DateRangeError("invalid_date_range", f"{what}: end {end} is before start {start}", **extra)
    span = (end - start).days
    if max_days is not None and span > max_days:
        raise DateRangeError(
            "date_range_too_long",
            f"{what} spans {span} days; the maximum is {max_days}",
            max_days=max_days,
            **extra,
        )


def plausible_window(min_date: date, max_future_days: int, today: date | None = None) -> tuple[date, date]:
    """(earliest, latest) plausible sales date for ingest, inclusive."""
    today = today or date.today()
    return min_date, today + timedelta(days=max_future_days)


def shift(day: date, days: int) -> date:
    """``day + days``, clamped to the representable dates (0001-01-01 and 9999-12-31 are valid
    inputs, and reaching back or ahead from them was an OverflowError 500)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min

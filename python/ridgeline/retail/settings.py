"""The retail family's settings (``RIDGELINE_RETAIL_*``), declared on the family and validated at
start-up with the platform's (a bad value stops ``ridgeline serve`` with exit 2 naming the variable).

| variable | meaning | default |
|---|---|---|
| RIDGELINE_RETAIL_FIT_MEMORY_MB | address-space cap of a training/backtest child process (MB above its start) | 2048 |
| RIDGELINE_RETAIL_FIT_TIME_S | wall-clock budget of one training or backtest (seconds) | 600 |
| RIDGELINE_RETAIL_FIT_ISOLATED | run fits in a child process (1) or on a thread of the server (0) | 1 |
| RIDGELINE_RETAIL_INGEST_MAX_MB | decompressed bytes one ingest request may carry | 4096 |
| RIDGELINE_RETAIL_INGEST_MAX_LINE_BYTES | longest CSV/NDJSON line (bytes) | 65536 |
| RIDGELINE_RETAIL_INGEST_MAX_FIELD_BYTES | longest single field value (bytes, UTF-8) | 1024 |
| RIDGELINE_RETAIL_INGEST_MIN_DATE | earliest plausible sales date | 1900-01-01 |
| RIDGELINE_RETAIL_INGEST_MAX_FUTURE_DAYS | latest plausible sales date, in days after today | 730 |

Handlers and jobs read the validated Struct from ``ctx.family_settings["retail"]``
(:func:`retail_settings`); nothing reads the environment after start-up.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec

from ridgeline.retail import dates

PREFIX = "RIDGELINE_RETAIL_"

Positive = msgspec.Meta(gt=0)


class RetailSettings(msgspec.Struct, frozen=True, kw_only=True):
    fit_memory_mb: Annotated[int, Positive] = 2048
    fit_time_s: Annotated[float, Positive] = 600.0
    fit_isolated: bool = True
    ingest_max_mb: Annotated[int, Positive] = 4096
    ingest_max_line_bytes: Annotated[int, Positive] = 65536
    ingest_max_field_bytes: Annotated[int, Positive] = 1024
    ingest_min_date: date = date(1900, 1, 1)
    ingest_max_future_days: Annotated[int, msgspec.Meta(ge=0)] = 730

    @property
    def ingest_max_bytes(self) -> int:
        return self.ingest_max_mb << 20

    def date_window(self, today: date | None = None) -> tuple[date, date]:
        """(earliest, latest) plausible sales date, inclusive (:func:`ridgeline.retail.dates.plausible_window`)."""
        return dates.plausible_window(self.ingest_min_date, self.ingest_max_future_days, today)


def retail_settings(ctx: Any) -> RetailSettings:
    """The settings the composer validated for this app (``Family(settings=RetailSettings)``)."""
    return ctx.family_settings["retail"]

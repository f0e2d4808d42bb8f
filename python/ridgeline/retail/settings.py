"""Retail family limits, read from ``RIDGELINE_RETAIL_*`` environment variables (msgspec-validated).

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

Read once per process (:func:`retail_settings`); ``retail_settings.cache_clear()`` re-reads.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from datetime import date

import msgspec

PREFIX = "RIDGELINE_RETAIL_"


class RetailSettingsError(ValueError):
    """A retail setting has a bad value; the message names the variable."""


class RetailSettings(msgspec.Struct, frozen=True, kw_only=True):
    fit_memory_mb: int = 2048
    fit_time_s: float = 600.0
    fit_isolated: bool = True
    ingest_max_mb: int = 4096
    ingest_max_line_bytes: int = 65536
    ingest_max_field_bytes: int = 1024
    ingest_min_date: date = date(1900, 1, 1)
    ingest_max_future_days: int = 730

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetailSettings:
        env = os.environ if env is None else env
        raw: dict[str, object] = {}
        for field in msgspec.structs.fields(cls):
            value = env.get(PREFIX + field.name.upper())
            if value is not None and value != "":
                raw[field.name] = value
        try:
            settings = msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            text = str(exc)
            name = text.rsplit("$.", 1)[1].strip("`").upper() if "$." in text else ""
            raise RetailSettingsError(f"{PREFIX}{name}: {text.split(' - at ')[0]}") from None
        settings.validate()
        return settings

    def validate(self) -> None:
        positive = {
            "fit_memory_mb": self.fit_memory_mb,
            "fit_time_s": self.fit_time_s,
            "ingest_max_mb": self.ingest_max_mb,
            "ingest_max_line_bytes": self.ingest_max_line_bytes,
            "ingest_max_field_bytes": self.ingest_max_field_bytes,
        }
        for name, value in positive.items():
            if value <= 0:
                raise RetailSettingsError(f"{PREFIX}{name.upper()} must be > 0, got {value}")
        if self.ingest_max_future_days < 0:
            raise RetailSettingsError(f"{PREFIX}INGEST_MAX_FUTURE_DAYS must be >= 0")

    @property
    def ingest_max_bytes(self) -> int:
        return self.ingest_max_mb << 20

    def date_window(self, today: date | None = None) -> tuple[date, date]:
        """(earliest, latest) plausible sales date, inclusive."""
        from datetime import timedelta

        today = today or date.today()
        return self.ingest_min_date, today + timedelta(days=self.ingest_max_future_days)


@functools.cache
def retail_settings() -> RetailSettings:
    return RetailSettings.from_env()

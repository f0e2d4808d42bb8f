"""Electricity grid carbon intensity by region, for electric vehicles' well-to-wheel CO2e.

``emissions_context.region`` is an ISO 3166-1 alpha-2 country code (or ``WORLD``), upper case. The values are the
2023 lifecycle carbon intensity of electricity generation in g CO2e/kWh published by Ember (Yearly
Electricity Data, as tabulated by Our World in Data, "Carbon intensity of electricity generation";
Spain from the same Ember series via lowcarbonpower.org). Only regions with a published 2023 figure
are listed: a region outside the table is refused rather than guessed (Andorra has no figure of its
own; give ``grid_intensity_g_per_kwh`` for it). An explicit ``grid_intensity_g_per_kwh`` wins over the
region (a warning says so).
"""

from __future__ import annotations

from typing import Literal, get_args

from ridgeline.platform.problems import EngineError

SOURCE = "Ember, Yearly Electricity Data 2023 (lifecycle, g CO2e/kWh)"
DEFAULT_G_PER_KWH = 250.0  # used when neither a region nor an intensity is given

# The wire type of ``emissions_context.region``: any other value is a 422 naming the field.
GridRegion = Literal[
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "NO",
    "PL",
    "SE",
    "WORLD",
]

GRID_INTENSITY_2023: dict[str, float] = {
    "AT": 111.0,
    "BE": 138.0,
    "BG": 335.0,
    "CY": 534.0,
    "CZ": 450.0,
    "DE": 381.0,
    "DK": 152.0,
    "EE": 417.0,
    "ES": 137.0,
    "FI": 79.0,
    "FR": 56.0,
    "GR": 337.0,
    "HR": 205.0,
    "HU": 204.0,
    "IE": 291.0,
    "NO": 30.0,
    "PL": 662.0,
    "SE": 41.0,
    "WORLD": 481.0,
}
assert set(GRID_INTENSITY_2023) == set(get_args(GridRegion))


def grid_intensity(region: str | None, explicit: float | None) -> tuple[float, list[str]]:
    """The intensity to use and the warnings to report; 422 naming the field for an unknown region."""
    code = region.strip().upper() if region is not None else None
    if code is not None and code not in GRID_INTENSITY_2023:
        raise EngineError(
            422,
            "invalid_request",
            f"emissions_context.region {region!r} has no published grid intensity here; known regions: "
            f"{', '.join(sorted(GRID_INTENSITY_2023))}. Give emissions_context.grid_intensity_g_per_kwh instead.",
            field="emissions_context.region",
        )
    if explicit is not None:
        warnings = (
            [
                f"emissions_context.region {code} was not used: grid_intensity_g_per_kwh={explicit:g} was given."
            ]
            if code is not None
            else []
        )
        return explicit, warnings
    if code is not None:
        return GRID_INTENSITY_2023[code], []
    return DEFAULT_G_PER_KWH, []

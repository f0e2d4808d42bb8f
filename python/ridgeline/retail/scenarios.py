"""What-if scenarios: compare a baseline forecast with one under changed assumptions.

Two methods, chosen by the baseline model:

* ``model_exogenous`` (a ``regression`` baseline): the model genuinely re-forecasts. The scenario
  builds the future feature frame from the baseline plan (the caller's or "same as last week"),
  changes the exogenous columns the model was trained on (``price`` scaled by the price change,
  ``promo`` set to 1 on promotion days) and adds scenario holidays to the calendar; the recursive
  forecast then recomputes lag and rolling features from its own predictions, so nothing from after
  the origin leaks in. Assumptions the model has no feature for fall back to the heuristic factor
  for that assumption alone (listed in ``caveats``).
* ``heuristic`` (every other baseline): a deterministic multiplier on the baseline forecast,
  ``(1 + price_change_pct / 100) ** price_elasticity`` x ``(1 + promotion_lift)`` on promotion days
  x ``(1 + holiday_lift)`` on holidays x the lifecycle factor.

Both methods then apply the lifecycle factor (``launch`` 1.15, ``growth`` 1.05, ``mature`` 1.0,
``decline`` 0.9, ``end_of_life`` 0.7) when the model did not already, and cap each day at
``inventory_cap`` units (stock available per day) when given.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec
import numpy as np
import polars as pl

from ridgeline.retail.models import LEARNED_TYPES, PRICE_COLUMNS, Forecaster, ModelError

LIFECYCLE_FACTORS: dict[str, float] = {
    "launch": 1.15,
    "growth": 1.05,
    "mature": 1.0,
    "decline": 0.9,
    "end_of_life": 0.7,
}
PROMO_COLUMNS = ("promo", "promotion", "on_promotion", "promotion_flag")


class Assumptions(msgspec.Struct, frozen=True, kw_only=True):
    price_change_pct: float = 0.0
    promotion: bool = False
    promotion_days: tuple[int, ...] | None = None  # 1-based horizon days; None -> every day
    promotion_lift: float = 0.20  # heuristic only
    holiday_dates: tuple[date, ...] = ()
    holiday_lift: float = 0.10  # heuristic only
    price_elasticity: float = -1.5  # heuristic only
    inventory_cap: float | None = None
    lifecycle: Literal["launch", "growth", "mature", "decline", "end_of_life"] = "mature"

    def __post_init__(self) -> None:
        if self.price_change_pct <= -100:
            raise ValueError("price_change_pct must be greater than -100")
        if self.inventory_cap is not None and self.inventory_cap < 0:
            raise ValueError("inventory_cap must be non-negative")


class ScenarioPoint(msgspec.Struct):
    series_id: Any
    date: date
    baseline: float
    scenario: float
    delta: float


class ScenarioComparison(msgspec.Struct):
    method: Literal["model_exogenous", "heuristic"]
    model_type: str
    horizon: int
    origin: date
    baseline_total: float
    scenario_total: float
    delta_total: float
    delta_pct: float | None
    capped_days: int
    multipliers: dict[str, float]
    assumptions: Assumptions
    points: list[ScenarioPoint]
    caveats: list[str]
    # Machine-readable caveats: price_no_signal, price_no_feature, price_outside_training_support,
    # promotion_no_feature, holiday_no_feature, heuristic_scenario.
    caveat_codes: list[str] = []
    # How the price change was priced: "model" (re-forecast inside the training prices),
    # "model_and_elasticity" (the model up to the training range, the elasticity beyond it),
    # "elasticity" (the heuristic alone); None when the price did not change.
    price_response: str | None = None


def _first(cols: tuple[str, ...], names: tuple[str, ...]) -> str | None:
    return next((c for c in names if c in cols), None)


def _promo_mask(dates: pl.Series, origin: date, a: Assumptions) -> np.ndarray:
    if not a.promotion:
        return np.zeros(dates.len(), dtype=bool)
    h = (dates - origin).dt.total_days().to_numpy() + 1
    if a.promotion_days is None:
        return np.ones(dates.len(), dtype=bool)
    return np.isin(h, np.asarray(a.promotion_days))


def _price_through_model(
    model: Forecaster,
    horizon: int,
    plan: pl.DataFrame,
    base: pl.DataFrame,
    col: str,
    a: Assumptions,
) -> tuple[pl.DataFrame, np.ndarray, str]:
    """The scenario plan with the changed price, a post-forecast factor per (sorted) baseline row
    and how the price was priced. Trees are flat outside their training range, so the price given
    to the model is clipped to each series' training prices and the rest of the change priced by
    the elasticity: ``(target / clipped) ** elasticity``. A model with no response at all (constant
    training prices, or a price feature it never split on) falls back to the elasticity alone."""
    change = 1 + a.price_change_pct / 100.0
    sup = (
        model.price_support.filter(pl.col("column") == col).select("series_id", "min", "max")
        if model.price_support is not None
        else None
    )
    target = pl.col(col) * change
    if sup is None:
        sp = plan.with_columns(target.alias("__target"), target.alias("__clipped"))
    else:
        sp = plan.join(sup, on="series_id", how="left").with_columns(target.alias("__target"))
        clipped = (
            pl.when(pl.col("min").is_null())
            .then(pl.col("__target"))
            .otherwise(pl.col("__target").clip(pl.col("min"), pl.col("max")))
        )
        sp = sp.with_columns(clipped.alias("__clipped")).drop("min", "max")
    ext = (
        pl.when((pl.col("__clipped") > 0) & (pl.col("__target") != pl.col("__clipped")))
        .then((pl.col("__target") / pl.col("__clipped")).pow(a.price_elasticity))
        .otherwise(1.0)
    )
    sp = sp.with_columns(ext.alias("__ext"))
    scen_plan = sp.with_columns(pl.col("__clipped").alias(col)).drop("__target", "__clipped", "__ext")
    price_only = model.point_forecast(horizon, scen_plan)
    b = base["forecast"].to_numpy()
    moved = np.abs(price_only["forecast"].to_numpy() - b) > 1e-9 * np.maximum(1.0, np.abs(b))
    if not moved.any():
        return plan, np.full(base.height, change**a.price_elasticity), "elasticity"
    factor = (
        base.select("series_id", "date")
        .join(sp.select("series_id", "date", "__ext"), on=["series_id", "date"], how="left")["__ext"]
        .fill_null(1.0)
        .to_numpy()
    )
    return scen_plan, factor, "model_and_elasticity" if (factor != 1.0).any() else "model"


def simulate(
    model: Forecaster,
    horizon: int,
    assumptions: Assumptions,
    *,
    series: list[Any] | None = None,
    future: pl.DataFrame | None = None,
) -> ScenarioComparison:
    """Baseline forecast vs the forecast under ``assumptions`` for the ``horizon`` days after the origin."""
    if model.origin is None:
        raise ModelError("model is not fitted")
    if horizon < 1:
        raise ModelError("horizon must be at least 1")
    a = assumptions
    origin = model.origin
    caveats: list[str] = []
    caveat_codes: list[str] = []
    price_response: str | None = None
    multipliers: dict[str, float] = {}
    hol_days = {(d - date(1970, 1, 1)).days for d in a.holiday_dates}
    if model.config.model_type in LEARNED_TYPES:
        method: Literal["model_exogenous", "heuristic"] = "model_exogenous"
        plan = model.future_plan(horizon, future)
        base = model.point_forecast(horizon, plan)
        scen_plan = plan
        exog = model.exog
        price_col = _first(exog, PRICE_COLUMNS)
        promo_col = _first(exog, PROMO_COLUMNS)
        post = np.ones(base.height)
        if a.price_change_pct:
            if price_col:
                scen_plan, factor, price_response = _price_through_model(
                    model, horizon, plan, base, price_col, a
                )
                post *= factor
                if price_response == "elasticity":
                    multipliers["price"] = (1 + a.price_change_pct / 100.0) ** a.price_elasticity
                    caveat_codes.append("price_no_signal")
                    caveats.append(
                        "The model shows no response to price (its training prices did not vary, or it "
                        f"never used them): the price change uses the elasticity {a.price_elasticity}."
                    )
                elif price_response == "model_and_elasticity":
                    n_out = int((factor != 1.0).sum())
                    caveat_codes.append("price_outside_training_support")
                    caveats.append(
                        f"The scenario price lies outside the prices seen in training on {n_out} of "
                        f"{factor.size} days: the model's response is used up to the edge of that range "
                        f"and the elasticity {a.price_elasticity} beyond it."
                    )
            else:
                price_response = "elasticity"
                f = (1 + a.price_change_pct / 100.0) ** a.price_elasticity
                multipliers["price"] = f
                post *= f
                caveat_codes.append("price_no_feature")
                caveats.append(
                    "The model has no price feature: the price change uses the elasticity heuristic."
                )
        promo = _promo_mask(base["date"], origin, a)
        if a.promotion:
            if promo_col:
                mask = _promo_mask(scen_plan["date"], origin, a)
                scen_plan = scen_plan.with_columns(
                    pl.when(pl.Series(mask)).then(1.0).otherwise(pl.col(promo_col)).alias(promo_col)
                )
            else:
                multipliers["promotion"] = 1 + a.promotion_lift
                post *= np.where(promo, 1 + a.promotion_lift, 1.0)
                caveat_codes.append("promotion_no_feature")
                caveats.append("The model has no promotion feature: promotion days use the lift heuristic.")
        saved = model.holidays
        try:
            if hol_days:
                if model.config.feature_spec.calendar:
                    model.holidays = np.union1d(saved, np.fromiter(hol_days, dtype=np.int64))
                else:
                    day = (base["date"].cast(pl.Int32).to_numpy()).astype(np.int64)
                    post *= np.where(np.isin(day, list(hol_days)), 1 + a.holiday_lift, 1.0)
                    multipliers["holiday"] = 1 + a.holiday_lift
                    caveat_codes.append("holiday_no_feature")
                    caveats.append("The model has no calendar features: holidays use the lift heuristic.")
            scen = model.point_forecast(horizon, scen_plan)
        finally:
            model.holidays = saved
        scen_values = scen["forecast"].to_numpy() * post
    else:
        method = "heuristic"
        base = model.point_forecast(horizon, future)
        f_price = (1 + a.price_change_pct / 100.0) ** a.price_elasticity
        promo = _promo_mask(base["date"], origin, a)
        day = base["date"].cast(pl.Int32).to_numpy().astype(np.int64)
        is_hol = (
            np.isin(day, np.fromiter(hol_days, dtype=np.int64)) if hol_days else np.zeros(base.height, bool)
        )
        mult = (
            f_price * np.where(promo, 1 + a.promotion_lift, 1.0) * np.where(is_hol, 1 + a.holiday_lift, 1.0)
        )
        multipliers.update({"price": f_price})
        if a.price_change_pct:
            price_response = "elasticity"
        caveat_codes.append("heuristic_scenario")
        if a.promotion:
            multipliers["promotion"] = 1 + a.promotion_lift
        if hol_days:
            multipliers["holiday"] = 1 + a.holiday_lift
        scen_values = base["forecast"].to_numpy() * mult
        caveats.append("Heuristic scenario: a fixed multiplier on the baseline forecast, not a re-forecast.")
    life = LIFECYCLE_FACTORS[a.lifecycle]
    if life != 1.0:
        multipliers["lifecycle"] = life
        scen_values = scen_values * life
    out = base.with_columns(pl.Series("scenario", scen_values)).sort("series_id", "date")
    if series is not None:
        out = out.filter(pl.col("series_id").is_in(series))
        if out.height == 0:
            raise ModelError("none of the requested series is in the model")
    capped = 0
    if a.inventory_cap is not None:
        capped = int((out["scenario"] > a.inventory_cap).sum())
        out = out.with_columns(pl.col("scenario").clip(upper_bound=a.inventory_cap))
        multipliers["inventory_cap"] = a.inventory_cap
    b = out["forecast"].to_numpy()
    s = out["scenario"].to_numpy()
    bt, st = float(np.nansum(b)), float(np.nansum(s))
    points = [
        ScenarioPoint(r[0], r[1], float(r[2]), float(r[3]), float(r[3] - r[2]))
        for r in out.select("series_id", "date", "forecast", "scenario").iter_rows()
    ]
    return ScenarioComparison(
        method=method,
        model_type=model.config.model_type,
        horizon=horizon,
        origin=origin,
        baseline_total=bt,
        scenario_total=st,
        delta_total=st - bt,
        delta_pct=(st - bt) / bt * 100.0 if bt else None,
        capped_days=capped,
        multipliers=multipliers,
        assumptions=a,
        points=points,
        caveats=caveats,
        caveat_codes=caveat_codes,
        price_response=price_response,
    )

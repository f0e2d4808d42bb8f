"""Deterministic synthetic retail history: the seeder's data generator.

``generate(SynthParams(...))`` returns polars DataFrames for stores, products, calendar,
store-local holidays, daily sales and daily inventory. The same parameters (seed included) always
give the same data. Everything is vectorised over (store x product) series with numpy; the only
Python loop is the inventory simulation, which steps over days (not rows).

Demand model, per series s and day t::

    mean[s, t] = base_units * store_size[s] * popularity[p] * trend[t] * weekly[cat, dow(t)]
                 * yearly[t] * holiday[s, t] * (price[s, t] / base_price[p]) ** elasticity
                 * (promo_display_uplift if promoted)
    demand     ~ Poisson(mean * Gamma(k, 1/k))              (over-dispersed counts)
    units      = min(demand, stock on hand)                 (stock-outs censor sales)

Prices drift (occasional permanent +-3..8% list-price changes per product) and promotions cut
them by ``promo_discount``; the elasticity turns a price cut into an uplift (20 % off with
elasticity -1.8 gives 0.8 ** -1.8 = 1.49x). Chain holidays close stores (zero sales) and lift the
day before; each region has one local public holiday with reduced demand. Inventory follows a
periodic-review order-up-to policy with a lead time; ``disruption_prob`` shorts deliveries.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

MAX_SERIES_DAYS = 5_000_000

REGIONS = ("North", "South", "East", "West", "Central")
STORE_TYPES = {"hypermarket": 1.7, "supermarket": 1.0, "express": 0.45}
CITIES = {
    "North": ("Northport", "Frostford", "Highmoor"),
    "South": ("Southbay", "Sunvale", "Redcliff"),
    "East": ("Eastwick", "Dawnmere", "Brightwater"),
    "West": ("Westfield", "Duskridge", "Goldmoor"),
    "Central": ("Midtown", "Crossgate", "Hearthwood"),
}
# category -> (price low, price high, weekly profile Mon..Sun, yearly peak month, yearly weight)
CATEGORIES: dict[str, tuple[float, float, tuple[float, ...], int, float]] = {
    "Beverages": (0.8, 4.5, (0.9, 0.88, 0.92, 0.97, 1.1, 1.25, 0.98), 7, 1.0),
    "Snacks": (0.9, 5.0, (0.88, 0.86, 0.9, 0.96, 1.12, 1.3, 0.98), 12, 0.8),
    "Dairy": (0.6, 3.5, (1.02, 0.98, 0.98, 1.0, 1.05, 1.12, 0.85), 1, 0.3),
    "Bakery": (0.9, 6.0, (1.0, 0.95, 0.95, 0.98, 1.08, 1.2, 0.84), 12, 0.6),
    "Household": (2.0, 15.0, (1.05, 0.98, 0.96, 0.97, 1.0, 1.14, 0.9), 4, 0.4),
    "Personal Care": (1.5, 12.0, (1.02, 0.97, 0.97, 0.98, 1.04, 1.12, 0.9), 6, 0.3),
}
BRANDS = ("Acme", "Northwind", "Bluebird", "Evergreen", "Summit", "Harbor", "Juniper", "Orchard")
ADJECTIVES = ("Classic", "Premium", "Organic", "Family", "Lite", "Zesty", "Golden", "Fresh", "Select")


@dataclass(frozen=True)
class SynthParams:
    """Every knob of the generator; scenarios are named presets of these."""

    seed: int = 42
    stores: int = 10
    products: int = 50
    start_date: date = date(2024, 1, 1)
    end_date: date = date(2024, 12, 31)
    base_units: float = 12.0
    trend_per_year: float = 0.04
    weekly_strength: float = 1.0
    yearly_amplitude: float = 0.18
    promo_probability: float = 0.06
    promo_min_days: int = 3
    promo_max_days: int = 10
    promo_discount_min: float = 0.10
    promo_discount_max: float = 0.30
    promo_display_uplift: float = 1.15
    price_elasticity: float = -1.8
    price_change_prob: float = 0.01
    holiday_eve_uplift: float = 1.35
    regional_holiday_factor: float = 0.6
    dispersion: float = 6.0
    sparsity: float = 0.0
    launch_fraction: float = 0.0
    safety_stock_days: float = 4.0
    review_days: int = 7
    lead_time_days: int = 3
    disruption_prob: float = 0.03
    regions: tuple[str, ...] = field(default=REGIONS[:4])

    def validate(self) -> list[str]:
        errors: list[str] = []
        days = (self.end_date - self.start_date).days + 1
        if days < 1:
            errors.append("end_date must be on or after start_date")
        if self.stores < 1 or self.products < 1:
            errors.append("stores and products must be at least 1")
        if self.stores * self.products * max(days, 0) > MAX_SERIES_DAYS:
            errors.append(
                f"stores x products x days = {self.stores * self.products * days:,} exceeds the limit of "
                f"{MAX_SERIES_DAYS:,} generated rows"
            )
        for name in (
            "sparsity",
            "launch_fraction",
            "promo_probability",
            "price_change_prob",
            "disruption_prob",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                errors.append(f"{name} must be within 0..1, got {value}")
        if not 0.0 <= self.promo_discount_min <= self.promo_discount_max < 1.0:
            errors.append("need 0 <= promo_discount_min <= promo_discount_max < 1")
        if not 1 <= self.promo_min_days <= self.promo_max_days:
            errors.append("need 1 <= promo_min_days <= promo_max_days")
        if self.price_elasticity > 0:
            errors.append("price_elasticity must be <= 0 (demand falls as price rises)")
        if self.base_units <= 0 or self.dispersion <= 0:
            errors.append("base_units and dispersion must be positive")
        if self.review_days < 1 or self.lead_time_days < 0 or self.safety_stock_days < 0:
            errors.append("review_days >= 1, lead_time_days >= 0 and safety_stock_days >= 0 are required")
        if not self.regions:
            errors.append("at least one region is required")
        return errors

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start_date"] = self.start_date.isoformat()
        out["end_date"] = self.end_date.isoformat()
        out["regions"] = list(self.regions)
        return out


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    params: SynthParams


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "retail_standard",
            "A year of a mid-size chain: weekly and yearly seasonality, occasional promotions, few stock-outs.",
            SynthParams(),
        ),
        Scenario(
            "holiday_rush",
            "The last quarter with a strong year-end peak and busy holiday eves.",
            SynthParams(
                start_date=date(2024, 10, 1),
                end_date=date(2024, 12, 31),
                yearly_amplitude=0.4,
                holiday_eve_uplift=1.8,
                promo_probability=0.1,
            ),
        ),
        Scenario(
            "promo_heavy",
            "Frequent, deep promotions on price-sensitive demand.",
            SynthParams(promo_probability=0.2, promo_discount_max=0.4, price_elasticity=-2.4),
        ),
        Scenario(
            "stockout_prone",
            "Thin safety stock and unreliable deliveries: censored sales and frequent stock-outs.",
            SynthParams(safety_stock_days=0.5, disruption_prob=0.2, lead_time_days=5),
        ),
        Scenario(
            "sparse_launches",
            "A sparse assortment (not every store carries every product) with mid-period product launches.",
            SynthParams(sparsity=0.4, launch_fraction=0.3),
        ),
        Scenario(
            "embedded_default",
            "The small history seeded on first start so every endpoint has data on a fresh clone.",
            SynthParams(stores=4, products=12, start_date=date(2024, 7, 1), end_date=date(2024, 12, 31)),
        ),
    )
}


def params_from_dict(data: dict[str, Any]) -> SynthParams:
    """Inverse of :meth:`SynthParams.as_dict`."""
    values = dict(data)
    values["start_date"] = date.fromisoformat(str(values["start_date"]))
    values["end_date"] = date.fromisoformat(str(values["end_date"]))
    values["regions"] = tuple(values.get("regions") or REGIONS[:4])
    known = {f for f in SynthParams.__dataclass_fields__}
    return SynthParams(**{k: v for k, v in values.items() if k in known})


def scenario_params(name: str, **overrides: Any) -> SynthParams:
    """A scenario's parameters with the given overrides (None values are ignored)."""
    base = SCENARIOS[name].params
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def chain_holidays(start: date, end: date) -> dict[date, str]:
    """Chain-wide public holidays (stores closed) in [start, end]."""
    out: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        e = easter(year)
        for d, name in (
            (date(year, 1, 1), "New Year's Day"),
            (e - timedelta(days=2), "Good Friday"),
            (e + timedelta(days=1), "Easter Monday"),
            (date(year, 5, 1), "Labour Day"),
            (date(year, 12, 25), "Christmas Day"),
            (date(year, 12, 26), "Boxing Day"),
        ):
            if start <= d <= end:
                out[d] = name
    return out


def regional_holiday(region_index: int, year: int) -> date:
    """One local public holiday per region and year (a fixed, region-specific day)."""
    month = 3 + (region_index * 2) % 8
    return date(year, month, 10 + region_index)


def generate(params: SynthParams) -> dict[str, pl.DataFrame]:
    """Generate the history; raises ValueError listing every invalid parameter."""
    errors = params.validate()
    if errors:
        raise ValueError("; ".join(errors))
    # Two streams: the dimensions depend on the seed alone (so a later period of the same seed keeps
    # the same stores and products), the daily facts on the seed and the period's first day.
    rng_dims = np.random.default_rng([params.seed, 0])
    rng = np.random.default_rng([params.seed, 1, params.start_date.toordinal()])
    n_days = (params.end_date - params.start_date).days + 1
    dates = pl.date_range(params.start_date, params.end_date, "1d", eager=True)
    day_idx = np.arange(n_days)
    dow = (dates.dt.weekday().to_numpy() - 1).astype(np.int64)
    doy = dates.dt.ordinal_day().to_numpy().astype(np.float64)

    # ---- dimensions -------------------------------------------------------------------------
    n_s, n_p = params.stores, params.products
    type_names = list(STORE_TYPES)
    store_type = rng_dims.choice(len(type_names), size=n_s, p=[0.2, 0.55, 0.25])
    store_region = rng_dims.integers(0, len(params.regions), size=n_s)
    store_size = np.array([STORE_TYPES[type_names[t]] for t in store_type]) * rng_dims.lognormal(
        0.0, 0.2, n_s
    )
    city_pick = rng_dims.integers(0, 3, size=n_s)
    store_codes = [f"S{i + 1:04d}" for i in range(n_s)]
    store_rows = {
        "code": store_codes,
        "name": [
            f"{CITIES.get(params.regions[r], ('Town',))[c % len(CITIES.get(params.regions[r], ('Town',)))]} "
            f"{type_names[t].title()} {i + 1}"
            for i, (r, t, c) in enumerate(zip(store_region, store_type, city_pick, strict=True))
        ],
        "region": [params.regions[r] for r in store_region],
        "city": [
            CITIES.get(params.regions[r], ("Town",))[c % len(CITIES.get(params.regions[r], ("Town",)))]
            for r, c in zip(store_region, city_pick, strict=True)
        ],
        "store_type": [type_names[t] for t in store_type],
    }

    cat_names = list(CATEGORIES)
    prod_cat = rng_dims.integers(0, len(cat_names), size=n_p)
    prod_brand = rng_dims.integers(0, len(BRANDS), size=n_p)
    prod_adj = rng_dims.integers(0, len(ADJECTIVES), size=n_p)
    lo = np.array([CATEGORIES[cat_names[c]][0] for c in prod_cat])
    hi = np.array([CATEGORIES[cat_names[c]][1] for c in prod_cat])
    base_price = np.round(lo + (hi - lo) * rng_dims.random(n_p), 2)
    base_cost = np.round(base_price * rng_dims.uniform(0.5, 0.75, n_p), 2)
    popularity = rng_dims.lognormal(0.0, 0.6, n_p)
    skus = [f"SKU-{i + 1:05d}" for i in range(n_p)]
    product_rows = {
        "sku": skus,
        "name": [
            f"{BRANDS[b]} {ADJECTIVES[a]} {cat_names[c].rstrip('s')} {i + 1}"
            for i, (b, a, c) in enumerate(zip(prod_brand, prod_adj, prod_cat, strict=True))
        ],
        "category": [cat_names[c] for c in prod_cat],
        "brand": [BRANDS[b] for b in prod_brand],
        "base_price": base_price,
        "base_cost": base_cost,
    }

    # ---- calendar and holidays --------------------------------------------------------------
    holidays = chain_holidays(params.start_date, params.end_date)
    closed = np.array([d in holidays for d in dates.to_list()])
    eve = np.zeros(n_days, dtype=bool)
    eve[:-1] = closed[1:] & ~closed[:-1]
    calendar = pl.DataFrame({"date": dates}).with_columns(
        (pl.col("date").dt.weekday() - 1).cast(pl.Int16).alias("day_of_week"),
        pl.col("date").dt.week().cast(pl.Int16).alias("iso_week"),
        pl.col("date").dt.month().cast(pl.Int16).alias("month"),
        pl.col("date").dt.quarter().cast(pl.Int16).alias("quarter"),
        pl.col("date").dt.year().cast(pl.Int16).alias("year"),
        pl.Series("is_holiday", closed),
        pl.Series("holiday_name", [holidays.get(d) for d in dates.to_list()], dtype=pl.String),
    )
    region_day = np.zeros((len(params.regions), n_days), dtype=bool)
    local_rows: dict[str, list[Any]] = {"store_code": [], "date": [], "kind": [], "name": []}
    for r in range(len(params.regions)):
        for year in range(params.start_date.year, params.end_date.year + 1):
            d = regional_holiday(r, year)
            if params.start_date <= d <= params.end_date:
                region_day[r, (d - params.start_date).days] = True
                for s in np.flatnonzero(store_region == r):
                    local_rows["store_code"].append(store_codes[s])
                    local_rows["date"].append(d)
                    local_rows["kind"].append("public")
                    local_rows["name"].append(f"{params.regions[r]} Day")
    store_holidays = pl.DataFrame(
        local_rows, schema={"store_code": pl.String, "date": pl.Date, "kind": pl.String, "name": pl.String}
    )

    # ---- series (store x product) -----------------------------------------------------------
    s_idx = np.repeat(np.arange(n_s), n_p)
    p_idx = np.tile(np.arange(n_p), n_s)
    carried = rng.random(n_s * n_p) >= params.sparsity
    if not carried.any():
        carried[0] = True
    s_idx, p_idx = s_idx[carried], p_idx[carried]
    n = s_idx.size
    launch = np.zeros(n_p, dtype=np.int64)
    launched = rng.random(n_p) < params.launch_fraction
    launch[launched] = rng.integers(0, max(n_days // 2, 1), size=int(launched.sum()))
    active = day_idx[None, :] >= launch[p_idx][:, None]

    weekly_tab = np.array([CATEGORIES[c][2] for c in cat_names])  # (n_cat, 7)
    weekly_tab = 1.0 + params.weekly_strength * (weekly_tab - 1.0)
    weekly = weekly_tab[prod_cat[p_idx]][:, dow]  # (n, n_days)
    peak = np.array([CATEGORIES[c][3] for c in cat_names], dtype=np.float64)
    weight = np.array([CATEGORIES[c][4] for c in cat_names])
    phase = (doy[None, :] - (peak[prod_cat[p_idx]][:, None] - 0.5) * 30.4) / 365.25
    yearly = 1.0 + params.yearly_amplitude * weight[prod_cat[p_idx]][:, None] * np.cos(2 * math.pi * phase)
    trend = (1.0 + params.trend_per_year) ** (day_idx / 365.25)
    holiday_factor = np.where(eve, params.holiday_eve_uplift, 1.0)[None, :] * np.where(
        region_day[store_region[s_idx]], params.regional_holiday_factor, 1.0
    )

    # prices: list-price drift per product, promotions per series
    changes = rng.random((n_p, n_days)) < params.price_change_prob
    steps = np.where(
        changes, rng.uniform(0.03, 0.08, (n_p, n_days)) * rng.choice([-1.0, 1.0], (n_p, n_days)), 0
    )
    list_price = base_price[:, None] * np.exp(np.cumsum(np.log1p(steps), axis=1))
    promo = np.zeros((n, n_days), dtype=bool)
    discount = np.zeros((n, n_days))
    mean_len = (params.promo_min_days + params.promo_max_days) / 2
    starts = rng.random((n, n_days)) < params.promo_probability / mean_len
    lengths = rng.integers(params.promo_min_days, params.promo_max_days + 1, (n, n_days))
    depth = rng.uniform(params.promo_discount_min, params.promo_discount_max, (n, n_days))
    # A period shorter than the longest promotion: offsets past its end have nothing to extend
    # (and used to fail the broadcast, so a 5-day /seeder/generate answered 500).
    for offset in range(min(params.promo_max_days, n_days)):
        # a promotion started `offset` days ago is still running when offset < its length
        src = starts[:, : n_days - offset] & (lengths[:, : n_days - offset] > offset)
        promo[:, offset:] |= src
        discount[:, offset:] = np.where(src, depth[:, : n_days - offset], discount[:, offset:])
    price = np.round(list_price[p_idx] * (1.0 - discount), 2)
    price_effect = (price / base_price[p_idx][:, None]) ** params.price_elasticity
    promo_effect = np.where(promo, params.promo_display_uplift, 1.0)

    mean = (
        params.base_units
        * store_size[s_idx][:, None]
        * popularity[p_idx][:, None]
        * trend[None, :]
        * weekly
        * yearly
        * holiday_factor
        * price_effect
        * promo_effect
    )
    mean = np.where(closed[None, :] | ~active, 0.0, mean)
    k = params.dispersion
    demand = rng.poisson(mean * rng.gamma(k, 1.0 / k, mean.shape)).astype(np.int64)

    # ---- inventory: periodic review, order-up-to, lead time, disruptions ----------------------
    expected = mean.mean(axis=1) + 1e-9
    order_up_to = np.ceil(expected * (params.review_days + params.lead_time_days + params.safety_stock_days))
    on_hand = order_up_to.astype(np.int64)
    pipeline = np.zeros((n, params.lead_time_days + 1), dtype=np.int64)
    review_day = rng.integers(0, params.review_days, n)
    units = np.zeros((n, n_days), dtype=np.int64)
    on_hand_log = np.zeros((n, n_days), dtype=np.int64)
    on_order_log = np.zeros((n, n_days), dtype=np.int64)
    short = rng.random((n, n_days)) < params.disruption_prob
    short_frac = rng.uniform(0.0, 0.5, (n, n_days))
    for t in range(n_days):
        on_hand += pipeline[:, 0]
        pipeline[:, :-1] = pipeline[:, 1:]
        pipeline[:, -1] = 0
        sold = np.minimum(demand[:, t], on_hand)
        units[:, t] = sold
        on_hand -= sold
        due = (t % params.review_days) == review_day
        position = on_hand + pipeline.sum(axis=1)
        qty = np.where(due, np.maximum(order_up_to - position, 0), 0).astype(np.int64)
        qty = np.where(short[:, t], (qty * short_frac[:, t]).astype(np.int64), qty)
        pipeline[:, max(params.lead_time_days - 1, 0)] += qty
        if params.lead_time_days == 0:
            on_hand += pipeline[:, 0]
            pipeline[:, 0] = 0
        on_hand_log[:, t] = on_hand
        on_order_log[:, t] = pipeline.sum(axis=1)

    basket = rng.uniform(1.0, 1.8, (n, n_days))
    transactions = np.minimum(units, np.ceil(units / basket)).astype(np.int64)

    # ---- long frames ------------------------------------------------------------------------
    keep = np.broadcast_to(active, (n, n_days)).ravel()
    store_col = np.array(store_codes, dtype=object)[np.repeat(s_idx, n_days)][keep]
    sku_col = np.array(skus, dtype=object)[np.repeat(p_idx, n_days)][keep]
    date_col = np.tile(dates.to_numpy(), n)[keep]
    flat_units = units.ravel()[keep]
    flat_price = price.ravel()[keep]
    sales = pl.DataFrame(
        {
            "store_code": pl.Series(store_col, dtype=pl.String),
            "sku": pl.Series(sku_col, dtype=pl.String),
            "date": pl.Series(date_col).cast(pl.Date),
            "quantity": flat_units,
            "unit_price": flat_price,
            "total_amount": np.round(flat_units * flat_price, 2),
            "on_promotion": promo.ravel()[keep],
            "transactions": transactions.ravel()[keep],
        }
    )
    inventory = pl.DataFrame(
        {
            "store_code": sales["store_code"],
            "sku": sales["sku"],
            "date": sales["date"],
            "on_hand_qty": on_hand_log.ravel()[keep],
            "on_order_qty": on_order_log.ravel()[keep],
            "is_stockout": on_hand_log.ravel()[keep] == 0,
        }
    )
    return {
        "stores": pl.DataFrame(store_rows),
        "products": pl.DataFrame(product_rows),
        "calendar": calendar,
        "store_holidays": store_holidays,
        "sales": sales,
        "inventory": inventory,
    }

"""Duty chains under EU driving-time rules (Regulation (EC) No 561/2006, simplified).

Rules applied: after at most ``max_continuous_driving_h`` (4.5 h) of driving a break of at least
``break_minutes`` (45 min) is taken; after ``max_daily_driving_h`` (9 h) of driving in a duty day
a daily rest of ``daily_rest_h`` (11 h) is taken, which also resets the continuous-driving clock.
Service time at stops is other work: it neither counts as driving nor as a break. Driving legs are
split wherever a break or rest falls due (the vehicle stops where it is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ridgeline.routing.planner import Planner, Priced, RouteResult, Scenario

__all__ = ["DutyChain", "DutyRules", "plan_duty_chain", "schedule_duty"]


@dataclass(frozen=True)
class DutyRules:
    max_continuous_driving_s: float = 4.5 * 3600
    break_s: float = 45 * 60
    max_daily_driving_s: float = 9 * 3600
    daily_rest_s: float = 11 * 3600


def schedule_duty(
    start: datetime, leg_driving_s: list[float], service_s: list[float], rules: DutyRules
) -> dict[str, Any]:
    """Timeline of a duty: ``leg_driving_s[i]`` drives stop i -> i+1; ``service_s[i]`` is spent at stop i."""
    if len(service_s) != len(leg_driving_s) + 1:
        raise ValueError("service_s needs one entry per stop (legs + 1)")
    t = start
    since_break = 0.0
    today = 0.0
    events: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    totals = {
        "driving_s": 0.0,
        "break_s": 0.0,
        "rest_s": 0.0,
        "service_s": 0.0,
        "breaks": 0,
        "daily_rests": 0,
    }

    def add(kind: str, seconds: float, **extra: Any) -> None:
        nonlocal t
        end = t + timedelta(seconds=seconds)
        events.append(
            {
                "type": kind,
                "start_utc": t.isoformat(),
                "end_utc": end.isoformat(),
                "duration_s": round(seconds, 3),
                **extra,
            }
        )
        t = end

    def service(i: int) -> None:
        if service_s[i] > 0:
            add("service", service_s[i], stop_index=i)
            totals["service_s"] += service_s[i]

    service(0)
    for i, drive in enumerate(leg_driving_s):
        depart = t
        remaining = float(drive)
        breaks_here = 0
        while remaining > 1e-9:
            allowed = min(rules.max_continuous_driving_s - since_break, rules.max_daily_driving_s - today)
            if allowed <= 1e-9:
                if today >= rules.max_daily_driving_s - 1e-9:
                    add("daily_rest", rules.daily_rest_s, leg_index=i)
                    totals["rest_s"] += rules.daily_rest_s
                    totals["daily_rests"] += 1
                    today = 0.0
                else:
                    add("break", rules.break_s, leg_index=i)
                    totals["break_s"] += rules.break_s
                    totals["breaks"] += 1
                since_break = 0.0
                breaks_here += 1
                continue
            chunk = min(remaining, allowed)
            add("drive", chunk, leg_index=i)
            remaining -= chunk
            since_break += chunk
            today += chunk
            totals["driving_s"] += chunk
        legs.append(
            {
                "leg_index": i,
                "depart_utc": depart.isoformat(),
                "arrive_utc": t.isoformat(),
                "driving_s": round(float(drive), 3),
                "breaks_or_rests": breaks_here,
            }
        )
        service(i + 1)
    totals["elapsed_s"] = (t - start).total_seconds()
    return {"events": events, "legs": legs, "totals": totals, "end_utc": t.isoformat(), "compliant": True}


@dataclass
class DutyChain:
    """A routed duty: one route per leg, their concatenation ``whole``, and the schedule
    (:func:`schedule_duty`'s events, legs, totals, end and compliance)."""

    legs: list[RouteResult]
    whole: RouteResult
    schedule: dict[str, Any]
    priced: Priced  # the network as priced for the last leg (its incidents are reported)


def plan_duty_chain(
    planner: Planner,
    scenario: Scenario,
    stops: Sequence[tuple[float, float]],
    service_s: Sequence[float],
    labels: Sequence[str],
    weights: dict[str, float],
    start: datetime,
    rules: DutyRules,
    *,
    max_snap_m: float | None = None,
) -> DutyChain:
    """Routes a duty through (lon, lat) ``stops``; each leg is priced at the time it actually starts
    (after the service time and any breaks the rules put before it)."""
    if len(stops) < 2 or len(service_s) != len(stops) or len(labels) != len(stops):
        raise ValueError("a duty needs at least two stops, with one service time and label each")
    nodes = [
        planner.snap(lon, lat, "origin" if i == 0 else "destination", max_snap_m)
        for i, (lon, lat) in enumerate(stops)
    ]
    legs: list[RouteResult] = []
    driving: list[float] = []
    depart = start + timedelta(seconds=service_s[0])
    p = None
    for i in range(len(nodes) - 1):
        p = planner.price(scenario.at(depart), nodes)
        r = planner.route(p, nodes[i], nodes[i + 1], weights)
        legs.append(r)
        driving.append(r.totals.duration_s)
        depart = datetime.fromisoformat(
            schedule_duty(start, driving, list(service_s[: i + 2]), rules)["end_utc"]
        )
    assert p is not None
    schedule = schedule_duty(start, driving, list(service_s), rules)
    return DutyChain(legs=legs, whole=planner.join(legs, p, list(labels)), schedule=schedule, priced=p)

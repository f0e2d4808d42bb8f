"""Run artifacts: results as JSON/CSV, GeoJSON routes, a summary CSV and a PDF report.

The PDF (reportlab) is a planner's deliverable: the trip (origin and destination named by offline
reverse geocoding from the OSM place nodes of the assets, departure and arrival), the assumptions
(vehicle, payload, weather, tolls), a table of every route's time, distance, fuel or energy,
tolls, driver cost, money and CO2e, a map (equal-distance aspect, scale bar, north arrow, place
names, labelled routes and a legend), the elevation profiles and the trade-off chart (matplotlib,
rendered to PNG). Engine code: no HTTP, no database.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta
from typing import Any

import msgspec
import numpy as np

__all__ = ["ARTIFACT_MEDIA_TYPES", "ARTIFACT_NAMES", "build_artifacts"]

# Every run's artifact files and their media types, in the order contract 000 lists them.
ARTIFACT_MEDIA_TYPES = {
    "results.json": "application/json",
    "results.csv": "text/csv",
    "metadata.json": "application/json",
    "routes.geojson": "application/geo+json",
    "results_summary.csv": "text/csv",
    "report.pdf": "application/pdf",
}
ARTIFACT_NAMES = tuple(ARTIFACT_MEDIA_TYPES)

CSV_TOTALS = (
    "duration_s",
    "distance_m",
    "money_eur",
    "co2e_kg",
    "energy_kwh",
    "fuel_l",
    "toll_eur",
    "driver_cost_eur",
    "energy_cost_eur",
    "carbon_cost_eur",
    "ascent_m",
    "descent_m",
    "terrain_coverage",
)


def _csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue().encode()


def _routes(results: dict[str, Any]) -> list[dict[str, Any]]:
    return list(results.get("routes") or [])


def geojson(run_id: str, results: dict[str, Any]) -> dict[str, Any]:
    features = []
    for r in _routes(results):
        props = {"run_id": run_id, "label": r.get("label"), "route_id": r.get("route_id")}
        props.update({k: r["totals"].get(k) for k in CSV_TOTALS})
        features.append({"type": "Feature", "geometry": r["geometry"], "properties": props})
    return {"type": "FeatureCollection", "features": features}


def _point(p: Any) -> str:
    return f"{p['lat']:.6f},{p['lon']:.6f}" if isinstance(p, dict) and "lat" in p else ""


def _ends(request: dict[str, Any], route: dict[str, Any]) -> tuple[str, str, str]:
    """Origin, destination ("lat,lon") and vehicle of one route of a run, from the recorded request."""
    vehicle = str(request.get("vehicle_id") or "van_diesel")
    if "pair_index" in route and request.get("pairs"):
        pair = request["pairs"][route["pair_index"]]
        return _point(pair.get("origin")), _point(pair.get("destination")), vehicle
    if request.get("stops"):
        return _point(request["stops"][0]), _point(request["stops"][-1]), vehicle
    base = request.get("baseline") or request
    return _point(base.get("origin")), _point(base.get("destination")), str(base.get("vehicle_id") or vehicle)


def results_csv(results: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    rows: list[list[Any]] = [["label", "route_id", "origin", "destination", "vehicle_id", *CSV_TOTALS]]
    for r in _routes(results):
        origin, destination, vehicle = _ends(request or {}, r)
        rows.append(
            [
                r.get("label") or "",
                r.get("route_id"),
                origin,
                destination,
                vehicle,
                *(r["totals"].get(k) for k in CSV_TOTALS),
            ]
        )
    return _csv(rows)


def summary_csv(results: dict[str, Any]) -> bytes:
    routes = _routes(results)
    rows: list[list[Any]] = [["metric", "count", "min", "max", "mean"]]
    for k in CSV_TOTALS:
        vals = [float(r["totals"][k]) for r in routes if r["totals"].get(k) is not None]
        if vals:
            rows.append([k, len(vals), min(vals), max(vals), sum(vals) / len(vals)])
        else:
            rows.append([k, 0, "", "", ""])
    return _csv(rows)


_EARTH_M = 6_371_008.8
#: Place kinds in the order a name is preferred, and how far (km) each names a point on its own.
_PLACE_REACH_KM = {
    "city": 8.0,
    "town": 4.0,
    "suburb": 2.0,
    "village": 2.0,
    "hamlet": 1.0,
    "neighbourhood": 1.0,
    "locality": 0.8,
    "isolated_dwelling": 0.3,
}


def _km(lon0: float, lat0: float, lon: Any, lat: Any) -> Any:
    p0, p1 = math.radians(lat0), np.radians(lat)
    a = (
        np.sin((p1 - p0) / 2) ** 2
        + math.cos(p0) * np.cos(p1) * np.sin(np.radians(np.asarray(lon) - lon0) / 2) ** 2
    )
    return 2 * _EARTH_M * np.arcsin(np.minimum(1.0, np.sqrt(a))) / 1000.0


def place_name(places: dict[str, Any] | None, lon: float, lat: float) -> str:
    """Offline reverse geocoding from OSM place nodes: the most important place whose reach
    (``_PLACE_REACH_KM``) covers the point, else "N km <direction> of <nearest place>"; "" without
    places."""
    if not places or len(places.get("name", ())) == 0:
        return ""
    d = _km(lon, lat, places["lon"], places["lat"])
    kinds = [str(k) for k in places["kind"]]
    names = [str(n) for n in places["name"]]
    best = None
    for rank, kind in enumerate(_PLACE_REACH_KM):
        for i in np.argsort(d).tolist():
            if kinds[i] == kind and d[i] <= _PLACE_REACH_KM[kind]:
                best = (rank, i)
                break
        if best:
            break
    if best is not None:
        return names[best[1]]
    i = int(np.argmin(d))
    dy = lat - float(places["lat"][i])
    dx = (lon - float(places["lon"][i])) * math.cos(math.radians(lat))
    compass = ["E", "NE", "N", "NW", "W", "SW", "S", "SE"][
        int(((math.degrees(math.atan2(dy, dx)) + 360 + 22.5) % 360) // 45)
    ]
    return f"{d[i]:.1f} km {compass} of {names[i]}"


def _scale_length_km(span_km: float) -> float:
    """A round scale-bar length near a fifth of the map's width."""
    target = max(span_km / 5.0, 1e-3)
    step = 10 ** math.floor(math.log10(target))
    return max(m * step for m in (1, 2, 5) if m * step <= target)


def _map_png(results: dict[str, Any], places: dict[str, Any] | None, ends: list[tuple[str, str]]) -> bytes:
    return _png(map_figure(results, places, ends))


def map_figure(results: dict[str, Any], places: dict[str, Any] | None, ends: list[tuple[str, str]]) -> Any:
    """The routes on an equal-distance map (a matplotlib figure): routes labelled in the legend
    with origin and destination, place names of the area, a scale bar and a north arrow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    routes = _routes(results)[:20]
    fig, ax = plt.subplots(figsize=(7.0, 5.6))
    xs = [p[0] for r in routes for p in r["geometry"]["coordinates"]]
    ys = [p[1] for r in routes for p in r["geometry"]["coordinates"]]
    if not xs:
        ax.text(0.5, 0.5, "no route geometry", ha="center", transform=ax.transAxes)
        return fig
    lat0 = (min(ys) + max(ys)) / 2
    pad_x, pad_y = max((max(xs) - min(xs)) * 0.08, 0.004), max((max(ys) - min(ys)) * 0.08, 0.004)
    x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y
    if places is not None and len(places.get("name", ())):
        plon, plat = np.asarray(places["lon"]), np.asarray(places["lat"])
        inside = (plon >= x0) & (plon <= x1) & (plat >= y0) & (plat <= y1)
        for i in np.flatnonzero(inside).tolist():
            kind = str(places["kind"][i])
            if kind not in ("city", "town", "village", "suburb"):
                continue
            big = kind in ("city", "town")
            ax.plot(plon[i], plat[i], "o", color="0.35", ms=3.5 if big else 2.5, zorder=2)
            ax.annotate(
                str(places["name"][i]),
                (plon[i], plat[i]),
                fontsize=8 if big else 6.5,
                color="0.25",
                xytext=(3, 2),
                textcoords="offset points",
                zorder=2,
            )
    for k, r in enumerate(routes):
        xy = r["geometry"]["coordinates"]
        ax.plot(
            [p[0] for p in xy],
            [p[1] for p in xy],
            lw=2.0,
            color=f"C{k % 10}",
            zorder=3,
            label=f"{r.get('label') or r['route_id']}",
        )
    (ox, oy), (dx, dy) = routes[0]["geometry"]["coordinates"][0], routes[0]["geometry"]["coordinates"][-1]
    origin, destination = ends[0] if ends else ("", "")
    ax.plot(ox, oy, "o", color="green", ms=8, zorder=4, label=f"origin: {origin or 'start'}")
    ax.plot(dx, dy, "s", color="red", ms=8, zorder=4, label=f"destination: {destination or 'end'}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    # Equal distances on both axes: a degree of longitude is cos(latitude) of a degree of latitude.
    ax.set_aspect(1.0 / math.cos(math.radians(lat0)))
    span_km = float(_km(x0, lat0, x1, lat0))
    bar = _scale_length_km(span_km)
    bar_deg = bar / span_km * (x1 - x0)
    bx, by = x1 - (x1 - x0) * 0.04 - bar_deg, y0 + (y1 - y0) * 0.05  # lower right
    ax.plot([bx, bx + bar_deg], [by, by], color="black", lw=3, solid_capstyle="butt", zorder=5)
    ax.text(bx + bar_deg / 2, by + (y1 - y0) * 0.015, f"{bar:g} km", ha="center", va="bottom", fontsize=8)
    ax.annotate(
        "N",
        xy=(0.96, 0.30),
        xytext=(0.96, 0.18),
        xycoords="axes fraction",
        ha="center",
        arrowprops={"arrowstyle": "-|>", "color": "black"},
        fontsize=9,
    )
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title("Routes")
    ax.legend(fontsize=7, loc="upper left", framealpha=0.9)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _charts(results: dict[str, Any]) -> list[tuple[str, bytes]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    routes = _routes(results)[:20]
    out: list[tuple[str, bytes]] = []

    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    for r in routes:
        prof = [p for p in r.get("elevation_profile", []) if p[1] is not None]
        ax.plot(
            [p[0] / 1000 for p in prof],
            [p[1] for p in prof],
            lw=1.2,
            label=f"{r.get('label') or r['route_id']}",
        )
    ax.set_xlabel("distance (km)")
    ax.set_ylabel("elevation (m)")
    ax.set_title("Elevation profiles")
    out.append(("Elevation profiles", _png(fig)))

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    xs = [r["totals"]["duration_s"] / 60 for r in routes]
    ys = [r["totals"]["co2e_kg"] for r in routes]
    cs = [r["totals"]["money_eur"] for r in routes]
    sc = ax.scatter(xs, ys, c=cs, cmap="viridis", s=40)
    for r, x, y in zip(routes, xs, ys, strict=True):
        ax.annotate(
            str(r.get("label") or r["route_id"]),
            (x, y),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlabel("duration (min)")
    ax.set_ylabel("CO2e (kg)")
    ax.set_title("Trade-off: duration vs CO2e (colour: money EUR)")
    if routes:
        fig.colorbar(sc, ax=ax, label="money (EUR)")
    out.append(("Trade-off chart", _png(fig)))
    return out


def _when(raw: Any) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None


def _utc(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC") if t is not None else "free flow (no departure time)"


def _trip(
    results: dict[str, Any], manifest: dict[str, Any], request: dict[str, Any], places: dict[str, Any] | None
) -> tuple[list[tuple[str, str]], list[list[str]], datetime | None]:
    """Per route its origin and destination names, the trip and assumption rows, the departure."""
    ends = []
    for r in _routes(results):
        xy = r["geometry"]["coordinates"]
        if xy:
            ends.append((place_name(places, *xy[0]), place_name(places, *xy[-1])))
        else:
            ends.append(("", ""))
    routes = _routes(results)
    base = request.get("baseline") or request
    dep = _when(base.get("departure_time_utc") or request.get("start_time_utc"))
    first = routes[0] if routes else None
    rows: list[list[str]] = []
    if first is not None and first["geometry"]["coordinates"]:
        (olon, olat), (dlon, dlat) = first["geometry"]["coordinates"][0], first["geometry"]["coordinates"][-1]
        rows.append(["From", f"{ends[0][0] or 'unnamed'} ({olat:.5f} N, {olon:.5f} E)"])
        rows.append(["To", f"{ends[0][1] or 'unnamed'} ({dlat:.5f} N, {dlon:.5f} E)"])
    rows.append(["Departure", _utc(dep)])
    if results.get("end_utc"):
        rows.append(["Arrival (duty end)", _utc(_when(results["end_utc"]))])
    elif dep is not None and first is not None:
        rows.append(["Arrival", _utc(dep + timedelta(seconds=float(first["totals"]["duration_s"])))])
    payload = base.get("payload_kg")
    rows.append(
        [
            "Vehicle",
            f"{manifest.get('vehicle_id') or base.get('vehicle_id') or 'van_diesel'}, payload "
            + (f"{float(payload):,.0f} kg" if payload is not None else "as the vehicle defines it"),
        ]
    )
    weather = base.get("weather") or {}
    rows.append(
        [
            "Weather",
            f"{weather.get('condition', 'clear')}, headwind {float(weather.get('headwind_ms', 0.0)):g} m/s",
        ]
    )
    toggles = base.get("cost_toggles") or {}
    tolls = (
        "avoided"
        if toggles.get("avoid_tolls")
        else ("priced" if toggles.get("use_tolls", True) else "not priced")
    )
    rows.append(["Tolls", f"{tolls} (fixed fees per passage where tabled, else per km)"])
    rows.append(
        [
            "Asset",
            f"{manifest.get('asset', {}).get('name')} (DEM {manifest.get('asset', {}).get('dem_version')})",
        ]
    )
    return ends, rows, dep


def report_pdf(
    run_id: str,
    kind: str,
    results: dict[str, Any],
    manifest: dict[str, Any],
    request: dict[str, Any] | None = None,
    places: dict[str, Any] | None = None,
) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, title=f"Ridgeline run {run_id}", leftMargin=1.5 * cm, rightMargin=1.5 * cm
    )
    ends, trip, dep = _trip(results, manifest, request or {}, places)
    story: list[Any] = [
        Paragraph(f"Ridgeline routing report: run {run_id}", styles["Title"]),
        Paragraph(f"Kind: {kind}. Created: {manifest.get('created_at')}.", styles["Normal"]),
        Spacer(1, 6),
        Paragraph("Trip and assumptions", styles["Heading2"]),
        _grid_table([["", ""], *trip]),
        Spacer(1, 8),
        Paragraph("Route summary", styles["Heading2"]),
    ]
    header = [
        "route",
        "from\nto",
        "arrive\n(UTC)",
        "time\n(min)",
        "km",
        "fuel (l) or\nenergy (kWh)",
        "tolls\n(EUR)",
        "driver\n(EUR)",
        "money\n(EUR)",
        "CO2e\n(kg)",
        "ascent\n(m)",
    ]
    rows: list[list[Any]] = [header]
    for r, (o, d) in zip(_routes(results), ends, strict=True):
        t = r["totals"]
        fuel = f"{t['fuel_l']:.2f} l" if t.get("fuel_l") else f"{t['energy_kwh']:.2f} kWh"
        arrive = (dep + timedelta(seconds=float(t["duration_s"]))).strftime("%H:%M") if dep else "-"
        rows.append(
            [
                str(r.get("label") or r["route_id"])[:20],
                f"{o[:24]}\n{d[:24]}",
                arrive,
                f"{t['duration_s'] / 60:.1f}",
                f"{t['distance_m'] / 1000:.2f}",
                fuel,
                f"{t.get('toll_eur', 0.0):.2f}",
                f"{t.get('driver_cost_eur', 0.0):.2f}",
                f"{t['money_eur']:.2f}",
                f"{t['co2e_kg']:.2f}",
                f"{t['ascent_m']:.0f}",
            ]
        )
    story += [_grid_table(rows, font_size=7), Spacer(1, 10)]
    if results.get("events"):  # a duty: its schedule, as the API answered it
        story += _schedule(results, styles)
    charts = [("Map of the routes", _map_png(results, places, ends)), *_charts(results)]
    for title, png in charts:
        img = Image(io.BytesIO(png))
        scale = min(17 * cm / img.drawWidth, 1.0)
        img.drawWidth *= scale
        img.drawHeight *= scale
        story += [Paragraph(title, styles["Heading3"]), img, Spacer(1, 6)]
    doc.build(story)
    return buf.getvalue()


def _grid_table(rows: list[list[Any]], font_size: float = 8) -> Any:
    """A report table: a grey header row over a grid, 8-point type unless told."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), font_size),
                ("LEADING", (0, 0), (-1, -1), font_size * 1.2),
            ]
        )
    )
    return table


def _schedule(results: dict[str, Any], styles: Any) -> list[Any]:
    """A duty's schedule for the report: its totals in a sentence, then every event with its times."""
    from reportlab.platypus import Paragraph, Spacer

    totals = results.get("totals", {})
    rows: list[list[Any]] = [["event", "start (UTC)", "end (UTC)", "minutes", "where"]]
    for e in results["events"]:
        where = f"stop {e['stop_index']}" if "stop_index" in e else f"leg {e.get('leg_index', '')}"
        rows.append(
            [
                e["type"],
                e["start_utc"][:16].replace("T", " "),
                e["end_utc"][:16].replace("T", " "),
                f"{e['duration_s'] / 60:.1f}",
                where,
            ]
        )
    summary = (
        f"Driving {totals.get('driving_s', 0) / 3600:.2f} h, breaks {totals.get('breaks', 0)} "
        f"({totals.get('break_s', 0) / 60:.0f} min), daily rests {totals.get('daily_rests', 0)}, service "
        f"{totals.get('service_s', 0) / 60:.0f} min, elapsed {totals.get('elapsed_s', 0) / 3600:.2f} h; "
        f"money {totals.get('money_eur', 0):.2f} EUR, CO2e {totals.get('co2e_kg', 0):.2f} kg; "
        f"ends {results.get('end_utc', '')}; compliant: {results.get('compliant')}."
    )
    return [
        Paragraph("Duty schedule", styles["Heading2"]),
        Paragraph(summary, styles["Normal"]),
        _grid_table(rows),
        Spacer(1, 10),
    ]


def build_artifacts(
    run: dict[str, Any], places: dict[str, Any] | None = None
) -> dict[str, tuple[bytes, str]]:
    """All artifacts of a run: name -> (bytes, media type); ``places`` (the assets' OSM place
    nodes) name the trip's ends in the report."""
    run_id = run["id"]
    results = run["results"]
    enc = msgspec.json.Encoder(order="sorted")
    metadata = {
        "run_id": run_id,
        "kind": run["kind"],
        "manifest": run["manifest"],
        "signature": run["signature"],
        "scenario_manifest": run["scenario_manifest"],
        "scenario_signature": run["scenario_signature"],
        "provenance": run["provenance"],
    }
    files = {
        "results.json": enc.encode({"run_id": run_id, "kind": run["kind"], **results}),
        "results.csv": results_csv(results, run.get("request")),
        "metadata.json": enc.encode(metadata),
        "routes.geojson": enc.encode(geojson(run_id, results)),
        "results_summary.csv": summary_csv(results),
        "report.pdf": report_pdf(run_id, run["kind"], results, run["manifest"], run.get("request"), places),
    }
    return {name: (files[name], media_type) for name, media_type in ARTIFACT_MEDIA_TYPES.items()}

"""Run artifacts: results as JSON/CSV, GeoJSON routes, a summary CSV and a PDF report.

The PDF (reportlab) holds a map of the routes, their elevation profiles and the trade-off chart
(matplotlib, rendered to PNG), and a results table. Engine code: no HTTP, no database.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

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
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for r in routes:
        xy = r["geometry"]["coordinates"]
        if xy:
            ax.plot(
                [p[0] for p in xy], [p[1] for p in xy], lw=1.6, label=f"{r.get('label') or r['route_id']}"
            )
            ax.plot(xy[0][0], xy[0][1], "go", ms=5)
            ax.plot(xy[-1][0], xy[-1][1], "rs", ms=5)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Routes")
    ax.set_aspect("equal", adjustable="datalim")
    if routes:
        ax.legend(fontsize=7, loc="best")
    out.append(("Map of the routes", _png(fig)))

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


def report_pdf(run_id: str, kind: str, results: dict[str, Any], manifest: dict[str, Any]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, title=f"Ridgeline run {run_id}", leftMargin=1.5 * cm, rightMargin=1.5 * cm
    )
    story: list[Any] = [
        Paragraph(f"Ridgeline routing report: run {run_id}", styles["Title"]),
        Paragraph(
            f"Kind: {kind}. Asset: {manifest.get('asset', {}).get('name')} "
            f"(DEM {manifest.get('asset', {}).get('dem_version')}). Vehicle: {manifest.get('vehicle_id')}. "
            f"Created: {manifest.get('created_at')}.",
            styles["Normal"],
        ),
        Spacer(1, 8),
        Paragraph("Route summary", styles["Heading2"]),
    ]
    header = [
        "route",
        "duration (min)",
        "distance (km)",
        "money (EUR)",
        "CO2e (kg)",
        "energy (kWh)",
        "ascent (m)",
    ]
    rows: list[list[Any]] = [header]
    for r in _routes(results):
        t = r["totals"]
        rows.append(
            [
                str(r.get("label") or r["route_id"]),
                f"{t['duration_s'] / 60:.1f}",
                f"{t['distance_m'] / 1000:.2f}",
                f"{t['money_eur']:.2f}",
                f"{t['co2e_kg']:.2f}",
                f"{t['energy_kwh']:.2f}",
                f"{t['ascent_m']:.0f}",
            ]
        )
    story += [_grid_table(rows), Spacer(1, 10)]
    if results.get("events"):  # a duty: its schedule, as the API answered it
        story += _schedule(results, styles)
    for title, png in _charts(results):
        img = Image(io.BytesIO(png))
        scale = min(17 * cm / img.drawWidth, 1.0)
        img.drawWidth *= scale
        img.drawHeight *= scale
        story += [Paragraph(title, styles["Heading3"]), img, Spacer(1, 6)]
    doc.build(story)
    return buf.getvalue()


def _grid_table(rows: list[list[Any]]) -> Any:
    """A report table: a grey header row over a grid, 8-point type."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
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


def build_artifacts(run: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    """All artifacts of a run: name -> (bytes, media type)."""
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
        "report.pdf": report_pdf(run_id, run["kind"], results, run["manifest"]),
    }
    return {name: (files[name], media_type) for name, media_type in ARTIFACT_MEDIA_TYPES.items()}

"""``ridgeline assets build``: routing model assets from OpenStreetMap and SRTM tiles."""

from __future__ import annotations

import argparse
import os
import sys

import msgspec


def _min_coverage() -> float:
    """The service's least terrain coverage (``RIDGELINE_ROUTING_MIN_COVERAGE``), which a build
    must reach to be signed."""
    from ridgeline.routing.api.settings import RoutingSettings

    raw = os.environ.get("RIDGELINE_ROUTING_MIN_COVERAGE", "").strip()
    if not raw:
        return RoutingSettings().min_coverage
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"RIDGELINE_ROUTING_MIN_COVERAGE must be a number in 0..1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"RIDGELINE_ROUTING_MIN_COVERAGE must be in 0..1, got {value}")
    return value


def cmd_assets_build(args: argparse.Namespace) -> int:
    from ridgeline.platform.settings import Settings
    from ridgeline.platform.signing import Signer
    from ridgeline.routing.assets import build_assets, build_sample_assets

    if args.utc_offset is not None:
        # Refused, not mapped: a fixed offset cannot follow DST, and guessing the zone from it
        # would put Andorra (UTC+1/+2) and Morocco (UTC+1, no DST) in the same place.
        print(
            "ridgeline assets build: --utc-offset was replaced by --timezone NAME (an IANA time zone"
            " such as Europe/Andorra, which follows DST); without it the zone comes from the"
            " network's location",
            file=sys.stderr,
        )
        return 2
    settings = Settings.from_env()
    signer = Signer.load_or_create(settings.data_dir, settings.signing_key_file)
    try:
        if args.sample:
            manifest = build_sample_assets(args.out, signer)
        else:
            if not args.osm or not args.dem:
                print("ridgeline assets build: --osm and --dem are required (or --sample)", file=sys.stderr)
                return 2
            manifest = build_assets(
                args.osm,
                args.dem,
                args.out,
                args.name,
                signer,
                args.dem_version,
                args.timezone,
                min_coverage=_min_coverage(),
            )
    except (FileNotFoundError, ValueError) as exc:
        print(f"ridgeline assets build: {exc}", file=sys.stderr)
        return 2
    summary = {
        "out": str(args.out),
        "name": manifest["name"],
        "dem_version": manifest["dem_version"],
        "stats": manifest["stats"],
        "terrain": manifest["terrain"],
        "signed_by": signer.key_id,
    }
    print(msgspec.json.format(msgspec.json.encode(summary), indent=2).decode())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    assets = subparsers.add_parser("assets", help="routing model assets")
    sub = assets.add_subparsers(dest="assets_command", required=True)
    build = sub.add_parser(
        "build", help="build signed routing assets from OSM (.osm.pbf) and SRTM (.hgt[.zip])"
    )
    build.add_argument("--osm", help="OpenStreetMap extract (.osm.pbf)")
    build.add_argument("--dem", nargs="+", help="SRTM tiles (.hgt or .hgt.zip)")
    build.add_argument("--out", required=True, help="output directory")
    build.add_argument("--name", default="assets", help="asset name (e.g. andorra)")
    build.add_argument("--dem-version", help="DEM version label (default <name>_srtm3_v1)")
    build.add_argument(
        "--timezone",
        help="IANA time zone of the region for time-of-day speeds, e.g. Europe/Andorra"
        " (default: the zone at the centre of the network)",
    )
    # Removed (refused with a message pointing to --timezone).
    build.add_argument("--utc-offset", help=argparse.SUPPRESS)
    build.add_argument("--sample", action="store_true", help="build the deterministic sample region instead")
    build.set_defaults(func=cmd_assets_build)

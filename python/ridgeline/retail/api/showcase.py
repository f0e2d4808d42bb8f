"""``/showcase``: the Showcase page (one static HTML file with inline script and SVG chart; no build
step, no CDN). It starts the demo over ``/demo/stream`` and shows each step as it arrives."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import Controller, Response, get

STATIC = Path(__file__).resolve().parents[1] / "static"


@cache
def page() -> bytes:
    return (STATIC / "showcase.html").read_bytes()


class ShowcaseController(Controller):
    path = "/showcase"
    tags = ["retail: demo"]

    @get("/", summary="The Showcase page (HTML)", media_type="text/html", include_in_schema=False)
    async def showcase(self) -> Response[bytes]:
        return Response(page(), media_type="text/html", headers={"Cache-Control": "no-cache"})

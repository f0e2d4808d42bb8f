"""/docs renders with no internet access: every asset the Swagger UI page loads is served by the app."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ridgeline.app import available_families

# src/href attributes of the page's tags (the embedded OpenAPI document is JSON, not attributes)
_ATTR = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)

_EXPECTED_TYPES = {
    ".js": ("application/javascript", "text/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


@pytest.mark.parametrize("only", [None, *available_families()])
def test_docs_reference_only_local_assets_that_are_served(make_client: Any, only: str | None) -> None:
    client = make_client(only=only)
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    urls = _ATTR.findall(page.text)
    # the bundle, the standalone preset, the stylesheet and the favicon
    assert len(urls) >= 4, urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"/docs loads a non-local asset: {url}"
        asset = client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        media_type = asset.headers["content-type"].split(";")[0].strip()
        assert media_type in _EXPECTED_TYPES[suffix], (url, media_type)
        assert len(asset.content) > 0
    assert "SwaggerUIBundle(" in page.text


def test_swagger_bundle_is_the_one_served(make_client: Any) -> None:
    from swagger_ui_bundle import swagger_ui_path

    client = make_client()
    served = client.get("/docs/assets/swagger-ui-bundle.js")
    assert served.status_code == 200
    assert served.content == (swagger_ui_path / "swagger-ui-bundle.js").read_bytes()

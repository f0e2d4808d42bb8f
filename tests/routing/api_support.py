"""Fixtures for the routing HTTP tests: one signing key and the asset sets, built once per session.

Test modules import the fixtures they use from here (``from tests.routing.api_support import ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_shared

# A point pair inside the sample region (its grid spans lon 6.100..6.169, lat 45.900..45.969).
SAMPLE_A = {"lat": 45.905, "lon": 6.105}
SAMPLE_B = {"lat": 45.962, "lon": 6.160}
SAMPLE_C = {"lat": 45.930, "lon": 6.140}
# Andorra: Andorra la Vella and Pas de la Casa / Canillo area.
ANDORRA_A = {"lat": 42.5063, "lon": 1.5218}
ANDORRA_B = {"lat": 42.5670, "lon": 1.5980}


@pytest.fixture(scope="session")
def routing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ridgeline.platform.signing import Signer

    d = tmp_path_factory.mktemp("routing-key")
    Signer.load_or_create(d)
    return d / "keys" / "signing_ed25519.pem"


def _signer(key: Path) -> Any:
    from ridgeline.platform.signing import Signer

    return Signer.load_or_create(key.parent.parent, key)


@pytest.fixture(scope="session")
def sample_assets(tmp_path_factory: pytest.TempPathFactory, routing_key: Path) -> Path:
    from ridgeline.routing.assets import build_sample_assets

    out = tmp_path_factory.mktemp("sample-assets")
    build_sample_assets(out, _signer(routing_key))
    return out


@pytest.fixture(scope="session")
def andorra_assets(tmp_path_factory: pytest.TempPathFactory, routing_key: Path) -> Path:
    from ridgeline.routing.assets import build_assets

    osm = require_shared("routing/osm/andorra.osm.pbf")
    tiles = [require_shared("routing/dem/N42E001.hgt.zip"), require_shared("routing/dem/N41E001.hgt.zip")]
    out = tmp_path_factory.mktemp("andorra-assets")
    build_assets(osm, tiles, out, "andorra", _signer(routing_key))
    return out


@pytest.fixture
def routing_client(
    make_client: Callable[..., Any], routing_key: Path, sample_assets: Path
) -> Callable[..., Any]:
    """``routing_client(assets=None)``: a client of the routing family on the sample (or given) assets."""
    from ridgeline.routing.api import build_family

    def make(assets: Path | None = None, **overrides: Any) -> Any:
        fam = build_family(assets if assets is not None else sample_assets)
        return make_client(families=[fam], signing_key_file=routing_key, **overrides)

    return make


@pytest.fixture
def client(routing_client: Callable[..., Any]) -> Any:
    return routing_client()


def detail(resp: Any) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"detail"}, body
    d = body["detail"]
    assert {"reason_code", "message", "warnings"} <= set(d), d
    assert isinstance(d["warnings"], list)
    return d


def ndjson(text: str) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in text.splitlines() if line.strip()]

"""A partial dependency audit for a network that reaches PyPI's project pages but not its per-version
pages or OSV (docs/security.md, "Dependency audit").

pip-audit asks ``https://pypi.org/pypi/<name>/<version>/json`` for each installed version; where only
``https://pypi.org/pypi/<name>/json`` answers, that page's ``vulnerabilities`` are PyPI's advisories
for the project's *latest* release. So a distribution installed at its latest release is audited
exactly as pip-audit's PyPI service would audit it, and every other one is listed as not audited.

Usage: ``.venv/bin/python scripts/audit_pypi_latest.py [--json]``. Exit status 1 when an audited
distribution has an advisory, 0 otherwise (the unaudited ones are reported, not failed on).
"""

from __future__ import annotations

import asyncio
import json
import sys
from importlib import metadata

import httpx
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PYPI = "https://pypi.org/pypi/{}/json"


def installed() -> dict[str, str]:
    """Canonical name -> version of every distribution in this environment, except our own."""
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonicalize_name(name) != "ridgeline":
            out[canonicalize_name(name)] = dist.version
    return out


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


async def check(client: httpx.AsyncClient, limit: asyncio.Semaphore, name: str, version: str) -> dict:
    async with limit:
        try:
            r = await client.get(PYPI.format(name))
        except httpx.HTTPError as exc:
            return {"name": name, "version": version, "audited": False, "why": type(exc).__name__}
    if r.status_code != 200:
        return {"name": name, "version": version, "audited": False, "why": f"HTTP {r.status_code}"}
    page = r.json()
    latest = page["info"]["version"]
    if not _same(version, latest):
        return {"name": name, "version": version, "audited": False, "why": f"latest is {latest}"}
    vulns = [
        {"id": v.get("id"), "aliases": v.get("aliases", []), "fixed_in": v.get("fixed_in", [])}
        for v in page.get("vulnerabilities") or []
        if not v.get("withdrawn")
    ]
    return {"name": name, "version": version, "audited": True, "vulnerabilities": vulns}


async def main() -> int:
    dists = installed()
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=20.0, trust_env=True) as client:
        rows = await asyncio.gather(*(check(client, limit, n, v) for n, v in sorted(dists.items())))
    audited = [r for r in rows if r["audited"]]
    found = [r for r in audited if r["vulnerabilities"]]
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=1))
    else:
        for r in found:
            ids = ", ".join(v["id"] for v in r["vulnerabilities"])
            print(f"VULNERABLE {r['name']} {r['version']}: {ids}")
        for r in rows:
            if not r["audited"]:
                print(f"not audited {r['name']} {r['version']}: {r['why']}")
        print(
            f"{len(rows)} distributions: {len(audited)} audited (installed at their latest release), "
            f"{len(found)} with advisories, {len(rows) - len(audited)} not audited"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

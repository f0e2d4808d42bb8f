"""Coverage-guided fuzz targets (atheris) for the parsers that take user files.

Each target feeds the fuzzer's bytes to one parser the way the service does and accepts only the
parser's documented refusal (the error the HTTP layer renders as a 4xx). Any other exception is a
finding: it would be a 500 or a crashed worker.

``python -m tests.fuzz.targets TARGET [libFuzzer flags, e.g. -max_total_time=600 corpus_dir]``
runs one target (``all`` lists them). Seeds come from the real files in ../shared/data and docs/.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"


def urdf(data: bytes) -> None:
    from ridgeline.sim.assets import AssetError, validate_urdf

    try:
        validate_urdf(data, floating_base=bool(data[:1] == b"F"))
    except AssetError:
        pass


def ingest_csv(data: bytes) -> None:
    _ingest(data, "csv")


def ingest_ndjson(data: bytes) -> None:
    _ingest(data, "ndjson")


def _ingest(data: bytes, fmt: str) -> None:
    from ridgeline.retail.records import FormatError, RecordParser

    gz = data[:2] == b"\x1f\x8b"
    parser = RecordParser(fmt, block_bytes=4096, gzip=gz, max_bytes=1 << 20, max_line_bytes=1 << 14)  # type: ignore[arg-type]
    try:
        for i in range(0, len(data), 1000):  # chunk edges inside lines, quotes and gzip members
            for _ in parser.feed(data[i : i + 1000]):
                pass
        for _ in parser.finish():
            pass
    except FormatError:
        pass


def document(data: bytes) -> None:
    from ridgeline.ai.extraction import ExtractionError, extract

    kinds = ("a.pdf", "a.md", "a.json", "a.yaml", "a.txt", "a.html", "a.csv")
    name = kinds[data[0] % len(kinds)] if data else "a.txt"
    try:
        extract(data[1:], filename=name, max_bytes=1 << 20, max_pages=20)
    except ExtractionError:
        pass


def unified_diff(data: bytes) -> None:
    from ridgeline.autopack.patching import PatchError, plan

    text = data.decode("utf-8", errors="replace")
    with tempfile.TemporaryDirectory() as ws:
        Path(ws, "src").mkdir()
        Path(ws, "src", "app.py").write_text("def main():\n    return 1\n\n\nprint(main())\n")
        try:
            plan(Path(ws), text)
        except PatchError:
            pass


_VERIFIER: object = None


def jwt(data: bytes) -> None:
    from ridgeline.platform.auth.tokens import TokenError

    verifier, keys = _jwt_setup()
    try:
        verifier.verify(data.decode("utf-8", errors="replace"), keys)  # type: ignore[attr-defined]
    except TokenError:
        pass


def _jwt_setup() -> tuple[object, object]:
    global _VERIFIER
    if _VERIFIER is None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from ridgeline.platform.auth.tokens import KeySnapshot, TokenVerifier, VerificationKey, ed25519_jwk

        pub = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32).public_key()
        key = VerificationKey("k1", "EdDSA", pub, ed25519_jwk(pub), None)
        _VERIFIER = (TokenVerifier("ridgeline", "ridgeline", 30), KeySnapshot({"k1": key}, "k1"))
    return _VERIFIER  # type: ignore[return-value]


def osm_pbf(data: bytes) -> None:
    from ridgeline.routing.assets import OsmInputError, parse_osm

    with tempfile.NamedTemporaryFile(suffix=".osm.pbf") as f:
        f.write(data)
        f.flush()
        try:
            parse_osm(f.name)  # what `ridgeline assets build --osm` reads
        except OsmInputError:
            pass  # the builder's refusal (exit 2 with one line in the CLI)
        finally:
            _close_leaked(f.name, keep=f.fileno())


def _close_leaked(path: str, keep: int) -> None:
    """pyosmium's reader leaks the file's descriptor when libosmium fails mid-read (found by this target:
    one descriptor per corrupt file). The builder is a one-shot CLI, so it ends with the process there;
    here the leaked descriptors are closed so a long run does not stop at the descriptor limit."""
    mine = {os.path.realpath(path)}
    for fd in os.listdir("/proc/self/fd"):
        try:
            if int(fd) != keep and os.readlink(f"/proc/self/fd/{fd}") in mine:
                os.close(int(fd))
        except OSError:
            continue


TARGETS: dict[str, Callable[[bytes], None]] = {
    "urdf": urdf,
    "ingest_csv": ingest_csv,
    "ingest_ndjson": ingest_ndjson,
    "document": document,
    "unified_diff": unified_diff,
    "jwt": jwt,
    "osm_pbf": osm_pbf,
}


MODULES = {
    "urdf": "ridgeline.sim.assets",
    "ingest_csv": "ridgeline.retail.records",
    "ingest_ndjson": "ridgeline.retail.records",
    "document": "ridgeline.ai.extraction",
    "unified_diff": "ridgeline.autopack.patching",
    "jwt": "ridgeline.platform.auth.tokens",
    "osm_pbf": "ridgeline.routing.assets",
}
INSTRUMENT: dict[str, list[str]] = {"document": ["pypdf"], "unified_diff": ["unidiff"], "jwt": ["jwt"]}
INSTRUMENT = {name: INSTRUMENT.get(name, []) for name in MODULES}


def seeds(target: str) -> list[bytes]:
    """Real inputs to start from (small ones, so a short run explores their neighbourhood)."""
    out: list[bytes] = []
    if target == "urdf":
        out += [p.read_bytes() for p in sorted((SHARED / "sim" / "urdf").glob("*.urdf"))[:4]]
    elif target == "ingest_csv":
        out.append(
            b"date,store_code,sku,quantity,unit_price,on_promotion,transactions\n"
            b'2024-03-01,S1,A,3,2.5,false,1\n2024-03-02,S1,"B,1",4,2.5,true,2\n'
        )
        buf = io.BytesIO()
        import gzip

        with gzip.GzipFile(fileobj=buf, mode="wb") as g:
            g.write(out[0])
        out.append(buf.getvalue())
    elif target == "ingest_ndjson":
        out.append(
            b'{"date":"2024-03-01","store_code":"S1","sku":"A","quantity":3}\n'
            b'{"date":"2024-03-02","store_code":"S1","sku":"B","quantity":4,"unit_price":2.5}\n'
        )
    elif target == "document":
        out += [b"\x01" + p.read_bytes()[:4000] for p in sorted((ROOT / "docs").glob("*.md"))[:3]]
        out.append(b"\x00" + _tiny_pdf())
    elif target == "unified_diff":
        out.append(
            b"--- a/src/app.py\n+++ b/src/app.py\n@@ -1,2 +1,2 @@\n def main():\n-    return 1\n+    return 2\n"
        )
    elif target == "jwt":
        out.append(b"eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiIxIn0.c2ln")
    elif target == "osm_pbf":
        pbfs = sorted((SHARED / "routing").rglob("*.osm.pbf"), key=lambda p: p.stat().st_size)
        if pbfs:
            out.append(pbfs[0].read_bytes()[:200_000])
    return out


def _tiny_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Ridgeline fuzz seed: knowledge base document.")
    c.showPage()
    c.save()
    return buf.getvalue()


def main(argv: list[str]) -> None:
    import atheris

    if len(argv) < 2 or argv[1] not in TARGETS:
        print("targets:", ", ".join(TARGETS))
        raise SystemExit(2)
    name = argv[1]
    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    for i, s in enumerate(seeds(name)):
        (corpus / f"seed{i}").write_bytes(s)
    flags = [a for a in argv[2:] if a.startswith("-")] or ["-max_total_time=10"]
    dirs = [a for a in argv[2:] if not a.startswith("-")] or [str(corpus)]
    # Coverage feedback from the parsers under test (and unidiff/pypdf/jwt, which do the parsing for
    # three of them), not from numpy or polars, whose instrumentation would take minutes.
    with atheris.instrument_imports(include=[*INSTRUMENT[name], "ridgeline"]):
        importlib.import_module(MODULES[name])
    target = TARGETS[name]
    atheris.Setup([argv[0], "-rss_limit_mb=4096", "-timeout=20", *flags, *dirs], target)
    os.environ.setdefault("RIDGELINE_LOG_LEVEL", "ERROR")
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)

"""Text extraction from documents: plain text, Markdown, JSON, JSON Lines, OpenAPI (JSON or YAML,
endpoints summarised as text) and PDF (pypdf, text layer only; OCR is out of scope).

Every failure is an :class:`ExtractionError` with a stable ``reason_code``:

| reason_code | when |
|---|---|
| ``unsupported_media_type`` | binary content or a media type this module does not read |
| ``too_large`` | more bytes than ``max_bytes`` |
| ``too_many_pages`` | a PDF with more pages than ``max_pages`` |
| ``bad_encoding`` | text that is not valid UTF-8 (or UTF-16/32 with a BOM) |
| ``invalid_json`` | JSON that does not parse; JSON Lines with a line that does not |
| ``invalid_yaml`` | a YAML document that does not parse |
| ``invalid_openapi`` | declared OpenAPI, but without a version key and a ``paths`` object |
| ``pdf_encrypted`` | a PDF that cannot be opened with an empty password |
| ``pdf_no_text_layer`` | a PDF whose pages yield no text but carry images (scanned) |
| ``pdf_unreadable`` | a corrupt PDF |
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAGES",
    "Document",
    "ExtractionError",
    "detect_media_type",
    "extract",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_PAGES = 2000

TEXT = "text/plain"
MARKDOWN = "text/markdown"
JSON = "application/json"
JSONL = "application/jsonl"
YAML = "application/yaml"
OPENAPI_JSON = "application/vnd.oai.openapi+json"
OPENAPI_YAML = "application/vnd.oai.openapi"
PDF = "application/pdf"

_ALIASES = {
    "text/x-markdown": MARKDOWN,
    "application/x-ndjson": JSONL,
    "application/ndjson": JSONL,
    "application/x-jsonlines": JSONL,
    "application/jsonlines": JSONL,
    "application/x-yaml": YAML,
    "text/yaml": YAML,
    "text/x-yaml": YAML,
    "application/openapi+json": OPENAPI_JSON,
    "application/openapi+yaml": OPENAPI_YAML,
    "application/vnd.oai.openapi+yaml": OPENAPI_YAML,
    "application/x-pdf": PDF,
}
_BY_EXTENSION = {
    ".txt": TEXT,
    ".text": TEXT,
    ".log": TEXT,
    ".csv": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".json": JSON,
    ".jsonl": JSONL,
    ".ndjson": JSONL,
    ".yaml": YAML,
    ".yml": YAML,
    ".pdf": PDF,
}
SUPPORTED = frozenset({TEXT, MARKDOWN, JSON, JSONL, YAML, OPENAPI_JSON, OPENAPI_YAML, PDF})
# Magic numbers of binary formats we refuse outright rather than decode as text.
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"Rar!")
_YAML_OPENAPI = re.compile(rb"^(openapi|swagger)\s*:", re.MULTILINE)
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Document(msgspec.Struct):
    text: str
    media_type: str
    pages: list[str] = []  # per-page text for PDFs; one entry for every other type
    metadata: dict[str, Any] = {}


class ExtractionError(Exception):
    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message

    def __repr__(self) -> str:
        return f"ExtractionError({self.reason_code!r}, {self.message!r})"


def _normalise(media_type: str) -> str:
    mt = media_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(mt, mt)


def detect_media_type(data: bytes, filename: str | None = None) -> str:
    """Content first (PDF and binary magic numbers, JSON/YAML carrying an ``openapi``/``swagger`` key),
    then the file extension, then a sniff of the text (JSON, JSON Lines, plain text)."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_BINARY_MAGIC):
        return "application/octet-stream"
    ext = Path(filename).suffix.lower() if filename else ""
    by_ext = _BY_EXTENSION.get(ext)
    if by_ext == PDF:
        return PDF  # extension says PDF, content is not: extraction reports pdf_unreadable
    if by_ext in (JSON, YAML) or (by_ext is None and head[:1] in (b"{", b"[")):
        kind = _openapi_kind(data, yaml=by_ext == YAML)
        if kind:
            return kind
    if by_ext is None and _YAML_OPENAPI.search(data[:4096]):
        kind = _openapi_kind(data, yaml=True)
        if kind:
            return kind
    if by_ext:
        return by_ext
    if b"\x00" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "application/octet-stream"
    if head[:1] in (b"{", b"["):
        try:
            json.loads(data)
            return JSON
        except ValueError:
            lines = [ln for ln in data.splitlines()[:5] if ln.strip()]
            try:
                for ln in lines:
                    json.loads(ln)
                return JSONL
            except ValueError:
                pass
    return TEXT


def _openapi_kind(data: bytes, *, yaml: bool) -> str | None:
    try:
        text = _decode(data)
        obj = _load_yaml(text) if yaml else json.loads(text)
    except (ExtractionError, ValueError):
        return None
    if isinstance(obj, dict) and ("openapi" in obj or "swagger" in obj) and "paths" in obj:
        return OPENAPI_YAML if yaml else OPENAPI_JSON
    return None


def _decode(data: bytes) -> str:
    enc = "utf-8"
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            enc = name
            break
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise ExtractionError("bad_encoding", f"not valid {enc} at byte {exc.start}: {exc.reason}") from None


def _load_yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ExtractionError("invalid_yaml", f"YAML does not parse: {exc}") from None


def extract(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview,
    media_type: str | None = None,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Document:
    """Extract the text of a file (a path) or of raw bytes.

    ``media_type`` overrides detection; ``filename`` helps detection for bytes (a path supplies its
    own). ``max_bytes`` (default 50 MiB) and ``max_pages`` (default 2,000, PDFs) are hard caps.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > max_bytes:
            raise ExtractionError("too_large", f"{len(data)} bytes exceeds max_bytes={max_bytes}")
    else:
        path = Path(source)
        filename = filename or path.name
        size = path.stat().st_size
        if size > max_bytes:  # before reading: a huge file is never loaded
            raise ExtractionError("too_large", f"{size} bytes exceeds max_bytes={max_bytes}")
        data = path.read_bytes()
    mt = _normalise(media_type) if media_type else detect_media_type(data, filename)
    if mt not in SUPPORTED:
        raise ExtractionError("unsupported_media_type", f"media type {mt!r} is not supported")
    meta: dict[str, Any] = {"bytes": len(data)}
    if filename:
        meta["filename"] = filename
    if mt == PDF:
        return _pdf(data, max_pages, meta)
    text = _decode(data)
    if mt == TEXT:
        return Document(text, mt, [text], meta)
    if mt == MARKDOWN:
        m = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
        if m:
            meta["title"] = m.group(1)
        return Document(text, mt, [text], meta)
    if mt == JSON:
        obj = _json(text)
        if isinstance(obj, dict) and ("openapi" in obj or "swagger" in obj) and "paths" in obj:
            return _openapi(obj, OPENAPI_JSON, meta)
        meta["json_type"] = type(obj).__name__
        if isinstance(obj, dict):
            meta["keys"] = list(obj)[:50]
        return Document(text, mt, [text], meta)
    if mt == JSONL:
        records = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip():
                _json(line, lineno)
                records += 1
        meta["records"] = records
        return Document(text, mt, [text], meta)
    if mt == OPENAPI_JSON:
        return _openapi(_json(text), mt, meta)
    obj = _load_yaml(text)  # YAML or OpenAPI YAML
    if isinstance(obj, dict) and ("openapi" in obj or "swagger" in obj) and "paths" in obj:
        return _openapi(obj, OPENAPI_YAML, meta)
    if mt == OPENAPI_YAML:
        raise ExtractionError("invalid_openapi", "document has no openapi/swagger version and paths")
    return Document(text, YAML, [text], meta)


def _json(text: str, lineno: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {lineno}" if lineno else f"line {exc.lineno} column {exc.colno}"
        raise ExtractionError("invalid_json", f"JSON does not parse at {where}: {exc.msg}") from None


def _openapi(spec: Any, mt: str, meta: dict[str, Any]) -> Document:
    """One paragraph per operation: method, path, summary, parameters, request body and responses."""
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), Mapping):
        raise ExtractionError("invalid_openapi", "document has no paths object")
    info = spec.get("info") if isinstance(spec.get("info"), Mapping) else {}
    title = str(info.get("title", "API"))
    version = str(info.get("version", ""))
    lines = [f"{title} {version}".strip()]
    if info.get("description"):
        lines.append(str(info["description"]).strip())
    endpoints: list[str] = []
    for path, item in spec["paths"].items():
        if not isinstance(item, Mapping):
            continue
        shared_params = item.get("parameters") or []
        for method in _HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            endpoints.append(f"{method.upper()} {path}")
            head = f"{method.upper()} {path}"
            if op.get("summary"):
                head += f": {str(op['summary']).strip()}"
            if op.get("operationId"):
                head += f" (operationId {op['operationId']})"
            para = [head]
            if op.get("description"):
                para.append(str(op["description"]).strip())
            params = [p for p in [*shared_params, *(op.get("parameters") or [])] if isinstance(p, Mapping)]
            if params:
                desc = []
                for p in params:
                    if "$ref" in p:
                        desc.append(str(p["$ref"]).rsplit("/", 1)[-1])
                        continue
                    d = f"{p.get('name')} in {p.get('in')}"
                    if p.get("required"):
                        d += ", required"
                    if p.get("description"):
                        d += f": {str(p['description']).strip()}"
                    desc.append(d)
                para.append("Parameters: " + "; ".join(desc))
            body = op.get("requestBody")
            if isinstance(body, Mapping):
                types = ", ".join(body.get("content", {}) or {}) or "body"
                para.append(
                    f"Request body ({types})"
                    + (f": {body['description']}" if body.get("description") else "")
                )
            responses = op.get("responses")
            if isinstance(responses, Mapping):
                rs = []
                for code, r in responses.items():
                    rd = r.get("description") if isinstance(r, Mapping) else None
                    rs.append(f"{code} {str(rd).strip()}" if rd else str(code))
                para.append("Responses: " + "; ".join(rs))
            lines.append("\n".join(para))
    meta.update(
        {
            "title": title,
            "version": version,
            "openapi": str(spec.get("openapi") or spec.get("swagger")),
            "endpoints": endpoints,
        }
    )
    text = "\n\n".join(lines)
    return Document(text, mt, [text], meta)


def _pdf(data: bytes, max_pages: int, meta: dict[str, Any]) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    # PyPdfError is the base of every pypdf refusal, LimitReachedError (a declared xref or stream size
    # past pypdf's limits, found by fuzzing) included; the builtins are what its lenient mode lets slip.
    # NotImplementedError: a stream filter pypdf does not decode (a misspelt /ASCII85Decode, found too).
    # ArithmeticError: a startxref past the C ssize_t range overflows pypdf's seek (found by fuzzing).
    broken = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
              NotImplementedError, ArithmeticError)  # fmt: skip
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise ExtractionError("pdf_encrypted", f"PDF is encrypted: {exc}") from None
            if not ok:
                raise ExtractionError(
                    "pdf_encrypted", "PDF is encrypted and does not open with an empty password"
                )
            meta["encrypted"] = True  # owner-password only: readable
        n = len(reader.pages)
    except ExtractionError:
        raise
    except broken as exc:
        raise ExtractionError("pdf_unreadable", f"PDF cannot be parsed: {exc}") from None
    if n > max_pages:
        raise ExtractionError("too_many_pages", f"{n} pages exceeds max_pages={max_pages}")
    pages: list[str] = []
    images = 0
    try:
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            if not pages[-1].strip():
                images += _image_count(page)
    except broken as exc:
        raise ExtractionError("pdf_unreadable", f"PDF page cannot be read: {exc}") from None
    if n and not any(p.strip() for p in pages) and images:
        raise ExtractionError(
            "pdf_no_text_layer",
            f"none of the {n} pages has a text layer ({images} images; OCR is not supported)",
        )
    meta["page_count"] = n
    try:
        info = reader.metadata
        if info and info.title:
            meta["title"] = str(info.title)
    except broken:
        pass
    return Document("\n\n".join(p for p in pages if p.strip()), PDF, pages, meta)


def _image_count(page: Any) -> int:
    """Image XObjects drawn by a page (including inside form XObjects), without decoding them."""
    count = 0
    seen: set[int] = set()

    def walk(resources: Any) -> None:
        nonlocal count
        if resources is None:
            return
        xobjects = resources.get_object().get("/XObject")
        if xobjects is None:
            return
        for ref in xobjects.get_object().values():
            obj = ref.get_object()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            subtype = obj.get("/Subtype")
            if subtype == "/Image":
                count += 1
            elif subtype == "/Form":
                walk(obj.get("/Resources"))

    walk(page.get("/Resources"))
    return count

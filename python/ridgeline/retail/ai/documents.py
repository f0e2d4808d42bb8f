"""Document chunking for the retail RAG index (engine: no database, no HTTP).

Markdown is split at headings first (each chunk keeps its heading path as metadata), then each
section into token windows with :func:`ridgeline.ai.chunk`; an OpenAPI document goes through
:func:`ridgeline.ai.extract`, which renders one paragraph per operation, and paragraphs are packed
into windows of at most ``chunk_size`` tokens (a longer paragraph is windowed on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ridgeline.ai import chunk, count_tokens, extract

ENCODING = "cl100k_base"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class DocumentError(ValueError):
    """The content cannot be read as the declared source type (reason code in ``reason_code``)."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code


@dataclass(frozen=True)
class ChunkData:
    content: str
    token_count: int
    chunk_index: int
    metadata: dict[str, Any] = field(default_factory=dict)


def _sections(text: str) -> list[tuple[list[str], str]]:
    """(heading path, body) per section; headings inside code fences are not headings."""
    out: list[tuple[list[str], str]] = []
    path: list[tuple[int, str]] = []
    buf: list[str] = []
    fenced = False

    def flush() -> None:
        body = "\n".join(buf).strip()
        if body:
            out.append(([h for _, h in path], body))
        buf.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        m = None if fenced else _HEADING.match(line)
        if m:
            flush()
            level = len(m.group(1))
            path = [(lv, h) for lv, h in path if lv < level] + [(level, m.group(2))]
            buf.append(line)
        else:
            buf.append(line)
    flush()
    return out


def _window(text: str, size: int, overlap: int) -> list[tuple[str, int]]:
    return [
        (c.text, c.token_count)
        for c in chunk(text, tokenizer=ENCODING, chunk_length=size, chunk_overlap=overlap)
    ]


def chunk_markdown(text: str, size: int = 256, overlap: int = 32) -> list[ChunkData]:
    chunks: list[ChunkData] = []
    for headings, body in _sections(text):
        for piece, tokens in _window(body, size, overlap):
            if piece.strip():
                chunks.append(
                    ChunkData(
                        piece, tokens, len(chunks), {"headings": headings, "section": " > ".join(headings)}
                    )
                )
    return chunks


def chunk_openapi(
    content: str | bytes, size: int = 256, overlap: int = 32
) -> tuple[list[ChunkData], dict[str, Any]]:
    """Chunks of an OpenAPI document (JSON or YAML) and the document's metadata (title, endpoints)."""
    data = content.encode() if isinstance(content, str) else content
    try:
        doc = extract(data, media_type="application/vnd.oai.openapi")
    except Exception as exc:  # ExtractionError carries its own reason code
        raise DocumentError("invalid_document", f"not a readable OpenAPI document: {exc}") from exc
    paragraphs = [p.strip() for p in doc.text.split("\n\n") if p.strip()]
    chunks: list[ChunkData] = []
    buf: list[str] = []
    buf_tokens = 0

    def flush() -> None:
        nonlocal buf_tokens
        if buf:
            text = "\n\n".join(buf)
            chunks.append(
                ChunkData(text, count_tokens(text, encoding=ENCODING), len(chunks), _endpoints(text))
            )
        buf.clear()
        buf_tokens = 0

    for para in paragraphs:
        n = count_tokens(para, encoding=ENCODING)
        if n > size:
            flush()
            for piece, tokens in _window(para, size, overlap):
                chunks.append(ChunkData(piece, tokens, len(chunks), _endpoints(piece)))
            continue
        if buf_tokens + n > size:
            flush()
        buf.append(para)
        buf_tokens += n
    flush()
    meta = {
        k: doc.metadata.get(k) for k in ("title", "version", "openapi") if doc.metadata.get(k) is not None
    }
    meta["endpoint_count"] = len(doc.metadata.get("endpoints") or [])
    return chunks, meta


_OP = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE) (/\S*)", re.M)


def _endpoints(text: str) -> dict[str, Any]:
    return {"endpoints": [f"{m.group(1)} {m.group(2).rstrip(':')}" for m in _OP.finditer(text)]}


def chunk_document(
    source_type: str, content: str, size: int = 256, overlap: int = 32
) -> tuple[list[ChunkData], dict[str, Any]]:
    if source_type == "openapi":
        return chunk_openapi(content, size, overlap)
    title = next((m.group(2) for line in content.splitlines() if (m := _HEADING.match(line))), None)
    return chunk_markdown(content, size, overlap), ({"title": title} if title else {})

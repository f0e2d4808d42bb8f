from __future__ import annotations

import io
import json

import pytest

from ridgeline.ai.extraction import (
    JSONL,
    MARKDOWN,
    OPENAPI_JSON,
    OPENAPI_YAML,
    PDF,
    TEXT,
    ExtractionError,
    detect_media_type,
    extract,
)


def _pdf(pages: list[str], *, encrypt: str | None = None, image: bool = False) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    kw = {}
    if encrypt is not None:
        from reportlab.lib import pdfencrypt

        kw["encrypt"] = pdfencrypt.StandardEncryption(encrypt, ownerPassword="owner", strength=128)
    c = canvas.Canvas(buf, pagesize=A4, **kw)
    for text in pages:
        if image:
            from PIL import Image
            from reportlab.lib.utils import ImageReader

            img = Image.new("RGB", (64, 32), (200, 30, 30))
            c.drawImage(ImageReader(img), 72, 600, width=128, height=64)
        if text:
            c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def _code(excinfo) -> str:
    return excinfo.value.reason_code


def test_text_pdf_pages_and_metadata(tmp_path):
    data = _pdf(["First page about freight routing.", "Second page: terrain energy."])
    doc = extract(data)
    assert doc.media_type == PDF
    assert len(doc.pages) == 2
    assert "freight routing" in doc.pages[0] and "terrain energy" in doc.pages[1]
    assert doc.metadata["page_count"] == 2
    p = tmp_path / "r.pdf"
    p.write_bytes(data)
    assert extract(p).text == doc.text


def test_encrypted_pdf():
    data = _pdf(["secret"], encrypt="user-pw")
    with pytest.raises(ExtractionError) as ei:
        extract(data)
    assert _code(ei) == "pdf_encrypted"


def test_owner_only_encrypted_pdf_opens_with_empty_password():
    data = _pdf(["readable without a password"], encrypt="")
    doc = extract(data)
    assert "readable without" in doc.text
    assert doc.metadata["encrypted"] is True


def test_image_only_pdf():
    with pytest.raises(ExtractionError) as ei:
        extract(_pdf(["", ""], image=True))
    assert _code(ei) == "pdf_no_text_layer"


def test_image_and_text_pdf_is_fine():
    doc = extract(_pdf(["caption under the figure"], image=True))
    assert "caption" in doc.text


def test_blank_pdf_is_empty_not_scanned():
    doc = extract(_pdf([""]))
    assert doc.text == "" and doc.pages == [""]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n this is not a pdf at all \x00\x01\x02",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
)
def test_corrupt_pdf(data):
    with pytest.raises(ExtractionError) as ei:
        extract(data)
    assert _code(ei) == "pdf_unreadable"


def test_truncated_pdf():
    data = _pdf(["page one text", "page two text"])
    with pytest.raises(ExtractionError) as ei:
        extract(data[: len(data) // 3])
    assert _code(ei) == "pdf_unreadable"


def test_page_cap():
    data = _pdf(["a", "b", "c"])
    assert extract(data, max_pages=3).metadata["page_count"] == 3
    with pytest.raises(ExtractionError) as ei:
        extract(data, max_pages=2)
    assert _code(ei) == "too_many_pages"


def test_byte_cap(tmp_path):
    with pytest.raises(ExtractionError) as ei:
        extract(b"x" * 101, max_bytes=100)
    assert _code(ei) == "too_large"
    p = tmp_path / "big.txt"
    p.write_bytes(b"y" * 101)
    with pytest.raises(ExtractionError) as ei:
        extract(p, max_bytes=100)
    assert _code(ei) == "too_large"
    assert extract(p, max_bytes=101).text == "y" * 101


def test_txt_and_md(tmp_path):
    p = tmp_path / "notes.md"
    p.write_text("intro\n\n# Loading docks\n\nBays 1-4.\n", encoding="utf-8")
    doc = extract(p)
    assert doc.media_type == MARKDOWN
    assert doc.metadata["title"] == "Loading docks"
    assert doc.metadata["filename"] == "notes.md"
    assert extract("héllo".encode()).media_type == TEXT
    assert extract("\ufeffwith bom".encode()).text == "with bom"
    assert extract("utf16 text".encode("utf-16")).text == "utf16 text"


def test_bad_encoding():
    with pytest.raises(ExtractionError) as ei:
        extract(b"caf\xe9 au lait", media_type="text/plain")
    assert _code(ei) == "bad_encoding"


def test_json_and_jsonl():
    doc = extract(b'{"a": 1, "b": [1, 2]}', filename="x.json")
    assert doc.metadata["keys"] == ["a", "b"]
    assert detect_media_type(b'{"a": 1}\n{"a": 2}\n') == JSONL
    doc = extract(b'{"a": 1}\n\n{"a": 2}\n', filename="rows.jsonl")
    assert doc.metadata["records"] == 2
    with pytest.raises(ExtractionError) as ei:
        extract(b'{"a": 1,}', filename="x.json")
    assert _code(ei) == "invalid_json"
    with pytest.raises(ExtractionError) as ei:
        extract(b'{"a": 1}\n{"a": \n', filename="x.jsonl")
    assert _code(ei) == "invalid_json"
    assert "line 2" in ei.value.message


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Pet Store", "version": "1.2", "description": "Pets for sale."},
    "paths": {
        "/pets": {
            "get": {
                "summary": "List pets",
                "operationId": "listPets",
                "parameters": [{"name": "limit", "in": "query", "description": "page size"}],
                "responses": {"200": {"description": "A page of pets"}},
            },
            "post": {
                "summary": "Create a pet",
                "requestBody": {"content": {"application/json": {}}},
                "responses": {"201": {"description": "Created"}},
            },
        },
        "/pets/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True}],
            "delete": {"summary": "Delete a pet", "responses": {"204": {"description": "Gone"}}},
        },
    },
}


def test_openapi_json_summary():
    data = json.dumps(OPENAPI).encode()
    assert detect_media_type(data) == OPENAPI_JSON
    doc = extract(data, filename="api.json")
    assert doc.media_type == OPENAPI_JSON
    assert doc.metadata["endpoints"] == ["GET /pets", "POST /pets", "DELETE /pets/{id}"]
    assert "GET /pets: List pets (operationId listPets)" in doc.text
    assert "Parameters: limit in query: page size" in doc.text
    assert "Parameters: id in path, required" in doc.text
    assert "Responses: 204 Gone" in doc.text
    assert doc.text.startswith("Pet Store 1.2\n\nPets for sale.")


def test_openapi_yaml():
    import yaml

    data = yaml.safe_dump(OPENAPI).encode()
    doc = extract(data, filename="api.yaml")
    assert doc.media_type == OPENAPI_YAML
    assert detect_media_type(data) == OPENAPI_YAML  # by content alone
    assert extract(data).metadata["endpoints"] == doc.metadata["endpoints"]
    assert detect_media_type(b"openapi is a word in this sentence\n") == TEXT
    assert len(doc.metadata["endpoints"]) == 3
    with pytest.raises(ExtractionError) as ei:
        extract(b"openapi: [unclosed", filename="api.yaml")
    assert _code(ei) == "invalid_yaml"
    with pytest.raises(ExtractionError) as ei:
        extract(b"title: no paths here\n", media_type="application/vnd.oai.openapi")
    assert _code(ei) == "invalid_openapi"


@pytest.mark.parametrize(
    ("data", "kw"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, {}),
        (b"PK\x03\x04zipzip", {"filename": "a.docx"}),
        (b"\x00\x01\x02binary", {}),
        (b"hello", {"media_type": "application/msword"}),
    ],
)
def test_unsupported(data, kw):
    with pytest.raises(ExtractionError) as ei:
        extract(data, **kw)
    assert _code(ei) == "unsupported_media_type"


def test_package_names_stay_functions_after_their_modules_load() -> None:
    """Importing a submodule binds it as an attribute of the package: a submodule named like one of
    the package's functions (``extract``) would replace the function for every later
    ``from ridgeline.ai import extract``. Each lazy name must stay what it names."""
    import importlib

    import ridgeline.ai as ai

    for name, module in ai._LAZY.items():
        importlib.import_module(module)
        assert getattr(importlib.import_module(module), name) is getattr(ai, name), name
    from ridgeline.ai import extract

    assert callable(extract) and not isinstance(extract, type(ai))

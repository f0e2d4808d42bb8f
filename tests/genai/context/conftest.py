"""Fixtures for context management: the genai app of the control-plane tests (users of each role),
with CONTEXT_SOURCE_ROOTS pointing at a temporary directory, and helpers to make knowledge bases on
the default deployment's embedded providers (local MiniLM embeddings, embedded vector index)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.genai.platform.conftest import App, make_app  # noqa: F401  (fixtures reused)

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


class Ctx(App):
    root: Path

    def ids(self) -> dict[str, str]:
        return {p["slug"]: p["id"] for p in self.ok("GET", "/v1/platform/providers")["providers"]}

    def make_kb(
        self, name: str = "kb", chunk_length: int = 64, chunk_overlap: int = 8, **over: Any
    ) -> dict[str, Any]:
        ids = self.ids()
        body = {
            "name": name,
            "provider_instance_id": ids["ridgeline-embedded-vector-index"],
            "vectorization": {"mode": "vanessa_embeddings",
                              "embedding_provider_instance_id": ids["ridgeline-local-embeddings"],
                              "embedding_model_id": MINILM},
            "chunking": {"strategy": "fixed_length", "chunk_length": chunk_length, "chunk_overlap": chunk_overlap},
            **over,
        }  # fmt: skip
        return self.ok("POST", "/v1/context/knowledge-bases", status=201, json=body)["knowledge_base"]

    def wait_run(self, run: dict[str, Any], limit_s: float = 300) -> dict[str, Any]:
        self.call(self.ctx.jobs.wait, run["job_id"], limit_s)
        runs = self.ok("GET", f"/v1/context/knowledge-bases/{run['knowledge_base_id']}/sync-runs")[
            "sync_runs"
        ]
        return next(r for r in runs if r["id"] == run["id"])


@pytest.fixture
def source_root(tmp_path: Path) -> Path:
    root = tmp_path / "sources"
    root.mkdir()
    return root


@pytest.fixture
def cx(make_app, source_root, monkeypatch) -> Ctx:  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setenv("CONTEXT_SOURCE_ROOTS", str(source_root))
    monkeypatch.setenv("CONTEXT_UPLOAD_MAX_BYTES", str(256 * 1024))
    app = make_app()
    app.__class__ = Ctx
    app.root = source_root
    return app  # type: ignore[return-value]


def make_pdf(pages: list[str], *, image: bool = False) -> bytes:
    """A real PDF (reportlab): one text line per page, or an image and no text (a "scan")."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for text in pages:
        if image:
            from PIL import Image
            from reportlab.lib.utils import ImageReader

            c.drawImage(ImageReader(Image.new("RGB", (64, 32), (200, 30, 30))), 72, 600, width=128, height=64)
        else:
            y = 780
            for line in text.split("\n"):
                c.drawString(40, y, line)
                y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypt_pdf(data: bytes, password: str = "secret") -> bytes:
    """The same PDF encrypted with a user password (pypdf, AES-256)."""
    import io

    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    w.encrypt(user_password=password, owner_password="owner-" + password, algorithm="AES-256")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()

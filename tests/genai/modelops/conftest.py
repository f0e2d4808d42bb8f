"""Fixtures for the ModelOps tests: a genai app with users of each role, a fake OpenAI-compatible
runtime and a fake Hugging Face hub, both real HTTP servers on 127.0.0.1 in threads."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from ridgeline.genai import modelops_runtimes
from ridgeline.genai.modelops_runtimes import ModelOpsHooks, RuntimeProvider
from ridgeline.platform.auth import Role
from ridgeline.platform.auth.settings import AuthSettings

ENV = (
    "MODELOPS_HF_BASE_URL",
    "HF_ENDPOINT",
    "MODELOPS_HF_TOKEN",
    "HF_TOKEN",
    "MODELOPS_OFFLINE",
    "MODELOPS_MODEL_DIR",
)
PASSWORD = "pass-word-123"
#: what a test waits for a download at most (a hang guard, not a timing expectation)
WAIT_LIMIT_S = 180.0
#: how long the fake hub holds a gated file at most if the test never opens the gate
GATE_LIMIT_S = 300.0


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def hooks() -> Iterator[ModelOpsHooks]:
    """The control-plane hooks, reset around each test (tests install fakes on them)."""
    saved = modelops_runtimes.HOOKS
    fresh = ModelOpsHooks()
    modelops_runtimes.HOOKS.__dict__.update(fresh.__dict__)
    yield modelops_runtimes.HOOKS
    saved.__dict__.update(ModelOpsHooks().__dict__)


class App:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}
        self.user_ids: dict[str, str] = {}

    @property
    def ctx(self) -> Any:
        return self.client.app.state["ctx"] if "ctx" in self.client.app.state else None

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            return await fn(*args, **kwargs)

        return self.client.blocking_portal.call(run)

    def add_user(self, name: str, role: Role) -> None:
        auth = self.client.app.state["auth"]
        user = self.call(auth.create_user, name, PASSWORD, actor="test", role=role)
        r = self.client.post("/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.tokens[name] = r.json()["access_token"]
        self.user_ids[name] = user.id

    def h(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def req(self, method: str, path: str, who: str | None = "root", **kw: Any) -> Any:
        return self.client.request(method, "/genai" + path, headers=self.h(who), **kw)  # family prefix

    def download_when(
        self, download_id: str, done: Callable[[dict[str, Any]], bool], who: str = "root"
    ) -> dict[str, Any]:
        """The download's record once ``done(record)`` holds. Bounded by a deadline, not a number of
        polls: on a loaded machine each poll is slower, so a count of them is a time limit that
        shrinks. WAIT_LIMIT_S only stops a test that would otherwise hang."""
        end = time.monotonic() + WAIT_LIMIT_S
        while True:
            body = self.req("GET", f"/v1/modelops/downloads/{download_id}", who).json()
            if done(body):
                return body
            if time.monotonic() > end:
                raise AssertionError(f"download {download_id} not there within {WAIT_LIMIT_S} s: {body}")
            time.sleep(0.05)

    def wait_download(self, download_id: str, who: str = "root") -> dict[str, Any]:
        return self.download_when(
            download_id,
            lambda b: b["status"] in ("succeeded", "failed") and b["job_state"] in ("SUCCEEDED", "FAILED"),
            who,
        )


@pytest.fixture
def make_app(settings: Any) -> Iterator[Callable[[], App]]:
    from litestar.testing import TestClient

    from ridgeline.app import create_app, load_family

    opened: list[Any] = []

    def make() -> App:
        client = TestClient(
            create_app(
                settings, families=[load_family("genai")], auth_settings=AuthSettings(password_profile="test")
            )
        )
        client.__enter__()
        opened.append(client)
        app = App(client)
        app.add_user("root", Role.SUPERADMIN)
        app.add_user("adam", Role.ADMIN)
        app.add_user("uma", Role.USER)
        app.add_user("ulf", Role.USER)
        return app

    yield make
    for c in reversed(opened):
        c.__exit__(None, None, None)


@pytest.fixture
def app(make_app: Callable[[], App]) -> App:
    return make_app()


# ---------------------------------------------------------------- fake HTTP servers


class FakeServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass

    @property
    def fake(self) -> Any:
        return self.server.fake  # type: ignore[attr-defined]

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")


class RuntimeHandler(_Handler):
    """An OpenAI-compatible runtime (llama.cpp / vLLM style) that advertises what is loaded."""

    def do_GET(self) -> None:
        self.fake.requests.append(("GET", self.path, dict(self.headers)))
        if self.path == "/v1/models":
            self.send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": m, "object": "model", "owned_by": "llamacpp"} for m in self.fake.loaded],
                },
            )
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        self.fake.requests.append(("POST", self.path, dict(self.headers)))
        body = self.body()
        if body.get("model") not in self.fake.loaded:
            self.send_json(404, {"error": {"message": f"model {body.get('model')} not loaded"}})
        elif self.path == "/v1/chat/completions":
            self.send_json(
                200,
                {
                    "id": "c1",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "OK"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
                },
            )
        elif self.path == "/v1/embeddings":
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            self.send_json(
                200,
                {
                    "object": "list",
                    "model": body["model"],
                    "data": [
                        {"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
                        for i in range(len(texts))
                    ],
                    "usage": {"prompt_tokens": 3, "total_tokens": 3},
                },
            )
        else:
            self.send_json(404, {"error": {"message": "not found"}})


@pytest.fixture
def runtime() -> Iterator[FakeServer]:
    fake = FakeServer(RuntimeHandler)
    fake.loaded = []  # type: ignore[attr-defined]
    fake.start()
    yield fake
    fake.stop()


def blob_id(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


class HubHandler(_Handler):
    """A Hugging Face Hub subset: /api/models, /api/models/{id}, /{id}/resolve/{rev}/{file} (Range)."""

    def do_GET(self) -> None:
        fake = self.fake
        url = urlparse(self.path)
        fake.requests.append(("GET", url.path, dict(self.headers)))
        path = unquote(url.path)
        if path == "/api/models":
            q = parse_qs(url.query)
            items = [
                {
                    "id": rid,
                    "pipeline_tag": repo["pipeline_tag"],
                    "downloads": 10,
                    "likes": 1,
                    "tags": ["test"],
                }
                for rid, repo in fake.repos.items()
                if (q.get("search", [""])[0].lower() in rid.lower())
                and (not q.get("pipeline_tag") or q["pipeline_tag"][0] == repo["pipeline_tag"])
            ]
            return self.send_json(200, items[: int(q.get("limit", ["100"])[0])])
        if path.startswith("/api/models/"):
            rid = path[len("/api/models/") :]
            repo = fake.repos.get(rid)
            if repo is None:
                return self.send_json(404, {"error": "Repository not found"})
            siblings = []
            for name, data in repo["files"].items():
                s: dict[str, Any] = {"rfilename": name, "size": len(data)}
                if name in repo.get("lfs", ()):
                    s["lfs"] = {
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "size": len(data),
                        "pointerSize": 130,
                    }
                if name not in repo.get("no_hash", ()):
                    s["blobId"] = blob_id(data)
                siblings.append(s)
            return self.send_json(
                200,
                {
                    "id": rid,
                    "sha": "abc123",
                    "pipeline_tag": repo["pipeline_tag"],
                    "siblings": siblings,
                    "cardData": {"license": "mit"},
                },
            )
        if "/resolve/" in path:
            rid, _, rest = path.lstrip("/").partition("/resolve/")
            _rev, _, name = rest.partition("/")
            repo = fake.repos.get(rid)
            if repo is None or name not in repo["files"]:
                return self.send_json(404, {"error": "Entry not found"})
            data = repo["served"].get(name, repo["files"][name])
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes=") and not fake.ignore_range:
                start = int(rng[6:].split("-")[0])
            gate = fake.gates.get(name)
            if gate is not None:
                # The test opens the gate; the timeout only frees a thread of a test that failed
                # before it could (a short one let the file through mid-test on a loaded machine).
                gate.wait(timeout=GATE_LIMIT_S)
            part = data[start:]
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(part)))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            cut = fake.cut_after.pop(name, None)
            if cut is not None:  # send only the first `cut` bytes, then drop the connection
                self.wfile.write(part[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(part)
            return None
        return self.send_json(404, {"error": "not found"})


@pytest.fixture
def hub_server() -> Iterator[FakeServer]:
    fake = FakeServer(HubHandler)
    weights = bytes(range(256)) * 4096  # 1 MiB
    fake.repos = {  # type: ignore[attr-defined]
        "acme/tiny-llm": {
            "pipeline_tag": "text-generation",
            "files": {
                "config.json": b'{"model_type": "llama"}',
                "model.safetensors": weights,
                "README.md": b"# tiny",
            },
            "lfs": {"model.safetensors"},
            "served": {},
        },
        "acme/tiny-embed": {
            "pipeline_tag": "feature-extraction",
            "files": {"config.json": b"{}", "model.safetensors": weights[:4096]},
            "lfs": {"model.safetensors"},
            "served": {},
        },
    }
    fake.cut_after = {}  # type: ignore[attr-defined]
    fake.ignore_range = False  # type: ignore[attr-defined]
    fake.gates = {}  # type: ignore[attr-defined]
    fake.start()
    yield fake
    for gate in fake.gates.values():  # type: ignore[attr-defined]
        gate.set()
    fake.stop()


def provider(
    pid: str,
    base_url: str | None,
    *,
    capability: str = "llm_inference",
    origin: str = "local",
    loaded: str | None = None,
    family: str = "llama_cpp_local",
) -> RuntimeProvider:
    return RuntimeProvider(
        id=pid,
        slug=pid,
        provider_family=family,
        capability=capability,
        origin=origin,
        base_url=base_url,
        loaded_model_id=loaded,
    )


def managed_dir(settings: Any, name: str = "acme--tiny", gguf: bool = True) -> Path:
    d = Path(settings.data_dir) / "genai" / "models" / name / "main"
    d.mkdir(parents=True, exist_ok=True)
    if gguf:
        (d / "tiny-llm.gguf").write_bytes(b"GGUF" + b"\0" * 64)
    else:
        (d / "config.json").write_text("{}")
        (d / "model.safetensors").write_bytes(b"\0" * 64)
    return d
